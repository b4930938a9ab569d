package decode

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strings"
)

// RecordKeys are the names of one record: what diff matches on, what it
// sorts by, and a KV record's key.
type RecordKeys struct {
	// Identity names the same logical object across snapshots (see Keys).
	Identity string
	// Order is the record's position in Consul's write order within its
	// type: comparing the Order of two records of one type byte-wise
	// compares them as Consul's snapshot writes them (see Keys).
	Order string
	// KV is the Key field of a KVS or Tombstone record ("" for other
	// types, or when the key is not a string).
	KV string
}

// Keys returns the record's identity, its Consul order key and, for KVS
// and Tombstone records, its key, in one pass over the bytes: the fields
// are read straight from the msgpack (fields.go) after one allocation-free
// check that the value decodes, and nothing is built, except for the types
// whose value is wrapped (ConfigEntry, Peering, PeeringTrustBundle,
// PeeringSecret, Resource), which take DecodeRecord. A failure is a
// *RecordError wrapping ErrTypedDecode.
//
// When a field name appears twice in a map, the last one counts, as in
// Consul's decoder (and DecodeRecord, Value.Get, KVFields). Identities and
// order keys are a contract:
//
//	type                        identity                                         order (within the type)
//	KVS, Tombstone              <Key>                                            identity, byte-wise
//	Register                    node:<Node>                                      <peer>\0<node>\0 0
//	                            service:<Node>/<Service.ID>                      <peer>\0<node>\0 1\0<service ID>
//	                            check:<Node>/<Check.CheckID>                     <peer>\0<node>\0 2\0<check ID>
//	Session, ACLPolicy,
//	ACLRole, ACLBindingRule,
//	PreparedQuery, Intention    <ID>                                             identity, lower-cased
//	ConnectCA,
//	ConnectCAProviderState      <ID>                                             identity (case-sensitive)
//	ACLToken                    <AccessorID>                                     <SecretID> (case-sensitive)
//	ACLAuthMethod               <Name>                                           identity, lower-cased
//	ConfigEntry                 <Kind>/<Name>                                    <kind>\0<name>
//	Index, SystemMetadata       <Key>                                            identity, lower-cased
//	CoordinateBatchUpdate       <Node>, or <Node>/<Segment> when set             <node>\0<segment>
//	FederationState             <State.Datacenter>                               identity, lower-cased
//	ServiceVirtualIP            <service name>                                   "~" or peer:<peer>, \0, <service name>
//	FreeVirtualIP               <IP> (240.0.0.0 + offset), counter:<IP>         0 (free) or 1 (counter), \0, <IP bytes>
//	PeeringTrustBundle          <PeerName>                                       identity, lower-cased
//	PeeringSecret               <PeerID>                                         identity, lower-cased
//	Peering                     <ID>                                             <partition>\0<name>
//	Resource                    <group>.<group_version>.<kind>/<name>            identity
//	Autopilot, ConnectCAConfig,
//	ChunkingState, ACLBootstrap singleton                                        identity
//	ACL (legacy, keyed by
//	its secret)                 sha256:<first 16 hex digits of SHA-256 of ID>    identity
//	unknown types               sha256:<first 16 hex digits of SHA-256 of value> identity
//
// In the order column <peer> is the peer name or "~" for local (1.13+
// index keys; it sorts after peer names), and lower-case names are the
// lower-cased fields: the order keys reproduce the state store tables' `id`
// indexes (1.13.9's catalog_schema.go, acl_schema.go, …) as Consul's
// snapshot walks them, with fields separated by NUL as memdb's compound
// indexes do. Peering is written in its name index's order and
// FreeVirtualIP free rows before the counter (both observed on 1.13.9).
//
// When a peer name, partition or namespace is set (non-empty), the identity
// appends it as a query string in this order: ?peer=<p>&partition=<p>&namespace=<n>.
// Consul compares node, service and check names case-insensitively; the
// identity keeps the case as written.
func Keys(rec *Record) (RecordKeys, error) { return keysOf(rec, true) }

// Identity returns the record's identity (see Keys), without computing its
// order key. A failure is a *RecordError.
func Identity(rec *Record) (string, error) {
	k, err := keysOf(rec, false)
	return k.Identity, err
}

