package replay

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// The catalog (nodes, services, checks) as Consul 1.13's and 1.14's state
// store change it on a Register or Deregister entry: ensureRegistrationTxn,
// ensureNodeTxn, ensureServiceTxn, ensureCheckTxn, deleteNodeTxn,
// deleteServiceTxn and deleteCheckTxn (agent/consul/state/catalog.go,
// catalog_oss.go / catalog_ce.go), step by step, with the Index rows they
// write (indexUpdateMaxTxn: an index only grows), the sessions they
// invalidate, the coordinates a node deletion removes, and the
// kind_service_names rows.
//
// Records are assembled from the bytes Consul wrote, never re-encoded: a
// node, service or check record is the map of the request that last
// changed it (or of the base snapshot's record), field by field, with only
// the fields the state store sets replaced (CreateIndex, ModifyIndex, the
// check's default Status and its ServiceName/ServiceTags, the service's
// normalised Weights, ...). A request is replayed only when its maps have
// exactly the fields, in the same order, of the base snapshot's records of
// the same struct (so the Consul version that wrote the log is the one that
// wrote the snapshot's layout). What this does not reproduce is refused
// (unreproducible): services of another kind than a typical service or
// Connect-native ones (mesh topology, virtual IPs, gateways), any service
// registration while the snapshot has an ingress or terminating gateway
// config entry, peered or Enterprise (namespaced, partitioned)
// registrations, and a base snapshot without 1.13's peer-qualified index
// rows (Consul 1.12 and older name its Index rows differently).

// unreproducible is an effect replay cannot reproduce exactly; any other
// error from a catalog operation is the error Consul's state store returns
// (the whole request then changes nothing, as memdb aborts the
// transaction).
type unreproducible struct{ why string }

func (u *unreproducible) Error() string { return u.why }

func unrepro(format string, a ...any) error {
	return &unreproducible{why: fmt.Sprintf(format, a...)}
}

// catNode is one node with its services and checks. Nodes are replaced,
// never changed in place (clone), so that a change can be undone.
type catNode struct {
	top      []decode.Field // the node record's fields, Service/Check/Checks nil
	name, id string
	create   uint64
	modify   uint64
	raw      []byte // the base snapshot's node record, until the node changes
	services map[string]*catService
	checks   map[string]*catCheck
}

type catService struct {
	f              []decode.Field // NodeService fields as Consul persists them
	raw            []byte         // the base record, until it changes
	id, name, kind string
	native         bool
	tags           []byte
	create, modify uint64
}

type catCheck struct {
	f                                        []decode.Field // HealthCheck fields as persisted
	raw                                      []byte
	id, node, status, serviceID, serviceName string
	create, modify                           uint64
}

func (n *catNode) clone() *catNode {
	c := *n
	c.services = make(map[string]*catService, len(n.services))
	for k, v := range n.services {
		c.services[k] = v
	}
	c.checks = make(map[string]*catCheck, len(n.checks))
	for k, v := range n.checks {
		c.checks[k] = v
	}
	return &c
}

// catalog is the part of the catalog replay holds: the nodes the entries
// name (with their services and checks), plus what it needs to know about
// the rest of the snapshot.
type catalog struct {
	nodes map[string]*catNode // lower-cased name, local nodes only
	// byID maps a lower-cased node ID to the lower-cased name of a held node.
	byID map[string]string
	// svcCount is the number of local service instances per lower-cased
	// service name in the whole catalog; kindCount per kind and name.
	svcCount  map[string]int
	kindCount map[string]int
	// ksn are the kind_service_names rows touched so far (kind\0name).
	ksn map[string]bool
	// coords are the coordinate records of the held nodes by lower-cased
	// node: identity and raw record.
	coords map[string][]coordRec
	// exists notes the nodes of coordinate updates that are not held.
	exists map[string]bool
	vips   map[string]bool // lower-cased service names with a virtual IP
	// svcIdxDone: the index at which a node's service rows were last set
	// by allServiceIndexesOfNode. sessByCheck: sessionChecks' map for
	// sessByCheckNode, reset by each catalog request.
	svcIdxDone      map[string]uint64
	sessByCheck     map[string][]string
	sessByCheckNode string
	// gateways: the snapshot has an ingress or terminating gateway entry.
	gateways bool
	// peerIndexes: the Index table has 1.13's "peer.~:" rows.
	peerIndexes bool
	// The field layouts of the base snapshot's records.
	topNames, svcNames, checkNames []string
}

type coordRec struct {
	id, key string // identity (decode.Keys), coordKey
	raw     []byte
}

func newCatalog() *catalog {
	return &catalog{nodes: map[string]*catNode{}, byID: map[string]string{}, svcCount: map[string]int{},
		kindCount: map[string]int{}, ksn: map[string]bool{}, coords: map[string][]coordRec{}, exists: map[string]bool{}, vips: map[string]bool{},
		svcIdxDone: map[string]uint64{}}
}

// --- field helpers ---

var (
	mpNil, _   = encode.Value(nil)
	mpFalse, _ = encode.Value(false)
)

func names(fs []decode.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func sameNames(fs []decode.Field, want []string) bool {
	if len(fs) != len(want) {
		return false
	}
	for i, f := range fs {
		if f.Name != want[i] {
			return false
		}
	}
	return true
}

func fieldRaw(fs []decode.Field, name string) []byte {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Name == name {
			return fs[i].Val
		}
	}
	return nil
}

func isStr(raw []byte) bool {
	v, err := decode.DecodeAll(raw)
	return err == nil && v.Kind == decode.Str
}

