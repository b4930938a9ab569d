//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// stateSum is the SHA-256 of a snapshot's state.bin as decode reads it.
func stateSum(t *testing.T, path string) ([32]byte, int64) {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := sha256.New()
	hd, err := s.Header()
	if err != nil {
		t.Fatal(err)
	}
	h.Write(hd.Raw)
	n := int64(0)
	for s.Next() {
		h.Write(s.Record().Raw)
		n++
	}
	if err := s.Err(); err != nil || s.Integrity() != decode.Verified && s.Integrity() != decode.Unverifiable {
		t.Fatalf("%s: %v (%v)", path, err, s.Integrity())
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}

// TestCLIRewriteRoundTrip: with no flags OUT's state.bin is IN's, byte for
// byte, for every fixture and input form.
func TestCLIRewriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for i, in := range []string{consul1139Path("before.snap"), consul1139Path("after.snap"), consul1139Path("datadir"),
		testdataPath("backup.snap"), testdataPath("backupWithKV.snap"), testdataPath("raw", "state.bin")} {
		out := filepath.Join(dir, "out"+string(rune('a'+i))+".snap")
		_, errOut, code := runCLI(t, "rewrite", in, out)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", in, code, errOut)
		}
		if !strings.Contains(errOut, "dropped 0") || !strings.Contains(errOut, "read back and verified") {
			t.Errorf("%s: summary %q", in, errOut)
		}
		wantSum, wantN := stateSum(t, in)
		gotSum, gotN := stateSum(t, out)
		if gotSum != wantSum || gotN != wantN {
			t.Errorf("%s: state.bin differs (%d records, want %d)", in, gotN, wantN)
		}
		if _, _, code := runCLI(t, "verify", out); code != 0 {
			t.Errorf("%s: verify of the output exits %d", in, code)
		}
	}
}

// TestCLIRewriteSafety: OUT equal to IN (also through a symlink or another
// path) is refused and IN is untouched; - and pipes are refused as IN; a
// damaged IN exits 3 and leaves neither output nor temp file; usage errors
// exit 2.
func TestCLIRewriteSafety(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.snap")
	orig := []byte(mustRead(t, consul1139Path("before.snap")))
	if err := os.WriteFile(in, orig, 0o444); err != nil {
		t.Fatal(err)
	}
	st0, _ := os.Stat(in)
	link := filepath.Join(dir, "link.snap")
	os.Symlink(in, link)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := damagedCopy(t, consul1139Path("after.snap"), truncateHalf)
	outDir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"OUT is IN", []string{in, in}, 2, "refusing to overwrite an input"},
		{"OUT is IN by another path", []string{in, filepath.Join(dir, ".", "..", filepath.Base(dir), "in.snap")}, 2, "refusing to overwrite an input"},
		{"OUT is a symlink to IN", []string{in, link}, 2, "refusing to overwrite an input"},
		{"IN is a symlink, OUT is IN", []string{link, in}, 2, "refusing to overwrite an input"},
		{"stdin", []string{"-", filepath.Join(outDir, "x.snap")}, 2, "not - (standard input)"},
		{"fifo", []string{fifo, filepath.Join(outDir, "x.snap")}, 2, "not - or a pipe"},
		{"damaged", []string{damaged, filepath.Join(outDir, "x.snap")}, 3, "unexpected EOF"},
		{"missing IN", []string{filepath.Join(dir, "nope"), filepath.Join(outDir, "x.snap")}, 2, "no such file"},
		{"one argument", []string{in}, 2, "needs IN and OUT"},
		{"unknown type", []string{"--drop-type", "Bogus", in, filepath.Join(outDir, "x.snap")}, 2, "unknown record type"},
		{"kept and dropped", []string{"--drop-type", "KVS", "--keep-type", "2", in, filepath.Join(outDir, "x.snap")}, 2, "both --drop-type and --keep-type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, append([]string{"rewrite"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q; stderr %q", code, tt.code, tt.want, errOut)
			}
			now, _ := os.ReadFile(in)
			st1, _ := os.Stat(in)
			if !bytes.Equal(now, orig) || st1.ModTime() != st0.ModTime() || st1.Mode() != st0.Mode() {
				t.Fatalf("IN changed")
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("left in the output dir: %v", entries)
			}
		})
	}
}