// typeOrder is the order in which Consul writes record types (persistOSS).
// Legacy ACL (4) and ACLBootstrap (11), written only by pre-1.4 servers,
// came right after sessions.
var typeOrder = []MessageType{
	TypeServiceVirtualIP, TypeFreeVirtualIP, TypeRegister, TypeCoordinateBatchUpdate, TypeSession,
	TypeACL, TypeACLBootstrap, TypeACLToken, TypeACLPolicy, TypeACLRole, TypeACLBindingRule,
	TypeACLAuthMethod, TypeKVS, TypeTombstone, TypePreparedQuery, TypeAutopilot, TypeIntention,
	TypeConnectCA, TypeConnectCAProviderState, TypeConnectCAConfig, TypeConfigEntry,
	TypeFederationState, TypeSystemMetadata, TypeIndex, TypePeering, TypePeeringTrustBundle,
	TypePeeringSecret, TypeResource,
}

var typeRanks = func() (r [256]int) {
	// Enterprise types first (by number), then Consul's order, then
	// unknown types by number, then ChunkingState, which is always last.
	for t := 0; t < 256; t++ {
		if t >= 64 && t < 128 {
			r[t] = t - 64
		} else {
			r[t] = 1000 + t
		}
	}
	for i, t := range typeOrder {
		r[t] = 100 + i
	}
	r[TypeChunkingState] = 2000
	return r
}()

// MaxRank is above every Rank.
const MaxRank = 4096

// Rank is the position of a record type in Consul's write order: records
// of a lower rank come first. Enterprise types (64–127) come first, types
// Consul does not write in this order just before ChunkingState, which is
// always last. 0 <= Rank(t) < MaxRank.
func Rank(t MessageType) int { return typeRanks[t] }