func fieldStr(fs []decode.Field, name string) string {
	raw := fieldRaw(fs, name)
	if raw == nil {
		return ""
	}
	v, err := decode.DecodeAll(raw)
	if err != nil || (v.Kind != decode.Str && v.Kind != decode.Bin) {
		return ""
	}
	return string(v.Bytes)
}

func fieldUint(fs []decode.Field, name string) uint64 {
	raw := fieldRaw(fs, name)
	if raw == nil {
		return 0
	}
	v, err := decode.DecodeAll(raw)
	if err != nil {
		return 0
	}
	n, _ := v.AsUint()
	return n
}

func fieldBool(fs []decode.Field, name string) bool {
	raw := fieldRaw(fs, name)
	return decode.IsTrue(raw)
}

// with returns a copy of fs with the named fields' values replaced.
func with(fs []decode.Field, vals map[string][]byte) []decode.Field {
	out := append([]decode.Field(nil), fs...)
	for i := range out {
		if v, ok := vals[out[i].Name]; ok {
			out[i].Val = v
		}
	}
	return out
}

func mpUint(n uint64) []byte {
	b, _ := encode.Value(n)
	return b
}

func mpStr(s string) []byte {
	b, _ := encode.Value(s)
	return b
}

// sameFields: the named fields hold the same content in a and b
// (reflect.DeepEqual of what they decode to: maps regardless of order).
func sameFields(a, b []decode.Field, fields ...string) bool {
	for _, f := range fields {
		x, y := fieldRaw(a, f), fieldRaw(b, f)
		if x == nil || y == nil || !decode.SameValue(x, y) {
			return false
		}
	}
	return true
}

// enterprise reports whether fs carries an Enterprise namespace or
// partition.
func enterprise(fs []decode.Field) bool {
	return fieldStr(fs, "Namespace") != "" || fieldStr(fs, "Partition") != ""
}

// --- loading the base snapshot ---

// loadRegister takes one Register record of the base snapshot: it learns
// the layouts and the service counts from every record, and holds the
// records of the nodes the entries name.
func (c *catalog) loadRegister(rec *decode.Record, in *interest, known map[string]bool) error {
	top, ok := decode.MapFields(rec.Value())
	if !ok {
		return fmt.Errorf("Register record %d at offset %d: %w", rec.N, rec.Offset, decode.ErrTypedDecode)
	}
	svcRaw, chkRaw := fieldRaw(top, "Service"), fieldRaw(top, "Check")
	var svc, chk []decode.Field
	if decode.IsMap(svcRaw, 0) {
		if svc, ok = decode.MapFields(svcRaw); !ok {
			return fmt.Errorf("Register record %d: Service: %w", rec.N, decode.ErrTypedDecode)
		}
	}
	if decode.IsMap(chkRaw, 0) {
		if chk, ok = decode.MapFields(chkRaw); !ok {
			return fmt.Errorf("Register record %d: Check: %w", rec.N, decode.ErrTypedDecode)
		}
	}
	switch {
	case svc != nil && c.svcNames == nil:
		c.svcNames = names(svc)
	case chk != nil && c.checkNames == nil:
		c.checkNames = names(chk)
	case svc == nil && chk == nil && c.topNames == nil:
		c.topNames = names(top)
	}
	local := fieldStr(top, "PeerName") == "" && !enterprise(top)
	name := fieldStr(top, "Node")
	key := strings.ToLower(name)
	if svc != nil && local {
		sname := strings.ToLower(fieldStr(svc, "Service"))
		c.svcCount[sname]++
		c.kindCount[fieldStr(svc, "Kind")+"\x00"+sname]++
	}
	if !local {
		return nil
	}
	n := c.nodes[key]
	if svc == nil && chk == nil {
		id := strings.ToLower(fieldStr(top, "ID"))
		if !in.all && !in.nodes[key] && (id == "" || !in.nodeIDs[id]) {
			if in.coordNodes[key] {
				c.exists[key] = true
			}
			return nil
		}
		n = &catNode{top: top, name: name, id: fieldStr(top, "ID"), create: fieldUint(top, "CreateIndex"),
			modify: fieldUint(top, "ModifyIndex"), raw: append([]byte(nil), rec.Raw...),
			services: map[string]*catService{}, checks: map[string]*catCheck{}}
		// top aliases the record: keep a copy
		n.top, _ = decode.MapFields(n.raw[1:])
		c.nodes[key] = n
		if n.id != "" {
			c.byID[strings.ToLower(n.id)] = key
		}
	} else if n == nil {
		return nil
	}
	k, err := decode.Keys(rec)
	if err != nil {
		return err
	}
	known[k.Identity] = true
	raw := append([]byte(nil), rec.Raw...)
	own, _ := decode.MapFields(raw[1:])
	switch {
	case svc != nil:
		f, _ := decode.MapFields(fieldRaw(own, "Service"))
		s := newService(f)
		s.raw = raw
		n.services[strings.ToLower(s.id)] = s
	case chk != nil:
		f, _ := decode.MapFields(fieldRaw(own, "Check"))
		ch := newCheck(f)
		ch.raw = raw
		n.checks[strings.ToLower(ch.id)] = ch
	}
	return nil
}

func newService(f []decode.Field) *catService {
	s := &catService{f: f, id: fieldStr(f, "ID"), name: fieldStr(f, "Service"), kind: fieldStr(f, "Kind"),
		tags: fieldRaw(f, "Tags"), create: fieldUint(f, "CreateIndex"), modify: fieldUint(f, "ModifyIndex")}
	if conn, ok := decode.MapFields(fieldRaw(f, "Connect")); ok {
		s.native = fieldBool(conn, "Native")
	}
	return s
}

