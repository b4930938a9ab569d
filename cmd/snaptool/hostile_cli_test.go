//go:build linux

package main

import (
	"bytes"
	"errors"
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
