package decode_test

// Fuzz seeds of every hostile class of issue 11, small (a few KB each):
// non-finite floats, amplification (many tiny containers, short map keys,
// deep nesting, a nesting config entry), garbage and zero records,
// sparse/link/device/FIFO/directory tar members, records out of Consul's
// order and duplicate keys, terminal escapes (C0, C1, bidi) in KV keys,
// node names, config-entry names, meta.json's ID and tar member names,
// config-entry secrets, trailing data after the archive and a run of
// empty gzip members. The decode fuzz targets add them with f.Add; the
// targets of other packages (which cannot import these generators) read
// them from their testdata/fuzz/<Target>/ files, which TestFuzzSeedFiles
// keeps equal to what the generators make (refresh with -update, make golden).

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/golden"
)

// seedSize is the state.bin size of the amplifying seeds.
const seedSize = 2 << 10

// escText holds what a hostile string may carry to a terminal: OSC title,
// CSI clear screen, C1 CSI and OSC (U+009B, U+009D), NEL, and the bidi
// overrides and isolates.
const escText = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u009d0;t\u0085\u202eevil\u202c\u2066x\u2069"

// seedPEM is a PEM private key marker a masked output must never show.
const seedPEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBody\n-----END EC PRIVATE KEY-----\n"

// mpMap is a msgpack fixmap of the given key/value pairs (keys are Go
// strings, values encoded msgpack).
func mpMap(pairs ...any) []byte {
	b := []byte{0x80 | byte(len(pairs)/2)}
	for i := 0; i < len(pairs); i += 2 {
		b = append(b, mpStr(pairs[i].(string))...)
		b = append(b, pairs[i+1].([]byte)...)
	}
	return b
}

// escapeRecords carry escText in a KV key, a node name, a service name
// and a config entry's name.
func escapeRecords() [][]byte {
	return [][]byte{
		kvsRecord("kv/"+escText, []byte{0xc0}),
		registerRecord("node-"+escText, []byte{0xc0}),
		append([]byte{byte(decode.TypeRegister)}, mpMap("Node", mpStr("n"), "Service", mpMap("ID", mpStr("s"+escText), "Service", mpStr(escText)))...),
		configEntryRecord("svc-"+escText, []byte{0xc0}),
	}
}

// secretRecords are config entries holding secrets: an inline-certificate
// with a PEM private key and a vault token in Meta, and one whose request
// fails typed decode with a token inside.
func secretRecords() [][]byte {
	return [][]byte{
		configEntryOf("inline-certificate", mpMap("Kind", mpStr("inline-certificate"), "Name", mpStr("c"),
			"PrivateKey", mpStr(seedPEM), "Meta", mpMap("vault_token", mpStr("s.hostileVaultToken0123")))),
		configEntryOf("service-defaults", mpMap("Kind", []byte{0x2a}, "Token", mpStr("s.hostileToken"), "Name", []byte{0xc3})),
		append([]byte{byte(decode.TypeRegister)}, mpMap("Node", mpStr("n"), "Token", mpStr("s.hostileToken"))...),
	}
}

// hostileSeedRecords are single raw records (type byte + value) of every class
// that applies to one record.
func hostileSeedRecords() [][]byte {
	recs := nonFiniteRecords()
	recs = append(recs,
		kvsRecord("e", emptiesValue(seedSize)), registerRecord("k", keysValue(seedSize)),
		kvsRecord("d", deepValue(seedSize)), configEntryRecord("c", emptiesValue(seedSize)),
		[]byte{0, 0}, []byte{byte(decode.TypeConfigEntry), 0}, []byte{byte(decode.TypeKVS), 0xc1})
	recs = append(recs, escapeRecords()...)
	return append(recs, secretRecords()...)
}

// kvsOrdered is a KVS record with a key, a value and a ModifyIndex.
func kvsOrdered(key string, modify byte) []byte {
	return append([]byte{byte(decode.TypeKVS)}, mpMap("Key", mpStr(key), "Value", append([]byte{0xc4, 1}, 'v'), "ModifyIndex", []byte{modify & 0x7f})...)
}

// reverseState has its KVS records in reverse key order and a Register
// record after them (Consul writes by type, then key).
func reverseState() []byte {
	var recs [][]byte
	for i := 99; i >= 0; i-- {
		recs = append(recs, kvsOrdered(fmt.Sprintf("k/%03d", i), byte(i)))
	}
	return stateWithRecords(append(recs, registerRecord("late", []byte{0xc0}))...)
}

// duplicateState repeats one key 100 times with different values.
func duplicateState() []byte {
	var recs [][]byte
	for i := 0; i < 100; i++ {
		recs = append(recs, kvsOrdered("dup", byte(i)))
	}
	return stateWithRecords(recs...)
}

// hostileSeedStates are whole state.bin streams of every class.
func hostileSeedStates() [][]byte {
	var out [][]byte
	for _, c := range hostileClasses {
		out = append(out, c.state(seedSize))
	}
	return append(out,
		stateWithRecords(escapeRecords()...),
		stateWithRecords(secretRecords()...),
		reverseState(), duplicateState(),
		append(stateWithRecords(kvsOrdered("a", 1)), bytes.Repeat([]byte{0xc1}, 64)...)) // garbage after a record
}

