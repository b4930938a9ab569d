package decode_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// refIndexes is the reference: the same rule on the generic decoder.
func refIndexes(rec *decode.Record) []string {
	switch rec.Type {
	case decode.TypeConfigEntry, decode.TypePeering, decode.TypePeeringTrustBundle, decode.TypePeeringSecret,
		decode.TypeResource, decode.TypeChunkingState, decode.TypeCoordinateBatchUpdate, decode.TypeFreeVirtualIP:
		return nil
	}
	if len(rec.Raw) < 2 {
		return nil
	}
	v, err := decode.DecodeAll(rec.Value())
	if err != nil || v.Kind != decode.Map {
		return nil
	}
	var out []string
	take := func(m *decode.Value, prefix string) {
		for _, name := range []string{"CreateIndex", "ModifyIndex"} {
			if x, ok := m.Get(name); ok {
				if u, ok := x.AsUint(); ok {
					out = append(out, fmt.Sprint(prefix+name, "=", u))
				}
			}
		}
	}
	take(&v, "")
	switch rec.Type {
	case decode.TypeIndex:
		if x, ok := v.Get("Value"); ok {
			if u, ok := x.AsUint(); ok {
				out = append(out, fmt.Sprint("Value=", u))
			}
		}
	case decode.TypeRegister:
		for _, sub := range []string{"Service", "Check"} {
			if x, ok := v.Get(sub); ok && x.Kind == decode.Map {
				take(x, sub+".")
			}
		}
	}
	return out
}

func gotIndexes(rec *decode.Record) []string {
	var out []string
	decode.RaftIndexes(rec, func(f string, u uint64) { out = append(out, fmt.Sprint(f, "=", u)) })
	return out
}

func TestRaftIndexes(t *testing.T) {
	recs := fixtureRecords(t)
	var withIdx int
	for _, raw := range recs {
		rec := &decode.Record{Type: decode.MessageType(raw[0]), Raw: raw}
		got, want := gotIndexes(rec), refIndexes(rec)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record type %s: got %v, want %v", rec.Type, got, want)
		}
		if len(got) > 0 {
			withIdx++
		}
		for i := 1; i < len(raw) && i < 120; i++ {
			for _, x := range []byte{0x00, 0xc1, 0xd3, 0xff, 0x80} {
				m := append([]byte(nil), raw...)
				m[i] = x
				mr := &decode.Record{Type: rec.Type, Raw: m}
				if got, want := gotIndexes(mr), refIndexes(mr); !reflect.DeepEqual(got, want) {
					t.Fatalf("mutant of %s at %d: got %v, want %v", rec.Type, i, got, want)
				}
			}
		}
		if n := testing.AllocsPerRun(5, func() { decode.RaftIndexes(rec, func(string, uint64) {}) }); n != 0 {
			t.Errorf("record type %s: %v allocations", rec.Type, n)
		}
	}
	if withIdx < len(recs)/2 {
		t.Errorf("only %d of %d records have indexes", withIdx, len(recs))
	}
}

// FuzzRaftIndexes feeds hostile records: no panic, no allocation, at most
// the seven indexes the contract names, each at most once; a ModifyIndex
// appended at the end of a valid map is the one reported (the last wins);
// and the walk gives what the rule gives on the generic decode.
func FuzzRaftIndexes(f *testing.F) {
	for _, raw := range fixtureRecords(f) {
		f.Add(raw)
	}
	for _, raw := range hostileSeedRecords() { // fuzzseeds_test.go
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < 1 {
			return
		}
		rec := &decode.Record{Type: decode.MessageType(raw[0]), Raw: raw}
		got := gotIndexes(rec)
		if want := refIndexes(rec); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		seen := map[string]bool{}
		for _, g := range got {
			name := g[:strings.IndexByte(g, '=')]
			if seen[name] || len(seen) >= 7 {
				t.Fatalf("index %s reported twice or too many: %v", name, got)
			}
			seen[name] = true
		}
		if n := testing.AllocsPerRun(2, func() { decode.RaftIndexes(rec, func(string, uint64) {}) }); n != 0 {
			t.Fatalf("%v allocations", n)
		}
		if len(got) == 0 || len(raw) < 2 || raw[1] < 0x80 || raw[1] > 0x8e {
			return
		}
		// One more pair in the fixmap: ModifyIndex = 424242, last.
		more := append([]byte{raw[0], raw[1] + 1}, raw[2:]...)
		more = append(more, 0xab, 'M', 'o', 'd', 'i', 'f', 'y', 'I', 'n', 'd', 'e', 'x', 0xce, 0, 0x06, 0x79, 0x32)
		found := false
		decode.RaftIndexes(&decode.Record{Type: rec.Type, Raw: more}, func(f string, u uint64) {
			if f == "ModifyIndex" {
				found = u == 424242
			}
		})
		if !found {
			t.Fatalf("a ModifyIndex appended last is not the one reported: %v", gotIndexes(&decode.Record{Type: rec.Type, Raw: more}))
		}
	})
}
