package decode_test

// Generators of the hostile classes of issue 11 that amplify work: valid
// records whose full decode costs far more heap than their bytes (many
// tiny containers, many short map keys, deep nesting, a config entry that
// nests), non-finite floats, and a state.bin of zeros (millions of
// malformed 2-byte records). Every record here passes verify's typed
// check; only the full decode (dump, top, diff, report) is expensive.
//
// `go test ./decode -run TestWriteHostileCorpus -hostile.out DIR
// -hostile.mb N` writes each class as an archive of about N MB of
// state.bin (the measurements in the notes use them).

import (
	"encoding/binary"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

var (
	hostileOut = flag.String("hostile.out", "", "write the hostile corpus to this directory")
	hostileMB  = flag.Int("hostile.mb", 16, "MB of state.bin per hostile archive")
)

// mpStr is a msgpack str of s.
func mpStr(s string) []byte {
	switch {
	case len(s) < 32:
		return append([]byte{0xa0 | byte(len(s))}, s...)
	case len(s) < 1<<8:
		return append([]byte{0xd9, byte(len(s))}, s...)
	case len(s) < 1<<16:
		return append(binary.BigEndian.AppendUint16([]byte{0xda}, uint16(len(s))), s...)
	}
	return append(binary.BigEndian.AppendUint32([]byte{0xdb}, uint32(len(s))), s...)
}

func mpArray32(n int) []byte { return binary.BigEndian.AppendUint32([]byte{0xdd}, uint32(n)) }
func mpMap32(n int) []byte   { return binary.BigEndian.AppendUint32([]byte{0xdf}, uint32(n)) }

// withExtra is a map of the given string fields and one more, "X", whose
// value is x (a field no record struct knows: kept in Extra).
func withExtra(x []byte, fields ...string) []byte {
	b := []byte{0x80 | byte(len(fields)/2+1)}
	for _, f := range fields {
		b = append(b, mpStr(f)...)
	}
	b = append(b, mpStr("X")...)
	return append(b, x...)
}

// emptiesValue is an array of n empty arrays: one byte each.
func emptiesValue(n int) []byte {
	b := mpArray32(n)
	for i := 0; i < n; i++ {
		b = append(b, 0x90)
	}
	return b
}

// keysValue is a map of about n/6 distinct 4-byte keys, each to nil.
func keysValue(n int) []byte {
	pairs := n / 6
	b := mpMap32(pairs)
	for i := 0; i < pairs; i++ {
		b = append(b, 0xa4, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), 0xc0)
	}
	return b
}

// deepValue is an array of chains of single-element arrays 500 deep (under
// MaxDepth with the record's own nesting), n bytes in all.
func deepValue(n int) []byte {
	const depth = 500
	chains := n / (depth + 1)
	b := mpArray32(chains)
	for i := 0; i < chains; i++ {
		for d := 0; d < depth; d++ {
			b = append(b, 0x91)
		}
		b = append(b, 0xc0)
	}
	return b
}

// kvsRecord is a KVS record (type byte included) with x in an unknown field.
func kvsRecord(key string, x []byte) []byte {
	return append([]byte{byte(decode.TypeKVS)}, withExtra(x, "Key", key)...)
}

// registerRecord is a Register record with x in an unknown field.
func registerRecord(node string, x []byte) []byte {
	return append([]byte{byte(decode.TypeRegister)}, withExtra(x, "Node", node)...)
}

// configEntryRecord is a ConfigEntry record (a str wrapping the kind and
// the request) whose entry holds x in an unknown field.
func configEntryRecord(name string, x []byte) []byte {
	return configEntryOf("service-defaults", withExtra(x, "Kind", "service-defaults", "Name", name))
}

// configEntryOf is a ConfigEntry record of the given kind whose upsert
// request carries entry (a msgpack map).
func configEntryOf(kind string, entry []byte) []byte {
	req := []byte{0x82}
	req = append(req, mpStr("Op")...)
	req = append(req, mpStr("upsert")...)
	req = append(req, mpStr("Entry")...)
	req = append(req, entry...)
	inner := append(mpStr(kind), req...)
	return append([]byte{byte(decode.TypeConfigEntry)}, mpStr(string(inner))...)
}

