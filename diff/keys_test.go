package diff

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

func TestKVPrefix(t *testing.T) {
	// The reference: the first depth parts split on "/", joined by "/".
	ref := func(key string, depth int) string {
		parts := strings.Split(key, "/")
		if depth < len(parts) {
			parts = parts[:depth]
		}
		return strings.Join(parts, "/")
	}
	for _, tc := range []struct {
		key   string
		depth int
		want  string
	}{
		{"", 1, ""},
		{"", 2, ""},
		{"a", 1, "a"},
		{"a", 2, "a"},
		{"a/b/c", 1, "a"},
		{"a/b/c", 2, "a/b"},
		{"a/b/c", 3, "a/b/c"},
		{"a/b/c", 4, "a/b/c"},
		{"a/", 1, "a"},
		{"a/", 2, "a/"},
		{"/a", 1, ""},
		{"/a", 2, "/a"},
		{"a//b", 2, "a/"},
		{"app/web/", 2, "app/web"},
		{"x/y", 0, ""},
	} {
		if got := decode.KVGroup(tc.key, tc.depth); got != tc.want || got != ref(tc.key, tc.depth) {
			t.Errorf("kvPrefix(%q, %d) = %q, want %q (reference %q)", tc.key, tc.depth, got, tc.want, ref(tc.key, tc.depth))
		}
	}
}

