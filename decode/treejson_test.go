package decode_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// refJSON is the reference rendering: encoding/json without HTML escaping,
// with each Object written key by key the way Object.MarshalJSON did before
// it got its own writer.
func refJSON(t *testing.T, v any) []byte {
	t.Helper()
	if o, ok := v.(*decode.Object); ok && o != nil {
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range o.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(refJSON(t, k))
			b.WriteByte(':')
			b.Write(refJSON(t, o.Values[i]))
		}
		b.WriteByte('}')
		return b.Bytes()
	}
	if a, ok := v.([]any); ok && a != nil {
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range a {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(refJSON(t, e))
		}
		b.WriteByte(']')
		return b.Bytes()
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return decode.EscapeJSON(nil, bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestObjectJSONMatchesEncodingJSON(t *testing.T) {
	odd := &decode.Object{
		Keys: []string{"ctl", "html", "bad utf8", "seps", "unicode", "quote", "bytes", "nilbytes", "ints", "floats", "nested", "nil", "bools", "empty", "nilobj", "nilslice", "other"},
		Values: []any{
			"a\x00b\x01\x1f\b\f\n\r\t\x7f", "<masked sha256:1a2b> & more", "x\xff\xfey\xc3", "\u2028 \u2029 \u009b\u009d \u202e\u2066\u061c", "héllo 世界 🎉", `"\`,
			[]byte{0, 1, 2, 250, 251}, []byte(nil), []any{int64(-5), uint64(math.MaxUint64), int64(math.MinInt64)},
			[]any{0.1, 1e21, 1e-7, -0.0, 3.0, math.MaxFloat64}, &decode.Object{Keys: []string{"k"}, Values: []any{[]any{&decode.Object{}}}},
			nil, []any{true, false}, []any{}, (*decode.Object)(nil), []any(nil), map[string]any{"b": 1, "a": "<"},
		},
	}
	cases := []any{odd}
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-1.13.9/after.snap", "../fixtures/consul-testdata/backup.snap"} {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
			d, err := decode.DecodeRecord(s.Record())
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, decode.Tree(d.Data))
		}
		s.Close()
	}
	for i, v := range cases {
		got, err := json.Marshal(v) // through encoding/json, as dump does
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(json.RawMessage(refJSON(t, v)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("case %d: JSON differs\n got %s\nwant %s", i, got, want)
		}
		if o, ok := v.(*decode.Object); ok {
			direct, err := o.MarshalJSON()
			if err != nil || !bytes.Equal(direct, refJSON(t, v)) {
				t.Errorf("case %d: MarshalJSON differs from encoding/json:\n got %s\nwant %s", i, direct, refJSON(t, v))
			}
		}
	}
	if len(cases) < 100 {
		t.Errorf("only %d trees compared", len(cases))
	}
}
