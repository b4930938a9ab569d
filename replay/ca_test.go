package replay

import (
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// TestCASemantics: the Connect CA operations' rules (Consul 1.13's
// connect_ca.go); the 1.14 fixture's first writes (config, provider
// state, serial, roots and config) are compared with Consul's snapshot
// elsewhere.
func TestCASemantics(t *testing.T) {
	apply := func(s *state, idx uint64, v any) (string, error) {
		b, err := encode.Value(v)
		if err != nil {
			t.Fatal(err)
		}
		s.refusal = nil
		why := s.applyRequest(idx, decode.TypeConnectCA, b)
		return why, s.refusal
	}
	must := func(why string, err error) {
		t.Helper()
		if why != "" || err != nil {
			t.Fatal(why, err)
		}
	}
	root := func(id string, active bool) map[string]any {
		return map[string]any{"ID": id, "Name": id, "Active": active, "CreateIndex": 0, "ModifyIndex": 0}
	}
	cfg := func(cluster string, modify uint64) map[string]any {
		return map[string]any{"ClusterID": cluster, "Provider": "consul", "CreateIndex": 0, "ModifyIndex": modify}
	}
	s := newState()
	must(apply(s, 10, map[string]any{"Op": "set-config", "Config": cfg("c1", 0)}))
	must(apply(s, 11, map[string]any{"Op": "set-config", "Config": cfg("", 0)}))
	c := s.rows[decode.TypeConnectCAConfig][""]
	if c.create != 10 || c.modify != 11 || fieldStr(c.f, "ClusterID") != "c1" {
		t.Errorf("config %d/%d cluster %q: the ClusterID must survive an empty one", c.create, c.modify, fieldStr(c.f, "ClusterID"))
	}
	if _, err := apply(s, 12, map[string]any{"Op": "set-config", "Config": cfg("c1", 5)}); err == nil || s.rows[decode.TypeConnectCAConfig][""].modify != 11 {
		t.Error("a stale config CAS changed the config")
	}

	must(apply(s, 20, map[string]any{"Op": "set-roots", "Index": 0, "Roots": []any{root("r1", true)}}))
	must(apply(s, 21, map[string]any{"Op": "set-roots", "Index": 20, "Roots": []any{root("r1", false), root("r2", true)}}))
	r1, r2 := s.rows[decode.TypeConnectCA]["r1"], s.rows[decode.TypeConnectCA]["r2"]
	if r1 == nil || r2 == nil || r1.create != 20 || r1.modify != 21 || r2.create != 21 || idx(s, "connect-ca-roots") != 21 {
		t.Fatalf("roots %+v %+v", r1, r2)
	}
	must(apply(s, 22, map[string]any{"Op": "set-roots", "Index": 7, "Roots": []any{root("r3", true)}})) // stale: no change
	if len(s.rows[decode.TypeConnectCA]) != 2 {
		t.Error("a stale roots CAS replaced the roots")
	}
	if _, err := apply(s, 23, map[string]any{"Op": "set-roots", "Index": 21, "Roots": []any{root("r3", true), root("r4", true)}}); err == nil {
		t.Error("two active roots accepted")
	}
	must(apply(s, 24, map[string]any{"Op": "set-roots", "Index": 21, "Roots": []any{root("r2", true)}}))
	if s.rows[decode.TypeConnectCA]["r1"] != nil || s.rows[decode.TypeConnectCA]["r2"].create != 21 {
		t.Error("roots are not replaced whole, or r2 lost its CreateIndex")
	}

	ps := func(op string) map[string]any {
		return map[string]any{"Op": op, "ProviderState": map[string]any{"ID": "p1", "PrivateKey": "k", "CreateIndex": 0, "ModifyIndex": 0}}
	}
	must(apply(s, 30, ps("set-provider-state")))
	must(apply(s, 31, map[string]any{"Op": "increment-provider-serial"}))
	must(apply(s, 32, map[string]any{"Op": "increment-provider-serial"}))
	if idx(s, "connect-ca-builtin-serial") != 32 { // bootstrapped from connect-ca-builtin (30), then +1, +1
		t.Errorf("serial %d", idx(s, "connect-ca-builtin-serial"))
	}
	must(apply(s, 33, ps("delete-provider-state")))
	if s.rows[decode.TypeConnectCAProviderState]["p1"] != nil || idx(s, "connect-ca-builtin") != 33 {
		t.Error("provider state not deleted")
	}
}