func newCheck(f []decode.Field) *catCheck {
	return &catCheck{f: f, id: fieldStr(f, "CheckID"), node: fieldStr(f, "Node"), status: fieldStr(f, "Status"),
		serviceID: fieldStr(f, "ServiceID"), serviceName: fieldStr(f, "ServiceName"),
		create: fieldUint(f, "CreateIndex"), modify: fieldUint(f, "ModifyIndex")}
}

// --- records out ---

// records appends the node's records (node, services, checks) to out.
func (n *catNode) records(out [][]byte) [][]byte {
	top := with(n.top, map[string][]byte{"CreateIndex": mpUint(n.create), "ModifyIndex": mpUint(n.modify)})
	rec := func(field string, val []byte) []byte {
		b := []byte{byte(decode.TypeRegister)}
		return encode.AppendMap(b, with(top, map[string][]byte{field: val}))
	}
	if n.raw != nil {
		out = append(out, n.raw)
	} else {
		out = append(out, rec("Service", mpNil))
	}
	for _, s := range n.services {
		if s.raw != nil {
			out = append(out, s.raw)
			continue
		}
		f := with(s.f, map[string][]byte{"CreateIndex": mpUint(s.create), "ModifyIndex": mpUint(s.modify)})
		out = append(out, rec("Service", encode.AppendMap(nil, f)))
	}
	for _, ch := range n.checks {
		if ch.raw != nil {
			out = append(out, ch.raw)
			continue
		}
		f := with(ch.f, map[string][]byte{"CreateIndex": mpUint(ch.create), "ModifyIndex": mpUint(ch.modify)})
		out = append(out, rec("Check", encode.AppendMap(nil, f)))
	}
	return out
}

// --- changes, each undoable ---

func (s *state) putNode(key string, n *catNode) {
	set(s, decode.TypeRegister, s.cat.nodes, key, n, n == nil)
}

func (s *state) setCount(m map[string]int, key string, delta int) {
	set(s, noTable, m, key, m[key]+delta, false)
}

func (s *state) setKSN(key string, v bool) { set(s, noTable, s.cat.ksn, key, v, false) }

// indexMax is indexUpdateMaxTxn: the row becomes idx unless it is already
// at least idx. Rows are keyed case-insensitively (the index table's id
// index lower-cases), the key written is the last one given.
func (s *state) indexMax(key string, idx uint64) {
	if r := s.index[strings.ToLower(key)]; r != nil && idx <= r.value {
		return
	}
	s.putIndex(key, &indexRec{key: key, value: idx})
}

func (s *state) indexDelete(key string) {
	if s.index[strings.ToLower(key)] != nil {
		s.putIndex(key, nil)
	}
}

func peered(entry string) string { return "peer.~:" + entry }

func kindNorm(kind string) string {
	if kind == "" {
		return "typical"
	}
	return kind
}

// Consul's index-row helpers (catalog_oss.go), for local (unpeered) rows.
func (s *state) nodesIndexes(idx uint64) {
	s.indexMax("nodes", idx)
	s.indexMax(peered("nodes"), idx)
}
func (s *state) nodeIndexes(idx uint64, node string) { s.indexMax(peered("node."+node), idx) }
func (s *state) servicesIndexes(idx uint64) {
	s.indexMax("services", idx)
	s.indexMax(peered("services"), idx)
}
func (s *state) serviceIndexes(idx uint64, name string) { s.indexMax(peered("service."+name), idx) }
func (s *state) serviceKindIndexes(idx uint64, kind string) {
	s.indexMax("service_kind."+kindNorm(kind), idx)
	s.indexMax(peered("service_kind."+kindNorm(kind)), idx)
}
func (s *state) checkIndexes(idx uint64) {
	s.indexMax("checks", idx)
	s.indexMax(peered("checks"), idx)
}

// updateAllServiceIndexesOfNode (catalog.go). Setting a row to idx twice
// is setting it once (indexUpdateMaxTxn), and a service added since gets
// its rows at idx when inserted: so a node's rows are set once per index,
// which keeps a request with many node checks linear.
func (s *state) allServiceIndexesOfNode(idx uint64, n *catNode) {
	key := strings.ToLower(n.name)
	if s.cat.svcIdxDone[key] == idx {
		return
	}
	s.cat.svcIdxDone[key] = idx
	for _, sv := range n.services {
		s.serviceIndexes(idx, sv.name)
		s.serviceKindIndexes(idx, sv.kind)
	}
}

func sortedServices(n *catNode) []*catService {
	out := make([]*catService, 0, len(n.services))
	for _, sv := range n.services {
		out = append(out, sv)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].id) < strings.ToLower(out[j].id) })
	return out
}

func sortedChecks(n *catNode) []*catCheck {
	out := make([]*catCheck, 0, len(n.checks))
	for _, ch := range n.checks {
		out = append(out, ch)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].id) < strings.ToLower(out[j].id) })
	return out
}

// --- Register (ensureRegistrationTxn) ---

// memdbTxn runs op as one memdb transaction (a catalog or ACL entry): on
// Consul's error nothing changes (and the entry is reproduced: it had no
// effect); on an unreproducible effect nothing changes and the reason is
// returned.
func (s *state) memdbTxn(op func() error) string {
	s.cat.sessByCheck = nil // sessions may have changed since the last request
	return s.outcome(s.memdbErr(op))
}

