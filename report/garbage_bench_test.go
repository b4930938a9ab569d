package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// writeZeros writes a raw state.bin (header, then n zero bytes: n/2
// malformed 2-byte Register records) and its meta.json into dir.
func writeZeros(t testing.TB, dir string, n int) string {
	st := append([]byte{0x81, 0xa9}, "LastIndex"...)
	st = append(st, 0x01)
	st = append(st, make([]byte, n)...)
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

// BenchmarkVerifyGarbage: verify on a state.bin of zeros (8 Mi malformed
// records per 16 MiB) runs at scanning speed: compare verify's MB/s with
// scan's (the same pass, no accumulator).
func BenchmarkVerifyGarbage(b *testing.B) {
	p := writeZeros(b, b.TempDir(), 16<<20)
	for _, verify := range []bool{false, true} {
		name := "scan"
		if verify {
			name = "verify"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(16 << 20)
			for i := 0; i < b.N; i++ {
				s, err := decode.Open(p, decode.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if verify {
					r, err := Verify(context.Background(), s, VerifyOptions{})
					if err != nil || r.Pass {
						b.Fatalf("%v %+v", err, r)
					}
				} else if err := Scan(context.Background(), s); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
