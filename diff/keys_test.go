package diff

import (
	"bytes"
	"errors"
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
	var re *decode.RecordError
	if !errors.As(err, &re) || re.N != 2 || re.Type != decode.TypeKVS || !errors.Is(err, decode.ErrTypedDecode) {
		t.Errorf("error %q: errors.As gives no RecordError for record 2 wrapping ErrTypedDecode (%+v)", err, re)
	}
}

// A KVS record with two Key fields is the last one (as Consul's decoder
// reads it): diffed against a record holding only that key it is the same
// record, not a removal of the first key and an addition of the last.
func TestDuplicateKeyLastWins(t *testing.T) {
	a := stateBin(rec{decode.TypeKVS, om{{"Key", "mp/first"}, {"Value", []byte("v")}, {"Key", "mp/last"}}}, chunking())
	b := stateBin(rec{decode.TypeKVS, om{{"Key", "mp/last"}, {"Value", []byte("v2")}}}, chunking())
	changes, _, err := runDiff(t, a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Op != Modified || changes[0].ID != "mp/last" {
		t.Errorf("changes %q, want one modification of mp/last", brief(changes))
	}
	changes, _, err = runDiff(t, a, a, Options{KVPrefix: "mp/last"})
	if err != nil || len(changes) != 0 {
		t.Fatalf("self diff: %v, %q", err, brief(changes))
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
