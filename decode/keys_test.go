package decode_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// A small msgpack writer for hand-made records: om is an ordered map (so a
// test controls key order and can repeat a key), strings are str, []byte
// bin, int a non-negative integer.
type om []kvp

type kvp struct {
	k string
	v any
}

func mpEnc(b *bytes.Buffer, x any) {
	head := func(fix byte, fixMax int, c16, c32 byte, n int) {
		switch {
		case n <= fixMax:
			b.WriteByte(fix | byte(n))
		case n <= math.MaxUint16:
			b.WriteByte(c16)
			binary.Write(b, binary.BigEndian, uint16(n))
		default:
			b.WriteByte(c32)
			binary.Write(b, binary.BigEndian, uint32(n))
		}
	}
	switch v := x.(type) {
	case nil:
		b.WriteByte(0xc0)
	case bool:
		b.WriteByte(map[bool]byte{false: 0xc2, true: 0xc3}[v])
	case int:
		b.WriteByte(0xcf)
		binary.Write(b, binary.BigEndian, uint64(v))
	case string:
		head(0xa0, 31, 0xda, 0xdb, len(v))
		b.WriteString(v)
	case []byte:
		b.WriteByte(0xc6)
		binary.Write(b, binary.BigEndian, uint32(len(v)))
		b.Write(v)
	case []any:
		head(0x90, 15, 0xdc, 0xdd, len(v))
		for _, e := range v {
			mpEnc(b, e)
		}
	case om:
		head(0x80, 15, 0xde, 0xdf, len(v))
		for _, p := range v {
			mpEnc(b, p.k)
			mpEnc(b, p.v)
		}
	case *decode.Value:
		mpEncValue(b, v)
	default:
		panic("mpEnc: unsupported type")
	}
}

// mpEncValue writes a generically decoded value back (str payloads as str,
// integers widened: the keys depend on payloads, not on widths).
func mpEncValue(b *bytes.Buffer, v *decode.Value) {
	switch v.Kind {
	case decode.Nil:
		mpEnc(b, nil)
	case decode.Bool:
		mpEnc(b, v.Bool)
	case decode.Uint:
		b.WriteByte(0xcf)
		binary.Write(b, binary.BigEndian, v.Uint)
	case decode.Int:
		b.WriteByte(0xd3)
		binary.Write(b, binary.BigEndian, v.Int)
	case decode.Float:
		b.WriteByte(0xcb)
		binary.Write(b, binary.BigEndian, math.Float64bits(v.Float))
	case decode.Str:
		mpEnc(b, string(v.Bytes))
	case decode.Bin:
		mpEnc(b, v.Bytes)
	case decode.Ext:
		b.WriteByte(0xc9)
		binary.Write(b, binary.BigEndian, uint32(len(v.Bytes)))
		b.WriteByte(byte(v.ExtType))
		b.Write(v.Bytes)
	case decode.Array:
		b.WriteByte(0xdd)
		binary.Write(b, binary.BigEndian, uint32(len(v.Elems)))
		for i := range v.Elems {
			mpEncValue(b, &v.Elems[i])
		}
	case decode.Map:
		b.WriteByte(0xdf)
		binary.Write(b, binary.BigEndian, uint32(len(v.Pairs)))
		for i := range v.Pairs {
			mpEncValue(b, &v.Pairs[i].Key)
			mpEncValue(b, &v.Pairs[i].Val)
		}
	}
}

func mkRec(t decode.MessageType, v any) *decode.Record {
	var b bytes.Buffer
	b.WriteByte(byte(t))
	mpEnc(&b, v)
	return &decode.Record{N: 1, Type: t, Raw: b.Bytes()}
}

