package replay

import (
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// TestBookkeepingSemantics: autopilot CAS, federation state and system
// metadata upsert and delete (Consul 1.13's state store); the real logs'
// first writes are compared with Consul's snapshots elsewhere.
func TestBookkeepingSemantics(t *testing.T) {
	apply := func(s *state, idx uint64, mt decode.MessageType, v any) (string, error) {
		b, err := encode.Value(v)
		if err != nil {
			t.Fatal(err)
		}
		s.refusal = nil
		why := s.applyRequest(idx, mt, b)
		return why, s.refusal
	}
	s := newState()
	cfg := func(modify uint64) map[string]any {
		return map[string]any{"CleanupDeadServers": true, "CreateIndex": 0, "ModifyIndex": modify}
	}
	mustOK := func(why string, err error) {
		t.Helper()
		if why != "" || err != nil {
			t.Fatal(why, err)
		}
	}
	mustOK(apply(s, 10, decode.TypeAutopilot, map[string]any{"Config": cfg(0), "CAS": false}))
	mustOK(apply(s, 11, decode.TypeAutopilot, map[string]any{"Config": cfg(3), "CAS": true})) // stale: no change
	if a := s.rows[decode.TypeAutopilot][""]; a.create != 10 || a.modify != 10 {
		t.Errorf("a stale CAS changed the autopilot config: %+v", a)
	}
	mustOK(apply(s, 12, decode.TypeAutopilot, map[string]any{"Config": cfg(10), "CAS": true}))
	if a := s.rows[decode.TypeAutopilot][""]; a.create != 10 || a.modify != 12 {
		t.Errorf("CAS at the current index: %+v", a)
	}

	fed := func(op, dc string, primary uint64) map[string]any {
		return map[string]any{"Datacenter": "dc1", "Op": op, "Token": "secret",
			"State": map[string]any{"Datacenter": dc, "CreateIndex": 0, "ModifyIndex": 0, "PrimaryModifyIndex": primary}}
	}
	mustOK(apply(s, 20, decode.TypeFederationState, fed("upsert", "DC2", 0)))
	mustOK(apply(s, 21, decode.TypeFederationState, fed("upsert", "dc2", 7)))
	if f := s.rows[decode.TypeFederationState]["dc2"]; f == nil || f.create != 20 || f.modify != 21 || f.primary != 7 || idx(s, "federation-states") != 21 {
		t.Fatalf("federation state %+v", f)
	}
	if raw, ok := decode.ValueAt(s.rows[decode.TypeFederationState]["dc2"].record()[1:], "Token"); !ok || !decode.SameValue(raw, mpStr("")) {
		t.Error("the caller's token is persisted in the federation state record")
	}
	if _, err := apply(s, 22, decode.TypeFederationState, fed("upsert", "", 0)); err == nil {
		t.Error("a federation state without a datacenter was accepted")
	}
	mustOK(apply(s, 23, decode.TypeFederationState, fed("delete", "dc2", 0)))
	if s.rows[decode.TypeFederationState]["dc2"] != nil || idx(s, "federation-states") != 23 {
		t.Error("federation state not deleted")
	}

	meta := func(op, key string) map[string]any {
		return map[string]any{"Op": op, "Entry": map[string]any{"Key": key, "Value": "v", "CreateIndex": 0, "ModifyIndex": 0}}
	}
	mustOK(apply(s, 30, decode.TypeSystemMetadata, meta("upsert", "virtual-ips")))
	mustOK(apply(s, 31, decode.TypeSystemMetadata, meta("upsert", "Virtual-IPs")))
	if m := s.rows[decode.TypeSystemMetadata]["virtual-ips"]; m.create != 30 || m.modify != 31 || idx(s, "system-metadata") != 31 {
		t.Errorf("system metadata %+v", m)
	}
	mustOK(apply(s, 32, decode.TypeSystemMetadata, meta("delete", "virtual-ips")))
	if s.rows[decode.TypeSystemMetadata]["virtual-ips"] != nil || idx(s, "system-metadata") != 32 {
		t.Error("system metadata not deleted")
	}
}
