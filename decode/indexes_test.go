package decode_test

import (
	"fmt"
	"reflect"
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

func FuzzRaftIndexes(f *testing.F) {
	for _, raw := range fixtureRecords(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < 1 {
			return
		}
		rec := &decode.Record{Type: decode.MessageType(raw[0]), Raw: raw}
		if got, want := gotIndexes(rec), refIndexes(rec); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}
