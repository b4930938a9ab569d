package raftlog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// The one table from a request's shape to its operation and identities.
// Request shapes are Consul 1.13/1.14's (agent/structs, applied by
// agent/consul/fsm/commands_oss.go). Requests are decoded generically
// (decode.DecodeAll); where a field of a request is a record type that
// snapshots also hold (a KV DirEntry, a Session, an ACLToken, …) its bytes
// are decoded with decode.DecodeValueOf and named with decode.Identity, so
// that dump, diff and the log agree on identities, typed views and masking.
var requestTable = map[decode.MessageType]func(c *reqCtx){
	decode.TypeRegister: func(c *reqCtx) {
		c.op = "register"
		node := c.str("Node")
		q := qual{peer: c.str("PeerName"), partition: c.str("Partition")}
		c.add(Target{Type: "Register", ID: "node:" + node + q.suffix()})
		if svc, ok := c.v.Get("Service"); ok && svc.Kind == decode.Map {
			sq := q
			sq.namespace = str(svc, "Namespace")
			c.add(Target{Type: "Register", ID: "service:" + node + "/" + str(svc, "ID") + sq.suffix(), Name: str(svc, "Service")})
		}
		addCheck := func(chk *decode.Value) {
			if chk == nil || chk.Kind != decode.Map {
				return
			}
			cq := q
			cq.namespace = str(chk, "Namespace")
			c.add(Target{Type: "Register", ID: "check:" + node + "/" + str(chk, "CheckID") + cq.suffix(), Name: str(chk, "ServiceName")})
		}
		chk, _ := c.v.Get("Check")
		addCheck(chk)
		if chks, ok := c.v.Get("Checks"); ok && chks.Kind == decode.Array {
			for i := range chks.Elems {
				addCheck(&chks.Elems[i])
			}
		}
		c.typedWhole(decode.TypeRegister)
	},
	decode.TypeDeregister: func(c *reqCtx) {
		node := c.str("Node")
		q := qual{peer: c.str("PeerName"), partition: c.str("Partition"), namespace: c.str("Namespace")}
		switch {
		case c.str("ServiceID") != "":
			c.op = "deregister-service"
			c.add(Target{Type: "Register", ID: "service:" + node + "/" + c.str("ServiceID") + q.suffix()})
		case c.str("CheckID") != "":
			c.op = "deregister-check"
			c.add(Target{Type: "Register", ID: "check:" + node + "/" + c.str("CheckID") + q.suffix()})
		default:
			c.op = "deregister-node"
			q.namespace = ""
			c.add(Target{Type: "Register", ID: "node:" + node + q.suffix()})
		}
	},
	decode.TypeKVS: func(c *reqCtx) {
		c.op = c.str("Op")
		c.typedField(decode.TypeKVS, "", "DirEnt")
	},
	decode.TypeSession: func(c *reqCtx) {
		c.op = c.str("Op")
		c.typedField(decode.TypeSession, "", "Session")
	},
	decode.TypeACL: func(c *reqCtx) { // legacy ACLRequest (≤ 1.10 logs): ACL.ID is a secret
		c.op = c.str("Op")
		c.typedField(decode.TypeACL, "", "ACL")
	},
	decode.TypeTombstone: func(c *reqCtx) {
		c.op = c.str("Op")
		if ri, ok := c.v.Get("ReapIndex"); ok {
			if n, ok := ri.AsUint(); ok {
				c.add(Target{Type: "Tombstone", ID: "reap<=" + strconv.FormatUint(n, 10)})
			}
		}
	},
	decode.TypeCoordinateBatchUpdate: func(c *reqCtx) {
		c.op = "update"
		// The request is structs.Coordinates, the shape of a snapshot's
		// CoordinateBatchUpdate record: its identity lists each node's,
		// joined with "," (decode.Keys).
		if c.v.Kind == decode.Array && len(c.v.Elems) > 0 {
			if ids := identity(decode.TypeCoordinateBatchUpdate, c.body); ids != "" {
				for _, id := range strings.Split(ids, ",") {
					c.add(Target{Type: "CoordinateBatchUpdate", ID: id})
				}
			}
		}
	},
	decode.TypePreparedQuery: func(c *reqCtx) {
		c.op = c.str("Op")
		c.typedField(decode.TypePreparedQuery, "", "Query")
	},
	decode.TypeTxn: func(c *reqCtx) {
		c.op = "txn"
		ops, _ := c.v.Get("Ops")
		raws := arrayElems(subValue(c.body, "Ops"))
		if ops == nil || ops.Kind != decode.Array {
			return
		}
		for i := range ops.Elems {
			op := &ops.Elems[i]
			var raw []byte
			if i < len(raws) {
				raw = raws[i]
			}
			path := []any{"Ops", i}
			switch {
			case nonNil(op, "KV"):
				c.typedAt(decode.TypeKVS, "kv:"+str(op, "KV", "Verb"), subValue(raw, "KV", "DirEnt"), append(path, "KV", "DirEnt"))
			case nonNil(op, "Node"):
				n, _ := op.Get("Node")
				node, _ := n.Get("Node")
				c.add(Target{Type: "Register", Op: "node:" + str(n, "Verb"), ID: "node:" + str(node, "Node") + qual{peer: str(node, "PeerName"), partition: str(node, "Partition")}.suffix()})
			case nonNil(op, "Service"):
				s, _ := op.Get("Service")
				svc, _ := s.Get("Service")
				c.add(Target{Type: "Register", Op: "service:" + str(s, "Verb"), ID: "service:" + str(s, "Node") + "/" + str(svc, "ID") + qual{peer: str(svc, "PeerName"), partition: str(svc, "Partition"), namespace: str(svc, "Namespace")}.suffix(), Name: str(svc, "Service")})
			case nonNil(op, "Check"):
				ch, _ := op.Get("Check")
				chk, _ := ch.Get("Check")
				c.add(Target{Type: "Register", Op: "check:" + str(ch, "Verb"), ID: "check:" + str(chk, "Node") + "/" + str(chk, "CheckID") + qual{peer: str(chk, "PeerName"), partition: str(chk, "Partition"), namespace: str(chk, "Namespace")}.suffix(), Name: str(chk, "ServiceName")})
			case nonNil(op, "Session"):
				c.typedAt(decode.TypeSession, "session:"+str(op, "Session", "Verb"), subValue(raw, "Session", "Session"), append(path, "Session", "Session"))
			case nonNil(op, "Intention"):
				c.typedAt(decode.TypeIntention, "intention:"+str(op, "Intention", "Op"), subValue(raw, "Intention", "Intention"), append(path, "Intention", "Intention"))
			default:
				c.add(Target{Type: "Txn", Op: "unknown", ID: strconv.Itoa(i)})
			}
		}
	},
	decode.TypeAutopilot: func(c *reqCtx) {
		c.op = "set-config"
		if cas, ok := c.v.Get("CAS"); ok && cas.Kind == decode.Bool && cas.Bool {
			c.op = "set-config-cas"
		}
		c.add(Target{Type: "Autopilot", ID: "singleton"})
		c.typedTree(decode.TypeAutopilot, subValue(c.body, "Config"), []any{"Config"})
	},
	decode.TypeACLBootstrap: func(c *reqCtx) { // ACLTokenBootstrapRequest: Token is the new token, not the caller
		c.op = "bootstrap"
		c.noCaller = true
		c.typedField(decode.TypeACLToken, "", "Token")
	},
	decode.TypeIntention: func(c *reqCtx) {
		c.op = c.str("Op")
		if nonNil(c.v, "Mutation") { // 1.9+: intentions live in service-intentions config entries
			m, _ := c.v.Get("Mutation")
			dst, _ := m.Get("Destination")
			c.add(Target{Type: "ConfigEntry", ID: "service-intentions/" + str(dst, "Name") + qual{partition: str(dst, "Partition"), namespace: str(dst, "Namespace")}.suffix(), Op: "source:" + str(m, "Source", "Name")})
			return
		}
		c.typedField(decode.TypeIntention, "", "Intention")
	},
	decode.TypeConnectCA: func(c *reqCtx) {
		c.op = c.str("Op")
		if nonNil(c.v, "Config") {
			c.add(Target{Type: "ConnectCAConfig", ID: "singleton"})
			c.typedTree(decode.TypeConnectCAConfig, subValue(c.body, "Config"), []any{"Config"})
		}
		c.typedList(decode.TypeConnectCA, "", "Roots")
		if nonNil(c.v, "ProviderState") {
			c.typedField(decode.TypeConnectCAProviderState, "", "ProviderState")
		}
	},
	decode.TypeConnectCALeaf: func(c *reqCtx) {
		c.op = c.str("Op")
	},
	decode.TypeACLToken: func(c *reqCtx) { // ACLTokenBatchSetRequest
		c.op = "set"
		c.typedList(decode.TypeACLToken, "", "Tokens")
	},
	decode.TypeACLTokenDelete: func(c *reqCtx) { c.op = "delete"; c.idList("ACLToken", "TokenIDs") },
	decode.TypeACLPolicy: func(c *reqCtx) {
		c.op = "set"
		c.typedList(decode.TypeACLPolicy, "", "Policies")
	},
	decode.TypeACLPolicyDelete: func(c *reqCtx) { c.op = "delete"; c.idList("ACLPolicy", "PolicyIDs") },
	decode.TypeConfigEntry: func(c *reqCtx) {
		d, err := decode.DecodeValueOf(decode.TypeConfigEntry, c.body)
		if err != nil {
			c.err = err
			return
		}
		ce := d.Data.(*decode.ConfigEntry)
		c.op = ce.Op
		c.caller, c.hasCaller = ce.Token, true
		k, _ := decode.DecodedKeys(d)
		c.add(Target{Type: "ConfigEntry", ID: k.Identity})
		c.tree = c.typedTreeOf(d)
		c.treeDone = true
	},
	decode.TypeACLRole: func(c *reqCtx) {
		c.op = "set"
		c.typedList(decode.TypeACLRole, "", "Roles")
	},
	decode.TypeACLRoleDelete: func(c *reqCtx) { c.op = "delete"; c.idList("ACLRole", "RoleIDs") },
	decode.TypeACLBindingRule: func(c *reqCtx) {
		c.op = "set"
		c.typedList(decode.TypeACLBindingRule, "", "BindingRules")
	},
	decode.TypeACLBindingRuleDelete: func(c *reqCtx) { c.op = "delete"; c.idList("ACLBindingRule", "BindingRuleIDs") },
	decode.TypeACLAuthMethod: func(c *reqCtx) {
		c.op = "set"
		c.typedList(decode.TypeACLAuthMethod, "", "AuthMethods")
	},
	decode.TypeACLAuthMethodDelete: func(c *reqCtx) {
		c.op = "delete"
		q := qual{partition: c.str("Partition"), namespace: c.str("Namespace")}.suffix()
		if names, ok := c.v.Get("AuthMethodNames"); ok && names.Kind == decode.Array {
			for i := range names.Elems {
				c.add(Target{Type: "ACLAuthMethod", ID: names.Elems[i].String() + q})
			}
		}
	},
	decode.TypeFederationState: func(c *reqCtx) {
		c.op = c.str("Op")
		c.add(Target{Type: "FederationState", ID: str(c.v, "State", "Datacenter")})
		c.typedWhole(decode.TypeFederationState)
	},
	decode.TypeSystemMetadata: func(c *reqCtx) {
		c.op = c.str("Op")
		c.typedField(decode.TypeSystemMetadata, "", "Entry")
	},
}

