package replay

import (
	"math"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// catState is a state whose record layouts are encode's RegisterRequest,
// NodeService and HealthCheck (the tests' requests are encoded the same
// way), with 1.13's peer-qualified index rows.
func catState(t *testing.T) *state {
	t.Helper()
	s := newState()
	layout := func(v any) []string {
		b, err := encode.Value(v)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := decode.MapFields(b)
		if !ok {
			t.Fatal("not a map")
		}
		return names(f)
	}
	s.cat.topNames = layout(&encode.RegisterRequest{})
	s.cat.svcNames = layout(&encode.NodeService{})
	s.cat.checkNames = layout(&encode.HealthCheck{})
	s.cat.peerIndexes = true
	return s
}

func regBody(t *testing.T, r encode.RegisterRequest) []byte {
	t.Helper()
	b, err := encode.Value(&r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deregBody(t *testing.T, node, serviceID, checkID string) []byte {
	t.Helper()
	b, err := encode.Value(&struct {
		Datacenter, Node, ServiceID, CheckID, PeerName, Token string
	}{"dc1", node, serviceID, checkID, "", "secret"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func idx(s *state, key string) uint64 {
	if r := s.index[strings.ToLower(key)]; r != nil {
		return r.value
	}
	return 0
}

// TestCatalogSemantics: Consul 1.13's ensureRegistrationTxn and the
// deletes, rule by rule (agent/consul/state/catalog.go).
func TestCatalogSemantics(t *testing.T) {
	web := func(node string) encode.RegisterRequest {
		return encode.RegisterRequest{Datacenter: "dc1", Node: node, Address: "10.0.0.1", Token: "secret",
			Service: &encode.NodeService{ID: "web-" + node, Service: "web", Port: 80, Tags: []string{"v1"}},
			Check:   &encode.HealthCheck{Node: node, CheckID: "alive", Name: "alive", Status: "passing"}}
	}
	svcCheck := func(node, status string) encode.RegisterRequest {
		return encode.RegisterRequest{Datacenter: "dc1", Node: node, Address: "10.0.0.1", SkipNodeUpdate: true,
			Check: &encode.HealthCheck{Node: node, CheckID: "svc", Name: "svc", Status: status, ServiceID: "web-" + node}}
	}
	mustApply := func(t *testing.T, why string) {
		t.Helper()
		if why != "" {
			t.Fatal(why)
		}
	}

	t.Run("register creates node, service and check with Consul's indexes and defaults", func(t *testing.T) {
		s := catState(t)
		r := web("n1")
		r.Check.Status = "" // defaults to critical
		mustApply(t, s.register(10, regBody(t, r)))
		n := s.cat.nodes["n1"]
		if n == nil || n.create != 10 || n.modify != 10 || len(n.services) != 1 || len(n.checks) != 1 {
			t.Fatalf("%+v", n)
		}
		if sv := n.services["web-n1"]; sv.create != 10 || !decode.SameValue(fieldRaw(sv.f, "Weights"), defaultWeights) {
			t.Errorf("service %+v: weights not defaulted", sv)
		}
		if ch := n.checks["alive"]; ch.status != "critical" || fieldStr(ch.f, "Status") != "critical" {
			t.Errorf("check status %q", ch.status)
		}
		for _, k := range []string{"nodes", "peer.~:nodes", "peer.~:node.n1", "services", "peer.~:services",
			"peer.~:service.web", "service_kind.typical", "peer.~:service_kind.typical", "kind_service_names.typical",
			"checks", "peer.~:checks"} {
			if idx(s, k) != 10 {
				t.Errorf("Index %s = %d, want 10", k, idx(s, k))
			}
		}
		// The records: the node's fields on every record, Token cleared.
		recs := n.records(nil)
		if len(recs) != 3 {
			t.Fatalf("%d records", len(recs))
		}
		for _, raw := range recs {
			d, err := decode.DecodeRecord(&decode.Record{Type: decode.TypeRegister, Raw: raw})
			if err != nil {
				t.Fatal(err)
			}
			x := d.Data.(*decode.RegisterRequest)
			if x.Node != "n1" || x.Address != "10.0.0.1" || x.CreateIndex != 10 || x.ModifyIndex != 10 {
				t.Errorf("record %+v", x)
			}
			if v, _ := decode.DecodeAll(raw[1:]); str(&v, "Token") != "" {
				t.Errorf("the caller's token is persisted")
			}
		}
	})

	t.Run("an unchanged re-registration changes nothing", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		mustApply(t, s.register(11, regBody(t, web("n1"))))
		n := s.cat.nodes["n1"]
		if n.modify != 10 || n.services["web-n1"].modify != 10 || n.checks["alive"].modify != 10 {
			t.Errorf("modify indexes moved: node %d", n.modify)
		}
		for k, r := range s.index {
			if r.value != 10 {
				t.Errorf("Index %s = %d", k, r.value)
			}
		}
	})

	t.Run("a service check takes the service's name and tags; a missing service fails the whole request", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		mustApply(t, s.register(11, regBody(t, svcCheck("n1", "passing"))))
		ch := s.cat.nodes["n1"].checks["svc"]
		if ch.serviceName != "web" || !decode.SameValue(fieldRaw(ch.f, "ServiceTags"), fieldRaw(s.cat.nodes["n1"].services["web-n1"].f, "Tags")) {
			t.Errorf("check %+v", ch)
		}
		if idx(s, "peer.~:service.web") != 11 || idx(s, "checks") != 11 {
			t.Errorf("service index %d, checks %d", idx(s, "peer.~:service.web"), idx(s, "checks"))
		}
		// A new node with a check on a service it lacks: Consul's
		// ErrMissingService aborts the transaction, the node included.
		bad := web("n2")
		bad.Service = nil
		bad.Check.ServiceID = "nope"
		if why := s.register(12, regBody(t, bad)); why != "" {
			t.Fatal(why)
		}
		if s.cat.nodes["n2"] != nil || idx(s, "nodes") != 10 {
			t.Errorf("an aborted registration left node n2 (nodes index %d)", idx(s, "nodes"))
		}
	})

	t.Run("a node change bumps the node and the indexes of its services", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		r := web("n1")
		r.Address = "10.0.0.9"
		r.Service, r.Check = nil, nil
		mustApply(t, s.register(13, regBody(t, r)))
		n := s.cat.nodes["n1"]
		if n.create != 10 || n.modify != 13 || n.services["web-n1"].modify != 10 || len(n.checks) != 1 {
			t.Errorf("node %d/%d, service modify %d", n.create, n.modify, n.services["web-n1"].modify)
		}
		if idx(s, "peer.~:service.web") != 13 || idx(s, "peer.~:node.n1") != 13 || idx(s, "services") != 10 {
			t.Errorf("indexes: service %d node %d services %d", idx(s, "peer.~:service.web"), idx(s, "peer.~:node.n1"), idx(s, "services"))
		}
		// SkipNodeUpdate leaves the node alone.
		r.Address, r.SkipNodeUpdate = "10.0.0.10", true
		mustApply(t, s.register(14, regBody(t, r)))
		if s.cat.nodes["n1"].modify != 13 {
			t.Errorf("SkipNodeUpdate changed the node")
		}
	})

	t.Run("a critical check destroys the sessions bound to it, releasing their locks", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		if err := s.sessionCreate(11, encode.Session{ID: "sess-1", Node: "n1", NodeChecks: []string{"alive"}, Behavior: "release"}); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.kvsLock(12, encode.DirEntry{Key: "lock", Session: "sess-1"}); !ok || err != nil {
			t.Fatal(ok, err)
		}
		r := web("n1")
		r.Service = nil
		r.Check.Status = "critical"
		mustApply(t, s.register(13, regBody(t, r)))
		if s.sessions["sess-1"] != nil || s.kv["lock"].e.Session != "" || idx(s, "sessions") != 13 {
			t.Errorf("session left, or lock not released: %+v", s.kv["lock"].e)
		}
	})

	t.Run("deregistering the last instance of a service", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		mustApply(t, s.register(11, regBody(t, svcCheck("n1", "passing"))))
		mustApply(t, s.deregister(12, deregBody(t, "N1", "web-n1", "")))
		n := s.cat.nodes["n1"]
		if len(n.services) != 0 || n.checks["svc"] != nil || n.checks["alive"] == nil {
			t.Errorf("services %d, checks %v", len(n.services), n.checks)
		}
		if s.index["peer.~:service.web"] != nil || idx(s, "peer.~:service_last_extinction") != 12 ||
			idx(s, "kind_service_names.typical") != 12 || idx(s, "services") != 12 || idx(s, "checks") != 12 {
			t.Errorf("index rows after the last instance went: %v", s.index)
		}
		// Registering it again is a new kind_service_names row.
		mustApply(t, s.register(13, regBody(t, web("n1"))))
		if idx(s, "kind_service_names.typical") != 13 {
			t.Errorf("kind_service_names.typical = %d", idx(s, "kind_service_names.typical"))
		}
	})

	t.Run("deregistering a node takes its services, checks, sessions and node index row", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		mustApply(t, s.register(11, regBody(t, web("n2"))))
		if err := s.sessionCreate(12, encode.Session{ID: "sess-2", Node: "n1", Behavior: "delete"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.kvsLock(13, encode.DirEntry{Key: "held", Session: "sess-2"}); !ok {
			t.Fatal("lock")
		}
		mustApply(t, s.deregister(14, deregBody(t, "n1", "", "")))
		if s.cat.nodes["n1"] != nil || s.sessions["sess-2"] != nil || s.kv["held"] != nil {
			t.Errorf("node, session or its key left")
		}
		if s.index["peer.~:node.n1"] != nil || idx(s, "peer.~:node_last_extinction") != 14 || idx(s, "nodes") != 14 {
			t.Errorf("index rows: %v", s.index)
		}
		// web still has an instance on n2: its row stays and moves.
		if idx(s, "peer.~:service.web") != 14 || idx(s, "peer.~:service_last_extinction") != 0 {
			t.Errorf("service rows: web %d, extinction %d", idx(s, "peer.~:service.web"), idx(s, "peer.~:service_last_extinction"))
		}
	})

	t.Run("a node found by its ID under another name is renamed", func(t *testing.T) {
		s := catState(t)
		const id = "11111111-2222-3333-4444-555555555555"
		r := web("old")
		r.ID = id
		mustApply(t, s.register(10, regBody(t, r)))
		r2 := encode.RegisterRequest{Datacenter: "dc1", ID: id, Node: "new", Address: "10.0.0.2"}
		mustApply(t, s.register(11, regBody(t, r2)))
		if s.cat.nodes["old"] != nil {
			t.Fatal("the old name is still registered")
		}
		n := s.cat.nodes["new"]
		if n == nil || n.create != 10 || n.modify != 11 || len(n.services) != 0 {
			t.Errorf("renamed node %+v", n)
		}
	})

	t.Run("coordinate updates: known nodes only, valid coordinates only; a node deletion takes them", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		nc := func(x float64) *encode.NetworkCoordinate {
			return &encode.NetworkCoordinate{Vec: []float64{x, 0.5}, Error: 1.5, Height: 1e-5}
		}
		body, err := encode.Value([]encode.Coordinate{{Node: "N1", Coord: nc(0.1)}, {Node: "ghost", Coord: nc(0.2)},
			{Node: "n1", Segment: "seg", Coord: nc(math.NaN())}})
		if err != nil {
			t.Fatal(err)
		}
		mustApply(t, s.coordinateBatchUpdate(11, body))
		if got := s.cat.coords["n1"]; len(got) != 1 || got[0].id != "N1" || s.cat.coords["ghost"] != nil || idx(s, "coordinates") != 11 {
			t.Fatalf("coordinates %+v, index %d", s.cat.coords, idx(s, "coordinates"))
		}
		body, _ = encode.Value([]encode.Coordinate{{Node: "n1", Coord: nc(0.3)}})
		mustApply(t, s.coordinateBatchUpdate(12, body))
		if got := s.cat.coords["n1"]; len(got) != 1 || got[0].id != "n1" {
			t.Fatalf("update did not replace: %+v", got)
		}
		mustApply(t, s.deregister(13, deregBody(t, "n1", "", "")))
		if len(s.cat.coords["n1"]) != 0 || idx(s, "coordinates") != 13 {
			t.Errorf("coordinates of a deleted node: %+v, index %d", s.cat.coords["n1"], idx(s, "coordinates"))
		}
	})

	t.Run("a state-store refusal is noted (Open lists it when an entry before it was skipped)", func(t *testing.T) {
		s := catState(t)
		bad := web("n2")
		bad.Service = nil
		bad.Check.ServiceID = "nope"
		mustApply(t, s.register(10, regBody(t, bad)))
		if s.refusal == nil {
			t.Error("a registration Consul refuses (missing service) is not noted")
		}
		s.refusal = nil
		body, _ := encode.Value(map[string]any{"Op": "create", "Session": map[string]any{"ID": "s1", "Node": "ghost"}})
		mustApply(t, s.applyRequest(11, decode.TypeSession, body))
		if s.refusal == nil {
			t.Error("a session create on a missing node is not noted")
		}
		s.refusal = nil
		mustApply(t, s.register(12, regBody(t, web("n1"))))
		if s.refusal != nil {
			t.Errorf("a registration that succeeds is noted: %v", s.refusal)
		}
	})

	t.Run("what is not replayed is refused, and changes nothing", func(t *testing.T) {
		s := catState(t)
		mustApply(t, s.register(10, regBody(t, web("n1"))))
		proxy := web("n1")
		proxy.Service = &encode.NodeService{Kind: "connect-proxy", ID: "web-proxy", Service: "web-proxy"}
		proxy.Check = nil
		proxy.Address = "10.9.9.9"
		if why := s.register(11, regBody(t, proxy)); !strings.Contains(why, "connect-proxy") {
			t.Errorf("connect proxy: %q", why)
		}
		if s.cat.nodes["n1"].modify != 10 || idx(s, "nodes") != 10 {
			t.Errorf("a refused entry changed the node")
		}
		// A request whose layout is not the snapshot's.
		odd, _ := encode.Value(map[string]any{"Node": "n1", "Extra": 1})
		if why := s.register(12, odd); !strings.Contains(why, "differ") {
			t.Errorf("other layout: %q", why)
		}
		// A 1.12 base snapshot (no peer-qualified index rows).
		s.cat.peerIndexes = false
		if why := s.register(13, regBody(t, web("n1"))); !strings.Contains(why, "1.13") {
			t.Errorf("pre-1.13 base: %q", why)
		}
	})
}
