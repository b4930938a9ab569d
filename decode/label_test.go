package decode_test

import (
	"strings"
	"testing"
	"time"

	"github.com/snaptool/snaptool/decode"
)

// Labels come from the records themselves: every one the 1.14.11 fixture
// set's change list names, read through View (masked) as every command
// reads them.
func TestLabelFixtures(t *testing.T) {
	s, err := decode.Open("../fixtures/consul-1.14.11/after.snap", decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string]bool{}
	for s.Next() {
		rec := s.Record()
		tree, err := decode.View(rec.Type, rec.Value(), false)
		if err != nil {
			t.Fatalf("record %d: %v", rec.N, err)
		}
		if l := decode.Label(rec.Type, tree); l != "" {
			got[rec.Type.String()+" "+l] = true
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ACLToken Initial Management Token",
		"ACLToken fixture: app kv reader",
		"ACLPolicy global-management",
		"ACLPolicy kv-app-read",
		"ACLRole kv-reader",
		"ACLBindingRule jwt-static: ops in list.groups",
		"ACLAuthMethod jwt-static",
		"Session lock-holder@snap-server",
		"PreparedQuery db-session-bound",
		"ConnectCA Consul CA Primary Cert",
		"ConfigEntry service-intentions/web",
		"Peering dc2",
		"Register Serf Health Status",
	} {
		if !got[want] {
			t.Errorf("no label %q among %d labels", want, len(got))
		}
	}
	for l := range got {
		if strings.HasPrefix(l, "KVS ") || strings.HasPrefix(l, "Tombstone ") || strings.Contains(l, "<masked") {
			t.Errorf("unexpected label %q", l)
		}
	}
}

func TestLabelShapes(t *testing.T) {
	obj := func(kv ...any) *decode.Object {
		o := &decode.Object{}
		for i := 0; i < len(kv); i += 2 {
			o.Set(kv[i].(string), kv[i+1])
		}
		return o
	}
	long := strings.Repeat("é", 100)
	for _, tc := range []struct {
		name string
		t    decode.MessageType
		tree any
		want string
	}{
		{"session without name", decode.TypeSession, obj("Name", "", "Node", "n1"), "n1"},
		{"session", decode.TypeSession, obj("Name", "lock", "Node", "n1"), "lock@n1"},
		{"query template", decode.TypePreparedQuery, obj("Name", "", "Template", obj("Type", "name_prefix_match", "Regexp", "^geo-(.*)$")), "template name_prefix_match ^geo-(.*)$"},
		{"query by service", decode.TypePreparedQuery, obj("Name", "", "Service", obj("Service", "db")), "service db"},
		{"binding rule without selector", decode.TypeACLBindingRule, obj("AuthMethod", "k8s", "Selector", ""), "k8s: (any)"},
		{"config entry", decode.TypeConfigEntry, obj("Kind", "service-defaults", "Name", "web"), "service-defaults/web"},
		{"legacy intention", decode.TypeIntention, obj("SourceName", "web", "DestinationName", "db"), "web -> db"},
		{"node has none", decode.TypeRegister, obj("Node", "n1", "Service", nil, "Check", nil), ""},
		{"service", decode.TypeRegister, obj("Node", "n1", "Service", obj("ID", "web-1", "Service", "web")), "web"},
		{"multi-line description", decode.TypeACLToken, obj("Description", "first line\nsecond"), "first line …"},
		{"long", decode.TypeACLPolicy, obj("Name", long), long[:decode.MaxLabelLen] + "…"},
		{"bytes", decode.TypeACLToken, obj("Description", []byte("from bytes")), "from bytes"},
		{"not an object", decode.TypeACLToken, "x", ""},
		{"KVS", decode.TypeKVS, obj("Key", "a/b", "Value", []byte("v")), ""},
	} {
		if got := decode.Label(tc.t, tc.tree); got != tc.want {
			t.Errorf("%s: Label = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSavedTime(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want string
	}{
		{"2-162-1795548439390", "2026-11-24T19:27:19.39Z"},
		{"2-116-1795993263179", "2026-11-29T23:01:03.179Z"},
		{"2-13-1", ""}, // before 2000: not a time raft wrote
		{"", ""},
		{"2-162", ""},
		{"a-b-c", ""},
		{"2-162-x", ""},
		{"1-2-3-4", ""},
		{"2-162--5", ""},
	} {
		m := &decode.Meta{}
		m.ID = tc.id
		got, ok := m.SavedTime()
		if s := got.Format(time.RFC3339Nano); ok != (tc.want != "") || ok && s != tc.want {
			t.Errorf("SavedTime(%q) = %s, %v; want %q", tc.id, s, ok, tc.want)
		}
	}
	if _, ok := (*decode.Meta)(nil).SavedTime(); ok {
		t.Error("nil Meta has a time")
	}
}
