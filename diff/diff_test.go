package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

func TestIdentityEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		a, b []rec
		opts Options
		want []string
	}{
		{
			name: "same service ID on two nodes: only the changed node's instance",
			a:    []rec{nodeRec("n1"), svcRec("n1", "web-1", 80, 10), nodeRec("n2"), svcRec("n2", "web-1", 80, 10), chunking()},
			b:    []rec{nodeRec("n1"), svcRec("n1", "web-1", 80, 10), nodeRec("n2"), svcRec("n2", "web-1", 8080, 11), chunking()},
			want: []string{"modified Register service:n2/web-1 | Service.Port"},
		},
		{
			name: "same service ID moves to another node: removed on one, added on the other",
			a:    []rec{nodeRec("n1"), svcRec("n1", "web-1", 80, 10), nodeRec("n2"), chunking()},
			b:    []rec{nodeRec("n1"), nodeRec("n2"), svcRec("n2", "web-1", 80, 10), chunking()},
			want: []string{"removed Register service:n1/web-1", "added Register service:n2/web-1"},
		},
		{
			name: "a key that becomes a tombstone is a removed KVS and an added Tombstone",
			a:    []rec{kvRec("app/a", "1", 5), kvRec("app/gone", "x", 6), chunking()},
			b:    []rec{kvRec("app/a", "1", 5), tombRec("app/gone", 9), chunking()},
			want: []string{"removed KVS app/gone", "added Tombstone app/gone"},
		},
		{
			name: "config entry kind prefix differs: not the same entry",
			a:    []rec{configEntryRec("service-defaults", "web", om{{"Protocol", "http"}}), chunking()},
			b:    []rec{configEntryRec("service-resolver", "web", om{{"ConnectTimeout", 5}}), chunking()},
			want: []string{"removed ConfigEntry service-defaults/web", "added ConfigEntry service-resolver/web"},
		},
		{
			name: "config entries of two kinds with one name: only the changed kind",
			a: []rec{configEntryRec("service-defaults", "web", om{{"Protocol", "http"}}),
				configEntryRec("service-resolver", "web", om{{"ConnectTimeout", 5}}), chunking()},
			b: []rec{configEntryRec("service-defaults", "web", om{{"Protocol", "grpc"}}),
				configEntryRec("service-resolver", "web", om{{"ConnectTimeout", 5}}), chunking()},
			want: []string{"modified ConfigEntry service-defaults/web | Entry.Protocol"},
		},
		{
			name: "a check that moves from node level to service level keeps its identity",
			a:    []rec{nodeRec("n1"), svcRec("n1", "web-1", 80, 10), checkRec("n1", "disk", "", "passing"), chunking()},
			b:    []rec{nodeRec("n1"), svcRec("n1", "web-1", 80, 10), checkRec("n1", "disk", "web-1", "passing"), chunking()},
			want: []string{"modified Register check:n1/disk | Check.ServiceID"},
		},
		{
			name: "node names compare case-insensitively in Consul's order (memdb lower-cases them)",
			a:    []rec{nodeRec("alpha"), nodeRec("Beta"), nodeRec("gamma"), chunking()},
			b:    []rec{nodeRec("alpha"), nodeRec("Beta"), nodeRec("delta"), nodeRec("gamma"), chunking()},
			want: []string{"added Register node:delta"},
		},
		{
			name: "raft bookkeeping alone is not a change",
			a:    []rec{kvRec("k", "v", 5), indexRec("kvs", 5), chunking()},
			b:    []rec{kvRec("k", "v", 9), indexRec("kvs", 9), chunking()},
			want: nil,
		},
		{
			name: "raft bookkeeping with --include-raft-bookkeeping",
			a:    []rec{kvRec("k", "v", 5), indexRec("kvs", 5), chunking()},
			b:    []rec{kvRec("k", "v", 9), indexRec("kvs", 9), chunking()},
			opts: Options{IncludeRaftBookkeeping: true},
			want: []string{"modified KVS k | ModifyIndex", "modified Index kvs | Value"},
		},
		{
			name: "map key order differs (Go writes maps randomly): equal",
			a:    []rec{{decode.TypeRegister, om{{"Node", "n1"}, {"NodeMeta", om{{"a", "1"}, {"b", "2"}}}, {"Service", nil}}}, chunking()},
			b:    []rec{{decode.TypeRegister, om{{"Node", "n1"}, {"NodeMeta", om{{"b", "2"}, {"a", "1"}}}, {"Service", nil}}}, chunking()},
		},
		{
			name: "an element inserted into an array shows at its index",
			a:    []rec{{decode.TypeACLPolicy, om{{"ID", "p1"}, {"Datacenters", []any{"dc1", "dc3"}}}}, chunking()},
			b:    []rec{{decode.TypeACLPolicy, om{{"ID", "p1"}, {"Datacenters", []any{"dc1", "dc2", "dc3"}}}}, chunking()},
			want: []string{"modified ACLPolicy p1 | Datacenters[1]"},
		},
		{
			name: "unknown types are content-addressed: a change is removed + added",
			a:    []rec{{decode.MessageType(100), om{{"x", 1}}}, {decode.MessageType(101), om{{"same", 1}}}, chunking()},
			b:    []rec{{decode.MessageType(100), om{{"x", 2}}}, {decode.MessageType(101), om{{"same", 1}}}, chunking()},
			want: []string{"removed Unknown(100) " + contentIDOf(om{{"x", 1}}), "added Unknown(100) " + contentIDOf(om{{"x", 2}})},
		},
		{
			name: "filters: --type",
			a:    []rec{nodeRec("n1"), kvRec("k", "1", 5), chunking()},
			b:    []rec{nodeRec("n2"), kvRec("k", "2", 5), chunking()},
			opts: Options{Types: []decode.MessageType{decode.TypeRegister}},
			want: []string{"removed Register node:n1", "added Register node:n2"},
		},
		{
			name: "filters: --ignore-type and --kv-prefix",
			a:    []rec{nodeRec("n1"), kvRec("app/k", "1", 5), kvRec("other/k", "1", 5), chunking()},
			b:    []rec{nodeRec("n2"), kvRec("app/k", "2", 5), kvRec("other/k", "2", 5), chunking()},
			opts: Options{IgnoreTypes: []decode.MessageType{decode.TypeRegister}, KVPrefix: "app/"},
			want: []string{"modified KVS app/k | Value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sum, err := runDiff(t, stateBin(tt.a...), stateBin(tt.b...), tt.opts)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if g := brief(got); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("changes:\n got %q\nwant %q", g, tt.want)
			}
			if sum.Identical != (len(tt.want) == 0) {
				t.Errorf("Identical = %v with %d changes", sum.Identical, len(tt.want))
			}
			if len(sum.Warnings) != 0 {
				t.Errorf("unexpected order warnings: %q", sum.Warnings)
			}
		})
	}
}

