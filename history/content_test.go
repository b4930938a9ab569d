package history

import (
	"hash/maphash"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// msgpack bytes of {"Node":"n1","Meta":{a:1,b:2},"Tags":["x","y"]} in several orders.
var (
	metaAB = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'x', 0xa1, 'y'}
	metaBA = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'b', 0x02, 0xa1, 'a', 0x01, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'x', 0xa1, 'y'}
	tagsYX = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'y', 0xa1, 'x'}
	swapAB = []byte{0x83, 0xa4, 'N', 'o', 'd', 'e', 0xa2, 'n', '1', 0xa4, 'M', 'e', 't', 'a', 0x82, 0xa1, 'a', 0x02, 0xa1, 'b', 0x01, 0xa4, 'T', 'a', 'g', 's', 0x92, 0xa1, 'x', 0xa1, 'y'}
)

func rec(t decode.MessageType, v []byte) *decode.Record {
	return &decode.Record{Type: t, Raw: append([]byte{byte(t)}, v...)}
}

func TestContentHash(t *testing.T) {
	seed := maphash.MakeSeed()
	h := func(typ decode.MessageType, v []byte) uint64 { return contentHash(seed, rec(typ, v)) }
	for _, tc := range []struct {
		name  string
		a, b  []byte
		typ   decode.MessageType
		equal bool
	}{
		{"map order does not count", metaAB, metaBA, decode.TypeRegister, true},
		{"array order counts", metaAB, tagsYX, decode.TypeRegister, false},
		{"values swapped between keys count", metaAB, swapAB, decode.TypeRegister, false},
		{"KVS is hashed byte for byte", metaAB, metaBA, decode.TypeKVS, false},
		{"malformed falls back to bytes", metaAB[:10], metaAB[:11], decode.TypeRegister, false},
	} {
		if got := h(tc.typ, tc.a) == h(tc.typ, tc.b); got != tc.equal {
			t.Errorf("%s: equal %v, want %v", tc.name, got, tc.equal)
		}
	}
	if h(decode.TypeRegister, metaAB) == h(decode.TypeSession, metaAB) {
		t.Error("the type does not count")
	}
}

// FuzzContentHash feeds hostile bytes to the content hash and the
// Register field reader: no panic, the same answer twice.
func FuzzContentHash(f *testing.F) {
	for _, s := range [][]byte{metaAB, metaBA, {0xdf, 0xff, 0xff, 0xff, 0xff}, {0xdd, 0x7f, 0xff, 0xff, 0xff}, {0x91, 0x91, 0x91, 0x91}} {
		f.Add(s)
	}
	seed := maphash.MakeSeed()
	f.Fuzz(func(t *testing.T, b []byte) {
		r := rec(decode.TypeRegister, b)
		if contentHash(seed, r) != contentHash(seed, r) {
			t.Fatal("not deterministic")
		}
		registerNames(r)
	})
}