// hostileSeedArchives are whole archives: each state class packed, the
// tar member classes (hostileArchiveSeeds), escapes in meta.json's ID and
// in a tar member's name, trailing data and a run of empty gzip members.
func hostileSeedArchives(tb testing.TB) [][]byte {
	f := loadFixture(tb, fixtureBasic)
	var out [][]byte
	for _, st := range hostileSeedStates() {
		out = append(out, hostileArchive(tb, st))
	}
	out = append(out, hostileArchiveSeeds(tb)...)
	out = append(out,
		archiveOf(tb, f.mtime, metaWith(tb, f.meta, map[string]any{"ID": "id-" + escText}), f.state),
		gz(tb, bytes.Join([][]byte{regular(decode.MemberMeta, f.meta), regular("x"+escText, []byte("x")),
			regular(decode.MemberState, f.state), regular(decode.MemberSums, f.sums), make([]byte, 1024)}, nil)),
		append(append([]byte(nil), f.raw...), bytes.Repeat([]byte("trailing garbage "), 64)...),
		append(append([]byte(nil), f.raw...), bytes.Repeat(gz(tb, nil), 64)...),
		append(append([]byte(nil), f.raw...), gz(tb, bytes.Repeat([]byte{0}, 8<<10))...),
	)
	return out
}

// seedFile is the Go fuzz corpus file of one input.
func seedFile(args ...any) []byte {
	b := []byte("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			b = append(b, "[]byte("...)
			b = append(b, strconv.Quote(string(v))...)
			b = append(b, ")\n"...)
		case byte:
			b = fmt.Appendf(b, "byte(%q)\n", v)
		case bool:
			b = fmt.Appendf(b, "bool(%v)\n", v)
		default:
			panic(fmt.Sprintf("seedFile: %T", a))
		}
	}
	return b
}

// otherTargetSeeds are the seed files of the fuzz targets outside decode:
// directory (relative to decode) → file name → content.
func otherTargetSeeds(tb testing.TB) map[string]map[string][]byte {
	out := map[string]map[string][]byte{}
	add := func(dir, name string, args ...any) {
		if out[dir] == nil {
			out[dir] = map[string][]byte{}
		}
		out[dir][name] = seedFile(args...)
	}
	states, archives, recs := hostileSeedStates(), hostileSeedArchives(tb), hostileSeedRecords()
	for i, st := range states {
		add("../report/testdata/fuzz/FuzzReports", fmt.Sprintf("i11-state-%02d", i), st)
		add("../report/testdata/fuzz/FuzzTopKV", fmt.Sprintf("i11-state-%02d", i), st)
		add("../preflight/testdata/fuzz/FuzzCheck", fmt.Sprintf("i11-state-%02d", i), st, byte(i), i%2 == 0)
		add("../diff/testdata/fuzz/FuzzDiff", fmt.Sprintf("i11-state-%02d", i), st, states[(i+1)%len(states)])
	}
	for i, a := range archives {
		add("../report/testdata/fuzz/FuzzReports", fmt.Sprintf("i11-archive-%02d", i), a)
		add("../rewrite/testdata/fuzz/FuzzRun", fmt.Sprintf("i11-archive-%02d", i), a, byte(i))
	}
	for i, r := range recs {
		if r[0] == byte(decode.TypeKVS) {
			add("../report/testdata/fuzz/FuzzDumpKVFastPath", fmt.Sprintf("i11-kvs-%02d", i), r[1:])
		}
	}
	// Targets inside package decode (which cannot see these generators).
	for i, r := range recs {
		add("testdata/fuzz/FuzzRedactRecord", fmt.Sprintf("i11-record-%02d", i), r, i%2 == 0)
		add("testdata/fuzz/FuzzContentHash", fmt.Sprintf("i11-value-%02d", i), r[1:])
	}
	for i, head := range [][]byte{[]byte(escText + "\n"), []byte("\x81\xa9LastIndex" + escText), make([]byte, 64), append([]byte{0x1f, 0x8b, 8, 0}, escText...)} {
		add("testdata/fuzz/FuzzDescribe", fmt.Sprintf("i11-head-%02d", i), head)
	}
	// diff: the same keys in the other order, and a key held twice.
	add("../diff/testdata/fuzz/FuzzDiff", "i11-reverse-vs-ordered", reverseState(), stateWithRecords(kvsOrdered("k/000", 0), kvsOrdered("k/001", 1)))
	add("../diff/testdata/fuzz/FuzzDiff", "i11-duplicates-vs-one", duplicateState(), stateWithRecords(kvsOrdered("dup", 1)))
	return out
}

// TestFuzzSeedFiles: the seed files of the other packages' fuzz targets
// are what the generators make now; -update rewrites them.
func TestFuzzSeedFiles(t *testing.T) {
	for dir, files := range otherTargetSeeds(t) {
		if golden.Updating() {
			old, _ := filepath.Glob(filepath.Join(dir, "i11-*"))
			for _, p := range old {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		for name := range files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p := filepath.Join(dir, name)
			if golden.Updating() {
				if err := os.WriteFile(p, files[name], 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, files[name]) {
				t.Errorf("%s is not what the generators make (err %v); run make golden", p, err)
			}
		}
		existing, _ := filepath.Glob(filepath.Join(dir, "i11-*"))
		if !golden.Updating() && len(existing) != len(files) {
			t.Errorf("%s holds %d issue-11 seeds, the generators make %d; run with -update", dir, len(existing), len(files))
		}
	}
}

// TestFuzzSeedsAreSmall: every seed stays a few KB, so that the fuzzer
// minimizes and mutates them quickly.
func TestFuzzSeedsAreSmall(t *testing.T) {
	const limit = 16 << 10
	for dir, files := range otherTargetSeeds(t) {
		for name, b := range files {
			if len(b) > 4*limit { // quoted: up to four bytes per byte
				t.Errorf("%s/%s: %d bytes", dir, name, len(b))
			}
		}
	}
	for i, b := range append(append(hostileSeedRecords(), hostileSeedStates()...), hostileSeedArchives(t)...) {
		if len(b) > limit {
			t.Errorf("seed %d: %d bytes", i, len(b))
		}
	}
}