// reqCtx is one request being mapped: its bytes, its generic value, and
// what the table found.
type reqCtx struct {
	t    decode.MessageType
	body []byte
	v    *decode.Value
	show bool
	want bool // build the request tree

	op        string
	targets   []Target
	caller    string
	hasCaller bool
	noCaller  bool // the request's Token field is not the caller's
	err       error

	repl     []replacement
	tree     any
	treeDone bool
	learned  []*decode.ACLToken
}

type replacement struct {
	path []any
	tree any
}

func (c *reqCtx) str(keys ...string) string { return str(c.v, keys...) }

func (c *reqCtx) add(t Target) { c.targets = append(c.targets, t) }

// typedField decodes the sub-record under field as type t, names it and
// puts its typed tree in place of the generic one.
func (c *reqCtx) typedField(t decode.MessageType, op, field string) {
	if !nonNil(c.v, field) {
		return
	}
	c.typedAt(t, op, subValue(c.body, field), []any{field})
}

// typedList does typedField for every element of the array under field.
func (c *reqCtx) typedList(t decode.MessageType, op, field string) {
	for i, raw := range arrayElems(subValue(c.body, field)) {
		c.typedAt(t, op, raw, []any{field, i})
	}
}

// typedWhole treats the whole request as a record of type t.
func (c *reqCtx) typedWhole(t decode.MessageType) {
	if !c.want {
		return
	}
	d, err := decode.DecodeValueOf(t, c.body)
	if err != nil {
		return // the generic tree stays
	}
	c.tree, c.treeDone = c.typedTreeOf(d), true
}

