package decode

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
)

// Identity returns the record's identity: the string that names the same
// logical object across snapshots. dump prints it as "id" and diff matches
// records on (type, identity). The forms are a contract:
//
//	KVS, Tombstone                      <Key>
//	Register                            node:<Node> | service:<Node>/<Service.ID> | check:<Node>/<Check.CheckID>
//	Session, ACLPolicy, ACLRole,
//	ACLBindingRule, PreparedQuery,
//	Intention, ConnectCA, Peering       <ID>
//	ConnectCAProviderState              <ID>
//	ACLToken                            <AccessorID>
//	ACLAuthMethod                       <Name>
//	ConfigEntry                         <Kind>/<Name>
//	Index, SystemMetadata               <Key>
//	CoordinateBatchUpdate               <Node>, or <Node>/<Segment> when the segment is set
//	FederationState                     <State.Datacenter>
//	ServiceVirtualIP                    <service name>
//	FreeVirtualIP                       <IP> (dotted, 240.0.0.0 + offset), counter:<IP> for the allocator counter
//	PeeringTrustBundle                  <PeerName>
//	PeeringSecret                       <PeerID>
//	Resource                            <group>.<group_version>.<kind>/<name>
//	Autopilot, ConnectCAConfig,
//	ChunkingState, ACLBootstrap         singleton
//	ACL (legacy, keyed by its secret)   sha256:<first 16 hex digits of SHA-256 of the ID>
//	unknown types                       sha256:<first 16 hex digits of SHA-256 of the value bytes>
//
// When a peer name, partition or namespace is set (non-empty), it is
// appended as a query string in this order: ?peer=<p>&partition=<p>&namespace=<n>.
// Consul compares node, service and check names case-insensitively; the
// identity keeps the case as written.
func Identity(rec *Record) (string, error) {
	switch rec.Type {
	case TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource, TypeConfigEntry:
		d, err := DecodeRecord(rec)
		if err != nil {
			return "", err
		}
		return IdentityOf(d), nil
	}
	if !rec.Type.InSnapshots() {
		return contentID(rec.Value()), nil
	}
	if id, ok := identityFast(rec); ok { // identityfast.go: no generic decode for the common types
		return id, nil
	}
	v, err := DecodeAll(rec.Value())
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrTypedDecode, rec.Type, err)
	}
	return identityFromValue(rec.Type, &v), nil
}

func contentID(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:8])
}

type qual struct{ peer, partition, namespace string }

func (q qual) suffix() string {
	var parts []string
	if q.peer != "" {
		parts = append(parts, "peer="+q.peer)
	}
	if q.partition != "" {
		parts = append(parts, "partition="+q.partition)
	}
	if q.namespace != "" {
		parts = append(parts, "namespace="+q.namespace)
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

func str(v *Value, keys ...string) string {
	for _, k := range keys {
		next, ok := v.Get(k)
		if !ok {
			return ""
		}
		v = next
	}
	return v.String()
}

func identityFromValue(t MessageType, v *Value) string {
	switch t {
	case TypeKVS, TypeTombstone:
		return str(v, "Key") + qual{partition: str(v, "Partition"), namespace: str(v, "Namespace")}.suffix()
	case TypeRegister:
		node := str(v, "Node")
		q := qual{peer: str(v, "PeerName"), partition: str(v, "Partition")}
		if svc, ok := v.Get("Service"); ok && svc.Kind == Map {
			q.namespace = str(svc, "Namespace")
			return "service:" + node + "/" + str(svc, "ID") + q.suffix()
		}
		if chk, ok := v.Get("Check"); ok && chk.Kind == Map {
			q.namespace = str(chk, "Namespace")
			return "check:" + node + "/" + str(chk, "CheckID") + q.suffix()
		}
		return "node:" + node + q.suffix()
	case TypeSession, TypeACLPolicy, TypeACLRole, TypeACLBindingRule, TypePreparedQuery,
		TypeIntention, TypeConnectCA, TypeConnectCAProviderState:
		return str(v, "ID") + qual{partition: str(v, "Partition"), namespace: str(v, "Namespace")}.suffix()
	case TypeACLToken:
		return str(v, "AccessorID") + qual{partition: str(v, "Partition"), namespace: str(v, "Namespace")}.suffix()
	case TypeACLAuthMethod:
		return str(v, "Name") + qual{partition: str(v, "Partition"), namespace: str(v, "Namespace")}.suffix()
	case TypeIndex, TypeSystemMetadata:
		return str(v, "Key")
	case TypeCoordinateBatchUpdate:
		var ids []string
		if v.Kind == Array {
			for i := range v.Elems {
				e := &v.Elems[i]
				id := str(e, "Node")
				if seg := str(e, "Segment"); seg != "" {
					id += "/" + seg
				}
				ids = append(ids, id+qual{partition: str(e, "Partition")}.suffix())
			}
		}
		return strings.Join(ids, ",")
	case TypeFederationState:
		return str(v, "State", "Datacenter")
	case TypeServiceVirtualIP:
		svc, _ := v.Get("Service")
		name := str(svc, "ServiceName", "Name")
		q := qual{peer: str(svc, "Peer"), partition: str(svc, "ServiceName", "Partition"), namespace: str(svc, "ServiceName", "Namespace")}
		if name == "" { // pre-1.13 shape: Service = {Name}
			name = str(svc, "Name")
			q.partition, q.namespace = str(svc, "Partition"), str(svc, "Namespace")
		}
		return name + q.suffix()
	case TypeFreeVirtualIP:
		ipv, _ := v.Get("IP")
		id := vipString(ipv)
		if c, ok := v.Get("IsCounter"); ok && c.Kind == Bool && c.Bool {
			return "counter:" + id
		}
		return id
	case TypeACL:
		return contentID([]byte(str(v, "ID")))
	case TypeAutopilot, TypeConnectCAConfig, TypeChunkingState, TypeACLBootstrap:
		return "singleton"
	}
	return ""
}

// vipString renders a virtual-IP offset as the address it stands for
// (240.0.0.0 + offset), as Consul does.
func vipString(v *Value) string {
	if v == nil || (v.Kind != Str && v.Kind != Bin) {
		return ""
	}
	ip := net.IP(v.Bytes).To4()
	if ip == nil {
		return hex.EncodeToString(v.Bytes)
	}
	return net.IPv4(240+ip[0], ip[1], ip[2], ip[3]).String()
}

// IdentityOf returns the identity of a decoded record (see Identity).
func IdentityOf(d *Decoded) string {
	switch x := d.Data.(type) {
	case *ConfigEntry:
		return x.Kind + "/" + x.Name + qual{partition: x.Partition, namespace: x.Namespace}.suffix()
	case *Peering:
		return x.ID
	case *PeeringTrustBundle:
		return x.PeerName + qual{partition: x.Partition}.suffix()
	case *PeeringSecrets:
		return x.PeerID
	case *Resource:
		return x.Group + "." + x.GroupVersion + "." + x.Kind + "/" + x.Name + qual{peer: x.PeerName, partition: x.Partition, namespace: x.Namespace}.suffix()
	}
	return ""
}
