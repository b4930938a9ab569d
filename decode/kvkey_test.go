package decode_test

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// genericKey is the reference: the Key field as the generic decoder sees it.
func genericKey(value []byte) ([]byte, bool) {
	v, err := decode.DecodeAll(value)
	if err != nil || v.Kind != decode.Map {
		return nil, false
	}
	k, ok := v.Get("Key")
	if !ok || (k.Kind != decode.Str && k.Kind != decode.Bin) {
		return nil, false
	}
	return k.Bytes, true
}

func TestKVKeyFixtures(t *testing.T) {
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-testdata/backupWithKV.snap"} {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var kv int
		for s.Next() {
			rec := s.Record()
			got, ok := decode.KVKey(rec)
			if rec.Type != decode.TypeKVS && rec.Type != decode.TypeTombstone {
				if ok {
					t.Errorf("%s record %d (%s): KVKey = %q, want none", path, rec.N, rec.Type, got)
				}
				continue
			}
			kv++
			d, err := decode.DecodeRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			if want := d.Data.(*decode.DirEntry).Key; !ok || got != want {
				t.Errorf("%s record %d: KVKey = %q, %v; want %q", path, rec.N, got, ok, want)
			}
			if n := testing.AllocsPerRun(10, func() { decode.KVKeyBytes(rec) }); n != 0 {
				t.Errorf("KVKeyBytes allocates %v times per call", n)
			}
		}
		s.Close()
		if kv == 0 {
			t.Errorf("%s: no KV records checked", path)
		}
	}
}

func TestKVKeyOdd(t *testing.T) {
	str := func(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name  string
		value []byte
		want  string
		ok    bool
	}{
		{"Key first", cat([]byte{0x82}, str("Key"), str("a/b"), str("Flags"), []byte{0x00}), "a/b", true},
		{"Key after nested values", cat([]byte{0x83}, str("X"), []byte{0x92, 0x81, 0xa1, 'q', 0xc0, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, str("Value"), []byte{0xda, 0x00, 0x02, 'h', 'i'}, str("Key"), str("k")), "k", true},
		{"Key as str16", cat([]byte{0x81}, str("Key"), []byte{0xda, 0x00, 0x01, 'z'}), "z", true},
		{"Key as bin8", cat([]byte{0x81}, str("Key"), []byte{0xc4, 0x01, 'z'}), "z", true},
		{"map16 header", cat([]byte{0xde, 0x00, 0x01}, str("Key"), str("m")), "m", true},
		{"Key is an integer", cat([]byte{0x81}, str("Key"), []byte{0x05}), "", false},
		{"no Key", cat([]byte{0x81}, str("Kex"), str("v")), "", false},
		{"not a map", str("Key"), "", false},
		{"truncated key payload", cat([]byte{0x81}, str("Key"), []byte{0xa5, 'a'}), "", false},
		{"map claims more pairs than present", cat([]byte{0x8f}, str("A"), []byte{0x01}), "", false},
		{"huge str32 length", cat([]byte{0x82}, str("A"), []byte{0xdb, 0xff, 0xff, 0xff, 0xff}), "", false},
		{"invalid descriptor before Key", cat([]byte{0x82}, str("A"), []byte{0xc1}, str("Key"), str("k")), "", false},
		{"empty", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &decode.Record{Type: decode.TypeKVS, Raw: append([]byte{byte(decode.TypeKVS)}, tt.value...)}
			got, ok := decode.KVKey(rec)
			if got != tt.want || ok != tt.ok {
				t.Errorf("KVKey = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
			if ref, refOK := genericKey(tt.value); refOK != ok || string(ref) != got {
				t.Errorf("generic decoder says %q, %v", ref, refOK)
			}
		})
	}
	other := &decode.Record{Type: decode.TypeSession, Raw: []byte{3, 0x81, 0xa3, 'K', 'e', 'y', 0xa1, 'k'}}
	if _, ok := decode.KVKey(other); ok {
		t.Errorf("KVKey accepted a Session record")
	}
}

// FuzzKVKey: the fast key walk agrees with the generic decoder on any input.
func FuzzKVKey(f *testing.F) {
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-testdata/backupWithKV.snap"} {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for s.Next() {
			if rec := s.Record(); rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone {
				f.Add(append([]byte(nil), rec.Value()...))
			}
		}
		s.Close()
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		rec := &decode.Record{Type: decode.TypeKVS, Raw: append([]byte{byte(decode.TypeKVS)}, value...)}
		got, ok := decode.KVKeyBytes(rec)
		ref, refOK := genericKey(value)
		// The walk stops at the Key; the generic decoder needs the whole value to be valid.
		if refOK && (!ok || !bytes.Equal(got, ref)) {
			t.Fatalf("KVKey = %q, %v; generic decoder %q", got, ok, ref)
		}
		if ok && !refOK {
			if _, err := decode.DecodeAll(value); err == nil {
				t.Fatalf("KVKey found %q in a valid value whose generic decode has no str Key", got)
			}
		}
	})
}

// TestProgressHook: Options.Progress sees the whole input file being read.
func TestProgressHook(t *testing.T) {
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-testdata/raw/state.bin"} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var lastRead, lastTotal int64
		calls := 0
		s, err := decode.Open(path, decode.Options{Progress: func(read, total int64) {
			mu.Lock()
			defer mu.Unlock()
			if read < lastRead {
				t.Errorf("%s: progress went backwards: %d after %d", path, read, lastRead)
			}
			lastRead, lastTotal = read, total
			calls++
		}})
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		s.Close()
		mu.Lock()
		if calls == 0 || lastRead != st.Size() || lastTotal != st.Size() {
			t.Errorf("%s: %d calls, last (%d of %d), want (%d of %d)", path, calls, lastRead, lastTotal, st.Size(), st.Size())
		}
		mu.Unlock()
	}
}