func (c *reqCtx) typedAt(t decode.MessageType, op string, raw []byte, path []any) {
	if raw == nil {
		c.add(Target{Type: t.String(), Op: op})
		return
	}
	c.add(Target{Type: t.String(), ID: identity(t, raw), Op: op})
	if t == decode.TypeACLToken || c.want {
		d, err := decode.DecodeValueOf(t, raw)
		if err != nil {
			return
		}
		if tok, ok := d.Data.(*decode.ACLToken); ok {
			cp := *tok
			c.learned = append(c.learned, &cp)
		}
		if c.want {
			c.repl = append(c.repl, replacement{path: path, tree: c.typedTreeOf(d)})
		}
	}
}

// typedTree replaces path with the typed tree of raw, without a target.
func (c *reqCtx) typedTree(t decode.MessageType, raw []byte, path []any) {
	if !c.want || raw == nil {
		return
	}
	if d, err := decode.DecodeValueOf(t, raw); err == nil {
		c.repl = append(c.repl, replacement{path: path, tree: c.typedTreeOf(d)})
	}
}

// typedTreeOf is a typed sub-record as dump shows it: decode.Tree, masked
// by decode.Mask for its record type (KV entries are user data and stay as
// they are, as in dump).
func (c *reqCtx) typedTreeOf(d *decode.Decoded) any {
	t := decode.Tree(d.Data)
	if !c.show {
		t = decode.Mask(d.Type, t)
	}
	return t
}

