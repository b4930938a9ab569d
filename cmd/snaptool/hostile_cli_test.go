//go:build linux

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// feedFIFO makes a FIFO in dir and writes data into it from a goroutine
// once a reader opens it. With hold the write end stays open (the input
// never completes) until the test ends.
func feedFIFO(t *testing.T, dir string, data []byte, hold bool) string {
	t.Helper()
	p := filepath.Join(dir, "input.snap")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	go func() {
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		w.Write(data)
		if hold {
			<-release
		}
	}()
	return p
}

// SIGTERM while kv export -o waits on an input that never completes: the
// temp file beside the output is removed and the process exits 143.
func TestSIGTERMDuringExportRemovesTemp(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the quick loop; make test runs it")
	}
	snap, err := os.ReadFile(repoPath("fixtures", "consul-1.13.9", "after.snap"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := feedFIFO(t, dir, snap[:len(snap)/2], true)
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, "kv", "export", "-o", filepath.Join(outDir, "kv.json"), in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait (bounded) for the temp file: the export is then blocked on the FIFO.
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, _ := os.ReadDir(outDir)
		if len(es) == 1 && strings.Contains(es[0].Name(), ".tmp-") {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no temp file appeared in %s (%v); stderr: %s", outDir, es, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var werr error
	select {
	case werr = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 10 s after SIGTERM")
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != 143 {
		t.Errorf("exit: %v, want exit status 143; stderr: %s", werr, stderr.String())
	}
	if es, _ := os.ReadDir(outDir); len(es) != 0 {
		t.Errorf("left in the output directory after SIGTERM: %v", es)
	}
}

// repack rewrites a fixture archive member by member (edit may change a
// member's bytes) with SHA256SUMS recomputed, as Consul writes it.
func repack(t *testing.T, path string, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	members := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		members[h.Name] = edit(h.Name, b)
	}
	meta, state := members["meta.json"], members["state.bin"]
	sums := fmt.Appendf(nil, "%x  meta.json\n%x  state.bin\n", sha256.Sum256(meta), sha256.Sum256(state))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range []struct {
		name string
		b    []byte
	}{{"meta.json", meta}, {"state.bin", state}, {"SHA256SUMS", sums}} {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o600, Size: int64(len(m.b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.b)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// verify reports a meta.json Version raft would refuse in the meta.json
// layer, and fails.
func TestVerifyMetaVersion(t *testing.T) {
	b := repack(t, repoPath("fixtures", "consul-1.13.9", "after.snap"), func(name string, b []byte) []byte {
		if name != "meta.json" {
			return b
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		m["Version"] = 99
		out, _ := json.Marshal(m)
		return out
	})
	p := filepath.Join(t.TempDir(), "v99.snap")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "verify", "--format", "json", p)
	if code != 3 {
		t.Errorf("exit %d, want 3; stderr: %s", code, stderr)
	}
	var v struct {
		Pass  bool
		Files []struct {
			Layers   []struct{ Name, Status string }
			Findings []struct{ Layer, Message string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || len(v.Files) != 1 {
		t.Fatalf("verify JSON: %v\n%s", err, stdout)
	}
	found := false
	for _, f := range v.Files[0].Findings {
		if f.Layer == "meta.json" && strings.Contains(f.Message, "Version is 99") && strings.Contains(f.Message, "restore would refuse") {
			found = true
		}
	}
	if v.Pass || !found {
		t.Errorf("pass %v, no meta.json finding about Version 99: %+v", v.Pass, v.Files[0].Findings)
	}
}

// Pipes, FIFOs and process substitution (/dev/fd/N) are read without
// seeking: verify passes on each as on the file itself.
func TestVerifyStreams(t *testing.T) {
	path := repoPath("fixtures", "consul-1.13.9", "after.snap")
	snap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("FIFO", func(t *testing.T) {
		fifo := feedFIFO(t, t.TempDir(), snap, false)
		stdout, stderr, code := runCLI(t, "verify", fifo)
		if code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
	})
	t.Run("process substitution /dev/fd/3", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binPath, "verify", "/dev/fd/3")
		cmd.ExtraFiles = []*os.File{pr}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pr.Close()
		go func() { pw.Write(snap); pw.Close() }()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v\nstdout: %s\nstderr: %s", err, o.String(), e.String())
		}
	})
	t.Run("stdin", func(t *testing.T) {
		cmd := exec.Command(binPath, "verify", "-")
		cmd.Stdin = bytes.NewReader(snap)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})
}

// endlessReader yields b and then zeros, forever.
type endlessReader struct{ b []byte }

func (r *endlessReader) Read(p []byte) (int, error) {
	if len(r.b) > 0 {
		n := copy(p, r.b)
		r.b = r.b[n:]
		return n, nil
	}
	clear(p)
	return len(p), nil
}

// An endless stream on stdin after the archive ends with a finding (exit
// 3), not a hang: endless zeros inside the gzip stream after the tar's
// end, and endless empty gzip members after the gzip stream.
func TestVerifyEndlessStdin(t *testing.T) {
	snap, err := os.ReadFile(repoPath("fixtures", "consul-1.13.9", "after.snap"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	tarData, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var empty bytes.Buffer
	zw := gzip.NewWriter(&empty)
	zw.Close()
	endlessZeros := func() io.Reader {
		pr, pw := io.Pipe()
		go func() {
			zw := gzip.NewWriter(pw)
			zw.Write(tarData)
			_, err := io.Copy(zw, &endlessReader{})
			pw.CloseWithError(err)
		}()
		return pr
	}
	emptyMembers := func() io.Reader {
		pr, pw := io.Pipe()
		go func() {
			pw.Write(snap)
			for {
				if _, err := pw.Write(empty.Bytes()); err != nil {
					return
				}
			}
		}()
		return pr
	}
	for name, in := range map[string]func() io.Reader{"zeros after the tar": endlessZeros, "empty gzip members after the gzip stream": emptyMembers} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(binPath, "verify", "-")
			stdin := in()
			cmd.Stdin = stdin
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var werr error
			select {
			case werr = <-done:
			case <-time.After(60 * time.Second): // a hang guard, not a timing assertion
				cmd.Process.Kill()
				<-done
				t.Fatalf("verify still reading stdin after 60 s\n%s%s", o.String(), e.String())
			}
			stdin.(io.Closer).Close()
			var ee *exec.ExitError
			if !errors.As(werr, &ee) || ee.ExitCode() != 3 {
				t.Errorf("exit: %v, want 3\n%s%s", werr, o.String(), e.String())
			}
			if !strings.Contains(o.String()+e.String(), "after the tar") {
				t.Errorf("no trailing-data finding:\n%s%s", o.String(), e.String())
			}
		})
	}
}

// rawUnsafe finds a terminal-unsafe character in JSON output: ESC and the
// other C0 controls but the JSON whitespace \n and \t, DEL, C1 controls
// and bidi overrides/isolates/marks.
func rawUnsafe(b []byte) (string, bool) {
	for _, r := range string(b) {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x061c || r == 0x200e || r == 0x200f ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return fmt.Sprintf("%U", r), true
		}
	}
	return "", false
}

// dump's and kv export's JSON escape the control and bidi characters of a
// crafted KV key and meta.json ID (\u001b, \u009b, \u202e), so that the
// terminal is safe even through `jq -r`.
func TestJSONOutputsTerminalSafe(t *testing.T) {
	hostileKey := "\x1b]0;x\x07\u009b\u202ec"      // as long as "config/cache"
	hostileID := `\u001b[2J` + "\u009d\u2066-1795" // in meta.json's JSON; as long as "2-109-1795550639209"
	if len(hostileKey) != len("config/cache") || len(hostileID) != len("2-109-1795550639209") {
		t.Fatal("replacement lengths differ")
	}
	b := repack(t, repoPath("fixtures", "consul-1.13.9", "after.snap"), func(name string, b []byte) []byte {
		switch name {
		case "state.bin":
			return bytes.ReplaceAll(b, []byte("app/config/cache"), []byte("app/"+hostileKey))
		case "meta.json":
			return bytes.ReplaceAll(b, []byte("2-109-1795550639209"), []byte(hostileID))
		}
		return b
	})
	dir := t.TempDir()
	p := filepath.Join(dir, "hostile.snap")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"dump", p}, {"kv", "export", p}, {"kv", "export", p, "app/"}} {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if r, bad := rawUnsafe([]byte(stdout)); bad {
			t.Errorf("%v: raw %s in the JSON output", args, r)
		}
		if !strings.Contains(stdout, `\u009b`) || !strings.Contains(stdout, `\u202e`) {
			t.Errorf("%v: the hostile key is not in the output, escaped", args)
		}
	}
	out := filepath.Join(dir, "kv.json")
	if _, stderr, code := runCLI(t, "kv", "export", "-o", out, p); code != 0 {
		t.Fatalf("kv export -o: %d %s", code, stderr)
	}
	exported, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r, bad := rawUnsafe(exported); bad {
		t.Errorf("kv export -o: raw %s in the file", r)
	}
	// Same JSON value: the key reads back as it is in the snapshot.
	var entries []struct{ Key string }
	if err := json.Unmarshal(exported, &entries); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || e.Key == "app/"+hostileKey
	}
	if !found {
		t.Errorf("the hostile key does not read back from the export")
	}
}
