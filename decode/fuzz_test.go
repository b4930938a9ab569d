package decode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"testing/iotest"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/hostile"
)

// Fuzz targets, seeded from the real fixtures. `make fuzz FUZZTIME=30s`
// runs each in turn (scripts/fuzz.sh); crashers land in
// testdata/fuzz/<Target>/ and run as regression cases in every go test.

// fuzzArchives are the archive seeds: every real .snap we ship.
var fuzzArchives = []string{fixtureBasic, fixtureKV, fixture113, "../fixtures/consul-1.13.9/before.snap"}

func seedArchives(f *testing.F) [][]byte {
	var out [][]byte
	for _, p := range fuzzArchives {
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		f.Fatal("no fixture archive found")
	}
	return out
}

func seedStates(f *testing.F) [][]byte {
	var out [][]byte
	for _, p := range fuzzArchives {
		if fixtureExists(p) {
			out = append(out, loadFixture(f, p).state)
		}
	}
	return out
}

// FuzzArchive feeds arbitrary bytes to the archive reader and every
// per-record path (typed decode, identity, tree, masking). It must never
// panic or hang, and every error must be classified: damage, or not a
// snapshot at all, decided before the first record (the input is in
// memory, so there is no I/O error to blame).
func FuzzArchive(f *testing.F) {
	for _, b := range seedArchives(f) {
		f.Add(b)
	}
	kv := loadFixture(f, fixtureKV)
	f.Add(archiveOf(f, kv.mtime, kv.meta, stateWithRecords([]byte{77, 0x81, 0xa1, 'k', 0xc0})))
	f.Add(gz(f, kv.tar[:len(kv.tar)/2]))
	for _, b := range hostileSeedArchives(f) { // fuzzseeds_test.go: every class of issue 11
		f.Add(b)
	}
	for _, c := range hostile.Classes() { // internal/hostile: the classes hostile-mem.sh runs, seed size
		b, err := c.Seed(1)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := drainArchive(b, decode.Options{MaxRecordSize: 1 << 20})
		notSnapshot := errors.Is(r.err, decode.ErrNotSnapshot)
		if r.err != nil && !decode.IsDamage(r.err) && !notSnapshot {
			t.Fatalf("error neither damage nor not-a-snapshot: %v", r.err)
		}
		if notSnapshot && r.records > 0 {
			t.Fatalf("not a snapshot after %d records: %v", r.records, r.err)
		}
		if r.err == nil && r.integrity != decode.Verified {
			t.Fatalf("no error but integrity %v", r.integrity)
		}
		if r.integrity == decode.Pending {
			t.Fatalf("integrity pending after the end")
		}
	})
}

// FuzzStream feeds arbitrary bytes to the state.bin scanner, once in one
// piece and once a byte at a time. Both must agree; a clean stream must be
// reproduced byte for byte by the header and the records; the scanner must
// accept exactly the streams the independent oracle (refParseState) accepts.
func FuzzStream(f *testing.F) {
	for _, b := range seedStates(f) {
		f.Add(b)
	}
	f.Add(stateWithRecords([]byte{0x02, 0xdb, 0xff, 0xff, 0xff, 0xff}))
	f.Add(stateWithRecords(append([]byte{200}, append(bytes.Repeat([]byte{0x91}, 600), 0xc0)...)))
	for _, b := range hostileSeedStates() { // fuzzseeds_test.go
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		whole := scanAll(bytes.NewReader(b))
		oneByte := scanAll(iotest.OneByteReader(bytes.NewReader(b)))
		if (whole.err == nil) != (oneByte.err == nil) || !bytes.Equal(whole.rebuilt, oneByte.rebuilt) || whole.n != oneByte.n {
			t.Fatalf("reading in one piece and byte by byte disagree: %v (%d records) vs %v (%d records)", whole.err, whole.n, oneByte.err, oneByte.n)
		}
		valid, n := refParseState(b)
		var re *decode.RecordError
		if whole.err != nil && !errors.As(whole.err, &re) {
			t.Fatalf("error without position: %v", whole.err)
		}
		switch {
		case valid && whole.err != nil && re.N != 0:
			t.Fatalf("oracle accepts the stream, scanner rejects record %d: %v", re.N, whole.err)
		case !valid && whole.err == nil:
			t.Fatalf("oracle rejects the stream, scanner accepts it")
		case whole.err == nil:
			if !bytes.Equal(whole.rebuilt, b) {
				t.Fatalf("header + records (%d bytes) do not reproduce the input (%d bytes)", len(whole.rebuilt), len(b))
			}
			if whole.n != n {
				t.Fatalf("scanner found %d records, oracle %d", whole.n, n)
			}
		}
	})
}