// outcome is apply's answer for an operation's error: an unreproducible
// effect's reason, or "" (reproduced) after noting Consul's own refusal,
// which changed nothing.
func (s *state) outcome(err error) string {
	var u *unreproducible
	if errors.As(err, &u) {
		return u.why
	}
	if err != nil {
		s.refused(err)
	}
	return ""
}

// preconditions common to every catalog entry.
func (s *state) catalogReady() error {
	c := s.cat
	if !c.peerIndexes {
		return unrepro("the base snapshot has no peer-qualified Index rows (written by Consul before 1.13): catalog entries are replayed with 1.13's index layout only")
	}
	if c.topNames == nil || c.svcNames == nil || c.checkNames == nil {
		return unrepro("the base snapshot has no node, service or check record to take the record layout from")
	}
	return nil
}

func (s *state) register(idx uint64, body []byte) string {
	return s.memdbTxn(func() error {
		if err := s.catalogReady(); err != nil {
			return err
		}
		// Consul's FSM panics on a request it cannot decode: such an entry
		// is not in a log Consul wrote.
		if _, err := decode.DecodeValueOf(decode.TypeRegister, body); err != nil {
			return unrepro("the request does not decode as a RegisterRequest: %v", err)
		}
		// The body aliases the log's memory map, which is gone once the
		// replay has read the log: the records keep a copy.
		req, ok := decode.MapFields(append([]byte(nil), body...))
		if !ok {
			return unrepro("register request is not a msgpack map")
		}
		if !sameNames(req, s.cat.topNames) {
			return unrepro("register request fields %v differ from the snapshot's node records %v", names(req), s.cat.topNames)
		}
		if fieldStr(req, "PeerName") != "" || enterprise(req) {
			return unrepro("peered or Enterprise registration")
		}
		return s.ensureRegistration(idx, req)
	})
}

func (s *state) ensureRegistration(idx uint64, req []decode.Field) error {
	nodeName := fieldStr(req, "Node")
	if nodeName == "" {
		return errors.New("missing node name") // memdb: errMissingValueForIndex
	}
	// The node, unless the request leaves it as it is.
	existing := s.cat.nodes[strings.ToLower(nodeName)]
	if existing == nil || changesNode(req, existing) {
		top := with(req, map[string][]byte{"Service": mpNil, "Check": mpNil, "Checks": mpNil,
			"SkipNodeUpdate": mpFalse, "Token": mpStr(""), "CreateIndex": mpUint(0), "ModifyIndex": mpUint(0)})
		if err := s.ensureNode(idx, &catNode{top: top, name: nodeName, id: fieldStr(req, "ID")}); err != nil {
			return err
		}
	}
	if raw := fieldRaw(req, "Service"); decode.IsMap(raw, 0) {
		svc, ok := decode.MapFields(raw)
		if !ok || !sameNames(svc, s.cat.svcNames) {
			return unrepro("the request's Service fields differ from the snapshot's service records")
		}
		if enterprise(svc) || fieldStr(svc, "PeerName") != "" {
			return unrepro("peered or Enterprise service")
		}
		n := s.cat.nodes[strings.ToLower(nodeName)]
		var cur *catService
		if n != nil {
			cur = n.services[strings.ToLower(fieldStr(svc, "ID"))]
		}
		if cur == nil || !sameNodeService(cur.f, svc) {
			if err := s.ensureService(idx, nodeName, svc); err != nil {
				return err
			}
		}
	}
	var checks [][]byte
	if raw := fieldRaw(req, "Check"); decode.IsMap(raw, 0) {
		checks = append(checks, raw)
	}
	if raw := fieldRaw(req, "Checks"); len(raw) > 0 && !decode.IsNil(raw) {
		els, ok := decode.ArrayValues(raw)
		if !ok {
			return unrepro("the request's Checks is not an array")
		}
		checks = append(checks, els...)
	}
	for _, raw := range checks {
		if decode.IsNil(raw) {
			continue // a nil *HealthCheck in the slice: Consul would panic; not in a real log
		}
		hc, ok := decode.MapFields(raw)
		if !ok || !sameNames(hc, s.cat.checkNames) {
			return unrepro("the request's check fields differ from the snapshot's check records")
		}
		if enterprise(hc) || fieldStr(hc, "PeerName") != "" {
			return unrepro("peered or Enterprise check")
		}
		if !strings.EqualFold(fieldStr(hc, "Node"), nodeName) {
			return fmt.Errorf("check node %q does not match node %q", fieldStr(hc, "Node"), nodeName)
		}
		if err := s.ensureCheck(idx, hc); err != nil {
			return err
		}
	}
	return nil
}

// changesNode is RegisterRequest.ChangesNode.
func changesNode(req []decode.Field, n *catNode) bool {
	if fieldBool(req, "SkipNodeUpdate") {
		return false
	}
	return fieldStr(req, "ID") != n.id || !strings.EqualFold(fieldStr(req, "Node"), n.name) ||
		!sameFields(req, n.top, "PeerName", "Address", "Datacenter", "TaggedAddresses", "NodeMeta")
}

// sameNode is Node.IsSame (without the raft indexes).
func sameNode(a, b *catNode) bool {
	return a.id == b.id && strings.EqualFold(a.name, b.name) &&
		sameFields(a.top, b.top, "PeerName", "Address", "Datacenter", "TaggedAddresses", "NodeMeta")
}

