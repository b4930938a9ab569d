package decode_test

import (
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// agree asserts CheckRecord and DecodeRecord give the same verdict and
// error, and RecordOK the same verdict.
func agree(t *testing.T, rec *decode.Record) bool {
	t.Helper()
	_, want := decode.DecodeRecord(rec)
	got := decode.CheckRecord(rec)
	if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
		t.Errorf("type %d, value % x:\nCheckRecord:  %v\nDecodeRecord: %v", rec.Type, rec.Raw[1:], got, want)
		return false
	}
	if ok := decode.RecordOK(rec); ok != (want == nil) {
		t.Errorf("type %d, value % x: RecordOK %v, DecodeRecord: %v", rec.Type, rec.Raw[1:], ok, want)
		return false
	}
	return true
}

func fixtureRecords(t testing.TB) [][]byte {
	var out [][]byte
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-1.13.9/after.snap",
		"../fixtures/consul-testdata/backup.snap", "../fixtures/consul-testdata/backupWithKV.snap"} {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
			out = append(out, append([]byte(nil), s.Record().Raw...))
		}
		s.Close()
	}
	return out
}

// TestCheckRecordAgrees: on every real record, and on every one-byte change
// and truncation of them, CheckRecord says what DecodeRecord says.
func TestCheckRecordAgrees(t *testing.T) {
	recs := fixtureRecords(t)
	var fast, mutants int
	// -short mutates every 8th record (each record is still checked);
	// make test mutates them all.
	stride := 1
	if testing.Short() {
		stride = 8
	}
	for n, raw := range recs {
		rec := &decode.Record{Type: decode.MessageType(raw[0]), Raw: raw}
		if !agree(t, rec) {
			continue
		}
		if decode.CheckRecord(rec) == nil {
			fast++
		}
		if n%stride != 0 {
			continue
		}
		// one-byte substitutions at each position (a few values), and truncations
		for i := 1; i < len(raw) && i < 160; i++ {
			for _, x := range []byte{0x00, 0x80, 0x91, 0xa1, 0xc0, 0xc1, 0xcc, 0xd3, 0xda, 0xde, 0xff} {
				m := append([]byte(nil), raw...)
				m[i] = x
				mutants++
				if !agree(t, &decode.Record{Type: rec.Type, Raw: m}) {
					return
				}
			}
			mutants++
			if !agree(t, &decode.Record{Type: rec.Type, Raw: raw[:i]}) {
				return
			}
		}
	}
	if fast < len(recs)/2 {
		t.Errorf("only %d of %d records passed the check", fast, len(recs))
	}
	t.Logf("%d records, %d mutants", len(recs), mutants)
}

func TestCheckRecordAllocs(t *testing.T) {
	for _, raw := range fixtureRecords(t) {
		rec := &decode.Record{Type: decode.MessageType(raw[0]), Raw: raw}
		switch rec.Type {
		case decode.TypeKVS, decode.TypeRegister, decode.TypeSession, decode.TypeIndex, decode.TypeTombstone:
			if n := testing.AllocsPerRun(5, func() { _ = decode.CheckRecord(rec) }); n != 0 {
				t.Errorf("record type %s: %v allocations", rec.Type, n)
			}
		}
	}
}

// FuzzCheckRecord: any type byte and value bytes, same verdict and error as DecodeRecord.
func FuzzCheckRecord(f *testing.F) {
	for _, raw := range fixtureRecords(f) {
		f.Add(raw)
	}
	for _, raw := range hostileSeedRecords() { // fuzzseeds_test.go
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < 1 {
			return
		}
		agree(t, &decode.Record{Type: decode.MessageType(raw[0]), Raw: raw})
	})
}
