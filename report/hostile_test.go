package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// writeState writes a raw state.bin (header {LastIndex: 1}, then recs) and
// its meta.json into a new temp dir and returns the state.bin path.
func writeState(t testing.TB, recs ...[]byte) string {
	st := append([]byte{0x81, 0xa9}, "LastIndex"...)
	st = append(st, 0x01)
	for _, r := range recs {
		st = append(st, r...)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "state.bin")
	if err := os.WriteFile(p, st, 0o644); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(map[string]any{"Version": 1, "ID": "1-1-1", "Index": 1, "Term": 1, "Size": len(st)})
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDumpNonFiniteFloats: a record with NaN or ±Inf in an unknown field
// dumps as a valid JSON line (the floats as "NaN", "+Inf", "-Inf"); it
// used to panic (slice bounds out of range) when the JSON encoder failed.
func TestDumpNonFiniteFloats(t *testing.T) {
	f64 := func(f float64) []byte { return binary.BigEndian.AppendUint64([]byte{0xcb}, math.Float64bits(f)) }
	arr := append([]byte{0x93}, f64(math.NaN())...)
	arr = append(arr, f64(math.Inf(1))...)
	arr = append(arr, f64(math.Inf(-1))...)
	reg := append([]byte{byte(decode.TypeRegister), 0x82, 0xa4, 'N', 'o', 'd', 'e', 0xa1, 'n', 0xa1, 'X'}, arr...)
	kvs := append([]byte{byte(decode.TypeKVS), 0x82, 0xa3, 'K', 'e', 'y', 0xa1, 'k', 0xa1, 'X'}, arr...)
	p := writeState(t, reg, kvs, append([]byte{200}, arr...))
	var out bytes.Buffer
	_, err := Dump(context.Background(), openFixture(t, p), &out, DumpOptions{})
	if err != nil && !strings.Contains(err.Error(), "ChunkingState") {
		t.Logf("dump: %v", err)
	}
	lines := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		lines++
		if !json.Valid(sc.Bytes()) {
			t.Errorf("invalid JSON line: %s", sc.Bytes())
		}
		if lines > 1 && (!bytes.Contains(sc.Bytes(), []byte(`["NaN","+Inf","-Inf"]`)) || bytes.Contains(sc.Bytes(), []byte(`"error"`))) {
			t.Errorf("line %d: %s", lines, sc.Bytes())
		}
	}
	if lines != 4 {
		t.Errorf("%d lines, want the header and 3 records:\n%s", lines, out.String())
	}
}

// zeroRecords is n bytes of zeros: n/2 malformed 2-byte Register records.
func zeroRecords(n int) []byte { return make([]byte, n) }

// TestGarbageRecordsBounded: a state.bin of a million malformed records
// keeps decode.MaxFindings findings per kind in verify and top, then a
// count, and rejecting them allocates next to nothing: no error is built
// past the cap (with one built per record, verify allocated hundreds of
// bytes per record).
func TestGarbageRecordsBounded(t *testing.T) {
	const n = 2 << 20 // 1 Mi records
	p := writeState(t, zeroRecords(n))
	var r *VerifyResult
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := openFixture(t, p)
	r, err := Verify(context.Background(), s, VerifyOptions{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("verify allocated %d bytes for %d garbage records, want under 8 MiB", alloc, n/2)
	}
	typed, last := 0, Finding{}
	for _, f := range r.Findings {
		if f.Layer == LayerRecords {
			typed++
			last = f
		}
	}
	if typed != decode.MaxFindings+1 || r.Records != n/2 {
		t.Errorf("%d record findings for %d records, want %d and a count", typed, r.Records, decode.MaxFindings)
	}
	more := strconv.Itoa(n/2-decode.MaxFindings) + " more findings of this kind"
	if !strings.Contains(last.Message, more) {
		t.Errorf("last record finding %q, want %q", last.Message, more)
	}
	if r.Pass || r.Verdict != VerdictDamaged {
		t.Errorf("verdict %s", r.Verdict)
	}

	_, terr := Top(context.Background(), openFixture(t, p), TopOptions{})
	msg := terr.Error()
	if lines := strings.Count(msg, "\n") + 1; lines != decode.MaxFindings+1 || !strings.Contains(msg, strconv.Itoa(n/2-decode.MaxFindings)+" more records of this kind") {
		t.Errorf("top: %d error lines (want %d and a count), ending %q", lines, decode.MaxFindings, msg[max(0, len(msg)-200):])
	}
}