// nonFiniteRecords are records with NaN, +Inf and -Inf (float64 and
// float32) in unknown fields of a KVS and a Register record.
func nonFiniteRecords() [][]byte {
	f64 := func(f float64) []byte { return binary.BigEndian.AppendUint64([]byte{0xcb}, math.Float64bits(f)) }
	f32 := func(f float32) []byte { return binary.BigEndian.AppendUint32([]byte{0xca}, math.Float32bits(f)) }
	arr := append([]byte{0x96}, f64(math.NaN())...)
	arr = append(arr, f64(math.Inf(1))...)
	arr = append(arr, f64(math.Inf(-1))...)
	arr = append(arr, f32(float32(math.NaN()))...)
	arr = append(arr, f32(float32(math.Inf(1)))...)
	arr = append(arr, f64(1.5)...)
	return [][]byte{
		kvsRecord("nan", f64(math.NaN())),
		kvsRecord("inf", arr),
		registerRecord("nan-node", arr),
		append([]byte{200}, arr...), // an unknown type: decoded generically
	}
}

// hostileClass is one class of crafted state.bin.
type hostileClass struct {
	name  string
	state func(size int) []byte // about size bytes of state.bin
}

// repeatRecords fills about size bytes with records of about per bytes made by mk.
func repeatRecords(size, per int, mk func(i, n int) []byte) []byte {
	var recs [][]byte
	for i, done := 0, 0; done < size; i++ {
		n := min(per, size-done)
		r := mk(i, n)
		recs = append(recs, r)
		done += len(r)
	}
	return stateWithRecords(recs...)
}

// hostileRecordSize is the size of the amplifying records: 4 MiB by
// default (well under the 64 MiB cap); records of about 512 KiB are the
// worst case for the budget (just under its ceiling).
var hostileRecordSize = 4 << 20

var hostileRec = flag.Int("hostile.rec", 4<<20, "bytes per amplifying record in the written corpus")

var hostileClasses = []hostileClass{
	{"empties", func(size int) []byte {
		return repeatRecords(size, hostileRecordSize, func(i, n int) []byte { return kvsRecord("e/"+itoa(i), emptiesValue(n)) })
	}},
	{"keys", func(size int) []byte {
		return repeatRecords(size, hostileRecordSize, func(i, n int) []byte { return registerRecord("k"+itoa(i), keysValue(n)) })
	}},
	{"deep", func(size int) []byte {
		return repeatRecords(size, hostileRecordSize, func(i, n int) []byte { return kvsRecord("d/"+itoa(i), deepValue(n)) })
	}},
	{"configentry", func(size int) []byte {
		return repeatRecords(size, hostileRecordSize, func(i, n int) []byte { return configEntryRecord("c"+itoa(i), emptiesValue(n)) })
	}},
	{"nonfinite", func(size int) []byte { return stateWithRecords(nonFiniteRecords()...) }},
	{"zeros", func(size int) []byte { return stateWithRecords(make([]byte, size)) }},
}

func itoa(i int) string { return strconv.Itoa(i) }

// hostileArchive packs a class's state.bin into a valid archive.
func hostileArchive(t testing.TB, state []byte) []byte {
	f := loadFixture(t, fixtureKV)
	return archiveOf(t, f.mtime, metaWith(t, f.meta, map[string]any{"Size": len(state)}), state)
}

func TestWriteHostileCorpus(t *testing.T) {
	if *hostileOut == "" {
		t.Skip("no -hostile.out: nothing to write")
	}
	if err := os.MkdirAll(*hostileOut, 0o755); err != nil {
		t.Fatal(err)
	}
	hostileRecordSize = *hostileRec
	for _, c := range hostileClasses {
		st := c.state(*hostileMB << 20)
		arch := hostileArchive(t, st)
		p := filepath.Join(*hostileOut, c.name+".snap")
		if err := os.WriteFile(p, arch, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: state.bin %d bytes, archive %d bytes", p, len(st), len(arch))
	}
}
