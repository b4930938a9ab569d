package decode

import (
	"encoding/binary"
	"path/filepath"
	"testing"
)

// TestProtoRecords checks the protobuf-in-str records of the real 1.13.9
// fixture: peerings, their secrets and the trust bundle refer to each other.
func TestProtoRecords(t *testing.T) {
	peerings := map[string]*Peering{}
	var secrets []*PeeringSecrets
	var bundles []*PeeringTrustBundle
	eachRecord(t, filepath.Join(fixtureDir, "after.snap"), func(rec *Record) {
		switch rec.Type {
		case TypePeering, TypePeeringSecret, TypePeeringTrustBundle:
		default:
			return
		}
		d, err := DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		switch x := d.Data.(type) {
		case *Peering:
			if x.ID == "" || x.Name == "" || x.State == "" || x.CreateIndex == 0 {
				t.Errorf("peering lacks identity fields: %+v", x)
			}
			peerings[x.ID] = x
		case *PeeringSecrets:
			secrets = append(secrets, x)
		case *PeeringTrustBundle:
			bundles = append(bundles, x)
		}
	})
	if len(peerings) == 0 || len(secrets) == 0 || len(bundles) == 0 {
		t.Fatalf("fixture lacks peering records: %d peerings, %d secrets, %d bundles", len(peerings), len(secrets), len(bundles))
	}
	for _, s := range secrets {
		if peerings[s.PeerID] == nil {
			t.Errorf("secret for unknown peering %q", s.PeerID)
		}
		if s.EstablishmentSecretID == "" && s.ActiveSecretID == "" && s.PendingSecretID == "" {
			t.Errorf("secret record for %s has no secret", s.PeerID)
		}
	}
	byName := map[string]bool{}
	for _, p := range peerings {
		byName[p.Name] = true
	}
	for _, b := range bundles {
		if !byName[b.PeerName] || len(b.RootPEMs) == 0 || b.TrustDomain == "" {
			t.Errorf("trust bundle %+v does not match a peering", b)
		}
	}
}

// TestProtoUnknownFieldsKept: fields this package does not know stay in Extra.
func TestProtoUnknownFieldsKept(t *testing.T) {
	var b []byte
	field := func(num uint64, wire uint64, payload []byte) {
		b = binary.AppendUvarint(b, num<<3|wire)
		if wire == 2 {
			b = binary.AppendUvarint(b, uint64(len(payload)))
		}
		b = append(b, payload...)
	}
	field(1, 2, []byte("id-1"))
	field(2, 2, []byte("peer-a"))
	field(6, 0, []byte{3})
	field(99, 2, []byte("future"))
	field(100, 0, binary.AppendUvarint(nil, 300))
	x, err := decodeProtoRecord(TypePeering, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := x.(*Peering)
	if p.ID != "id-1" || p.Name != "peer-a" || p.State != "ACTIVE" {
		t.Errorf("known fields: %+v", p)
	}
	if p.Extra["proto.99"] != "future" || p.Extra["proto.100"] != uint64(300) {
		t.Errorf("unknown fields not kept: %v", p.Extra)
	}
	if _, err := decodeProtoRecord(TypePeering, []byte{0x0a, 0xff}, nil); err == nil {
		t.Error("truncated protobuf decoded without error")
	}
}
