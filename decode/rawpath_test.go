package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

func TestValueAt(t *testing.T) {
	type kv struct {
		Key   string
		Flags uint64
	}
	// A KVS request with a duplicated DirEnt (the last wins) and an array.
	type req struct {
		Op     string
		DirEnt kv
		Ops    []kv
	}
	body := mpOf(t, req{Op: "set", DirEnt: kv{Key: "a/b", Flags: 3}, Ops: []kv{{Key: "x"}, {Key: "y"}}})
	dirEnt, ok := ValueAt(body, "DirEnt")
	if !ok || !bytes.Equal(dirEnt, mpOf(t, kv{Key: "a/b", Flags: 3})) {
		t.Fatalf("DirEnt = %x, %v", dirEnt, ok)
	}
	id, err := Identity(&Record{Type: TypeKVS, Raw: append([]byte{byte(TypeKVS)}, dirEnt...)})
	if err != nil || id != "a/b" {
		t.Errorf("identity of the embedded DirEnt = %q, %v", id, err)
	}
	if y, ok := ValueAt(body, "Ops", 1, "Key"); !ok || !bytes.Equal(y, mpOf(t, "y")) {
		t.Errorf("Ops[1].Key = %x, %v", y, ok)
	}
	for _, path := range [][]any{{"Nope"}, {"Ops", 2}, {"Ops", -1}, {"Op", "x"}, {"Ops", "Key"}, {1.5}} {
		if b, ok := ValueAt(body, path...); ok {
			t.Errorf("ValueAt(%v) = %x, want false", path, b)
		}
	}
	if _, ok := ValueAt(body[:len(body)-1]); ok {
		t.Error("truncated value accepted")
	}
	// Duplicate keys: the last entry wins, as in Value.Get.
	dup := append([]byte{0x82}, append(mpOf(t, "K", "first"), mpOf(t, "K", "last")...)...)
	if v, ok := ValueAt(dup, "K"); !ok || !bytes.Equal(v, mpOf(t, "last")) {
		t.Errorf("duplicate key: %x, %v", v, ok)
	}
}

func TestArrayValues(t *testing.T) {
	els, ok := ArrayValues(mpOf(t, []any{"a", map[string]any{"N": 1}, []int{1, 2}}))
	if !ok || len(els) != 3 || !bytes.Equal(els[0], mpOf(t, "a")) || !bytes.Equal(els[2], mpOf(t, []int{1, 2})) {
		t.Fatalf("ArrayValues = %x, %v", els, ok)
	}
	big := make([]string, 70000) // array32
	if els, ok := ArrayValues(mpOf(t, big)); !ok || len(els) != len(big) {
		t.Errorf("array32: %d elements, %v", len(els), ok)
	}
	for name, b := range map[string][]byte{
		"map":        mpOf(t, map[string]int{"a": 1}),
		"empty":      nil,
		"truncated":  mpOf(t, []string{"a", "b"})[:3],
		"huge count": {0xdd, 0xff, 0xff, 0xff, 0xff},
	} {
		if els, ok := ArrayValues(b); ok {
			t.Errorf("%s: %x accepted", name, els)
		}
	}
}