// ensureNode is ensureNodeTxn (preserveIndexes false).
func (s *state) ensureNode(idx uint64, node *catNode) error {
	c := s.cat
	var n *catNode
	if node.id != "" {
		if !validUUID(node.id) {
			return unrepro("node ID %q is not a UUID", node.id)
		}
		if key, ok := c.byID[strings.ToLower(node.id)]; ok && c.nodes[key] != nil {
			n = c.nodes[key]
			if !strings.EqualFold(n.name, node.name) {
				if err := s.noSimilarName(node, false); err != nil {
					return err
				}
				// A rename: the old node goes first, with everything on it.
				if err := s.deleteNode(idx, n.name); err != nil {
					return err
				}
			}
		} else if err := s.noSimilarName(node, true); err != nil {
			return err
		}
	}
	if n == nil {
		n = c.nodes[strings.ToLower(node.name)]
	}
	if n != nil {
		node.create, node.modify = n.create, n.modify
		if sameNode(node, n) {
			return nil
		}
		node.modify = idx
	} else {
		node.create, node.modify = idx, idx
	}
	return s.insertNode(node)
}

// insertNode is catalogInsertNode: the node replaces the one of the same
// (case-insensitive) name, keeping its services and checks.
func (s *state) insertNode(node *catNode) error {
	c := s.cat
	key := strings.ToLower(node.name)
	nn := &catNode{top: node.top, name: node.name, id: node.id, create: node.create, modify: node.modify,
		services: map[string]*catService{}, checks: map[string]*catCheck{}}
	if old := c.nodes[key]; old != nil {
		// Every record of the node carries the node's fields: all change.
		for k, v := range old.services {
			cp := *v
			cp.raw = nil
			nn.services[k] = &cp
		}
		for k, v := range old.checks {
			cp := *v
			cp.raw = nil
			nn.checks[k] = &cp
		}
		if old.id != "" {
			s.setByID(strings.ToLower(old.id), "")
		}
	}
	if nn.id != "" {
		s.setByID(strings.ToLower(nn.id), key)
	}
	s.putNode(key, nn)
	s.nodesIndexes(nn.modify)
	s.nodeIndexes(nn.modify, nn.name)
	s.allServiceIndexesOfNode(nn.modify, nn)
	return nil
}

func (s *state) setByID(id, key string) { set(s, noTable, s.cat.byID, id, key, key == "") }

// noSimilarName is ensureNoNodeWithSimilarNameTxn.
func (s *state) noSimilarName(node *catNode, allowClashWithoutID bool) error {
	for _, e := range s.cat.nodes {
		if !strings.EqualFold(node.name, e.name) || node.id == e.id {
			continue
		}
		healthy := false
		if serf := e.checks["serfhealth"]; serf != nil {
			healthy = serf.status != "critical"
		}
		if !(e.id == "" && allowClashWithoutID) && healthy {
			return fmt.Errorf("node name %s is reserved by node %s", node.name, e.id)
		}
	}
	return nil
}

func validUUID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, ch := range id {
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", ch) {
				return false
			}
		}
	}
	return true
}

// sameNodeService is NodeService.IsSame between the stored service (as
// ToNodeService gives it) and the request's.
func sameNodeService(cur, req []decode.Field) bool {
	if !sameFields(cur, req, "ID", "Service", "Tags", "Address", "Port", "SocketPath", "TaggedAddresses",
		"Weights", "Meta", "EnableTagOverride", "Kind", "Proxy", "PeerName") {
		return false
	}
	return sameConnect(fieldRaw(cur, "Connect"), fieldRaw(req, "Connect"))
}

// sameConnect is ServiceConnect's == (Native, and pointer fields that are
// equal only when both are nil).
func sameConnect(a, b []byte) bool {
	fa, okA := decode.MapFields(a)
	fb, okB := decode.MapFields(b)
	if !okA || !okB || !sameFields(fa, fb, "Native") {
		return false
	}
	for _, f := range fa {
		if f.Name != "Native" && !decode.IsNil(f.Val) {
			return false
		}
	}
	for _, f := range fb {
		if f.Name != "Native" && !decode.IsNil(f.Val) {
			return false
		}
	}
	return true
}

// defaultWeights is ToServiceNode's Weights{Passing: 1, Warning: 1}.
var defaultWeights = func() []byte {
	b, _ := encode.Value(&encode.Weights{Passing: 1, Warning: 1})
	return b
}()

// normalWeights is ToServiceNode's rule: nil or invalid weights (Passing
// below 1, Warning below 0) become the default.
func normalWeights(raw []byte) []byte {
	w, ok := decode.MapFields(raw)
	if !ok {
		return defaultWeights
	}
	pv, perr := decode.DecodeAll(fieldRaw(w, "Passing"))
	wv, werr := decode.DecodeAll(fieldRaw(w, "Warning"))
	if perr != nil || werr != nil {
		return defaultWeights
	}
	p, pok := pv.AsInt()
	q, qok := wv.AsInt()
	if !pok || !qok || p < 1 || q < 0 {
		return defaultWeights
	}
	return raw
}

