//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// kvStream writes an archive of in-order KVS records to w: n records
// (meta.json's Size and the tar header say exactly their size), or with
// n < 0 a state.bin announced as 1 TiB and records until a write fails.
// written counts the bytes that reached w (so, on a pipe, that the reader
// took them).
func kvStream(w io.Writer, n int64, written *atomic.Int64) error {
	rec := func(i int64) *encode.DirEntry {
		return &encode.DirEntry{Key: fmt.Sprintf("signal/x/%012d", i), CreateIndex: 7, ModifyIndex: 7,
			Value: []byte("a value that is long enough to make the records look like real ones")}
	}
	// Every record has the same size: measure one.
	var one bytes.Buffer
	sw, err := encode.NewStateWriter(&one, 7)
	if err != nil {
		return err
	}
	hdr := sw.Size()
	if err := sw.WriteRecord(decode.TypeKVS, rec(0)); err != nil {
		return err
	}
	size := int64(1) << 40
	if n >= 0 {
		size = hdr + n*(sw.Size()-hdr)
	}
	cw := &countingWriter{w: w, n: written}
	aw, err := encode.NewArchiveWriter(cw, raft.SnapshotMeta{Version: 1, ID: "2-7-1", Index: 7, Term: 2, Size: size},
		encode.ArchiveOptions{Level: 1})
	if err != nil {
		return err
	}
	sw, err = encode.NewStateWriter(aw, 7)
	if err != nil {
		return err
	}
	for i := int64(0); n < 0 || i < n; i++ {
		if err := sw.WriteRecord(decode.TypeKVS, rec(i)); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return aw.Close()
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if c.n != nil {
		c.n.Add(int64(n))
	}
	return n, err
}

// Every command stops on SIGINT (exit 130) and SIGTERM (exit 143), leaves
// no temp file, and does so the same way: busy in its record loop on an
// endless stream (it sees the canceled context, prints
// "Error: interrupted (SIG…)") and blocked on a stalled pipe (the
// signal handler's grace exit). rewrite reads a file twice, so it runs on
// a large generated archive instead of a pipe. The time from the signal to
// the exit is logged, not asserted (timing is for benchmarks): by
// construction it is at most signalGrace plus the process's exit.
func TestSignalsEveryCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: every command through the real binary takes tens of seconds; make test runs it")
	}
	other := repoPath("fixtures", "consul-1.13.9", "after.snap")
	big := filepath.Join(t.TempDir(), "big.snap")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := kvStream(f, 600_000, nil); err != nil { // about 60 MB of state.bin
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	commands := []struct {
		name string
		args []string // IN is the input, OUT/ the output directory
		// tempFirst: the command creates its temp file in OUT/ before it
		// reads (report writes its file after the pass).
		tempFirst bool
	}{
		{"inspect", []string{"inspect", "IN"}, false},
		{"verify", []string{"verify", "IN"}, false},
		{"dump", []string{"dump", "IN"}, false},
		{"diff", []string{"diff", "IN", other}, false},
		{"top", []string{"top", "IN"}, false},
		{"kv export", []string{"kv", "export", "IN"}, false},
		{"kv export -o", []string{"kv", "export", "-o", "OUT/kv.json", "IN"}, true},
		{"kv get", []string{"kv", "get", "IN", "no/such/key"}, false},
		{"report", []string{"report", "--html", "OUT/r.html", "IN"}, false},
		{"preflight", []string{"preflight", "--target", "1.13", "IN"}, false},
		{"rewrite", []string{"rewrite", "IN", "OUT/new.snap"}, true},
	}
	signals := []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}}
	for ci, c := range commands {
		for _, mode := range []string{"busy", "stalled"} {
			for si, s := range signals {
				rewrite := c.args[0] == "rewrite"
				if rewrite && mode == "stalled" {
					continue // a regular file never stalls; rewrite refuses pipes
				}
				if mode == "stalled" && si != ci%2 {
					continue // the grace exit is one path for both signals: one each
				}
				t.Run(c.name+"/"+mode+"/"+s.name, func(t *testing.T) {
					outDir := t.TempDir()
					in := "-"
					if rewrite {
						in = big
					}
					var args []string
					for _, a := range c.args {
						a = strings.Replace(a, "OUT/", outDir+"/", 1)
						if a == "IN" {
							a = in
						}
						args = append(args, a)
					}
					cmd := exec.Command(binPath, args...)
					var stderr bytes.Buffer
					cmd.Stderr = &stderr // stdout: /dev/null
					var written atomic.Int64
					release := make(chan struct{})
					defer close(release)
					if !rewrite {
						pw, err := cmd.StdinPipe()
						if err != nil {
							t.Fatal(err)
						}
						go func() {
							defer pw.Close()
							if mode == "busy" {
								kvStream(pw, -1, &written)
								return
							}
							// Stalled: 256 KiB, then the pipe stays open and silent.
							kvStream(&limitWriter{w: pw, left: 256 << 10}, -1, &written)
							<-release
						}()
					}
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					done := make(chan error, 1)
					go func() { done <- cmd.Wait() }()
					// Signal once the command is at work: its temp file exists
					// (commands with an output) and it has read the first 256 KiB.
					ready := func() bool {
						if c.tempFirst {
							es, _ := os.ReadDir(outDir)
							if len(es) == 0 {
								return false
							}
						}
						return rewrite || written.Load() >= 256<<10
					}
					deadline := time.Now().Add(20 * time.Second)
					for !ready() {
						select {
						case err := <-done:
							t.Fatalf("ended before the signal: %v; stderr: %s", err, stderr.String())
						default:
						}
						if time.Now().After(deadline) {
							cmd.Process.Kill()
							t.Fatalf("not at work after 20 s; stderr: %s", stderr.String())
						}
						time.Sleep(5 * time.Millisecond)
					}
					if mode == "stalled" {
						time.Sleep(100 * time.Millisecond) // let it block on the silent pipe
					}
					sent := time.Now()
					if err := cmd.Process.Signal(s.sig); err != nil {
						t.Fatal(err)
					}
					var werr error
					select {
					case werr = <-done:
					case <-time.After(10 * time.Second):
						cmd.Process.Kill()
						t.Fatalf("still running 10 s after %s; stderr: %s", s.name, stderr.String())
					}
					took := time.Since(sent)
					var ee *exec.ExitError
					if !errors.As(werr, &ee) || ee.ExitCode() != s.code {
						t.Errorf("exit: %v, want exit status %d; stderr: %s", werr, s.code, stderr.String())
					}
					// Busy, the command sees ctx and returns (run prints the
					// cause); stalled, the grace exit says so, unless the
					// command was still working through what it had read.
					returned := strings.Contains(stderr.String(), "Error: interrupted ("+s.name+")\n")
					graceExit := strings.Contains(stderr.String(), "Error: interrupted ("+s.name+"): stopped after")
					if mode == "busy" && !returned || mode == "stalled" && !returned && !graceExit {
						t.Errorf("%s: stderr does not say how it stopped:\n%s", mode, stderr.String())
					}
					if es, _ := os.ReadDir(outDir); len(es) != 0 {
						var names []string
						for _, e := range es {
							names = append(names, e.Name())
						}
						t.Errorf("left in the output directory: %v", names)
					}
					t.Logf("%s %s %s: exit %d after %v", c.name, mode, s.name, ee.ExitCode(), took.Round(time.Millisecond))
				})
			}
		}
	}
}