func keysOf(rec *Record, wantOrder bool) (RecordKeys, error) {
	if rec == nil || len(rec.Raw) < 1 {
		return RecordKeys{}, recordErr(rec, ErrTruncated)
	}
	b := rec.Raw[1:]
	switch rec.Type {
	case TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource, TypeConfigEntry:
		d, err := DecodeRecord(rec)
		if err != nil {
			return RecordKeys{}, err
		}
		return keysOfDecoded(d), nil
	}
	if !rec.Type.InSnapshots() {
		id := contentID(b)
		return RecordKeys{Identity: id, Order: id}, nil
	}
	var k RecordKeys
	var buf [128]byte // the identity's bytes, on the stack
	switch rec.Type {
	case TypeKVS, TypeTombstone:
		e, ok := KVFields(rec) // also checks the value
		if !ok {
			return RecordKeys{}, typedErr(rec, b)
		}
		k.Identity = string(e.AppendIdentity(buf[:0]))
		k.KV = k.Identity[:len(e.Key)]
		k.Order = k.Identity
		return k, nil
	case TypeRegister:
		var top [5]int
		if !scanTop(b, registerFields[:], top[:]) {
			return RecordKeys{}, typedErr(rec, b)
		}
		node := strVal(b, top[0])
		peer, part := strVal(b, top[1]), strVal(b, top[2])
		kind, idField, sub := "node:", "", -1
		switch {
		case isMapAt(b, top[3]):
			kind, idField, sub = "service:", "ID", top[3]
		case isMapAt(b, top[4]):
			kind, idField, sub = "check:", "CheckID", top[4]
		}
		var ns, id []byte
		if sub >= 0 {
			var f [2]int
			names := [2]string{"Namespace", idField}
			lookup(b, sub, names[:], f[:])
			ns, id = strVal(b, f[0]), strVal(b, f[1])
		}
		buf := append(append(buf[:0], kind...), node...)
		if sub >= 0 {
			buf = append(append(buf, '/'), id...)
		}
		k.Identity = string(appendQual(buf, peer, part, ns))
		if wantOrder {
			o := buf[:0]
			if len(peer) == 0 {
				o = append(o, '~')
			} else {
				o = appendLower(o, peer)
			}
			o = append(appendLower(append(o, 0), node), 0)
			switch kind {
			case "node:":
				o = append(o, '0')
			case "service:":
				o = appendLower(append(o, '1', 0), id)
			default:
				o = appendLower(append(o, '2', 0), id)
			}
			k.Order = string(o)
		}
		return k, nil
	case TypeSession, TypeACLPolicy, TypeACLRole, TypeACLBindingRule, TypePreparedQuery,
		TypeIntention, TypeConnectCA, TypeConnectCAProviderState, TypeACLToken, TypeACLAuthMethod:
		name := "ID"
		switch rec.Type {
		case TypeACLToken:
			name = "AccessorID"
		case TypeACLAuthMethod:
			name = "Name"
		}
		var f [4]int
		names := [4]string{name, "Partition", "Namespace", "SecretID"}
		if !scanTop(b, names[:], f[:]) {
			return RecordKeys{}, typedErr(rec, b)
		}
		k.Identity = string(appendQual(append(buf[:0], strVal(b, f[0])...), []byte(nil), strVal(b, f[1]), strVal(b, f[2])))
		if wantOrder && rec.Type == TypeACLToken {
			k.Order = string(strVal(b, f[3]))
			return k, nil
		}
	case TypeIndex, TypeSystemMetadata:
		var f [1]int
		names := [1]string{"Key"}
		if !scanTop(b, names[:], f[:]) {
			return RecordKeys{}, typedErr(rec, b)
		}
		k.Identity = string(strVal(b, f[0]))
	default:
		if !validValue(b) {
			return RecordKeys{}, typedErr(rec, b)
		}
	}
	switch rec.Type {
	case TypeCoordinateBatchUpdate:
		var ids []string
		if kind, hdr, n, _ := readHead(b, 0); kind == Array {
			p := hdr
			for j := uint64(0); j < n; j++ {
				var f [3]int
				names := [3]string{"Node", "Segment", "Partition"}
				lookup(b, p, names[:], f[:])
				node, seg := strVal(b, f[0]), strVal(b, f[1])
				id := append([]byte(nil), node...)
				if len(seg) > 0 {
					id = append(append(id, '/'), seg...)
				}
				ids = append(ids, string(appendQual(id, []byte(nil), strVal(b, f[2]), nil)))
				if j == 0 && wantOrder {
					k.Order = string(appendLower(append(appendLower(nil, node), 0), seg))
				}
				p = skipValue(b, p)
			}
		}
		k.Identity = strings.Join(ids, ",")
		if wantOrder && len(ids) > 0 {
			return k, nil
		}
	case TypeFederationState:
		k.Identity = string(strPath(b, 0, "State", "Datacenter"))
	case TypeServiceVirtualIP:
		svc := field(b, 0, "Service")
		var f [5]int
		names := [5]string{"ServiceName", "Peer", "Name", "Partition", "Namespace"}
		lookup(b, svc, names[:], f[:])
		sn := f[0]
		name := strPath(b, sn, "Name")
		peer, part, ns := strVal(b, f[1]), strPath(b, sn, "Partition"), strPath(b, sn, "Namespace")
		if len(name) == 0 { // pre-1.13 shape: Service = {Name, Partition, Namespace}
			name, part, ns = strVal(b, f[2]), strVal(b, f[3]), strVal(b, f[4])
		}
		k.Identity = string(appendQual(append([]byte(nil), name...), peer, part, ns))
		if wantOrder {
			// PeeredServiceName: "~" or "peer:<name>", then the service
			// name, both lower-cased (1.13 indexFromPeeredServiceName).
			// The name comes from ServiceName whenever that key is there.
			if sn < 0 {
				name = strVal(b, f[2])
			} else {
				name = strPath(b, sn, "Name")
			}
			var o []byte
			if len(peer) == 0 {
				o = append(o, '~')
			} else {
				o = appendLower(append(o, "peer:"...), peer)
			}
			k.Order = string(appendLower(append(o, 0), name))
			return k, nil
		}
	case TypeFreeVirtualIP:
		var f [2]int
		names := [2]string{"IP", "IsCounter"}
		lookup(b, 0, names[:], f[:])
		ip := strVal(b, f[0])
		counter := f[1] >= 0 && descs[b[f[1]]].kind == Bool && boolAt(b[f[1]])
		id := vipString(ip, f[0] >= 0 && ip != nil)
		if counter {
			id = "counter:" + id
		}
		k.Identity = id
		if wantOrder {
			// Compound id index (IP, counter flag). The IP part is a
			// memdb StringFieldIndex on a net.IP, which does not order by
			// address; observed on 1.13.9: the free row first, then the
			// counter row.
			flag := "0\x00"
			if counter {
				flag = "1\x00"
			}
			k.Order = flag + string(ip)
			return k, nil
		}
	case TypeACL:
		k.Identity = contentID(strVal(b, field(b, 0, "ID")))
	case TypeAutopilot, TypeConnectCAConfig, TypeChunkingState, TypeACLBootstrap:
		k.Identity = "singleton"
	}
	if wantOrder {
		k.Order = orderFromIdentity(rec.Type, k.Identity)
	}
	return k, nil
}