// TestKeys pins identities, order keys and KV keys, including records with
// a repeated field: the last one wins everywhere (Consul's decoder).
func TestKeys(t *testing.T) {
	tests := []struct {
		name             string
		typ              decode.MessageType
		v                any
		id, order, kvKey string
	}{
		{"kv", decode.TypeKVS, om{{"Key", "a/b"}, {"Value", []byte("x")}}, "a/b", "a/b", "a/b"},
		{"kv two Keys", decode.TypeKVS, om{{"Key", "mp/first"}, {"Flags", 1}, {"Key", "mp/last"}}, "mp/last", "mp/last", "mp/last"},
		{"kv qualified", decode.TypeKVS, om{{"Key", "k"}, {"Namespace", "ns"}, {"Partition", "p"}}, "k?partition=p&namespace=ns", "k?partition=p&namespace=ns", "k"},
		{"kv partition twice", decode.TypeKVS, om{{"Key", "k"}, {"Partition", "p"}, {"Partition", "second"}}, "k?partition=second", "k?partition=second", "k"},
		{"kv Key int then str", decode.TypeKVS, om{{"Key", 7}, {"Key", "second"}}, "second", "second", "second"},
		{"kv Key str then int", decode.TypeKVS, om{{"Key", "first"}, {"Key", 7}}, "", "", ""},
		{"kv no Key", decode.TypeKVS, om{{"Value", "no key"}}, "", "", ""},
		{"kv not a map", decode.TypeKVS, "not a map", "", "", ""},
		{"kv bin key", decode.TypeTombstone, om{{"Key", []byte("bin/key")}}, "bin/key", "bin/key", "bin/key"},
		{"node", decode.TypeRegister, om{{"Node", "Web-1"}, {"Address", "10.0.0.1"}}, "node:Web-1", "~\x00web-1\x000", ""},
		{"service peered", decode.TypeRegister, om{{"Node", "Web-1"}, {"PeerName", "Other"}, {"Service", om{{"ID", "API"}}}}, "service:Web-1/API?peer=Other", "other\x00web-1\x001\x00api", ""},
		{"nil service, check", decode.TypeRegister, om{{"Node", "n"}, {"Service", nil}, {"Check", om{{"CheckID", "Serf"}}}}, "check:n/Serf", "~\x00n\x002\x00serf", ""},
		{"service not a map", decode.TypeRegister, om{{"Node", "n"}, {"Service", "not a map"}}, "node:n", "~\x00n\x000", ""},
		{"Node twice", decode.TypeRegister, om{{"Node", 7}, {"Node", "second"}}, "node:second", "~\x00second\x000", ""},
		{"Service twice", decode.TypeRegister, om{{"Service", om{{"ID", []byte("bin-id")}}}, {"Service", om{{"ID", "second"}, {"ID", "third"}}}}, "service:/third", "~\x00\x001\x00third", ""},
		{"register not a map", decode.TypeRegister, []any{"not", "a", "map"}, "node:", "~\x00\x000", ""},
		{"check int id", decode.TypeRegister, om{{"Node", "n"}, {"Check", om{{"CheckID", 3}, {"Namespace", "ns"}}}}, "check:n/?namespace=ns", "~\x00n\x002\x00", ""},
		{"token", decode.TypeACLToken, om{{"AccessorID", "a"}, {"SecretID", "Sec-ret"}, {"SecretID", "Last-Secret"}}, "a", "Last-Secret", ""},
		{"token without secret", decode.TypeACLToken, om{{"AccessorID", "a"}}, "a", "", ""},
		{"session", decode.TypeSession, om{{"ID", "ABC-def"}, {"Namespace", "ns"}}, "ABC-def?namespace=ns", "abc-def?namespace=ns", ""},
		{"CA root keeps case", decode.TypeConnectCA, om{{"ID", "AB:cd"}}, "AB:cd", "AB:cd", ""},
		{"auth method", decode.TypeACLAuthMethod, om{{"Name", "Kube"}}, "Kube", "kube", ""},
		{"index", decode.TypeIndex, om{{"Key", "KVS"}, {"Value", 3}}, "KVS", "kvs", ""},
		{"system metadata twice", decode.TypeSystemMetadata, om{{"Key", "a"}, {"Key", "B"}}, "B", "b", ""},
		{"coordinate", decode.TypeCoordinateBatchUpdate, []any{om{{"Node", "N1"}, {"Segment", "Seg"}}, om{{"Node", "n2"}, {"Partition", "p"}}}, "N1/Seg,n2?partition=p", "n1\x00seg", ""},
		{"coordinate empty", decode.TypeCoordinateBatchUpdate, []any{}, "", "", ""},
		{"federation state", decode.TypeFederationState, om{{"State", om{{"Datacenter", "DC1"}}}}, "DC1", "dc1", ""},
		{"virtual IP", decode.TypeServiceVirtualIP, om{{"Service", om{{"ServiceName", om{{"Name", "Web"}, {"Namespace", "ns"}}}, {"Peer", "P"}}}}, "Web?peer=P&namespace=ns", "peer:p\x00web", ""},
		{"virtual IP pre-1.13", decode.TypeServiceVirtualIP, om{{"Service", om{{"Name", "Web"}}}}, "Web", "~\x00web", ""},
		{"free virtual IP counter", decode.TypeFreeVirtualIP, om{{"IP", []byte{0, 0, 0, 5}}, {"IsCounter", true}}, "counter:240.0.0.5", "1\x00\x00\x00\x00\x05", ""},
		{"free virtual IP", decode.TypeFreeVirtualIP, om{{"IP", []byte{0, 0, 0, 6}}, {"IsCounter", false}}, "240.0.0.6", "0\x00\x00\x00\x00\x06", ""},
		{"autopilot", decode.TypeAutopilot, om{{"CleanupDeadServers", true}}, "singleton", "singleton", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := mkRec(tt.typ, tt.v)
			k, err := decode.Keys(rec)
			if err != nil {
				t.Fatal(err)
			}
			if k.Identity != tt.id || k.Order != tt.order || k.KV != tt.kvKey {
				t.Errorf("Keys = %q, order %q, kv %q; want %q, %q, %q", k.Identity, k.Order, k.KV, tt.id, tt.order, tt.kvKey)
			}
			if id, err := decode.Identity(rec); err != nil || id != tt.id {
				t.Errorf("Identity = %q, %v", id, err)
			}
			if tt.typ == decode.TypeKVS || tt.typ == decode.TypeTombstone {
				// The typed decode (kv get, kv export, top) reads the same key.
				d, err := decode.DecodeRecord(rec)
				if err == nil && d.Data.(*decode.DirEntry).Key != tt.kvKey {
					t.Errorf("DecodeRecord Key = %q, Keys %q", d.Data.(*decode.DirEntry).Key, tt.kvKey)
				}
			}
		})
	}
}