// limitWriter passes the first left bytes to w and then fails.
type limitWriter struct {
	w    io.Writer
	left int64
}

var errLimit = errors.New("limit reached")

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && l.left <= 0 {
		err = errLimit
	}
	return n, err
}

// Every command's help (and the global one) lists both signal exit codes.
func TestHelpExitStatusSignals(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"inspect", "--help"}, {"verify", "--help"}, {"dump", "--help"},
		{"diff", "--help"}, {"top", "--help"}, {"kv", "--help"}, {"kv", "export", "--help"}, {"kv", "get", "--help"},
		{"report", "--help"}, {"preflight", "--help"}, {"rewrite", "--help"}, {"history", "--help"}, {"log", "--help"}} {
		out, _, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "EXIT STATUS") || !strings.Contains(out, "130  interrupted (SIGINT") ||
			!strings.Contains(out, "143  terminated (SIGTERM)") {
			t.Errorf("%v: exit %d, no 130/143 in EXIT STATUS:\n%s", args, code, out)
		}
	}
	tested := map[string]bool{"inspect": true, "verify": true, "dump": true, "diff": true, "top": true, "kv": true,
		"report": true, "preflight": true, "rewrite": true, "history": true, "log": true,
		// print and exit at once, reading nothing: nothing to interrupt
		"version": true, "help": true, "completion": true}
	for name := range commands {
		if !tested[name] {
			t.Errorf("command %s is not in this test (nor in TestSignalsEveryCommand)", name)
		}
	}
}
