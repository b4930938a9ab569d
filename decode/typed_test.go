package decode

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
)

// allFixtureInputs lists every shipped real snapshot.
func allFixtureInputs(t *testing.T) []string {
	in := []string{
		filepath.Join(testdataDir, "backup.snap"),
		filepath.Join(testdataDir, "backupWithKV.snap"),
	}
	for p := range fixtureInputs(t) {
		if strings.HasSuffix(p, ".snap") {
			in = append(in, p)
		}
	}
	sort.Strings(in)
	return in
}

// eachRecord calls fn for every record of path with a private copy of it.
func eachRecord(t *testing.T, path string, fn func(rec *Record)) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for s.Next() {
		r := *s.Record()
		r.Raw = append([]byte(nil), r.Raw...)
		fn(&r)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestTypedDecodeLossless decodes every record of every fixture to its Go
// type and checks, against the generic decode of the same bytes, that every
// map key at every depth and every scalar value is still there in the tree
// that dump prints and diff compares. It also checks that every snapshot
// type the fixtures contain decodes to a typed struct, not to Unknown.
func TestTypedDecodeLossless(t *testing.T) {
	seen := map[string]bool{}
	for _, in := range allFixtureInputs(t) {
		eachRecord(t, in, func(rec *Record) {
			d, err := DecodeRecord(rec)
			if err != nil {
				t.Errorf("%s record %d (%s): %v", in, rec.N, rec.Type, err)
				return
			}
			seen[rec.Type.String()] = true
			if _, unknown := d.Data.(*Unknown); unknown {
				t.Errorf("%s record %d: type %s decoded as Unknown", in, rec.N, rec.Type)
			}
			v, err := DecodeAll(rec.Value())
			if err != nil {
				t.Fatal(err)
			}
			switch rec.Type {
			case TypeConfigEntry:
				ce := d.Data.(*ConfigEntry)
				if ce.Kind == "" || ce.Name == "" || ce.Entry == nil {
					t.Errorf("%s record %d: config entry %+v lacks kind, name or entry", in, rec.N, ce)
				}
				inner, n, err := DecodeValue(v.Bytes)
				if err != nil || inner.String() != ce.Kind {
					t.Errorf("config entry kind %q, wire %q (%v)", ce.Kind, inner.String(), err)
				}
				req, _ := DecodeAll(v.Bytes[n:])
				entry, _ := req.Get("Entry")
				if entry.Kind == Str { // proxy-defaults: wrapped twice
					e2, err := DecodeAll(entry.Bytes)
					if err != nil {
						t.Fatal(err)
					}
					entry = &e2
				}
				for _, p := range compareTree(entry, Tree(ce.Entry), "Entry") {
					t.Errorf("%s record %d (%s %s): %s", in, rec.N, rec.Type, ce.Kind, p)
				}
				return
			case TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource:
				return // protobuf: checked by TestProtoRecords
			}
			for _, p := range compareTree(&v, Tree(d.Data), "") {
				t.Errorf("%s record %d (%s): %s", in, rec.N, rec.Type, p)
			}
		})
	}
	// Every type that CE 1.13 writes appears in the 1.13.9 fixtures.
	for _, want := range []string{"Register", "KVS", "Session", "Tombstone", "CoordinateBatchUpdate",
		"PreparedQuery", "Autopilot", "ConnectCA", "ConnectCAProviderState", "ConnectCAConfig", "Index",
		"ACLToken", "ACLPolicy", "ConfigEntry", "ACLRole", "ACLBindingRule", "ACLAuthMethod",
		"ChunkingState", "FederationState", "SystemMetadata", "ServiceVirtualIP", "FreeVirtualIP",
		"Peering", "PeeringTrustBundle", "PeeringSecret"} {
		if !seen[want] {
			t.Errorf("no fixture contains a %s record", want)
		}
	}
}

// compareTree reports where the tree t lost or changed something of v.
func compareTree(v *Value, t any, path string) []string {
	var out []string
	bad := func(format string, a ...any) { out = append(out, path+": "+fmt.Sprintf(format, a...)) }
	switch v.Kind {
	case Map:
		o, ok := t.(*Object)
		if !ok {
			bad("map became %T", t)
			return out
		}
		for i := range v.Pairs {
			k := v.Pairs[i].Key.keyString()
			tv, ok := o.Get(k)
			if !ok {
				if isEmptyValue(&v.Pairs[i].Val) {
					continue // omitempty field with an empty value
				}
				bad("key %q lost", k)
				continue
			}
			out = append(out, compareTree(&v.Pairs[i].Val, tv, path+"."+k)...)
		}
	case Array:
		a, ok := t.([]any)
		if !ok || len(a) != len(v.Elems) {
			bad("array of %d became %T", len(v.Elems), t)
			return out
		}
		for i := range v.Elems {
			out = append(out, compareTree(&v.Elems[i], a[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
	case Str, Bin:
		switch x := t.(type) {
		case string:
			if x != string(v.Bytes) {
				if _, err := decodeTimeValue(v); err == nil {
					return out // a time.Time blob rendered as RFC 3339
				}
				bad("string %q became %q", v.Bytes, x)
			}
		case []byte:
			if !bytes.Equal(x, v.Bytes) {
				bad("bytes changed")
			}
		default:
			bad("str became %T", t)
		}
	case Uint, Int, Float:
		want, _ := numeric(v)
		got, ok := toFloat(t)
		if !ok || got != want {
			bad("number %v became %v", want, t)
		}
	case Bool:
		if b, ok := t.(bool); !ok || b != v.Bool {
			bad("bool %v became %v", v.Bool, t)
		}
	case Nil:
		if t != nil && !reflect.ValueOf(t).IsZero() {
			if o, ok := t.(*Object); !ok || len(o.Keys) != 0 {
				bad("nil became %v", t)
			}
		}
	}
	return out
}

func isEmptyValue(v *Value) bool {
	switch v.Kind {
	case Nil:
		return true
	case Str, Bin:
		return len(v.Bytes) == 0
	case Uint:
		return v.Uint == 0
	case Int:
		return v.Int == 0
	}
	return false
}

func numeric(v *Value) (float64, bool) {
	switch v.Kind {
	case Uint:
		return float64(v.Uint), true
	case Int:
		return float64(v.Int), true
	case Float:
		return v.Float, true
	}
	return 0, false
}

func toFloat(x any) (float64, bool) {
	switch n := x.(type) {
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// TestGenericMatchesConsulCodec decodes every fixture record with the codec
// Consul itself uses (hashicorp/go-msgpack v0.5.5, RawToString) and checks
// that the generic decoder agrees on every value.
func TestGenericMatchesConsulCodec(t *testing.T) {
	h := &codec.MsgpackHandle{RawToString: true, WriteExt: false}
	n := 0
	for _, in := range allFixtureInputs(t) {
		eachRecord(t, in, func(rec *Record) {
			var want any
			if err := codec.NewDecoderBytes(rec.Value(), h).Decode(&want); err != nil {
				t.Fatalf("%s record %d: go-msgpack: %v", in, rec.N, err)
			}
			v, err := DecodeAll(rec.Value())
			if err != nil {
				t.Fatal(err)
			}
			if g, w := canon(v.Interface()), canon(want); g != w {
				t.Errorf("%s record %d (%s):\n ours %s\nconsul %s", in, rec.N, rec.Type, g, w)
			}
			n++
		})
	}
	if n < 200 {
		t.Errorf("compared only %d records", n)
	}
}

// canon renders a generic value with sorted map keys, strings and bytes alike.
func canon(x any) string {
	switch v := x.(type) {
	case nil:
		return "nil"
	case string:
		return fmt.Sprintf("%q", v)
	case []byte:
		return fmt.Sprintf("%q", string(v))
	case int64, uint64, int, uint8, int8, uint16, int16, uint32, int32:
		return fmt.Sprint(v)
	case float32:
		return fmt.Sprint(float64(v))
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	case bool:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i := range v {
			parts[i] = canon(v[i])
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, canon(v[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case map[any]any:
		m := map[string]any{}
		for k, e := range v {
			m[fmt.Sprint(canonKey(k))] = e
		}
		return canon(m)
	case time.Time:
		return v.String()
	}
	return fmt.Sprintf("<%T %v>", x, x)
}

func canonKey(k any) any {
	if b, ok := k.([]byte); ok {
		return string(b)
	}
	return k
}

// TestIdentities pins identity strings on real records.
func TestIdentities(t *testing.T) {
	want := map[string][]string{
		filepath.Join(testdataDir, "backup.snap"): {
			"Register node:macbook-pro.lan", "Register service:macbook-pro.lan/consul",
			"Register check:macbook-pro.lan/serfHealth", "Autopilot singleton",
			"ConnectCA 72:b9:58:61:1c:31:c6:46:41:f4:51:88:e1:e3:5f:7e:ae:c1:ad:7c",
			"ConnectCAConfig singleton", "FederationState dc1", "SystemMetadata intention-format",
			"Index checks", "ChunkingState singleton",
		},
		filepath.Join(testdataDir, "backupWithKV.snap"): {
			"CoordinateBatchUpdate hashicorp.lan", "Session 8e39c4df-db20-2053-7b6c-5382fd12d7eb",
			"KVS vault/core/lock", "Tombstone aws", "Register service:hashicorp.lan/vault:127.0.0.1:8200",
		},
	}
	for in, ids := range want {
		got := map[string]bool{}
		eachRecord(t, in, func(rec *Record) {
			id, err := Identity(rec)
			if err != nil {
				t.Fatal(err)
			}
			got[rec.Type.String()+" "+id] = true
		})
		for _, id := range ids {
			if !got[id] {
				t.Errorf("%s: identity %q not found", in, id)
			}
		}
	}
	// The 1.13.9 fixture: peered catalog records carry ?peer=, config entries Kind/Name.
	got := map[string]bool{}
	eachRecord(t, filepath.Join(fixtureDir, "after.snap"), func(rec *Record) {
		id, err := Identity(rec)
		if err != nil {
			t.Fatal(err)
		}
		if id == "" {
			t.Errorf("record %d (%s) has an empty identity", rec.N, rec.Type)
		}
		key := rec.Type.String() + " " + id
		if got[key] {
			t.Errorf("identity %q is not unique", key)
		}
		got[key] = true
	})
	for _, id := range []string{"ConfigEntry proxy-defaults/global", "ConfigEntry service-intentions/web",
		"Register node:peer-node-1?peer=dc2", "FreeVirtualIP counter:240.0.0.5", "ServiceVirtualIP web",
		"PeeringTrustBundle dc2"} {
		if !got[id] {
			t.Errorf("after.snap: identity %q not found", id)
		}
	}
}

// TestTimeEncodings decodes both time.Time encodings Consul's codec writes
// (MarshalBinary v1 and v2) and the msgpack timestamp extension.
func TestTimeEncodings(t *testing.T) {
	ref := time.Date(2030, 10, 9, 5, 45, 26, 123456789, time.UTC)
	v1, _ := ref.MarshalBinary()
	zoned := time.Date(2030, 10, 9, 5, 45, 26, 0, time.FixedZone("LMT", 3600+30)) // second offset → v2
	v2, _ := zoned.MarshalBinary()
	ext8 := make([]byte, 8)
	u := uint64(ref.Nanosecond())<<34 | uint64(ref.Unix())
	for i := 0; i < 8; i++ {
		ext8[i] = byte(u >> (56 - 8*i))
	}
	tests := []struct {
		name string
		v    Value
		want time.Time
	}{
		{"v1 15 bytes", Value{Kind: Str, Bytes: v1}, ref},
		{"v2 16 bytes", Value{Kind: Str, Bytes: v2}, zoned},
		{"bin", Value{Kind: Bin, Bytes: v1}, ref},
		{"ext -1 fixext8", Value{Kind: Ext, ExtType: -1, Bytes: ext8}, ref},
		{"ext -1 fixext4", Value{Kind: Ext, ExtType: -1, Bytes: []byte{0x70, 0x00, 0x00, 0x00}}, time.Unix(0x70000000, 0)},
		{"nil", Value{Kind: Nil}, time.Time{}},
	}
	if len(v1) != 15 || len(v2) != 16 {
		t.Fatalf("test setup: encodings %d/%d bytes", len(v1), len(v2))
	}
	for _, tc := range tests {
		got, err := decodeTimeValue(&tc.v)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := decodeTimeValue(&Value{Kind: Str, Bytes: []byte{9, 9}}); err == nil {
		t.Error("garbage time decoded without error")
	}
}