// fastSortKey, the walk over the bytes, must give what sortKey gives on the
// generic decode, for every record it accepts: the real fixtures (every type
// Consul 1.13.9 writes) and hand-made records with odd shapes.
func TestFastSortKeyMatchesSortKey(t *testing.T) {
	check := func(t *testing.T, where string, r *decode.Record) {
		t.Helper()
		id, err := decode.Identity(r)
		if err != nil {
			return
		}
		got, ok := fastSortKey(r.Type, r.Value(), id)
		if !ok {
			return
		}
		v, err := decode.DecodeAll(r.Value())
		if err != nil {
			t.Errorf("%s: fast key %q for a record the generic decode rejects: %v", where, got, err)
			return
		}
		if want := sortKey(r, &v, id); got != want {
			t.Errorf("%s (%s %s): fastSortKey = %q, sortKey = %q", where, r.Type, id, got, want)
		}
	}
	n := 0
	for _, path := range []string{filepath.Join(fx, "before.snap"), filepath.Join(fx, "after.snap"),
		"../fixtures/consul-testdata/backup.snap", "../fixtures/consul-testdata/backupWithKV.snap"} {
		s := openFixture(t, path)
		for s.Next() {
			r := s.Record()
			check(t, path, r)
			n++
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if n < 100 {
		t.Fatalf("only %d fixture records", n)
	}
	odd := []rec{
		{decode.TypeRegister, om{{"Node", "Web-1"}, {"PeerName", "Other"}, {"Service", om{{"ID", "API"}}}}},
		{decode.TypeRegister, om{{"Node", "n"}, {"Service", nil}, {"Check", om{{"CheckID", "Serf"}}}}},
		{decode.TypeRegister, om{{"Node", "n"}, {"Service", "not a map"}}},
		{decode.TypeRegister, om{{"Node", 7}, {"Node", "second"}}},
		{decode.TypeRegister, om{{"Service", om{{"ID", []byte("bin-id")}}}, {"Service", om{{"ID", "second"}}}}},
		{decode.TypeRegister, []any{"not", "a", "map"}},
		{decode.TypeRegister, om{{"Node", "n"}, {"Check", om{{"CheckID", 3}}}}},
		{decode.TypeACLToken, om{{"AccessorID", "a"}, {"SecretID", "Sec-ret"}}},
		{decode.TypeACLToken, om{{"AccessorID", "a"}}},
		{decode.TypeACLToken, "x"},
		{decode.TypeSession, om{{"ID", "ABC-def"}}},
		{decode.TypeConfigEntry, om{{"Kind", "service-defaults"}, {"Name", "Web"}}},
		{decode.TypeIndex, om{{"Key", "KVS"}, {"Value", 3}}},
	}
	for i, r := range odd {
		raw := append([]byte{byte(r.t)}, packed(r.v)...)
		check(t, "odd record "+itoa(i), &decode.Record{Type: r.t, Raw: raw, N: 1})
	}
}

// Byte-identical records skip the per-side work, but a pair that cannot be
// read must still stop the diff with an error naming both inputs, as two
// separately read records would.
func TestIdenticalUnreadablePair(t *testing.T) {
	deep := func(n int) []byte {
		return append(bytes.Repeat([]byte{0x91}, n), 0xc0)
	}
	var b bytes.Buffer
	enc(&b, om{{"LastIndex", 100}})
	b.WriteByte(byte(decode.TypeKVS))
	enc(&b, om{{"Key", "a"}, {"Value", "x"}})
	b.WriteByte(byte(decode.TypeKVS))
	b.Write(deep(decode.MaxDepth + 10))
	b.WriteByte(byte(decode.TypeKVS))
	enc(&b, om{{"Key", "z"}, {"Value", "x"}})
	state := b.Bytes()
	_, _, err := runDiff(t, state, state, Options{})
	if err == nil {
		t.Fatal("diff of two unreadable records: no error")
	}
	for _, want := range []string{"A (A): state.bin record 2 (KVS)", "B (B): state.bin record 2 (KVS)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

// kvIdentity must give decode.Identity's answer (and KVKeyBytes' Key) for
// every value it accepts, and decline nested or odd shapes.
func TestKVIdentityMatchesIdentity(t *testing.T) {
	check := func(t *testing.T, where string, r *decode.Record, wantOK bool) {
		t.Helper()
		id, key, ok := kvIdentity(nil, r.Value())
		if ok != wantOK {
			t.Errorf("%s: kvIdentity ok = %v, want %v", where, ok, wantOK)
		}
		if !ok {
			return
		}
		want, err := decode.Identity(r)
		if err != nil {
			t.Errorf("%s: kvIdentity accepted a value Identity rejects: %v", where, err)
			return
		}
		if string(id) != want {
			t.Errorf("%s: kvIdentity = %q, Identity = %q", where, id, want)
		}
		if wk, found := decode.KVKeyBytes(r); found && !bytes.Equal(wk, key) || !found && len(key) != 0 {
			t.Errorf("%s: key = %q, KVKeyBytes = %q (%v)", where, key, wk, found)
		}
	}
	n := 0
	for _, path := range []string{filepath.Join(fx, "before.snap"), filepath.Join(fx, "after.snap"),
		"../fixtures/consul-testdata/backupWithKV.snap"} {
		s := openFixture(t, path)
		for s.Next() {
			if r := s.Record(); r.Type == decode.TypeKVS || r.Type == decode.TypeTombstone {
				check(t, path, r, true) // Consul's KV records are flat maps
				n++
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d KV records in the fixtures", n)
	}
	for i, tc := range []struct {
		v  any
		ok bool
	}{
		{om{{"Key", "a/b"}, {"Value", []byte("x")}, {"Flags", 3}}, true},
		{om{{"Key", "a"}, {"Partition", "p1"}, {"Namespace", "ns"}}, true},
		{om{{"Key", "a"}, {"Namespace", "ns"}}, true},
		{om{{"Key", "a"}, {"Partition", "p"}, {"Partition", "second"}}, true},
		{om{{"Key", 7}, {"Key", "second"}}, true},
		{om{{"Value", "no key"}}, true},
		{om{{"Key", "a"}, {"Namespace", 5}}, true},
		{om{{"Key", nil}, {"Flags", uint64(1 << 40)}}, true},
		{om{{"Key", "a"}, {"Meta", om{{"x", "y"}}}}, false},
		{om{{"Key", "a"}, {"List", []any{"x"}}}, false},
		{"not a map", false},
		{[]any{"Key", "a"}, false},
	} {
		raw := append([]byte{byte(decode.TypeKVS)}, packed(tc.v)...)
		check(t, "case "+itoa(i), &decode.Record{Type: decode.TypeKVS, Raw: raw, N: 1}, tc.ok)
	}
}

// An input out of Consul's order is noticed even where both inputs are
// byte-identical (the fast path keeps the order check).
func TestDisorderInIdenticalRecords(t *testing.T) {
	recs := []rec{kvRec("a", "1", 1), kvRec("c", "1", 1), kvRec("b", "1", 1), chunking()}
	for _, tc := range []struct {
		name string
		recs []rec
	}{
		{"KVS", recs},
		{"with partition", []rec{
			{decode.TypeKVS, om{{"Key", "a"}, {"Partition", "p"}}},
			{decode.TypeKVS, om{{"Key", "a"}}},
			chunking()}},
	} {
		state := stateBin(tc.recs...)
		changes, sum, err := runDiff(t, state, state, Options{})
		if err != nil || len(changes) != 0 {
			t.Fatalf("%s: err %v, changes %q", tc.name, err, brief(changes))
		}
		var got []string
		for _, w := range sum.Warnings {
			if strings.Contains(w, "KVS records are not in Consul's order") {
				got = append(got, w[:1])
			}
		}
		if strings.Join(got, ",") != "A,B" {
			t.Errorf("%s: order warnings %q, want one for A and one for B", tc.name, sum.Warnings)
		}
		for _, ts := range sum.Types {
			if ts.Name == "KVS" && (ts.Unchanged != len(tc.recs)-1 || ts.CountA != ts.Unchanged || ts.CountB != ts.Unchanged) {
				t.Errorf("%s: KVS summary %+v", tc.name, ts)
			}
		}
	}
}

// FuzzKVIdentity: for any value, kvIdentity either declines or agrees with
// decode.Identity (which then succeeds). Seeded from the fixtures' KV records.
func FuzzKVIdentity(f *testing.F) {
	s, err := decode.Open(filepath.Join(fx, "before.snap"), decode.Options{})
	if err != nil {
		f.Fatal(err)
	}
	for s.Next() {
		if r := s.Record(); r.Type == decode.TypeKVS || r.Type == decode.TypeTombstone {
			f.Add(append([]byte(nil), r.Value()...))
		}
	}
	s.Close()
	f.Add(packed(om{{"Key", "a"}, {"Partition", "p"}, {"Namespace", "n"}}))
	f.Fuzz(func(t *testing.T, v []byte) {
		id, _, ok := kvIdentity(nil, v)
		if !ok {
			return
		}
		r := &decode.Record{Type: decode.TypeKVS, Raw: append([]byte{byte(decode.TypeKVS)}, v...), N: 1}
		want, err := decode.Identity(r)
		if err != nil || string(id) != want {
			t.Fatalf("kvIdentity %q, Identity %q (%v)", id, want, err)
		}
	})
}