// ensureService is ensureServiceTxn (preserveIndexes false).
func (s *state) ensureService(idx uint64, nodeName string, req []decode.Field) error {
	c := s.cat
	kind, name := fieldStr(req, "Kind"), fieldStr(req, "Service")
	svc := newService(req)
	if kind != "" || svc.native {
		return unrepro("service %q of kind %q (Connect-native %v): mesh topology, virtual IPs and gateways are not replayed", name, kindNorm(kind), svc.native)
	}
	if c.gateways && name != "consul" {
		return unrepro("the snapshot has gateway config entries: a service registration may update gateway-services (not replayed)")
	}
	if err := validServiceMeta(fieldRaw(req, "Meta")); err != nil {
		return err
	}
	// upsertKindServiceName
	ksn := kind + "\x00" + strings.ToLower(name)
	if !s.ksnKnown(ksn) {
		s.setKSN(ksn, true)
		s.indexMax("kind_service_names."+kindNorm(kind), idx)
	}
	n := c.nodes[strings.ToLower(nodeName)]
	if n == nil {
		return errors.New("missing node") // ErrMissingNode
	}
	entry := with(req, map[string][]byte{"Weights": normalWeights(fieldRaw(req, "Weights")),
		"LocallyRegisteredAsSidecar": mpFalse})
	cur := n.services[strings.ToLower(svc.id)]
	sv := newService(entry)
	if cur != nil {
		sv.create, sv.modify = cur.create, cur.modify
		if sameServiceNode(entry, cur.f) {
			return nil
		}
	}
	sv.modify = idx
	if cur == nil {
		sv.create = idx
	}
	// catalogInsertService
	nn := n.clone()
	nn.services[strings.ToLower(sv.id)] = sv
	s.putNode(strings.ToLower(n.name), nn)
	if cur == nil {
		s.setCount(c.svcCount, strings.ToLower(sv.name), 1)
		s.setCount(c.kindCount, ksn, 1)
	} else if !strings.EqualFold(cur.name, sv.name) || cur.kind != sv.kind {
		s.setCount(c.svcCount, strings.ToLower(cur.name), -1)
		s.setCount(c.kindCount, cur.kind+"\x00"+strings.ToLower(cur.name), -1)
		s.setCount(c.svcCount, strings.ToLower(sv.name), 1)
		s.setCount(c.kindCount, ksn, 1)
	}
	s.servicesIndexes(sv.modify)
	s.serviceIndexes(sv.modify, sv.name)
	s.serviceKindIndexes(sv.modify, sv.kind)
	s.nodesIndexes(sv.modify)
	s.nodeIndexes(sv.modify, nodeName)
	return nil
}

func (s *state) ksnKnown(key string) bool {
	if v, ok := s.cat.ksn[key]; ok {
		return v
	}
	return s.cat.kindCount[key] > 0 // rebuilt from the services on restore
}

// sameServiceNode is ServiceNode.IsSameService between the new entry and
// the stored one (both NodeService-shaped; node and node ID are the
// same by the lookup).
func sameServiceNode(a, b []decode.Field) bool {
	return sameFields(a, b, "Kind", "ID", "Service", "Tags", "Address", "TaggedAddresses", "Port", "Meta",
		"Weights", "EnableTagOverride", "Proxy", "Connect")
}

// validServiceMeta is ValidateServiceMetadata for a typical service (the
// endpoint ran the same check before the entry was written): at most 64
// keys, keys of letters, digits, '_' and '-' up to 128 bytes and not
// starting with "consul-", values up to 512 bytes.
func validServiceMeta(raw []byte) error {
	if len(raw) == 0 || decode.IsNil(raw) {
		return nil
	}
	v, err := decode.DecodeAll(raw)
	if err != nil || v.Kind != decode.Map {
		return unrepro("service Meta is not a map")
	}
	if len(v.Pairs) > 64 {
		return errors.New("node metadata cannot contain more than 64 key/value pairs")
	}
	for _, p := range v.Pairs {
		k, val := string(p.Key.Bytes), string(p.Val.Bytes)
		if k == "" || len(k) > 128 || strings.HasPrefix(k, "consul-") || len(val) > 512 {
			return errors.New("invalid service metadata")
		}
		for _, ch := range k {
			if !(ch == '_' || ch == '-' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
				return errors.New("invalid service metadata key")
			}
		}
	}
	return nil
}

// ensureCheck is ensureCheckTxn (preserveIndexes false).
func (s *state) ensureCheck(idx uint64, req []decode.Field) error {
	c := s.cat
	hc := newCheck(req)
	if hc.id == "" {
		return errors.New("missing check ID") // memdb: errMissingValueForIndex
	}
	n := c.nodes[strings.ToLower(hc.node)]
	if n == nil {
		return errors.New("missing node") // ErrMissingNode
	}
	cur := n.checks[strings.ToLower(hc.id)]
	if cur != nil {
		hc.create, hc.modify = cur.create, cur.modify
	} else {
		hc.create = idx
	}
	vals := map[string][]byte{}
	if hc.status == "" {
		hc.status = "critical"
		vals["Status"] = mpStr("critical")
	}
	modified := true
	if hc.serviceID != "" {
		sv := n.services[strings.ToLower(hc.serviceID)]
		if sv == nil {
			return errors.New("missing service") // ErrMissingService
		}
		hc.serviceName = sv.name
		vals["ServiceName"] = fieldRaw(sv.f, "Service")
		vals["ServiceTags"] = fieldRaw(sv.f, "Tags")
		hc.f = with(req, vals)
		if cur != nil && sameCheck(cur.f, hc.f) {
			modified = false
		} else {
			s.serviceIndexes(idx, sv.name)
			s.serviceKindIndexes(idx, sv.kind)
		}
	} else {
		hc.f = with(req, vals)
		if cur != nil && sameCheck(cur.f, hc.f) {
			modified = false
		} else {
			s.allServiceIndexesOfNode(idx, n)
		}
	}
	if hc.status == "critical" {
		if err := s.invalidateCheckSessions(idx, hc.node, hc.id); err != nil {
			return err
		}
	}
	if !modified {
		return nil
	}
	hc.modify = idx
	// catalogInsertCheck (the node may have changed above: look it up again)
	n = c.nodes[strings.ToLower(hc.node)]
	nn := n.clone()
	nn.checks[strings.ToLower(hc.id)] = hc
	s.putNode(strings.ToLower(n.name), nn)
	s.checkIndexes(idx)
	return nil
}

