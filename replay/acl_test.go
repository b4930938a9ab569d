package replay

import (
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// TestACLSemantics: Consul 1.13's ACL policy and token rules (acl.go),
// rule by rule; the fixture's real log covers the common path (bootstrap,
// policies and tokens created, a policy updated, a token deleted) against
// Consul's own snapshots.
func TestACLSemantics(t *testing.T) {
	body := func(v any) []byte {
		b, err := encode.Value(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	policy := func(id, name, rules string) map[string]any {
		return map[string]any{"ID": id, "Name": name, "Rules": rules, "Hash": []byte{1}, "CreateIndex": 0, "ModifyIndex": 0}
	}
	token := func(acc, sec string, policyIDs ...string) map[string]any {
		var links []any
		for _, id := range policyIDs {
			links = append(links, map[string]any{"ID": id, "Name": ""})
		}
		return map[string]any{"AccessorID": acc, "SecretID": sec, "Policies": links, "Hash": []byte{2}, "CreateIndex": 0, "ModifyIndex": 0}
	}
	const p1, p2 = "11111111-0000-0000-0000-000000000001", "11111111-0000-0000-0000-000000000002"
	apply := func(s *state, idx uint64, mt decode.MessageType, v any) (string, error) {
		s.refusal = nil
		why := s.applyRequest(idx, mt, body(v))
		return why, s.refusal
	}
	setup := func(t *testing.T) *state {
		s := newState()
		if why, err := apply(s, 10, decode.TypeACLPolicy, map[string]any{"Policies": []any{
			policy(globalManagementID, "global-management", "acl = \"write\""), policy(p1, "ops", "")}}); why != "" || err != nil {
			t.Fatal(why, err)
		}
		return s
	}

	t.Run("policies: create, update keeps CreateIndex, names are unique case-insensitively", func(t *testing.T) {
		s := setup(t)
		if why, err := apply(s, 11, decode.TypeACLPolicy, map[string]any{"Policies": []any{policy(p1, "ops", "x")}}); why != "" || err != nil {
			t.Fatal(why, err)
		}
		if p := s.policies[p1]; p.create != 10 || p.modify != 11 || idx(s, "acl-policies") != 11 {
			t.Errorf("%+v", p)
		}
		// A batch with a conflicting name fails whole: p2 is not created either.
		if _, err := apply(s, 12, decode.TypeACLPolicy, map[string]any{"Policies": []any{policy(p2, "dev", ""), policy("11111111-0000-0000-0000-000000000003", "OPS", "")}}); err == nil || s.policies[p2] != nil {
			t.Errorf("name conflict: %v, p2 %v", err, s.policies[p2])
		}
		if _, err := apply(s, 13, decode.TypeACLPolicyDelete, map[string]any{"PolicyIDs": []string{globalManagementID}}); err == nil || s.policies[globalManagementID] == nil {
			t.Errorf("global-management deleted: %v", err)
		}
		if why, _ := apply(s, 14, decode.TypeACLPolicy, map[string]any{"Policies": []any{policy(globalManagementID, "global-management", "changed")}}); !strings.Contains(why, "global-management") {
			t.Errorf("global-management rules change: %q", why)
		}
	})

	t.Run("tokens: links named after their policies, missing links, CAS, immutable accessor, deletes", func(t *testing.T) {
		s := setup(t)
		if why, err := apply(s, 20, decode.TypeACLToken, map[string]any{"Tokens": []any{token("a0000000-0000-0000-0000-000000000001", "s1", p1)}}); why != "" || err != nil {
			t.Fatal(why, err)
		}
		tk := s.tokens["s1"]
		if raw, ok := decode.ValueAt(tk.record()[1:], "Policies", 0, "Name"); !ok || !decode.SameValue(raw, mpStr("ops")) {
			t.Errorf("link not named after its policy: %x", raw)
		}
		if _, err := apply(s, 21, decode.TypeACLToken, map[string]any{"Tokens": []any{token("a0000000-0000-0000-0000-000000000002", "s2", p2)}}); err == nil || s.tokens["s2"] != nil {
			t.Errorf("a link to a missing policy was accepted: %v", err)
		}
		if why, err := apply(s, 22, decode.TypeACLToken, map[string]any{"AllowMissingLinks": true, "Tokens": []any{token("a0000000-0000-0000-0000-000000000002", "s2", p2)}}); why != "" || err != nil || s.tokens["s2"] == nil {
			t.Errorf("AllowMissingLinks: %q %v", why, err)
		}
		// CAS with a stale index: skipped, no error, no change.
		stale := token("a0000000-0000-0000-0000-000000000001", "s1", p1)
		stale["ModifyIndex"] = 5
		if why, err := apply(s, 23, decode.TypeACLToken, map[string]any{"CAS": true, "Tokens": []any{stale}}); why != "" || err != nil || s.tokens["s1"].modify != 20 {
			t.Errorf("stale CAS: %q %v, modify %d", why, err, s.tokens["s1"].modify)
		}
		other := token("a0000000-0000-0000-0000-000000000009", "s1", p1)
		if _, err := apply(s, 24, decode.TypeACLToken, map[string]any{"Tokens": []any{other}}); err == nil {
			t.Error("a new AccessorID for an existing SecretID was accepted")
		}
		if why, err := apply(s, 25, decode.TypeACLTokenDelete, map[string]any{"TokenIDs": []string{"A0000000-0000-0000-0000-000000000001"}}); why != "" || err != nil || s.tokens["s1"] != nil || idx(s, "acl-tokens") != 25 {
			t.Errorf("delete: %q %v", why, err)
		}
		legacy := token("a0000000-0000-0000-0000-000000000003", "s3")
		legacy["Rules"] = "key \"\" { policy = \"read\" }"
		if why, _ := apply(s, 26, decode.TypeACLToken, map[string]any{"Tokens": []any{legacy}}); !strings.Contains(why, "legacy") {
			t.Errorf("legacy token: %q", why)
		}
	})

	t.Run("bootstrap: once, then only with the reset index", func(t *testing.T) {
		s := setup(t)
		boot := map[string]any{"Token": token("b0000000-0000-0000-0000-000000000001", "boot", globalManagementID), "ResetIndex": 0}
		if why, err := apply(s, 30, decode.TypeACLBootstrap, boot); why != "" || err != nil || idx(s, "acl-token-bootstrap") != 30 {
			t.Fatal(why, err)
		}
		boot["Token"] = token("b0000000-0000-0000-0000-000000000002", "boot2", globalManagementID)
		if _, err := apply(s, 31, decode.TypeACLBootstrap, boot); err == nil || s.tokens["boot2"] != nil {
			t.Errorf("second bootstrap: %v", err)
		}
		boot["ResetIndex"] = 30
		if why, err := apply(s, 32, decode.TypeACLBootstrap, boot); why != "" || err != nil || idx(s, "acl-token-bootstrap") != 32 {
			t.Errorf("reset: %q %v", why, err)
		}
	})
}