func (c *reqCtx) idList(typ, field string) {
	q := qual{partition: c.str("Partition"), namespace: c.str("Namespace")}.suffix()
	if ids, ok := c.v.Get(field); ok && ids.Kind == decode.Array {
		for i := range ids.Elems {
			c.add(Target{Type: typ, ID: ids.Elems[i].String() + q})
		}
	}
}

// identity names a sub-record with decode.Identity.
func identity(t decode.MessageType, raw []byte) string {
	rec := decode.Record{Type: t, Raw: append([]byte{byte(t)}, raw...)}
	id, err := decode.Identity(&rec)
	if err != nil {
		return ""
	}
	return id
}

func str(v *decode.Value, keys ...string) string {
	for _, k := range keys {
		next, ok := v.Get(k)
		if !ok {
			return ""
		}
		v = next
	}
	return v.String()
}

func nonNil(v *decode.Value, key string) bool {
	x, ok := v.Get(key)
	return ok && x.Kind != decode.Nil
}

// subValue returns the bytes of the value under the key path of the
// msgpack map b (nil if absent): decode.ValueAt.
func subValue(b []byte, keys ...string) []byte {
	path := make([]any, len(keys))
	for i, k := range keys {
		path[i] = k
	}
	v, ok := decode.ValueAt(b, path...)
	if !ok {
		return nil
	}
	return v
}

// arrayElems splits the msgpack array b into its elements' bytes.
func arrayElems(b []byte) [][]byte {
	els, _ := decode.ArrayValues(b)
	return els
}

// qual is an identity's qualifier (decode.Qualifier), for identities built
// from request fields (register, deregister and transaction catalog
// operations name several records at once).
type qual struct{ peer, partition, namespace string }

func (q qual) suffix() string { return decode.Qualifier(q.peer, q.partition, q.namespace) }

// setPath replaces the node at path (map keys and array indexes) in a
// generic tree.
func setPath(tree any, path []any, val any) error {
	cur := tree
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			o, ok := cur.(*decode.Object)
			if !ok {
				return fmt.Errorf("path %v: not an object", path[:i+1])
			}
			if last {
				o.Set(k, val)
				return nil
			}
			cur, _ = o.Get(k)
		case int:
			a, ok := cur.([]any)
			if !ok || k >= len(a) {
				return fmt.Errorf("path %v: not an array element", path[:i+1])
			}
			if last {
				a[k] = val
				return nil
			}
			cur = a[k]
		}
	}
	return nil
}
