package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/hostile"
)

// FuzzReports feeds arbitrary bytes, as an archive and as a raw state.bin,
// to Inspect, Verify and Dump: none may panic or hang, Inspect's sums add
// up, a passing Verify means Inspect found no error, and every dump line
// is valid JSON.
func FuzzReports(f *testing.F) {
	for _, p := range []string{"backup.snap", "backupWithKV.snap", filepath.Join("raw", "state.bin")} {
		b, err := os.ReadFile(filepath.Join(consulTestdata, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x81\xa9LastIndex\x0d\x02\x81\xa3Key\xa3a/b\x1d\x81\xa8ChunkMap\x80"))
	for _, c := range hostile.Classes() { // issue 11's crafted classes, seed size: archive and state.bin
		for _, get := range []func() ([]byte, error){func() ([]byte, error) { return c.Seed(1) }, func() ([]byte, error) { return c.State(0, 1) }} {
			b, err := get()
			if err != nil {
				f.Fatal(err)
			}
			if b != nil {
				f.Add(b)
			}
		}
	}
	meta := []byte(`{"Version":1,"ID":"1-2-3","Index":2,"Term":1}`)
	f.Fuzz(func(t *testing.T, in []byte) {
		open := []func() *decode.Snapshot{
			func() *decode.Snapshot {
				return decode.NewArchive(bytes.NewReader(in), decode.Options{MaxRecordSize: 1 << 20})
			},
			func() *decode.Snapshot {
				s, err := decode.NewStateBin(bytes.NewReader(in), meta, decode.Options{MaxRecordSize: 1 << 20})
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
		}
		for _, o := range open {
			r, ierr := Inspect(context.Background(), o(), InspectOptions{KVDetails: true, KVDepth: 2})
			var sum, kv int64
			for _, s := range r.Stats {
				sum += s.Sum
			}
			for _, s := range r.StatsKV {
				kv += s.Sum
			}
			if sum != r.TotalSize || kv != r.TotalSizeKV {
				t.Fatalf("sums %d/%d, totals %d/%d", sum, kv, r.TotalSize, r.TotalSizeKV)
			}
			if _, err := FormatPretty(r); err != nil {
				t.Fatal(err)
			}
			v, _ := Verify(context.Background(), o(), VerifyOptions{})
			if v.Pass && ierr != nil {
				t.Fatalf("verify passes but inspect failed: %v", ierr)
			}
			var b bytes.Buffer
			if _, err := Dump(context.Background(), o(), &b, DumpOptions{}); err == nil && ierr != nil {
				t.Fatalf("dump succeeds but inspect failed: %v", ierr)
			}
			sc := bufio.NewScanner(&b)
			sc.Buffer(make([]byte, 1<<20), 64<<20)
			for sc.Scan() {
				if !json.Valid(sc.Bytes()) {
					t.Fatalf("dump line is not JSON: %s", sc.Text())
				}
			}
			// kv export writes complete JSON that consul kv import reads,
			// whatever the input (the value streamed into its entry).
			var kvb bytes.Buffer
			res, _ := KVExport(context.Background(), o(), "", &kvb)
			var entries []KVEntry
			if err := json.Unmarshal(kvb.Bytes(), &entries); err != nil || int64(len(entries)) != res.Entries {
				t.Fatalf("kv export: %v, %d entries for %d written:\n%s", err, len(entries), res.Entries, kvb.String())
			}
		}
	})
}