// A record that does not decode gives a *RecordError at the record.
func TestKeysError(t *testing.T) {
	rec := &decode.Record{N: 42, Offset: 1000, Type: decode.TypeKVS, Raw: []byte{byte(decode.TypeKVS), 0x81, 0xa3, 'K', 'e', 'y'}}
	for name, f := range map[string]func() error{
		"Keys":         func() error { _, err := decode.Keys(rec); return err },
		"Identity":     func() error { _, err := decode.Identity(rec); return err },
		"DecodeRecord": func() error { _, err := decode.DecodeRecord(rec); return err },
	} {
		err := f()
		var re *decode.RecordError
		if !errors.As(err, &re) || re.N != 42 || re.Offset != 1000 || re.Type != decode.TypeKVS || !errors.Is(err, decode.ErrTypedDecode) {
			t.Errorf("%s: %v (%+v), want a RecordError for record 42 at offset 1000 wrapping ErrTypedDecode", name, err, re)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "state.bin record 42 (KVS) at offset 1000: ") {
			t.Errorf("%s: %q", name, err)
		}
	}
}

// Consul writes records in type rank order and, within a type, in order
// key order: the order keys of its own snapshots never go down.
func TestKeysOrderOnFixtures(t *testing.T) {
	n := 0
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-1.13.9/after.snap",
		filepath.Join("..", "fixtures", "consul-testdata", "backup.snap"), "../fixtures/consul-testdata/backupWithKV.snap"} {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		lastRank, lastOrder := -1, ""
		for s.Next() {
			rec := s.Record()
			k, err := decode.Keys(rec)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if id, _ := decode.Identity(rec); id != k.Identity {
				t.Errorf("%s record %d: Identity %q, Keys %q", path, rec.N, id, k.Identity)
			}
			r := decode.Rank(rec.Type)
			if r < lastRank || (r == lastRank && k.Order < lastOrder) {
				t.Errorf("%s record %d (%s): rank %d order %q after rank %d order %q", path, rec.N, rec.Type, r, k.Order, lastRank, lastOrder)
			}
			if r != lastRank {
				lastOrder = ""
			}
			lastRank, lastOrder = r, k.Order
			n++
		}
		s.Close()
	}
	if n < 100 {
		t.Fatalf("only %d fixture records", n)
	}
}

