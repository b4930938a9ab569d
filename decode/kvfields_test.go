package decode_test

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// checkKVFields holds KVFields to its contract on one record: ok exactly
// when the value is one valid msgpack value; a plain entry has exactly the
// fields DecodeRecord gives (and no Extra); Identity is the entry's
// AppendIdentity and Keys' KV its Key; nothing is allocated.
func checkKVFields(t *testing.T, rec *decode.Record) (decode.KVEntry, bool) {
	t.Helper()
	e, ok := decode.KVFields(rec)
	_, verr := decode.DecodeAll(rec.Value())
	if ok != (verr == nil) {
		t.Fatalf("KVFields ok = %v, DecodeAll error %v", ok, verr)
	}
	if !ok {
		if _, err := decode.Identity(rec); err == nil {
			t.Fatalf("Identity accepted a value KVFields rejects")
		}
		return e, ok
	}
	id, err := decode.Identity(rec)
	keys, kerr := decode.Keys(rec)
	if err != nil || kerr != nil || id != string(e.AppendIdentity(nil)) || keys.KV != string(e.Key) || keys.Order != id {
		t.Fatalf("Identity %q (%v), Keys %+v (%v), KVFields identity %q key %q", id, err, keys, kerr, e.AppendIdentity(nil), e.Key)
	}
	if e.Plain {
		d, err := decode.DecodeRecord(rec)
		if err != nil {
			t.Fatalf("plain entry, but DecodeRecord fails: %v", err)
		}
		de := d.Data.(*decode.DirEntry)
		if de.Key != string(e.Key) || de.Session != string(e.Session) || de.Namespace != string(e.Namespace) ||
			de.Partition != string(e.Partition) || !bytes.Equal(de.Value, e.Value) || (de.Value != nil) != e.ValueSet ||
			de.CreateIndex != e.CreateIndex || de.ModifyIndex != e.ModifyIndex || de.LockIndex != e.LockIndex ||
			de.Flags != e.Flags || len(de.Extra) != 0 {
			t.Fatalf("plain entry %+v, DecodeRecord %+v", e, de)
		}
	}
	if n := testing.AllocsPerRun(5, func() { decode.KVFields(rec) }); n != 0 {
		t.Fatalf("KVFields allocates %v times per call", n)
	}
	return e, ok
}

func TestKVFieldsFixtures(t *testing.T) {
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-testdata/backupWithKV.snap"} {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var kv int
		for s.Next() {
			rec := s.Record()
			if rec.Type != decode.TypeKVS && rec.Type != decode.TypeTombstone {
				if _, ok := decode.KVFields(rec); ok {
					t.Errorf("%s record %d (%s): KVFields accepted it", path, rec.N, rec.Type)
				}
				continue
			}
			kv++
			if e, ok := checkKVFields(t, rec); !ok || !e.Plain {
				t.Errorf("%s record %d: Consul's own record is not plain (%v)", path, rec.N, ok)
			}
		}
		s.Close()
		if kv == 0 {
			t.Errorf("%s: no KV records checked", path)
		}
	}
}

func TestKVFieldsOdd(t *testing.T) {
	str := func(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name  string
		value []byte
		key   string
		ok    bool
		plain bool
	}{
		{"Key first", cat([]byte{0x82}, str("Key"), str("a/b"), str("Flags"), []byte{0x00}), "a/b", true, true},
		{"Key after nested values", cat([]byte{0x83}, str("X"), []byte{0x92, 0x81, 0xa1, 'q', 0xc0, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, str("Value"), []byte{0xda, 0x00, 0x02, 'h', 'i'}, str("Key"), str("k")), "k", true, false},
		{"Key as str16", cat([]byte{0x81}, str("Key"), []byte{0xda, 0x00, 0x01, 'z'}), "z", true, true},
		{"Key as bin8", cat([]byte{0x81}, str("Key"), []byte{0xc4, 0x01, 'z'}), "z", true, true},
		{"map16 header", cat([]byte{0xde, 0x00, 0x01}, str("Key"), str("m")), "m", true, true},
		{"map32 header", cat([]byte{0xdf, 0, 0, 0, 1}, str("Key"), str("m")), "m", true, true},
		{"two Keys: the last wins", cat([]byte{0x82}, str("Key"), str("mp/first"), str("Key"), str("mp/last")), "mp/last", true, true},
		{"Key then nil Key", cat([]byte{0x82}, str("Key"), str("k"), str("Key"), []byte{0xc0}), "", true, true},
		{"Key is an integer", cat([]byte{0x81}, str("Key"), []byte{0x05}), "", true, false},
		{"signed index", cat([]byte{0x82}, str("Key"), str("k"), str("CreateIndex"), []byte{0xd0, 0x05}), "k", true, false},
		{"no Key", cat([]byte{0x81}, str("Kex"), str("v")), "", true, false},
		{"not a map", str("Key"), "", true, false},
		{"truncated key payload", cat([]byte{0x81}, str("Key"), []byte{0xa5, 'a'}), "", false, false},
		{"map claims more pairs than present", cat([]byte{0x8f}, str("A"), []byte{0x01}), "", false, false},
		{"huge str32 length", cat([]byte{0x82}, str("A"), []byte{0xdb, 0xff, 0xff, 0xff, 0xff}), "", false, false},
		{"invalid descriptor before Key", cat([]byte{0x82}, str("A"), []byte{0xc1}, str("Key"), str("k")), "", false, false},
		{"trailing bytes", cat([]byte{0x81}, str("Key"), str("k"), []byte{0x00}), "", false, false},
		{"empty", nil, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &decode.Record{Type: decode.TypeKVS, Raw: append([]byte{byte(decode.TypeKVS)}, tt.value...)}
			e, ok := checkKVFields(t, rec)
			if string(e.Key) != tt.key || ok != tt.ok || e.Plain != tt.plain {
				t.Errorf("KVFields = key %q, ok %v, plain %v; want %q, %v, %v", e.Key, ok, e.Plain, tt.key, tt.ok, tt.plain)
			}
		})
	}
	other := &decode.Record{Type: decode.TypeSession, Raw: []byte{3, 0x81, 0xa3, 'K', 'e', 'y', 0xa1, 'k'}}
	if _, ok := decode.KVFields(other); ok {
		t.Errorf("KVFields accepted a Session record")
	}
}

// FuzzKVFields feeds hostile KVS values: no panic, no allocation, ok
// exactly for valid msgpack, and the plain shape's fields are
// DecodeRecord's (checkKVFields); a Key pair appended at the end of a
// valid map always wins.
func FuzzKVFields(f *testing.F) {
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
	for _, raw := range hostileSeedRecords() { // fuzzseeds_test.go
		if raw[0] == byte(decode.TypeKVS) {
			f.Add(raw[1:])
		}
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		rec := &decode.Record{Type: decode.TypeKVS, Raw: append([]byte{byte(decode.TypeKVS)}, value...)}
		e, ok := checkKVFields(t, rec)
		if !ok || len(value) == 0 || value[0] < 0x80 || value[0] > 0x8e {
			return
		}
		// A fixmap with room for one more pair: append Key: "zz/last".
		last := append([]byte{byte(decode.TypeKVS), value[0] + 1}, value[1:]...)
		last = append(last, 0xa3, 'K', 'e', 'y', 0xa7, 'z', 'z', '/', 'l', 'a', 's', 't')
		if e2, _ := checkKVFields(t, &decode.Record{Type: decode.TypeKVS, Raw: last}); string(e2.Key) != "zz/last" {
			t.Fatalf("appended Key lost: %q (was %q)", e2.Key, e.Key)
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
