package decode

import (
	"bytes"
	"testing"
)

// msgpack bytes of {"Node":"n1","Meta":{a:1,b:2},"Tags":["x","y"]} in
// several orders and contents.
var (
	hashMetaAB = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'x', 0xa1, 'y'}
	hashMetaBA = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'b', 0x02, 0xa1, 'a', 0x01, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'x', 0xa1, 'y'}
	hashTopBA  = []byte{0x83, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'x', 0xa1, 'y', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'b', 0x02, 0xa1, 'a', 0x01, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1'}
	hashTagsYX = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'y', 0xa1, 'x'}
	hashSwapAB = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'a', 0x02, 0xa1, 'b', 0x01, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'x', 0xa1, 'y'}
	// the key of one pair moved to the other: {a:1,b:2} against {a:2,b:1} is above; {a:1} against {1:a} here
	hashKeyVal = [2][]byte{{0x81, 0xa1, 'a', 0x01}, {0x81, 0x01, 0xa1, 'a'}}
)

func hashRec(t MessageType, v []byte) *Record {
	return &Record{Type: t, Raw: append([]byte{byte(t)}, v...)}
}

func TestContentHash(t *testing.T) {
	h := func(typ MessageType, v []byte) uint64 { return ContentHash(hashRec(typ, v)) }
	for _, tc := range []struct {
		name  string
		a, b  []byte
		typ   MessageType
		equal bool
	}{
		{"identical", hashMetaAB, append([]byte(nil), hashMetaAB...), TypeRegister, true},
		{"inner map order does not count", hashMetaAB, hashMetaBA, TypeRegister, true},
		{"top-level map order does not count", hashMetaAB, hashTopBA, TypeConfigEntry, true},
		{"array order counts", hashMetaAB, hashTagsYX, TypeRegister, false},
		{"values swapped between keys count", hashMetaAB, hashSwapAB, TypeRegister, false},
		{"key and value swapped count", hashKeyVal[0], hashKeyVal[1], TypeSession, false},
		{"KVS is hashed byte for byte", hashMetaAB, hashMetaBA, TypeKVS, false},
		{"Index is hashed byte for byte", hashMetaAB, hashMetaBA, TypeIndex, false},
		{"malformed falls back to the bytes", hashMetaAB[:10], hashMetaAB[:11], TypeRegister, false},
		{"trailing bytes count", hashMetaAB, append(append([]byte(nil), hashMetaAB...), 0xc0), TypeRegister, false},
	} {
		if got := h(tc.typ, tc.a) == h(tc.typ, tc.b); got != tc.equal {
			t.Errorf("%s: equal %v, want %v", tc.name, got, tc.equal)
		}
	}
	if h(TypeRegister, hashMetaAB) == h(TypeSession, hashMetaAB) {
		t.Error("the record type does not count")
	}
	if ContentHash(nil) != 0 || ContentHash(&Record{}) != ContentHash(&Record{}) {
		t.Error("nil or empty record")
	}
}

// TestContentHashFixtures: every record of a real snapshot hashes the same
// twice and the hash allocates nothing.
func TestContentHashFixtures(t *testing.T) {
	s, err := Open("../fixtures/consul-1.13.9/before.snap", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for s.Next() {
		rec := s.Record()
		if ContentHash(rec) != ContentHash(rec) {
			t.Fatalf("record %d: not deterministic", rec.N)
		}
		if a := testing.AllocsPerRun(3, func() { ContentHash(rec) }); a != 0 {
			t.Fatalf("record %d (%s): %v allocations", rec.N, rec.Type, a)
		}
		n++
	}
	if err := s.Err(); err != nil || n == 0 {
		t.Fatalf("%d records, %v", n, err)
	}
}

func TestRegisterNames(t *testing.T) {
	mp := func(pairs ...[]byte) []byte {
		return append([]byte{0x80 | byte(len(pairs)/2)}, bytes.Join(pairs, nil)...)
	}
	str := func(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }
	for _, tc := range []struct {
		name          string
		typ           MessageType
		v             []byte
		node, service string
		hasSvc        bool
	}{
		{"node only", TypeRegister, mp(str("Node"), str("n1"), str("Address"), str("10.0.0.1")), "n1", "", false},
		{"service", TypeRegister, mp(str("Node"), str("n1"), str("Service"), mp(str("ID"), str("web-1"), str("Service"), str("web"))), "n1", "web", true},
		{"empty service name", TypeRegister, mp(str("Node"), str("n1"), str("Service"), mp(str("Service"), str(""))), "n1", "", true},
		{"service nil", TypeRegister, mp(str("Node"), str("n1"), str("Service"), []byte{0xc0}), "n1", "", false},
		{"last Node wins", TypeRegister, mp(str("Node"), str("a"), str("Node"), str("b")), "b", "", false},
		{"not a map", TypeRegister, []byte{0x92, 0x01, 0x02}, "", "", false},
		{"other type", TypeSession, mp(str("Node"), str("n1")), "", "", false},
		{"cut off", TypeRegister, mp(str("Node"), str("n1"))[:4], "", "", false},
	} {
		node, svc := RegisterNames(hashRec(tc.typ, tc.v))
		if string(node) != tc.node || string(svc) != tc.service || (svc != nil) != tc.hasSvc {
			t.Errorf("%s: %q, %q (service set %v); want %q, %q (%v)", tc.name, node, svc, svc != nil, tc.node, tc.service, tc.hasSvc)
		}
	}
}

// FuzzContentHash feeds hostile values to ContentHash and RegisterNames:
// no panic, no hang, the same hash twice, and a value whose top-level map
// is reordered hashes the same.
func FuzzContentHash(f *testing.F) {
	for _, s := range [][]byte{hashMetaAB, hashMetaBA, hashTagsYX, {0xdf, 0xff, 0xff, 0xff, 0xff}, {0xdd, 0x7f, 0xff, 0xff, 0xff}, {0x91, 0x91, 0x91, 0x91}, bytes.Repeat([]byte{0x81, 0xa0}, 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range []MessageType{TypeRegister, TypeKVS, TypeConfigEntry} {
			r := hashRec(typ, b)
			if ContentHash(r) != ContentHash(r) {
				t.Fatal("not deterministic")
			}
		}
		RegisterNames(hashRec(TypeRegister, b))
	})
}