// FuzzKeys feeds hostile records to Keys: no panic; Keys and Identity
// agree and fail exactly when the value does not decode, with a
// RecordError; the common types allocate a bounded handful; the keys do not
// depend on the order of a map's distinct fields; and a field repeated at
// the end of the map wins.
func FuzzKeys(f *testing.F) {
	for _, path := range []string{"../fixtures/consul-1.13.9/after.snap", "../fixtures/consul-testdata/backupWithKV.snap"} {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			f.Fatal(err)
		}
		for s.Next() {
			f.Add(append([]byte(nil), s.Record().Raw...))
		}
		s.Close()
	}
	for _, raw := range hostileSeedRecords() { // fuzzseeds_test.go
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) == 0 {
			return
		}
		rec := &decode.Record{N: 3, Type: decode.MessageType(raw[0]), Raw: raw}
		k, err := decode.Keys(rec)
		id, idErr := decode.Identity(rec)
		if (err == nil) != (idErr == nil) || id != k.Identity {
			t.Fatalf("Keys %q (%v), Identity %q (%v)", k.Identity, err, id, idErr)
		}
		if err != nil {
			var re *decode.RecordError
			if !errors.As(err, &re) || re.N != 3 {
				t.Fatalf("not a RecordError: %v", err)
			}
		}
		v, verr := decode.DecodeAll(raw[1:])
		switch rec.Type {
		case decode.TypeKVS, decode.TypeTombstone, decode.TypeRegister, decode.TypeSession, decode.TypeACLToken,
			decode.TypeIndex, decode.TypeSystemMetadata, decode.TypeACLPolicy, decode.TypeFreeVirtualIP:
		default:
			return
		}
		if (verr == nil) != (err == nil) {
			t.Fatalf("Keys error %v, DecodeAll error %v", err, verr)
		}
		if err != nil {
			return
		}
		if n := testing.AllocsPerRun(2, func() { decode.Keys(rec) }); n > 8 {
			t.Fatalf("Keys allocates %v times", n)
		}
		if v.Kind != decode.Map {
			return
		}
		seen := map[string]bool{}
		for _, p := range v.Pairs {
			if seen[string(p.Key.Bytes)] || (p.Key.Kind != decode.Str && p.Key.Kind != decode.Bin) {
				return // repeated or non-string keys: the order matters
			}
			seen[string(p.Key.Bytes)] = true
		}
		rev := v
		rev.Pairs = make([]decode.Pair, len(v.Pairs))
		for i := range v.Pairs {
			rev.Pairs[len(v.Pairs)-1-i] = v.Pairs[i]
		}
		k2, err := decode.Keys(mkRec(rec.Type, &rev))
		if err != nil || k2 != k {
			t.Fatalf("reordered fields: %+v (%v), was %+v", k2, err, k)
		}
		field := map[decode.MessageType]string{decode.TypeKVS: "Key", decode.TypeTombstone: "Key", decode.TypeSession: "ID",
			decode.TypeIndex: "Key", decode.TypeSystemMetadata: "Key", decode.TypeACLToken: "AccessorID", decode.TypeACLPolicy: "ID"}[rec.Type]
		if field == "" {
			return
		}
		last := v
		last.Pairs = append(append([]decode.Pair(nil), v.Pairs...), decode.Pair{
			Key: decode.Value{Kind: decode.Str, Bytes: []byte(field)},
			Val: decode.Value{Kind: decode.Str, Bytes: []byte("zz/last")}})
		k3, err := decode.Keys(mkRec(rec.Type, &last))
		if err != nil || !strings.HasPrefix(k3.Identity, "zz/last") {
			t.Fatalf("a repeated %s at the end does not win: %+v (%v)", field, k3, err)
		}
	})
}