func TestTimeOf(t *testing.T) {
	want := time.Date(2026, 11, 29, 23, 1, 2, 345, time.UTC)
	bin, _ := want.MarshalBinary()
	ts := make([]byte, 12)
	binary.BigEndian.PutUint32(ts, 345)
	binary.BigEndian.PutUint64(ts[4:], uint64(want.Unix()))
	for name, v := range map[string]Value{
		"str": {Kind: Str, Bytes: bin},
		"ext": {Kind: Ext, ExtType: -1, Bytes: ts},
	} {
		got, err := TimeOf(&v)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v, %v", name, got, err)
		}
	}
	if got, err := TimeOf(&Value{Kind: Nil}); err != nil || !got.IsZero() {
		t.Errorf("nil: %v, %v", got, err)
	}
	for name, v := range map[string]Value{
		"int":       {Kind: Uint, Uint: 5},
		"short str": {Kind: Str, Bytes: []byte{1, 2}},
		"ext 3":     {Kind: Ext, ExtType: 3, Bytes: ts},
	} {
		if _, err := TimeOf(&v); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestDecodeProtoOfAndDecodedKeys(t *testing.T) {
	// Peering {1: ID, 2: Name, 3: Partition} as bare protobuf.
	pb := func(num byte, s string) []byte { return append([]byte{num<<3 | 2, byte(len(s))}, s...) }
	raw := append(append(pb(1, "9e8f-id"), pb(2, "other-dc")...), pb(3, "part1")...)
	d, err := DecodeProtoOf(TypePeering, raw)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Data.(*Peering)
	if p.ID != "9e8f-id" || p.Name != "other-dc" || p.Partition != "part1" {
		t.Errorf("peering = %+v", p)
	}
	k, ok := DecodedKeys(d)
	if !ok || k.Identity != "9e8f-id" || k.Order != "part1\x00other-dc" {
		t.Errorf("keys = %+v, %v", k, ok)
	}
	// The same bytes str-wrapped decode the same way through Keys.
	rec := Record{Type: TypePeering, Raw: append([]byte{byte(TypePeering)}, mpOf(t, string(raw))...)}
	if k2, err := Keys(&rec); err != nil || k2 != k {
		t.Errorf("Keys of the wrapped form = %+v, %v; want %+v", k2, err, k)
	}
	raw[0] = 0xff // a field with a bad wire type
	if _, err := DecodeProtoOf(TypePeering, raw[:3]); !errors.Is(err, ErrTypedDecode) {
		t.Errorf("damaged protobuf: %v", err)
	}
	if _, err := DecodeProtoOf(TypeKVS, nil); !errors.Is(err, ErrTypedDecode) {
		t.Errorf("KVS as protobuf: %v", err)
	}
	if _, ok := DecodedKeys(&Decoded{Type: TypeKVS, Data: &DirEntry{Key: "a"}}); ok {
		t.Error("DecodedKeys answers for a type whose keys come from bytes")
	}
}

func TestQualifier(t *testing.T) {
	for _, tc := range []struct{ peer, part, ns, want string }{
		{"", "", "", ""},
		{"p", "", "", "?peer=p"},
		{"", "a", "n", "?partition=a&namespace=n"},
		{"p", "a", "n", "?peer=p&partition=a&namespace=n"},
	} {
		if got := Qualifier(tc.peer, tc.part, tc.ns); got != tc.want {
			t.Errorf("Qualifier(%q, %q, %q) = %q, want %q", tc.peer, tc.part, tc.ns, got, tc.want)
		}
	}
	// The same suffix as Identity gives a record.
	rec := Record{Type: TypeKVS, Raw: append([]byte{byte(TypeKVS)}, mpOf(t, map[string]string{"Key": "k", "Partition": "a", "Namespace": "n"})...)}
	if id, err := Identity(&rec); err != nil || id != "k"+Qualifier("", "a", "n") {
		t.Errorf("Identity = %q, %v", id, err)
	}
}

// FuzzValueAt: hostile bytes never make ValueAt or ArrayValues panic or
// return bytes outside their input, and what they return is one value.
func FuzzValueAt(f *testing.F) {
	f.Add([]byte{0x81, 0xa1, 'A', 0x92, 0x01, 0xa1, 'x'}, "A", 1)
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, "", 0)
	f.Add([]byte{0x91, 0x91, 0x91, 0x91, 0xc0}, "K", 3)
	f.Fuzz(func(t *testing.T, b []byte, key string, i int) {
		for _, path := range [][]any{{key}, {i}, {key, i}, {i, key}, nil} {
			v, ok := ValueAt(b, path...)
			if ok && (len(v) == 0 || ValueEnd(v, 0) != len(v)) {
				t.Fatalf("ValueAt(%x, %v) = %x: not one value", b, path, v)
			}
		}
		if els, ok := ArrayValues(b); ok {
			n := 0
			for _, e := range els {
				if ValueEnd(e, 0) != len(e) {
					t.Fatalf("element %x is not one value", e)
				}
				n += len(e)
			}
			if n > len(b) {
				t.Fatalf("elements longer than the input")
			}
		}
	})
}
