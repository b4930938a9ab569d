package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/internal/golden"
)

// runCLIIn runs the real binary in dir, so that the file names in its
// output are the relative ones given (goldens stay stable).
func runCLIIn(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running snaptool %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return o.String(), e.String(), code
}

func writeDamaged(t *testing.T, src, dst string, damage func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if damage != nil {
		b = damage(append([]byte(nil), b...))
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// notSnapshotInputs writes inputs that are no snapshot into dir and
// returns them with what each looks like.
func notSnapshotInputs(t *testing.T, dir string) [][2]string {
	t.Helper()
	files := []struct{ name, content, looks string }{
		{"empty", "", "an empty file"},
		{"notes.txt", "hello, operator\n", `text (it starts "hello, operator")`},
		{"a.inspect.json", `{"Meta": {"ID": "2-162-1795548439390"}}` + "\n", `JSON text (it starts "{\"Meta\": {\"ID\": \"2-162-1795548439390\"}}")`},
	}
	var out [][2]string
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.content), 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{f.name, f.looks})
	}
	// gzip streams of something else: decided from the inflated bytes.
	var gzJSON, gzTar bytes.Buffer
	zw := gzip.NewWriter(&gzJSON)
	zw.Write([]byte(`{"x": 1}`))
	zw.Close()
	zw = gzip.NewWriter(&gzTar)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "notes.txt", Mode: 0o600, Size: 3, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi\n"))
	tw.Close()
	zw.Close()
	for _, f := range []struct {
		name  string
		b     []byte
		looks string
	}{
		{"x.json.gz", gzJSON.Bytes(), `gzip-compressed JSON text (it starts "{\"x\": 1}")`},
		{"other.tgz", gzTar.Bytes(), `a gzip'd tar archive of other files ("notes.txt"), none of meta.json, state.bin, SHA256SUMS`},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.b, 0o600); err != nil {
			t.Fatal(err)
		}
		out = append(out, [2]string{f.name, f.looks})
	}
	if err := os.Mkdir(filepath.Join(dir, "nosnap"), 0o700); err != nil {
		t.Fatal(err)
	}
	return append(out, [2]string{"nosnap", "a directory with no state.bin and no raft snapshot directory"})
}

