package raftlog

import (
	"fmt"

	"github.com/snaptool/snaptool/decode"
)

// Peering log entries (types 35–40) are protobuf after the type byte
// (structs.EncodeProto), not msgpack. decode reads protobuf only for the
// snapshot records, which arrive str-wrapped; these requests are read with
// the same decoders by wrapping their bytes in a msgpack str:
//
//	35 PeeringWriteRequest          {1: Peering, 2: SecretsWriteRequest, 3: Meta}
//	36 PeeringDeleteRequest         {1: Name, 2: Partition}
//	37 PeeringTerminateByIDRequest  {1: ID}
//	38 PeeringTrustBundleWriteRequest {1: PeeringTrustBundle}
//	39 PeeringTrustBundleDeleteRequest {1: Name, 2: Partition}
//	40 SecretsWriteRequest          {1: PeerID, 2|3|4|5: one of generate-token,
//	                                 exchange-secret, promote-pending, establish}
//
// Decoding a request as decode.Peering (decode.DecodeProtoOf) puts its
// field 1 in ID, field 2 in Name and field 3 in Partition (all
// length-delimited), which is how the outer messages are split here.

func protoAs(t decode.MessageType, b []byte) (*decode.Decoded, error) {
	return decode.DecodeProtoOf(t, b)
}

// protoID is the identity of a decoded protobuf record (decode.DecodedKeys).
func protoID(d *decode.Decoded) string {
	k, _ := decode.DecodedKeys(d)
	return k.Identity
}

var secretsOps = map[string]string{"proto.2": "generate-token", "proto.3": "exchange-secret", "proto.4": "promote-pending", "proto.5": "establish"}

func mapPeering(c *reqCtx) {
	outer, err := protoAs(decode.TypePeering, c.body)
	if c.t != decode.TypePeeringSecret && err != nil {
		c.err = err
		return
	}
	var o *decode.Peering
	if outer != nil {
		o = outer.Data.(*decode.Peering)
	}
	tree := &decode.Object{}
	switch c.t {
	case decode.TypePeering:
		c.op = "write"
		inner, err := protoAs(decode.TypePeering, []byte(o.ID))
		if err != nil {
			c.err = fmt.Errorf("Peering: %w", err)
			return
		}
		p := inner.Data.(*decode.Peering)
		if p.DeletedAt != nil {
			c.op = "mark-deleted"
		}
		c.add(Target{Type: "Peering", ID: protoID(inner), Name: p.Name})
		tree.Set("Peering", c.typedTreeOf(inner))
		if o.Name != "" {
			sec := secretsTree(c, []byte(o.Name))
			tree.Set("SecretsRequest", sec)
		}
	case decode.TypePeeringDelete:
		c.op = "delete"
		c.add(Target{Type: "Peering", Name: o.ID + qual{partition: o.Name}.suffix()})
		tree.Set("Name", o.ID)
		tree.Set("Partition", o.Name)
	case decode.TypePeeringTerminateByID:
		c.op = "terminate"
		c.add(Target{Type: "Peering", ID: o.ID})
		tree.Set("ID", o.ID)
	case decode.TypePeeringTrustBundle:
		c.op = "write"
		inner, err := protoAs(decode.TypePeeringTrustBundle, []byte(o.ID))
		if err != nil {
			c.err = fmt.Errorf("PeeringTrustBundle: %w", err)
			return
		}
		c.add(Target{Type: "PeeringTrustBundle", ID: protoID(inner)})
		tree.Set("PeeringTrustBundle", c.typedTreeOf(inner))
	case decode.TypePeeringTrustBundleDel:
		c.op = "delete"
		c.add(Target{Type: "PeeringTrustBundle", ID: o.ID + qual{partition: o.Name}.suffix()})
		tree.Set("Name", o.ID)
		tree.Set("Partition", o.Name)
	case decode.TypePeeringSecret:
		sec := secretsTree(c, c.body)
		if c.err != nil {
			return
		}
		c.op = secretsOp
		if obj, ok := sec.(*decode.Object); ok {
			if op, ok := obj.Get("Op"); ok {
				c.op, _ = op.(string)
			}
			if id, ok := obj.Get("PeerID"); ok {
				s, _ := id.(string)
				c.add(Target{Type: "PeeringSecret", ID: s})
			}
		}
		c.tree, c.treeDone = sec, true
		return
	}
	c.tree, c.treeDone = tree, true
}

const secretsOp = "secrets"

// secretsTree reads a SecretsWriteRequest: the peer ID and which operation,
// every secret in it fingerprinted unless ShowSecrets.
func secretsTree(c *reqCtx, b []byte) any {
	d, err := protoAs(decode.TypePeeringSecret, b)
	if err != nil {
		c.err = fmt.Errorf("SecretsWriteRequest: %w", err)
		return nil
	}
	s := d.Data.(*decode.PeeringSecrets)
	out := &decode.Object{}
	out.Set("PeerID", s.PeerID)
	op := secretsOp
	switch {
	case s.EstablishmentSecretID != "" && s.ActiveSecretID == "" && s.PendingSecretID == "":
		op = "generate-token"
	case s.ActiveSecretID != "" || s.PendingSecretID != "":
		op = "exchange-secret"
	}
	for k := range s.Extra {
		if name, ok := secretsOps[k]; ok {
			op = name
		}
	}
	out.Set("Op", op)
	// The oneof payloads are secrets whichever operation this is: fields 2
	// and 3 land in the secret fields of decode.PeeringSecrets, 4 and 5 in
	// Extra; the Extra values are fingerprinted whole.
	set := func(k, v string) {
		if v != "" {
			if !c.show {
				v = decode.Fingerprint(v)
			}
			out.Set(k, v)
		}
	}
	set("EstablishmentSecret", s.EstablishmentSecretID)
	set("StreamSecret", s.ActiveSecretID)
	set("PendingStreamSecret", s.PendingSecretID)
	for k, v := range s.Extra {
		if _, ok := secretsOps[k]; !ok {
			continue
		}
		raw := fmt.Sprint(v)
		if !c.show {
			raw = decode.Fingerprint(raw)
		}
		out.Set(secretsOps[k], raw)
	}
	return out
}