type scanResult struct {
	n       int
	rebuilt []byte
	err     error
}

func scanAll(r interface{ Read([]byte) (int, error) }) scanResult {
	s := decode.NewStream(r, decode.Options{MaxRecordSize: 1 << 20})
	var out scanResult
	if h, err := s.Header(); err == nil {
		out.rebuilt = append(out.rebuilt, h.Raw...)
	}
	for s.Next() {
		rec := s.Record()
		out.n++
		out.rebuilt = append(out.rebuilt, rec.Raw...)
		if _, err := decode.DecodeAll(rec.Value()); err != nil && !errors.Is(err, decode.ErrTooDeep) && !errors.Is(err, decode.ErrBudget) {
			panic("scanner handed out a record that is not one msgpack object: " + err.Error())
		}
	}
	out.err = s.Err()
	return out
}

// FuzzTypedDecode decodes a type byte + value the way dump and diff do:
// DecodeRecord, Keys, Identity, Tree, View (Mask). None may panic; a
// failure must be a *RecordError at the record wrapping ErrTypedDecode; a
// record that decodes has keys, and Identity is Keys' identity; masked, no
// PEM private key is left anywhere (KV values are user data, not masked).
func FuzzTypedDecode(f *testing.F) {
	for _, st := range seedStates(f) {
		s := decode.NewStream(bytes.NewReader(st), decode.Options{})
		for s.Next() {
			rec := s.Record()
			f.Add(byte(rec.Type), append([]byte(nil), rec.Value()...))
		}
	}
	f.Add(byte(200), []byte{0x81, 0xa1, 'k', 0xc0})
	pem := "-----BEGIN EC PRIVATE KEY-----x"                                    // 31 bytes: a fixstr
	f.Add(byte(99), append([]byte{0x81, 0xa1, 'c', 0x91, 0xbf}, pem...))        // {"c":[PEM]}
	f.Add(byte(99), append(append([]byte{0x81, 0xbf}, pem...), 0xc0))           // {PEM: nil}
	f.Add(byte(decode.TypeConfigEntry), append([]byte{0xd9, 32, 0xbf}, pem...)) // a wrapped kind, no request
	for _, r := range hostileSeedRecords() {                                    // fuzzseeds_test.go
		f.Add(r[0], r[1:])
	}
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		rec := &decode.Record{N: 1, Type: decode.MessageType(typ), Raw: append([]byte{typ}, b...), Size: int64(len(b) + 1)}
		id, idErr := decode.Identity(rec)
		keys, keysErr := decode.Keys(rec)
		if (idErr == nil) != (keysErr == nil) || id != keys.Identity {
			t.Fatalf("Identity %q (%v), Keys %q (%v)", id, idErr, keys.Identity, keysErr)
		}
		for _, e := range []error{idErr, keysErr} {
			var re *decode.RecordError
			if e != nil && (!errors.As(e, &re) || re.N != 1 || re.Type != rec.Type || !errors.Is(e, decode.ErrTypedDecode)) {
				t.Fatalf("keys error is not a RecordError at record 1 wrapping ErrTypedDecode: %v", e)
			}
		}
		// Every tree renders as valid JSON (non-finite floats as strings).
		if tree, _ := decode.View(decode.MessageType(typ), b, true); tree != nil {
			if js, err := decode.AppendJSON(nil, tree); err != nil || !json.Valid(js) {
				t.Fatalf("the tree does not render as JSON: %v: %q", err, js)
			}
		}
		// The failure path too.
		if tree, _ := decode.View(decode.MessageType(typ), b, false); tree != nil && typ != byte(decode.TypeKVS) && typ != byte(decode.TypeTombstone) {
			if js, err := decode.AppendJSON(nil, tree); err == nil && bytes.Contains(js, []byte("PRIVATE KEY-----")) {
				t.Fatalf("a PEM private key survives masking: %s", js)
			}
		}
		d, err := decode.DecodeRecord(rec)
		if err != nil {
			var re *decode.RecordError
			if !errors.Is(err, decode.ErrTypedDecode) || !errors.As(err, &re) || re.N != 1 {
				t.Fatalf("typed decode error is not a RecordError wrapping ErrTypedDecode: %v", err)
			}
			return
		}
		if idErr != nil {
			t.Fatalf("record decodes but has no identity: %v", idErr)
		}
		_ = decode.Mask(d.Type, decode.Tree(d.Data))
	})
}