// sameCheck is HealthCheck.IsSame.
func sameCheck(a, b []decode.Field) bool {
	if !strings.EqualFold(fieldStr(a, "Node"), fieldStr(b, "Node")) {
		return false
	}
	return sameFields(a, b, "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName",
		"ServiceTags", "Definition", "PeerName")
}

// invalidateCheckSessions destroys the sessions bound to the node's check
// (checkSessionsTxn: the session_checks rows, case-insensitive).
func (s *state) invalidateCheckSessions(idx uint64, node, checkID string) error {
	var ids []string
	for _, id := range s.sessionChecks(node)[strings.ToLower(checkID)] {
		if s.sessions[id] != nil { // not destroyed earlier in this request
			ids = append(ids, id)
		}
	}
	return s.destroySessions(idx, ids)
}

// sessionChecks maps the lower-cased check IDs of node to the sessions
// bound to them, built once per catalog request (no session is created
// within one, so it stays a superset of the live bindings): one pass over
// the sessions, then a lookup per check.
func (s *state) sessionChecks(node string) map[string][]string {
	c := s.cat
	key := strings.ToLower(node)
	if c.sessByCheck != nil && c.sessByCheckNode == key {
		return c.sessByCheck
	}
	c.sessByCheck, c.sessByCheckNode = map[string][]string{}, key
	for id, r := range s.sessions {
		if !strings.EqualFold(r.s.Node, node) {
			continue
		}
		for _, chk := range sessionCheckIDs(&r.s) {
			k := strings.ToLower(chk)
			c.sessByCheck[k] = append(c.sessByCheck[k], id)
		}
	}
	return c.sessByCheck
}

func (s *state) destroySessions(idx uint64, ids []string) error {
	sort.Strings(ids)
	for _, id := range ids {
		if !s.sessionDestroy(idx, id) {
			return unrepro("destroying session %s deletes the prepared queries bound to it (not replayed)", id)
		}
	}
	return nil
}

// --- Deregister ---

func (s *state) deregister(idx uint64, body []byte) string {
	return s.memdbTxn(func() error {
		if err := s.catalogReady(); err != nil {
			return err
		}
		req, ok := decode.MapFields(body)
		if !ok {
			return unrepro("deregister request is not a msgpack map")
		}
		for _, name := range []string{"Node", "ServiceID", "CheckID", "PeerName"} {
			if raw := fieldRaw(req, name); raw != nil && !decode.IsNil(raw) && !isStr(raw) {
				return unrepro("deregister request field %s is not a string", name)
			}
		}
		if fieldStr(req, "PeerName") != "" || enterprise(req) {
			return unrepro("peered or Enterprise deregistration")
		}
		node := fieldStr(req, "Node")
		switch sid, cid := fieldStr(req, "ServiceID"), fieldStr(req, "CheckID"); {
		case sid != "":
			return s.deleteService(idx, node, sid)
		case cid != "":
			return s.deleteCheck(idx, node, cid)
		default:
			return s.deleteNode(idx, node)
		}
	})
}

// deleteNode is deleteNodeTxn.
func (s *state) deleteNode(idx uint64, nodeName string) error {
	c := s.cat
	key := strings.ToLower(nodeName)
	n := c.nodes[key]
	if n == nil {
		return nil
	}
	svcs := sortedServices(n)
	for _, sv := range svcs {
		s.serviceIndexes(idx, sv.name)
		s.serviceKindIndexes(idx, sv.kind)
	}
	for _, sv := range svcs {
		if err := s.deleteService(idx, nodeName, sv.id); err != nil {
			return err
		}
	}
	for _, ch := range sortedChecks(c.nodes[key]) {
		if err := s.deleteCheck(idx, nodeName, ch.id); err != nil {
			return err
		}
	}
	if len(c.coords[key]) > 0 {
		set(s, decode.TypeCoordinateBatchUpdate, c.coords, key, nil, true)
		s.indexMax("coordinates", idx)
	}
	n = c.nodes[key]
	if n.id != "" {
		s.setByID(strings.ToLower(n.id), "")
	}
	s.putNode(key, nil)
	s.nodesIndexes(idx)
	s.indexDelete(peered("node." + nodeName))
	s.indexMax(peered("node_last_extinction"), idx)
	var ids []string
	for id, r := range s.sessions {
		if strings.EqualFold(r.s.Node, nodeName) {
			ids = append(ids, id)
		}
	}
	return s.destroySessions(idx, ids)
}

