package rewrite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// FuzzRun: any input bytes, with a selection picked by sel, must give an
// error or an archive that decodes with verified checksums and the Stats'
// record count; never a panic or a hang. Run reads a path, so each input is
// written to a temp file.
func FuzzRun(f *testing.F) {
	for _, p := range []string{fixBackup, fixKV} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, byte(0))
		f.Add(b, byte(3))
	}
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), byte(1))
	f.Add([]byte{}, byte(2))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, sel byte) {
		if len(data) > 1<<20 {
			return
		}
		in := filepath.Join(dir, "in.snap")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var opts Options
		switch sel % 4 {
		case 1:
			opts.DropTypes = []decode.MessageType{decode.MessageType(sel), decode.TypeKVS}
		case 2:
			opts.KVPrefixes = []string{"vault/"}
			opts.DropEnterprise = true
		case 3:
			opts.KeepTypes = []decode.MessageType{decode.TypeIndex, decode.TypeRegister}
			opts.Archive.Parallel = 2
		}
		var out bytes.Buffer
		st, err := Run(context.Background(), in, &out, opts)
		if err != nil {
			if out.Len() > 0 && st.Verified {
				t.Fatalf("error %v with a verified result", err)
			}
			return
		}
		s := decode.NewArchive(bytes.NewReader(out.Bytes()), decode.Options{})
		n := int64(0)
		for s.Next() {
			n++
		}
		if s.Err() != nil || s.Integrity() != decode.Verified || n != st.Records || s.StateSize() != st.Size {
			t.Fatalf("output: %v, %v, %d records (stats %d), %d bytes (stats %d)", s.Err(), s.Integrity(), n, st.Records, s.StateSize(), st.Size)
		}
	})
}