var registerFields = [...]string{"Node", "PeerName", "Partition", "Service", "Check"}

// orderFromIdentity is the order key of the types whose key is their
// identity: UUID indexes (hex order is byte order) and lower-cased string
// indexes are lower-cased; the rest (KV keys, CA roots) is byte-wise.
func orderFromIdentity(t MessageType, id string) string {
	switch t {
	case TypeSession, TypeACLPolicy, TypeACLRole, TypeACLBindingRule, TypePreparedQuery,
		TypeIntention, TypePeeringSecret, TypeIndex, TypeSystemMetadata, TypeFederationState,
		TypeACLAuthMethod, TypePeeringTrustBundle, TypeCoordinateBatchUpdate:
		return strings.ToLower(id)
	}
	return id
}

// keysOfDecoded gives the keys of the types whose identity needs the typed
// decode (a wrapped value or protobuf).
func keysOfDecoded(d *Decoded) RecordKeys {
	var id, order string
	switch x := d.Data.(type) {
	case *ConfigEntry:
		id = x.Kind + "/" + x.Name + string(appendQual(nil, "", x.Partition, x.Namespace))
		kind, name, _ := strings.Cut(id, "/") // the name keeps the identity's qualifier
		order = strings.ToLower(kind) + "\x00" + strings.ToLower(name)
	case *Peering:
		id = x.ID
		order = strings.ToLower(x.Partition) + "\x00" + strings.ToLower(x.Name)
	case *PeeringTrustBundle:
		id = x.PeerName + string(appendQual(nil, "", x.Partition, ""))
	case *PeeringSecrets:
		id = x.PeerID
	case *Resource:
		id = x.Group + "." + x.GroupVersion + "." + x.Kind + "/" + x.Name + string(appendQual(nil, x.PeerName, x.Partition, x.Namespace))
	}
	if order == "" {
		order = orderFromIdentity(d.Type, id)
	}
	return RecordKeys{Identity: id, Order: order}
}

func contentID(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:8])
}

// appendLower appends s lower-cased as strings.ToLower would.
func appendLower(dst, s []byte) []byte {
	for _, c := range s {
		if c >= 0x80 { // not ASCII: the general case
			return append(dst, strings.ToLower(string(s))...)
		}
	}
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// vipString renders a virtual-IP offset as the address it stands for
// (240.0.0.0 + offset), as Consul does; set is false when the IP is absent
// or not a str/bin.
func vipString(b []byte, set bool) string {
	if !set {
		return ""
	}
	ip := net.IP(b).To4()
	if ip == nil {
		return hex.EncodeToString(b)
	}
	return net.IPv4(240+ip[0], ip[1], ip[2], ip[3]).String()
}

// KVGroup groups a KV key like `consul snapshot inspect -kvdetails`
// (docs/FORMAT.md §11.2): its first depth parts split on "/", joined by "/"; the
// whole key when it has fewer parts, empty for depth 0 or less. Works on
// strings and on bytes (aliasing key). Examples: "a/" at depth 2 is "a/",
// "b//c" at depth 2 is "b/". It allocates nothing.
func KVGroup[S ~string | ~[]byte](key S, depth int) S {
	if depth <= 0 {
		return key[:0]
	}
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			if depth--; depth == 0 {
				return key[:i]
			}
		}
	}
	return key
}