// deleteService is deleteServiceTxn.
func (s *state) deleteService(idx uint64, nodeName, serviceID string) error {
	c := s.cat
	key := strings.ToLower(nodeName)
	n := c.nodes[key]
	if n == nil {
		return nil
	}
	sv := n.services[strings.ToLower(serviceID)]
	if sv == nil {
		return nil
	}
	for _, ch := range sortedChecks(n) {
		if strings.EqualFold(ch.serviceID, serviceID) {
			if err := s.deleteCheck(idx, nodeName, ch.id); err != nil {
				return err
			}
		}
	}
	s.checkIndexes(idx)
	nn := c.nodes[key].clone()
	delete(nn.services, strings.ToLower(serviceID))
	s.putNode(key, nn)
	lname := strings.ToLower(sv.name)
	s.setCount(c.svcCount, lname, -1)
	s.setCount(c.kindCount, sv.kind+"\x00"+lname, -1)
	s.servicesIndexes(idx)
	s.serviceKindIndexes(idx, sv.kind)
	s.nodesIndexes(idx)
	s.nodeIndexes(idx, nodeName)
	if c.svcCount[lname] > 0 {
		s.serviceIndexes(idx, sv.name)
		return nil
	}
	if c.vips[lname] {
		return unrepro("the last instance of service %q has a virtual IP: freeing it is not replayed", sv.name)
	}
	s.indexDelete(peered("service." + sv.name))
	s.indexMax(peered("service_last_extinction"), idx)
	// cleanupKindServiceName
	s.setKSN(sv.kind+"\x00"+lname, false)
	s.indexMax("kind_service_names."+kindNorm(sv.kind), idx)
	return nil
}

// deleteCheck is deleteCheckTxn.
func (s *state) deleteCheck(idx uint64, nodeName, checkID string) error {
	c := s.cat
	key := strings.ToLower(nodeName)
	n := c.nodes[key]
	if n == nil {
		return nil
	}
	ch := n.checks[strings.ToLower(checkID)]
	if ch == nil {
		return nil
	}
	if ch.serviceID != "" {
		s.serviceIndexes(idx, ch.serviceName)
		sv := n.services[strings.ToLower(ch.serviceID)]
		if sv == nil {
			return unrepro("check %q names service %q, which the node lacks (Consul would fail here)", ch.id, ch.serviceID)
		}
		s.serviceKindIndexes(idx, sv.kind)
	} else {
		s.allServiceIndexesOfNode(idx, n)
		s.servicesIndexes(idx)
	}
	nn := n.clone()
	delete(nn.checks, strings.ToLower(checkID))
	s.putNode(key, nn)
	s.checkIndexes(idx)
	return s.invalidateCheckSessions(idx, ch.node, ch.id)
}

// --- coordinates (coordinate.go, coordinate_oss.go) ---

// coordKey is the coordinates table's id: node and segment, lower-cased.
func coordKey(node, segment string) string {
	return strings.ToLower(node) + "\x00" + strings.ToLower(segment)
}

// nodeExists: the node is in the catalog (held, or only noted for a
// coordinate update).
func (c *catalog) nodeExists(key string) bool {
	return c.nodes[key] != nil || c.exists[key]
}

// coordinateBatchUpdate is Store.CoordinateBatchUpdate: each valid update
// of a node the catalog has replaces that node and segment's coordinate
// (one record each in a snapshot: an array of one Coordinate); updates of
// unknown nodes and invalid coordinates are dropped silently.
func (s *state) coordinateBatchUpdate(idx uint64, body []byte) string {
	if _, err := decode.DecodeValueOf(decode.TypeCoordinateBatchUpdate, body); err != nil {
		return "the request does not decode as Coordinates: " + err.Error()
	}
	els, ok := decode.ArrayValues(body)
	if !ok {
		return "coordinate update is not an array"
	}
	c := s.cat
	for _, el := range els {
		f, ok := decode.MapFields(el)
		if !ok {
			return "coordinate update element is not a map"
		}
		if fieldStr(f, "Partition") != "" {
			return "coordinate update in an Enterprise partition"
		}
		coord := fieldRaw(f, "Coord")
		if len(coord) == 0 || decode.IsNil(coord) {
			return "coordinate update without Coord (Consul's FSM would fail on it)"
		}
		v, err := decode.DecodeAll(coord)
		if err != nil {
			return err.Error()
		}
		if !validCoordinate(&v) {
			continue
		}
		node := fieldStr(f, "Node")
		if !c.nodeExists(strings.ToLower(node)) {
			continue
		}
		raw := encode.AppendArray([]byte{byte(decode.TypeCoordinateBatchUpdate)}, [][]byte{el})
		k, err := decode.Keys(&decode.Record{Type: decode.TypeCoordinateBatchUpdate, Raw: raw})
		if err != nil {
			return err.Error()
		}
		key, nk := coordKey(node, fieldStr(f, "Segment")), strings.ToLower(node)
		list := append([]coordRec(nil), c.coords[nk]...)
		replaced := false
		for i := range list {
			if list[i].key == key {
				list[i], replaced = coordRec{id: k.Identity, key: key, raw: raw}, true
			}
		}
		if !replaced {
			list = append(list, coordRec{id: k.Identity, key: key, raw: raw})
		}
		set(s, decode.TypeCoordinateBatchUpdate, c.coords, nk, list, false)
		s.indexMax("coordinates", idx)
	}
	return ""
}

// validCoordinate is serf's Coordinate.IsValid: every component finite.
func validCoordinate(v *decode.Value) bool {
	finite := func(x *decode.Value) bool {
		return x.Kind != decode.Float || !(math.IsNaN(x.Float) || math.IsInf(x.Float, 0))
	}
	if vec, ok := v.Get("Vec"); ok {
		for i := range vec.Elems {
			if !finite(&vec.Elems[i]) {
				return false
			}
		}
	}
	for _, name := range []string{"Error", "Adjustment", "Height"} {
		if x, ok := v.Get(name); ok && !finite(x) {
			return false
		}
	}
	return true
}
