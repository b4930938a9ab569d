package replay

import (
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// TestConfigEntrySemantics: upsert, CAS and delete of simple kinds as
// Consul 1.13's state store applies them, and what is refused; the
// fixture's real log covers create and delete against Consul's snapshots.
func TestConfigEntrySemantics(t *testing.T) {
	req := func(op, kind, name string, modify uint64, extra map[string]any) []byte {
		entry := map[string]any{"Kind": kind, "Name": name, "Protocol": "http", "CreateIndex": 0, "ModifyIndex": modify}
		for k, v := range extra {
			entry[k] = v
		}
		k, _ := encode.Value(kind)
		m, _ := encode.Value(map[string]any{"Op": op, "Datacenter": "dc1", "Entry": entry, "Token": "secret"})
		b, _ := encode.Value(string(append(k, m...)))
		return b
	}
	apply := func(s *state, idx uint64, body []byte) (string, error) {
		s.refusal = nil
		why := s.applyRequest(idx, decode.TypeConfigEntry, body)
		return why, s.refusal
	}
	key := ceKey("service-defaults", "web")
	t.Run("upsert keeps CreateIndex; CAS; delete; the persisted request is emptied", func(t *testing.T) {
		s := newState()
		if why, err := apply(s, 10, req("upsert", "service-defaults", "web", 0, nil)); why != "" || err != nil {
			t.Fatal(why, err)
		}
		if why, err := apply(s, 11, req("upsert", "service-defaults", "WEB", 0, nil)); why != "" || err != nil {
			t.Fatal(why, err)
		}
		if c := s.configs[key]; c == nil || c.create != 10 || c.modify != 11 || idx(s, "config-entries") != 11 {
			t.Fatalf("%+v", c)
		}
		raw := s.configs[key].record()
		d, err := decode.DecodeRecord(&decode.Record{Type: decode.TypeConfigEntry, Raw: raw})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := decode.DecodeAll(raw[1:]); strings.Contains(string(v.Bytes), "secret") || strings.Contains(string(v.Bytes), "upsert") {
			t.Errorf("the caller's token or the operation persisted: %v", d)
		}
		if _, err := apply(s, 12, req("upsert-cas", "service-defaults", "web", 10, nil)); err != nil || s.configs[key].modify != 11 {
			t.Errorf("a stale CAS changed the entry")
		}
		if _, err := apply(s, 13, req("upsert-cas", "service-defaults", "web", 11, nil)); err != nil || s.configs[key].modify != 13 {
			t.Errorf("CAS at the current index: %v, modify %d", err, s.configs[key].modify)
		}
		if _, err := apply(s, 14, req("delete-cas", "service-defaults", "web", 11, nil)); err != nil || s.configs[key] == nil {
			t.Errorf("a stale delete-cas deleted")
		}
		if why, err := apply(s, 15, req("delete", "service-defaults", "web", 0, nil)); why != "" || err != nil || s.configs[key] != nil || idx(s, "config-entries") != 15 {
			t.Errorf("delete: %q %v", why, err)
		}
	})
	t.Run("refused: other kinds, a graph entry in the snapshot, a Destination", func(t *testing.T) {
		s := newState()
		if why, _ := apply(s, 10, req("upsert", "service-router", "web", 0, nil)); !strings.Contains(why, "service-router") {
			t.Errorf("router: %q", why)
		}
		if why, _ := apply(s, 11, req("upsert", "service-defaults", "web", 0, map[string]any{"Destination": map[string]any{"Port": 443}})); !strings.Contains(why, "Destination") {
			t.Errorf("destination: %q", why)
		}
		s.configGraph = true
		if why, _ := apply(s, 12, req("upsert", "service-defaults", "web", 0, nil)); !strings.Contains(why, "discovery-chain") || len(s.configs) != 0 {
			t.Errorf("with a graph entry: %q", why)
		}
	})
}
