package diff

import (
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// typeOrder is the order in which Consul writes record types (FORMAT.md
// §3.2, persistOSS). Legacy ACL (4) and ACLBootstrap (11), written only by
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
// records of one type: the state store table's `id` index (FORMAT.md §3.2),
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

// kvPrefix groups a key like `consul snapshot inspect -kvdetails` does:
// the first depth parts split on "/", joined by "/".
func kvPrefix(key string, depth int) string {
	parts := strings.Split(key, "/")
	if depth < len(parts) {
		parts = parts[:depth]
	}
	return strings.Join(parts, "/")
}
