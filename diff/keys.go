package diff

import (
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// typeOrder is the order in which Consul writes record types (docs/FORMAT.md
// §6.1, persistOSS). Legacy ACL (4) and ACLBootstrap (11), written only by
// pre-1.4 servers, came right after sessions. Enterprise types (64–127)
// come first; types this table does not know go just before ChunkingState,
// which is always last.
var typeOrder = []decode.MessageType{
	decode.TypeServiceVirtualIP, decode.TypeFreeVirtualIP, decode.TypeRegister,
	decode.TypeCoordinateBatchUpdate, decode.TypeSession, decode.TypeACL, decode.TypeACLBootstrap,
	decode.TypeACLToken, decode.TypeACLPolicy, decode.TypeACLRole, decode.TypeACLBindingRule,
	decode.TypeACLAuthMethod, decode.TypeKVS, decode.TypeTombstone, decode.TypePreparedQuery,
	decode.TypeAutopilot, decode.TypeIntention, decode.TypeConnectCA, decode.TypeConnectCAProviderState,
	decode.TypeConnectCAConfig, decode.TypeConfigEntry, decode.TypeFederationState,
	decode.TypeSystemMetadata, decode.TypeIndex, decode.TypePeering, decode.TypePeeringTrustBundle,
	decode.TypePeeringSecret, decode.TypeResource,
}

var typeRanks [256]int

const rankEnd = 1 << 20 // an input that has ended sorts after every type

func init() {
	// Enterprise types first (by number), then Consul's order, then
	// unknown types by number, then ChunkingState.
	for t := 0; t < 256; t++ {
		switch {
		case t >= 64 && t < 128:
			typeRanks[t] = t - 64
		default:
			typeRanks[t] = 1000 + t
		}
	}
	for i, t := range typeOrder {
		typeRanks[t] = 100 + i
	}
	typeRanks[decode.TypeChunkingState] = 2000
}

func rankOf(t decode.MessageType) int { return typeRanks[t] }

// sortKey returns the key that reproduces the order in which Consul writes
// records of one type: the state store table's `id` index (docs/FORMAT.md §6.2),
// as in the 1.13.9 state store (catalog_schema.go, acl_schema.go, …) and
// its snapshot code. Fields are separated by NUL, as memdb's compound
// indexes do, so comparing keys byte-wise compares the fields in turn. v is
// the record's value decoded generically, id its identity.
//
//   - Register: peer ("~" for local, as 1.13+ index keys do; sorts after
//     peer names), node name lower-cased, then 0 for the node, 1+service ID
//     for a service, 2+check ID for a check (both lower-cased): the node,
//     then its services by ID, then its checks by CheckID.
//   - ACLToken: SecretID, case-sensitive (the token table's id index), not
//     AccessorID.
//   - UUID-keyed tables (sessions, policies, roles, binding rules, queries,
//     intentions, peering secrets), lower-cased string indexes (Index,
//     SystemMetadata, FederationState, ACLAuthMethod, PeeringTrustBundle)
//     and config entries (kind, name): lower-cased identity.
//   - Peering: partition and name lower-cased (the snapshot walks the name
//     index), not ID.
//   - CoordinateBatchUpdate: node and segment, lower-cased.
//   - ServiceVirtualIP: "~" or "peer:<peer>", then the service name,
//     lower-cased.
//   - FreeVirtualIP: the counter flag, then the address.
//   - Everything else: the identity (KV and tombstone keys byte-wise, CA
//     roots case-sensitive).
func sortKey(rec *decode.Record, v *decode.Value, id string) string {
	t := rec.Type
	switch t {
	case decode.TypeRegister:
		peer := strings.ToLower(str(v, "PeerName"))
		if peer == "" {
			peer = "~"
		}
		k := peer + "\x00" + strings.ToLower(str(v, "Node")) + "\x00"
		if svc, ok := v.Get("Service"); ok && svc.Kind == decode.Map {
			return k + "1\x00" + strings.ToLower(str(svc, "ID"))
		}
		if chk, ok := v.Get("Check"); ok && chk.Kind == decode.Map {
			return k + "2\x00" + strings.ToLower(str(chk, "CheckID"))
		}
		return k + "0"
	case decode.TypeACLToken:
		return str(v, "SecretID")
	case decode.TypeSession, decode.TypeACLPolicy, decode.TypeACLRole, decode.TypeACLBindingRule,
		decode.TypePreparedQuery, decode.TypeIntention, decode.TypePeeringSecret,
		decode.TypeIndex, decode.TypeSystemMetadata, decode.TypeFederationState,
		decode.TypeACLAuthMethod, decode.TypePeeringTrustBundle:
		// UUID indexes (hex order = byte order) and lower-cased string indexes.
		return strings.ToLower(id)
	case decode.TypeConfigEntry:
		kind, name, _ := strings.Cut(id, "/")
		return strings.ToLower(kind) + "\x00" + strings.ToLower(name)
	case decode.TypeCoordinateBatchUpdate:
		// (node, segment); snapshots carry one coordinate per record.
		if v.Kind == decode.Array && len(v.Elems) > 0 {
			e := &v.Elems[0]
			return strings.ToLower(str(e, "Node")) + "\x00" + strings.ToLower(str(e, "Segment"))
		}
		return strings.ToLower(id)
	case decode.TypeServiceVirtualIP:
		// PeeredServiceName: "~" or "peer:<name>", then the service name,
		// both lower-cased (1.13 indexFromPeeredServiceName).
		svc, _ := v.Get("Service")
		peer, name := str(svc, "Peer"), ""
		if sn, ok := svc.Get("ServiceName"); ok {
			name = str(sn, "Name")
		} else {
			name = str(svc, "Name") // pre-1.13 shape
		}
		if peer == "" {
			peer = "~"
		} else {
			peer = "peer:" + peer
		}
		return strings.ToLower(peer) + "\x00" + strings.ToLower(name)
	case decode.TypeFreeVirtualIP:
		// Compound id index (IP, counter flag). The IP part is a memdb
		// StringFieldIndex on a net.IP, which does not order by address;
		// observed on 1.13.9: the free row first, then the counter row.
		flag := "0"
		if c, ok := v.Get("IsCounter"); ok && c.Kind == decode.Bool && c.Bool {
			flag = "1"
		}
		ip, _ := v.Get("IP")
		return flag + "\x00" + ip.String()
	case decode.TypePeering:
		// Written in the name index's order (observed on 1.13.9).
		if d, err := decode.DecodeRecord(rec); err == nil {
			if p, ok := d.Data.(*decode.Peering); ok {
				return strings.ToLower(p.Partition) + "\x00" + strings.ToLower(p.Name)
			}
		}
	}
	return id
}

func str(v *decode.Value, key string) string {
	if v == nil || v.Kind != decode.Map {
		return ""
	}
	x, ok := v.Get(key)
	if !ok {
		return ""
	}
	return x.String()
}

// kvKey returns the Key of a KVS or Tombstone value.
func kvKey(v *decode.Value) string { return str(v, "Key") }

// Sort keys of the common types read single fields straight from the
// bytes with decode's walkers (decode/walk.go), without decoding or
// allocating: the merge needs a key for every record of both inputs. They
// agree with decode.Value's Get and String: the first str/bin key equal to
// the name wins, and a value that is not str/bin reads as "".

// fastSortKey is sortKey without a generic decode, for the types whose key
// is the identity or a few string fields (ok false: use sortKey). b is the
// record's value.
func fastSortKey(t decode.MessageType, b []byte, id string) (string, bool) {
	switch t {
	case decode.TypeRegister:
		if !decode.IsMapAt(b, 0) {
			return "", false
		}
		lower := func(s []byte) string { return strings.ToLower(string(s)) }
		peer := lower(strField(b, 0, "PeerName"))
		if peer == "" {
			peer = "~"
		}
		k := peer + "\x00" + lower(strField(b, 0, "Node")) + "\x00"
		if p, ok := decode.MapField(b, 0, "Service"); ok && decode.IsMapAt(b, p) {
			return k + "1\x00" + lower(strField(b, p, "ID")), true
		}
		if p, ok := decode.MapField(b, 0, "Check"); ok && decode.IsMapAt(b, p) {
			return k + "2\x00" + lower(strField(b, p, "CheckID")), true
		}
		return k + "0", true
	case decode.TypeACLToken:
		if !decode.IsMapAt(b, 0) {
			return "", false
		}
		return string(strField(b, 0, "SecretID")), true
	case decode.TypeCoordinateBatchUpdate, decode.TypeServiceVirtualIP, decode.TypeFreeVirtualIP, decode.TypePeering,
		decode.TypeKVS, decode.TypeTombstone: // KV: see itemOf
		return "", false
	}
	return sortKey(&decode.Record{Type: t}, nil, id), true
}

// mpScalarEnd returns the position after the scalar (not a map, array or
// ext) at b[p], or -1 for anything else or malformed bytes.
func mpScalarEnd(b []byte, p int) int {
	if p >= len(b) {
		return -1
	}
	switch c := b[p]; {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return p + 1
	case c >= 0xa0 && c <= 0xbf, c == 0xc4, c == 0xc5, c == 0xc6, c == 0xd9, c == 0xda, c == 0xdb:
		_, end, _ := decode.StrAt(b, p)
		return end
	case c >= 0xca && c <= 0xd3:
		if q := decode.SkipValue(b, p); q > p {
			return q
		}
	}
	return -1
}

// kvIdentity appends to dst the identity of a KVS or Tombstone value b, as
// decode.Identity gives it (Key, then ?partition=…&namespace=… when set),
// and returns it with the Key payload (aliasing b). It declines (ok false)
// unless b is a map whose keys and values are all scalars: nothing in it
// can then fail the generic decode, so the result is exactly Identity's.
func kvIdentity(dst, b []byte) (id, key []byte, ok bool) {
	n, p, isMap := decode.MapHeader(b, 0)
	if !isMap {
		return nil, nil, false
	}
	var part, ns []byte
	var seenKey, seenPart, seenNS bool
	for i := uint64(0); i < n; i++ {
		k, q, isStr := decode.StrAt(b, p)
		if q < 0 || (!isStr && mpScalarEnd(b, p) < 0) {
			return nil, nil, false
		}
		end := mpScalarEnd(b, q)
		if end < 0 {
			return nil, nil, false
		}
		if isStr {
			// The first entry of a name wins; a value that is not a
			// string reads as "" (decode.Value.Get and String).
			v, _, _ := decode.StrAt(b, q)
			switch {
			case !seenKey && string(k) == "Key":
				key, seenKey = v, true
			case !seenPart && string(k) == "Partition":
				part, seenPart = v, true
			case !seenNS && string(k) == "Namespace":
				ns, seenNS = v, true
			}
		}
		p = end
	}
	if p != len(b) {
		return nil, nil, false
	}
	id = append(dst[:0], key...)
	sep := byte('?')
	if len(part) > 0 {
		id = append(append(append(id, sep), "partition="...), part...)
		sep = '&'
	}
	if len(ns) > 0 {
		id = append(append(append(id, sep), "namespace="...), ns...)
	}
	return id, key, true
}

// strField is str(v, name) on bytes: the str/bin payload of field name of
// the map at b[p], nil when absent or not a string.
func strField(b []byte, p int, name string) []byte {
	q, ok := decode.MapField(b, p, name)
	if !ok {
		return nil
	}
	s, _, _ := decode.StrAt(b, q)
	return s
}
