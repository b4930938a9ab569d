package diff

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// Hand-encoded msgpack in Consul's dialect (str family for strings and
// bytes, no bin, no str8), so tests control the map key order exactly.

// om is an ordered msgpack map.
type om []kv

type kv struct {
	k string
	v any
}

func enc(b *bytes.Buffer, x any) {
	switch v := x.(type) {
	case nil:
		b.WriteByte(0xc0)
	case bool:
		if v {
			b.WriteByte(0xc3)
		} else {
			b.WriteByte(0xc2)
		}
	case int:
		encUint(b, uint64(v))
	case uint64:
		encUint(b, v)
	case string:
		encStr(b, []byte(v))
	case []byte:
		if v == nil {
			b.WriteByte(0xc0)
			return
		}
		encStr(b, v)
	case []any:
		if len(v) < 16 {
			b.WriteByte(0x90 | byte(len(v)))
		} else {
			b.WriteByte(0xdc)
			binary.Write(b, binary.BigEndian, uint16(len(v)))
		}
		for _, e := range v {
			enc(b, e)
		}
	case om:
		if len(v) < 16 {
			b.WriteByte(0x80 | byte(len(v)))
		} else {
			b.WriteByte(0xde)
			binary.Write(b, binary.BigEndian, uint16(len(v)))
		}
		for _, e := range v {
			encStr(b, []byte(e.k))
			enc(b, e.v)
		}
	default:
		panic(fmt.Sprintf("enc: %T", x))
	}
}

func encUint(b *bytes.Buffer, v uint64) {
	switch {
	case v < 128:
		b.WriteByte(byte(v))
	case v < 1<<8:
		b.Write([]byte{0xcc, byte(v)})
	case v < 1<<16:
		b.WriteByte(0xcd)
		binary.Write(b, binary.BigEndian, uint16(v))
	case v < 1<<32:
		b.WriteByte(0xce)
		binary.Write(b, binary.BigEndian, uint32(v))
	default:
		b.WriteByte(0xcf)
		binary.Write(b, binary.BigEndian, v)
	}
}

func encStr(b *bytes.Buffer, s []byte) {
	switch {
	case len(s) < 32:
		b.WriteByte(0xa0 | byte(len(s)))
	case len(s) < 1<<16:
		b.WriteByte(0xda)
		binary.Write(b, binary.BigEndian, uint16(len(s)))
	default:
		b.WriteByte(0xdb)
		binary.Write(b, binary.BigEndian, uint32(len(s)))
	}
	b.Write(s)
}

func packed(x any) []byte {
	var b bytes.Buffer
	enc(&b, x)
	return b.Bytes()
}

// rec is one record of a synthetic state.bin.
type rec struct {
	t decode.MessageType
	v any
}

// stateBin encodes a header and the records.
func stateBin(recs ...rec) []byte {
	var b bytes.Buffer
	enc(&b, om{{"LastIndex", 100}})
	for _, r := range recs {
		b.WriteByte(byte(r.t))
		enc(&b, r.v)
	}
	return b.Bytes()
}

// snap opens a synthetic state.bin as a snapshot (meta.json with the right Size).
func snap(t *testing.T, name string, state []byte) *decode.Snapshot {
	t.Helper()
	meta := fmt.Sprintf(`{"Version":1,"ID":"2-100-1","Index":100,"Term":2,"Size":%d}`, len(state))
	s, err := decode.NewStateBin(bytes.NewReader(state), []byte(meta), decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Name = name
	return s
}

// runDiff diffs two synthetic streams and returns the changes.
func runDiff(t *testing.T, a, b []byte, o Options) ([]*Change, *Summary, error) {
	t.Helper()
	var got []*Change
	sum, err := Run(context.Background(), snap(t, "A", a), snap(t, "B", b), o, func(c *Change) error {
		got = append(got, c)
		return nil
	})
	return got, sum, err
}

// brief renders changes as "op type id" lines, and field paths.
func brief(cs []*Change) []string {
	var out []string
	for _, c := range cs {
		s := string(c.Op) + " " + c.Type + " " + c.ID
		for _, f := range c.Fields {
			s += " | " + f.Path
		}
		out = append(out, s)
	}
	return out
}

func jsonString(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}

// Record builders (Consul's key sets, trimmed to what the tests need).

func kvRec(key, value string, modify int) rec {
	return rec{decode.TypeKVS, om{{"CreateIndex", 5}, {"Flags", 0}, {"Key", key}, {"LockIndex", 0},
		{"ModifyIndex", modify}, {"Session", ""}, {"Value", []byte(value)}}}
}

func tombRec(key string, modify int) rec {
	return rec{decode.TypeTombstone, om{{"CreateIndex", 0}, {"Flags", 0}, {"Key", key}, {"LockIndex", 0},
		{"ModifyIndex", modify}, {"Session", ""}, {"Value", nil}}}
}

func nodeFields(node string) om {
	return om{{"Address", "10.0.0.1"}, {"Datacenter", "dc1"}, {"ID", "id-" + node}, {"Node", node}, {"PeerName", ""}}
}

func nodeRec(node string) rec {
	return rec{decode.TypeRegister, append(nodeFields(node), kv{"Service", nil}, kv{"Check", nil})}
}

func svcRec(node, id string, port int, modify int) rec {
	return rec{decode.TypeRegister, append(nodeFields(node), kv{"Check", nil}, kv{"Service", om{
		{"ID", id}, {"Service", "web"}, {"Port", port}, {"Tags", []any{"a", "b"}}, {"CreateIndex", 3}, {"ModifyIndex", modify}}})}
}

func checkRec(node, id, serviceID, status string) rec {
	return rec{decode.TypeRegister, append(nodeFields(node), kv{"Service", nil}, kv{"Check", om{
		{"CheckID", id}, {"Name", id}, {"Node", node}, {"ServiceID", serviceID}, {"Status", status}}})}
}

func tokenRec(accessor, secret, desc string) rec {
	return rec{decode.TypeACLToken, om{{"AccessorID", accessor}, {"CreateIndex", 1}, {"Description", desc},
		{"ModifyIndex", 1}, {"SecretID", secret}}}
}

// configEntryRec wraps kind + request map in a str (docs/FORMAT.md §4.8).
func configEntryRec(kind, name string, entry om) rec {
	var inner bytes.Buffer
	enc(&inner, kind)
	enc(&inner, om{{"Datacenter", ""}, {"Entry", append(om{{"Kind", kind}, {"Name", name}}, entry...)}, {"Op", ""}, {"Token", ""}})
	return rec{decode.TypeConfigEntry, inner.Bytes()}
}

func indexRec(key string, v int) rec {
	return rec{decode.TypeIndex, om{{"Key", key}, {"Value", v}}}
}

func chunking() rec { return rec{decode.TypeChunkingState, om{{"ChunkMap", om{}}}} }

func itoa(i int) string { return fmt.Sprint(i) }