// TestCLIRewriteSelection: the flags reach the library (each is checked
// record by record in rewrite's own tests).
func TestCLIRewriteSelection(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--kv-prefix", "app/"}, "dropped 10 (KVS 8, Tombstone 2)"},
		{[]string{"--drop-kv-prefix", "app/", "--drop-kv-prefix", "tmp/"}, "dropped 13 (KVS 11, Tombstone 2)"},
		{[]string{"--keep-type", "KVS", "--keep-type", "16"}, "kept 73 of 156 records (KVS 18, Index 55)"},
		{[]string{"--drop-enterprise", "--drop-type", "35", "--drop-type", "peeringsecret"}, "dropped 4 (Peering 2, PeeringSecret 2)"},
	}
	for i, tt := range tests {
		out := filepath.Join(dir, "o"+string(rune('a'+i))+".snap")
		args := append(append([]string{"rewrite"}, tt.args...), consul1139Path("before.snap"), out)
		_, errOut, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestCLIRewriteRedact: --redact through the real binary: the output
// verifies, has the input's record count, and `dump --show-secrets` of it
// shows none of the input's secrets (a stand-in where each was);
// --redact-kv-values also replaces KV values; two runs draw different keys.
func TestCLIRewriteRedact(t *testing.T) {
	dir := t.TempDir()
	in := consul1139Path("before.snap")
	var secrets [][]byte
	s, err := decode.Open(in, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for s.Next() {
		secrets = append(secrets, decode.Secrets(s.Record())...)
	}
	s.Close()
	if len(secrets) < 5 {
		t.Fatalf("only %d secrets in %s", len(secrets), in)
	}
	inDump, _, _ := runCLI(t, "dump", "--show-secrets", in)
	outs := map[string]string{}
	for _, flag := range []string{"--redact", "--redact-kv-values"} {
		out := filepath.Join(dir, strings.TrimPrefix(flag, "--")+".snap")
		_, errOut, code := runCLI(t, "rewrite", flag, in, out)
		if code != 0 || !strings.Contains(errOut, "transformed") {
			t.Fatalf("%s: exit %d: %s", flag, code, errOut)
		}
		if _, _, code := runCLI(t, "verify", out); code != 0 {
			t.Errorf("%s: verify exits %d", flag, code)
		}
		_, wantN := stateSum(t, in)
		if _, gotN := stateSum(t, out); gotN != wantN {
			t.Errorf("%s: %d records, want %d", flag, gotN, wantN)
		}
		dump, _, code := runCLI(t, "dump", "--show-secrets", out)
		if code != 0 {
			t.Fatalf("%s: dump exits %d", flag, code)
		}
		for _, sec := range secrets {
			if strings.Contains(dump, string(sec)) {
				t.Errorf("%s: a secret is in dump --show-secrets of the output", flag)
			}
		}
		hasValue := strings.Contains(dump, `"ValueText":"redacted redacted`)
		if hasValue != (flag == "--redact-kv-values") || (flag == "--redact") != strings.Contains(inDump, kvTextOf(t, dump)) {
			t.Errorf("%s: KV values redacted = %v", flag, hasValue)
		}
		outs[flag] = dump
	}
	again := filepath.Join(dir, "again.snap")
	if _, errOut, code := runCLI(t, "rewrite", "--redact", in, again); code != 0 {
		t.Fatal(errOut)
	}
	if d, _, _ := runCLI(t, "dump", "--show-secrets", again); d == outs["--redact"] {
		t.Error("two --redact runs gave the same stand-ins: the key is not drawn per run")
	}
}

// kvTextOf is the first ValueText of a dump.
func kvTextOf(t *testing.T, dump string) string {
	t.Helper()
	i := strings.Index(dump, `"ValueText":"`)
	if i < 0 {
		t.Fatal("no ValueText in the dump")
	}
	rest := dump[i+len(`"ValueText":"`):]
	return `"ValueText":"` + rest[:strings.IndexByte(rest, '"')] + `"`
}
