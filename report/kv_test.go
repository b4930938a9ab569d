package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

var kvFixtures = []string{
	"../fixtures/consul-1.13.9/before.snap",
	"../fixtures/consul-1.13.9/after.snap",
	"../fixtures/consul-testdata/backupWithKV.snap",
	"../fixtures/consul-testdata/backup.snap", // no KV at all
}

// kvOracle reads every KVS record directly through decode.
func kvOracle(t *testing.T, path string) []*decode.DirEntry {
	t.Helper()
	s := openFixture(t, path)
	var out []*decode.DirEntry
	for s.Next() {
		if s.Record().Type != decode.TypeKVS {
			continue
		}
		d, err := decode.DecodeRecord(s.Record())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Data.(*decode.DirEntry))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func export(t *testing.T, path, prefix string) ([]byte, KVExportResult) {
	t.Helper()
	var buf bytes.Buffer
	res, errs := KVExport(context.Background(), openFixture(t, path), prefix, &buf)
	if errs != nil {
		t.Fatalf("KVExport(%s): %v", path, errs)
	}
	return buf.Bytes(), res
}

// TestKVExportRoundTrip: every key, flag and value byte of the fixtures
// comes back from the export, in Consul's exact output format.
func TestKVExportRoundTrip(t *testing.T) {
	var sawBinary, sawEmpty, sawBig bool
	for _, f := range kvFixtures {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want := kvOracle(t, f)
			out, res := export(t, f, "")
			var got []KVEntry
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("export is not JSON: %v", err)
			}
			if len(got) != len(want) || res.Entries != int64(len(want)) {
				t.Fatalf("%d entries (res %d), want %d", len(got), res.Entries, len(want))
			}
			for i, w := range want {
				g := got[i]
				v, err := base64.StdEncoding.DecodeString(g.Value)
				if err != nil {
					t.Fatalf("%q: value not base64: %v", g.Key, err)
				}
				if g.Key != w.Key || g.Flags != w.Flags || !bytes.Equal(v, w.Value) {
					t.Errorf("#%d: got %q flags %d %d B, want %q flags %d %d B", i, g.Key, g.Flags, len(v), w.Key, w.Flags, len(w.Value))
				}
				sawBinary = sawBinary || !utf8.Valid(w.Value)
				sawEmpty = sawEmpty || len(w.Value) == 0
				sawBig = sawBig || len(w.Value) > 64<<10
			}
			// Byte for byte what `consul kv export` writes: json.MarshalIndent(entries, "", "\t") + "\n".
			entries := make([]KVEntry, len(want))
			for i, w := range want {
				entries[i] = KVEntry{Key: w.Key, Flags: w.Flags, Value: base64.StdEncoding.EncodeToString(w.Value)}
			}
			consul, err := json.MarshalIndent(entries, "", "\t")
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(consul)+"\n" {
				t.Errorf("output is not Consul's layout:\n%.300s\nwant\n%.300s", out, consul)
			}
		})
	}
	if !sawBinary || !sawEmpty || !sawBig {
		t.Errorf("fixtures lack a case: binary %v, empty %v, >64KiB %v", sawBinary, sawEmpty, sawBig)
	}
}

func TestKVExportPrefix(t *testing.T) {
	f := "../fixtures/consul-1.13.9/before.snap"
	all := kvOracle(t, f)
	for _, prefix := range []string{"app/", "/app/config", "app/config/", "unicode/", "with space/", "nope/", "app/dir/"} {
		t.Run(prefix, func(t *testing.T) {
			p := strings.TrimPrefix(prefix, "/")
			var want []string
			for _, e := range all {
				if strings.HasPrefix(e.Key, p) {
					want = append(want, e.Key)
				}
			}
			out, _ := export(t, f, prefix)
			var got []KVEntry
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d entries, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Key != want[i] {
					t.Errorf("#%d %q, want %q", i, got[i].Key, want[i])
				}
			}
			if len(want) == 0 && string(out) != "[]\n" {
				t.Errorf("empty export = %q, want Consul's %q", out, "[]\n")
			}
		})
	}
}

func TestKVGet(t *testing.T) {
	for _, f := range kvFixtures[:3] {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, w := range kvOracle(t, f) {
				for _, key := range []string{w.Key, "/" + w.Key} {
					got, errs := KVGet(context.Background(), openFixture(t, f), key)
					if errs != nil {
						t.Fatal(errs)
					}
					if !got.Found || got.Key != w.Key || got.Flags != w.Flags || !bytes.Equal(got.Value, w.Value) {
						t.Errorf("KVGet(context.Background(), %q) = found %v flags %d %d B, want flags %d %d B", key, got.Found, got.Flags, len(got.Value), w.Flags, len(w.Value))
					}
				}
			}
			for _, missing := range []string{"no/such/key", "app", "app/config/db/"} {
				got, _ := KVGet(context.Background(), openFixture(t, f), missing)
				if got.Found {
					t.Errorf("KVGet(context.Background(), %q) found a value", missing)
				}
			}
		})
	}
}

// TestKVExportDamaged: a damaged archive still yields valid JSON of what
// could be read, and the damage is reported.
func TestKVExportDamaged(t *testing.T) {
	b, err := os.ReadFile("../fixtures/consul-1.13.9/before.snap")
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), b...)
	flipped[len(flipped)/2] ^= 0xff
	for name, in := range map[string][]byte{"truncated": b[:len(b)*2/3], "flipped": flipped, "empty": nil} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := KVExport(context.Background(), decode.NewArchive(bytes.NewReader(in), decode.Options{}), "", &buf)
			if err == nil {
				t.Fatal("no error")
			}
			if name == "empty" {
				if !errors.Is(err, decode.ErrNotSnapshot) || decode.IsDamage(err) {
					t.Errorf("error %v: want not a snapshot, not damage", err)
				}
			} else if !decode.IsDamage(err) {
				t.Errorf("error %v: not damage", err)
			}
			var got []KVEntry
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Errorf("output not valid JSON: %v", err)
			}
		})
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, os.ErrClosed
	}
	return len(p), nil
}

func TestKVExportWriteError(t *testing.T) {
	_, err := KVExport(context.Background(), openFixture(t, "../fixtures/consul-1.13.9/before.snap"), "", &failWriter{n: 10})
	if err == nil || !strings.HasPrefix(err.Error(), "writing KV export") {
		t.Errorf("err = %v, want a write error first", err)
	}
}