// A file that is not a snapshot is its own verdict in every command: exit
// 2, nothing on stdout, and the error says what the file looks like.
func TestCLINotSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the quick loop; make test runs it")
	}
	dir := t.TempDir()
	good, err := filepath.Abs(testdataPath("backup.snap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range notSnapshotInputs(t, dir) {
		name, looks := in[0], in[1]
		for _, args := range [][]string{
			{"inspect", name},
			{"inspect", "--format", "json", name},
			{"dump", name},
			{"top", name},
			{"diff", name, good},
			{"diff", good, name},
			{"kv", "export", name},
			{"kv", "get", name, "some/key"},
			{"report", "--html", "out.html", name},
			{"preflight", "--target", "1.13", name},
			{"rewrite", name, "out.snap"},
		} {
			out, errOut, code := runCLIIn(t, dir, args...)
			want := "not a Consul snapshot: it looks like " + looks
			if code != 2 || !strings.Contains(errOut, want) || !strings.HasPrefix(errOut, "Error: ") {
				t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", args, code, errOut, want)
			}
			// diff's own output is diff's (no fake diff); preflight, like
			// verify, prints a verdict per file and a summary.
			if args[0] != "diff" && args[0] != "preflight" && out != "" {
				t.Errorf("%v: stdout %q, want nothing", args, out)
			}
		}
		// verify: a verdict of its own, not DAMAGED.
		out, errOut, code := runCLIIn(t, dir, "verify", name)
		if want := name + ": NOT A SNAPSHOT: it looks like " + looks + "\n1 file verified: 0 passed, 0 failed, 1 not a snapshot\n"; code != 2 || out != want {
			t.Errorf("verify %s: exit %d\n%s%s\nwant exit 2 and\n%s", name, code, out, errOut, want)
		}
		out, _, code = runCLIIn(t, dir, "verify", "--format", "json", name)
		var doc struct {
			Pass    bool
			Summary struct {
				NotSnapshot int `json:"not_snapshot"`
			}
			Files []struct {
				Verdict   string
				LooksLike string `json:"looks_like"`
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 2 || doc.Pass || doc.Summary.NotSnapshot != 1 ||
			len(doc.Files) != 1 || doc.Files[0].Verdict != "not_snapshot" || doc.Files[0].LooksLike != looks {
			t.Errorf("verify --format json %s: exit %d, err %v\n%s", name, code, err, out)
		}
	}
	// Standard input is sniffed too.
	txt := filepath.Join(dir, "notes.txt")
	if out, errOut, code := runCLIStdin(t, txt, "inspect", "-"); code != 2 || out != "" || !strings.Contains(errOut, "not a Consul snapshot: it looks like text") {
		t.Errorf("inspect - < text: exit %d\n%s%s", code, out, errOut)
	}
	// A damaged gzip magic or a cut archive is damage (3), not "not a snapshot".
	for name, damage := range map[string]func([]byte) []byte{
		"magic.snap": func(b []byte) []byte { b[1] ^= 0x80; return b },
		"cut.snap":   func(b []byte) []byte { return b[:len(b)/2] },
		"tiny.snap":  func(b []byte) []byte { return b[:1] },
	} {
		writeDamaged(t, good, filepath.Join(dir, name), damage)
		for _, cmd := range []string{"verify", "inspect", "dump"} {
			if _, errOut, code := runCLIIn(t, dir, cmd, name); code != 3 || strings.Contains(errOut, "not a Consul snapshot") {
				t.Errorf("%s %s: exit %d, stderr %q; want 3 (damaged)", cmd, name, code, errOut)
			}
		}
	}
}

// verify in plain words: goldens over a good archive, crafted damage, an
// extracted archive (state.bin + meta.json + SHA256SUMS) and a file that
// is not a snapshot.
func TestCLIVerifyPlainWords(t *testing.T) {
	dir := t.TempDir()
	src := testdataPath("backup.snap")
	writeDamaged(t, src, filepath.Join(dir, "good.snap"), nil)
	writeDamaged(t, src, filepath.Join(dir, "garbage.snap"), func(b []byte) []byte { return append(b, "12345678"...) })
	writeDamaged(t, src, filepath.Join(dir, "cut.snap"), func(b []byte) []byte { return b[:len(b)*3/4] })
	writeDamaged(t, src, filepath.Join(dir, "flipped.snap"), func(b []byte) []byte { b[len(b)-12] ^= 0x01; return b })
	if err := os.WriteFile(filepath.Join(dir, "a.inspect.json"), []byte(`{"Meta": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ext := filepath.Join(dir, "extracted")
	if err := os.Mkdir(ext, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xzf", src, "-C", ext).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	files := []string{"good.snap", "garbage.snap", "cut.snap", "flipped.snap", "extracted/state.bin", "a.inspect.json"}
	out, errOut, code := runCLIIn(t, dir, append([]string{"verify"}, files...)...)
	if code != 3 {
		t.Errorf("exit %d, want 3\n%s", code, errOut)
	}
	golden.Check(t, "verify_plain.golden", []byte(out))
	out, _, code = runCLIIn(t, dir, append([]string{"verify", "--format", "json"}, files...)...)
	if code != 3 {
		t.Errorf("json: exit %d, want 3", code)
	}
	golden.Check(t, "verify_plain.json.golden", []byte(out))

	// The extracted archive is verified by its SHA256SUMS, so --strict passes it.
	out, errOut, code = runCLIIn(t, dir, "verify", "--strict", "extracted/state.bin")
	if code != 0 || !strings.Contains(out, "checksums verified") {
		t.Errorf("verify --strict extracted/state.bin: exit %d\n%s%s", code, out, errOut)
	}
	// A tampered SHA256SUMS beside it fails.
	sums := filepath.Join(ext, "SHA256SUMS")
	b, _ := os.ReadFile(sums)
	b[0] ^= 0x01
	if err := os.WriteFile(sums, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, code := runCLIIn(t, dir, "verify", "extracted"); code != 3 || !strings.Contains(out, "SHA-256 mismatch") {
		t.Errorf("tampered SHA256SUMS: exit %d\n%s", code, out)
	}
}