// A rotated SecretID shows as a modified token with two different
// fingerprints, and never in clear unless ShowSecrets. Tokens arrive sorted
// by SecretID, so the rotated token changes place in the stream.
func TestRotatedSecret(t *testing.T) {
	a := stateBin(tokenRec("acc-1", "11111111-aaaa", "one"), tokenRec("acc-2", "22222222-bbbb", "two"), chunking())
	b := stateBin(tokenRec("acc-2", "22222222-bbbb", "two"), tokenRec("acc-1", "33333333-cccc", "one"), chunking())
	got, sum, err := runDiff(t, a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g, want := brief(got), []string{"modified ACLToken acc-1 | SecretID"}; !reflect.DeepEqual(g, want) {
		t.Fatalf("got %q, want %q", g, want)
	}
	f := got[0].Fields[0]
	if f.Old != decode.Fingerprint("11111111-aaaa") || f.New != decode.Fingerprint("33333333-cccc") || f.Old == f.New {
		t.Errorf("fingerprints: old %s new %s", f.Old, f.New)
	}
	if s := jsonString(got); strings.Contains(s, "11111111") || strings.Contains(s, "33333333") {
		t.Errorf("secret leaked: %s", s)
	}
	if len(sum.Warnings) != 0 {
		t.Errorf("SecretID order is Consul's order, yet warned: %q", sum.Warnings)
	}
	got, _, err = runDiff(t, a, b, Options{ShowSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := got[0].Fields[0]; f.Old != "11111111-aaaa" || f.New != "33333333-cccc" {
		t.Errorf("--show-secrets: old %s new %s", f.Old, f.New)
	}
}

// Records out of Consul's order still match by identity; the type is
// reported on stderr's notes; the result is the same as in order.
func TestOutOfOrderFallback(t *testing.T) {
	inOrder := []rec{kvRec("a", "1", 1), kvRec("b", "2", 1), kvRec("c", "3", 1), kvRec("d", "4", 1), chunking()}
	reversed := []rec{kvRec("d", "4", 1), kvRec("c", "changed", 1), kvRec("b", "2", 1), kvRec("e", "5", 1), chunking()}
	want := []string{"removed KVS a", "modified KVS c | Value", "added KVS e"}
	for _, budget := range []int64{0, 1} {
		got, sum, err := runDiff(t, stateBin(inOrder...), stateBin(reversed...), Options{RawBudget: budget})
		if err != nil {
			t.Fatal(err)
		}
		g := brief(got)
		if budget == 1 {
			// Beyond the budget only digests are kept: the modified record
			// is still found, without field detail.
			want = []string{"removed KVS a", "modified KVS c", "added KVS e"}
			for _, c := range got {
				if c.Op == Modified && c.Note == "" {
					t.Errorf("budget %d: modified record without a note", budget)
				}
			}
		}
		if !reflect.DeepEqual(g, want) {
			t.Errorf("budget %d: got %q, want %q", budget, g, want)
		}
		if len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "B: KVS records are not in Consul's order") {
			t.Errorf("budget %d: warnings %q", budget, sum.Warnings)
		}
		var kvs TypeSummary
		for _, ts := range sum.Types {
			if ts.Name == "KVS" {
				kvs = ts
			}
		}
		if kvs.Added != 1 || kvs.Removed != 1 || kvs.Modified != 1 || kvs.Unchanged != 2 || kvs.CountA != 4 || kvs.CountB != 4 {
			t.Errorf("budget %d: KVS summary %+v", budget, kvs)
		}
	}
}

func TestValuesUnifiedDiff(t *testing.T) {
	a := stateBin(kvRec("cfg", "line1\nline2\nline3\n", 1), kvRec("bin", "\x00\x01", 1), chunking())
	b := stateBin(kvRec("cfg", "line1\nline2 changed\nline3\n", 2), kvRec("bin", "\x00\x02", 2), chunking())
	got, _, err := runDiff(t, a, b, Options{Values: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %q", brief(got))
	}
	wantDiff := "--- a/Value\n+++ b/Value\n@@ -1,3 +1,3 @@\n line1\n-line2\n+line2 changed\n line3\n"
	for _, c := range got {
		switch c.ID {
		case "cfg":
			if c.Fields[0].Diff != wantDiff {
				t.Errorf("diff:\n%s\nwant:\n%s", c.Fields[0].Diff, wantDiff)
			}
		case "bin":
			if c.Fields[0].Diff != "" || c.Fields[0].Old != "0x0001" || c.Fields[0].New != "0x0002" {
				t.Errorf("binary value: %+v", c.Fields[0])
			}
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"x\n", "x\n", ""},
		{"", "new\n", "--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"a\nb\nc\n", "a\nc\n", "--- a\n+++ b\n@@ -1,3 +1,2 @@\n a\n-b\n c\n"},
	}
	for _, tt := range tests {
		if got := unifiedDiff(tt.a, tt.b, "a", "b"); got != tt.want {
			t.Errorf("unifiedDiff(%q, %q) =\n%s\nwant\n%s", tt.a, tt.b, got, tt.want)
		}
	}
}

// Values are carried whole (eliding is the text renderer's business), and
// JSON carries them as JSON values, not as strings of JSON.
func TestWholeValues(t *testing.T) {
	long := strings.Repeat("x", 500)
	a := stateBin(kvRec("k", long, 1), chunking())
	b := stateBin(kvRec("k", long+"y", 1), chunking())
	got, _, err := runDiff(t, a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := got[0].Fields[0]
	if f.Old != long || f.New != long+"y" {
		t.Errorf("values not whole: %q -> %q", f.Old, f.New)
	}
	j, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"path":"Value","old":"` + long + `","new":"` + long + `y"}`; string(j) != want {
		t.Errorf("JSON %s", j)
	}
}

// A damaged input is an error (never a silent result), and the records
// after the damage are not reported as added or removed.
func TestDamagedInput(t *testing.T) {
	good := stateBin(kvRec("a", "1", 1), kvRec("b", "2", 1), kvRec("c", "3", 1), chunking())
	bad := good[:len(good)-20] // cut inside a record; meta Size fixed up by snap
	got, _, err := runDiff(t, good, bad, Options{})
	if err == nil {
		t.Fatal("no error for a truncated input")
	}
	if !decode.IsDamage(err) {
		t.Errorf("error is not classified as damage: %v", err)
	}
	var re *decode.RecordError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "B (B)") {
		t.Errorf("error lacks context: %v", err)
	}
	for _, c := range got {
		if c.Type == "ChunkingState" {
			t.Errorf("reported records past the damage: %q", brief(got))
		}
	}
}

// emit's error stops the diff and is returned as is.
func TestEmitError(t *testing.T) {
	stop := errors.New("stop")
	_, err := Run(t.Context(), snap(t, "A", stateBin(nodeRec("a"), chunking())), snap(t, "B", stateBin(nodeRec("b"), chunking())), Options{},
		func(*Change) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("err = %v, want %v", err, stop)
	}
}

// With many changes, what Consul's order makes final is emitted early
// (MaxHeld) and the result is the same as holding everything.
func TestMaxHeldSameResult(t *testing.T) {
	var a, b []rec
	for i := 0; i < 60; i++ {
		k := string(rune('a'+i/26)) + string(rune('a'+i%26))
		switch i % 4 {
		case 0:
			a = append(a, kvRec(k, "v", 1)) // removed
		case 1:
			b = append(b, kvRec(k, "v", 1)) // added
		case 2:
			a = append(a, kvRec(k, "old", 1))
			b = append(b, kvRec(k, "new", 1)) // modified
		default:
			a = append(a, kvRec(k, "same", 1))
			b = append(b, kvRec(k, "same", 1))
		}
	}
	a, b = append(a, chunking()), append(b, chunking())
	all, _, err := runDiff(t, stateBin(a...), stateBin(b...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	small, sum, err := runDiff(t, stateBin(a...), stateBin(b...), Options{MaxHeld: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 45 || !reflect.DeepEqual(brief(all), brief(small)) {
		t.Errorf("MaxHeld changes the result:\n%q\n%q", brief(all), brief(small))
	}
	if len(sum.Warnings) != 0 {
		t.Errorf("warnings %q", sum.Warnings)
	}
	// Out of order after early emission: said on the warnings.
	b2 := append([]rec{}, b[:len(b)-1]...)
	b2 = append(b2, kvRec("aa", "late", 1), chunking())
	_, sum, err = runDiff(t, stateBin(a...), stateBin(b2...), Options{MaxHeld: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Warnings) != 2 || !strings.Contains(sum.Warnings[0], "assuming Consul's order") {
		t.Errorf("warnings %q", sum.Warnings)
	}
}

// contentIDOf is decode.Identity's form for unknown types.
func contentIDOf(v any) string {
	h := sha256.Sum256(packed(v))
	return "sha256:" + hex.EncodeToString(h[:8])
}

// A stream in the order Consul 1.13 writes it raises no order note; the
// same records shuffled do (per type), and still diff to nothing.
func TestConsulOrderKeys(t *testing.T) {
	peered := func(r rec, peer string) rec {
		m := append(om{}, r.v.(om)...)
		for i := range m {
			if m[i].k == "PeerName" {
				m[i].v = peer
			}
		}
		return rec{r.t, m}
	}
	vip := func(peer, name string) rec {
		return rec{decode.TypeServiceVirtualIP, om{{"IP", []byte{0, 0, 0, 1}}, {"Service", om{{"Peer", peer}, {"ServiceName", om{{"Name", name}}}}}}}
	}
	coord := func(node, seg string) rec {
		return rec{decode.TypeCoordinateBatchUpdate, []any{om{{"Node", node}, {"Segment", seg}}}}
	}
	ordered := []rec{
		vip("dc2", "web"), vip("", "API"), vip("", "db"), // "peer:dc2" < "~"
		{decode.TypeFreeVirtualIP, om{{"IP", []byte{0, 0, 0, 5}}, {"IsCounter", false}}},
		{decode.TypeFreeVirtualIP, om{{"IP", []byte{0, 0, 0, 5}}, {"IsCounter", true}}},
		peered(nodeRec("zed"), "dc2"), // peers before local ("~")
		nodeRec("Alpha"), svcRec("Alpha", "B-svc", 1, 1), svcRec("Alpha", "c-svc", 1, 1),
		checkRec("Alpha", "A-check", "", "passing"), checkRec("Alpha", "b-check", "", "passing"),
		nodeRec("beta"),
		coord("Alpha", ""), coord("alpha2", ""), coord("beta", "seg"),
		tokenRec("acc-9", "11111111-0000", "x"), tokenRec("acc-1", "22222222-0000", "y"), // by SecretID
		kvRec("B", "1", 1), kvRec("a", "1", 1), // KV keys byte-wise: "B" < "a"
		indexRec("Alpha", 1), indexRec("beta", 1), // Index keys lower-cased
		chunking(),
	}
	_, sum, err := runDiff(t, stateBin(ordered...), stateBin(ordered...), Options{IncludeRaftBookkeeping: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Warnings) != 0 {
		t.Errorf("Consul's order raised notes: %q", sum.Warnings)
	}
	// Swap neighbours inside each type: each swap is noticed.
	swapped := append([]rec{}, ordered...)
	for _, i := range []int{0, 5, 12, 15, 17, 19} {
		swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
	}
	got, sum, err := runDiff(t, stateBin(ordered...), stateBin(swapped...), Options{IncludeRaftBookkeeping: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("reordering is not a change: %q", brief(got))
	}
	var types []string
	for _, w := range sum.Warnings {
		types = append(types, strings.Fields(w)[1])
	}
	want := []string{"ServiceVirtualIP", "Register", "CoordinateBatchUpdate", "ACLToken", "KVS", "Index"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("order notes for %q, want %q (%q)", types, want, sum.Warnings)
	}
}
