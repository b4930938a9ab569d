//go:build linux

package safefile

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// resetTemps undoes RemoveTemps for the next test.
func resetTemps(t *testing.T) {
	t.Cleanup(func() {
		temps.Lock()
		temps.stopped = false
		temps.live = nil
		temps.Unlock()
	})
}

// A destination that exists and is not a regular file is refused before
// anything is created: a rename would replace the device, FIFO or socket
// with a regular file (as root, /dev/null itself).
func TestWriteRefusesNonRegular(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		want  string // in the message
	}{
		{"/dev/null", func(t *testing.T, dir string) string {
			// As root a broken check would replace the machine's
			// /dev/null; use a node of the same device in dir instead.
			if os.Geteuid() != 0 {
				return "/dev/null"
			}
			p := filepath.Join(dir, "null")
			if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
				t.Skipf("mknod: %v", err)
			}
			return p
		}, "character device"},
		{"symlink to /dev/null", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "out.html")
			if err := os.Symlink("/dev/null", p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "character device"},
		{"FIFO", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, "FIFO"},
		{"symlink to a FIFO", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			l := filepath.Join(dir, "link")
			if err := os.Symlink("fifo", l); err != nil {
				t.Fatal(err)
			}
			return l
		}, "FIFO"},
		{"directory", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "sub")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, "directory"},
		{"socket", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "sock")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Skipf("unix sockets: %v", err)
			}
			t.Cleanup(func() { l.Close() })
			return p
		}, "socket"},
		{"dangling symlink", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "link")
			if err := os.Symlink("missing", p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "symlink"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := c.setup(t, dir)
			before, err := os.Lstat(dest)
			if err != nil {
				t.Fatal(err)
			}
			beforeDir := entries(t, dir)
			called := false
			err = Write(dest, nil, func(w io.Writer) error { called = true; _, err := io.WriteString(w, "x"); return err })
			if !errors.Is(err, ErrNotRegular) {
				t.Fatalf("Write(%s): got %v, want ErrNotRegular", dest, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), dest) {
				t.Errorf("error %q does not name %s as %s", err, dest, c.want)
			}
			if called {
				t.Error("write callback ran")
			}
			after, err := os.Lstat(dest)
			if err != nil {
				t.Fatal(err)
			}
			if after.Mode() != before.Mode() || !os.SameFile(before, after) {
				t.Errorf("destination changed: %v → %v", before.Mode(), after.Mode())
			}
			if got := entries(t, dir); strings.Join(got, ",") != strings.Join(beforeDir, ",") {
				t.Errorf("directory changed: %v → %v", beforeDir, got)
			}
		})
	}
}

// New files are 0600 under any umask; an existing regular file keeps its
// mode (chmod is not subject to the umask).
func TestWriteModes(t *testing.T) {
	for _, umask := range []int{0, 0o022, 0o027, 0o077} {
		for _, existing := range []os.FileMode{0, 0o644, 0o640, 0o600, 0o755} {
			old := syscall.Umask(umask)
			dir := t.TempDir()
			dest := filepath.Join(dir, "out")
			if existing != 0 {
				if err := os.WriteFile(dest, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dest, existing); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(dest, nil, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err })
			syscall.Umask(old)
			if err != nil {
				t.Fatal(err)
			}
			want := existing
			if want == 0 {
				want = 0o600
			}
			st, err := os.Stat(dest)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != want {
				t.Errorf("umask %04o, existing %04o: mode %04o, want %04o", umask, existing, st.Mode().Perm(), want)
			}
		}
	}
}

// RemoveTemps (the signal path) removes the temp file of a Write in
// progress at once, and that Write then fails without renaming.
func TestRemoveTempsMidWrite(t *testing.T) {
	resetTemps(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "export.json")
	if err := os.WriteFile(dest, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	var removed []string
	err := Write(dest, nil, func(w io.Writer) error {
		io.WriteString(w, "partial")
		if n := len(entries(t, dir)); n != 2 {
			t.Errorf("%d entries while writing, want the output and one temp file", n)
		}
		removed = RemoveTemps()
		if got := entries(t, dir); len(got) != 1 {
			t.Errorf("after RemoveTemps the directory holds %v", got)
		}
		_, err := io.WriteString(w, " more")
		return err
	})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Write after RemoveTemps: %v, want ErrInterrupted", err)
	}
	if len(removed) != 1 || !strings.Contains(removed[0], ".tmp-") {
		t.Errorf("RemoveTemps removed %v", removed)
	}
	if got := readFile(t, dest); got != "old" {
		t.Errorf("destination holds %q", got)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("left behind: %v", got)
	}
	// Later writes are refused too: the process is on its way out.
	if err := Write(filepath.Join(dir, "new"), nil, func(io.Writer) error { return nil }); !errors.Is(err, ErrInterrupted) {
		t.Errorf("Write after RemoveTemps: %v", err)
	}
}

// NotifyContext: the signal removes the temp file of a Write in progress
// at once and cancels the context with the signal as its cause; exit
// follows after the grace period with 128+signal, or at once on a second
// signal.
func TestNotifyContext(t *testing.T) {
	for _, c := range []struct {
		name  string
		sigs  []syscall.Signal
		grace time.Duration
		want  int
	}{
		{"SIGTERM after the grace period", []syscall.Signal{syscall.SIGTERM}, 50 * time.Millisecond, 143},
		{"second SIGINT exits at once", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, time.Hour, 130},
	} {
		t.Run(c.name, func(t *testing.T) {
			resetTemps(t)
			codes := make(chan int, 1)
			ctx, stop := NotifyContext(context.Background(), c.grace, func(code int) { codes <- code })
			defer stop()
			dir := t.TempDir()
			err := Write(filepath.Join(dir, "out"), nil, func(w io.Writer) error {
				io.WriteString(w, "partial")
				for _, s := range c.sigs {
					if err := syscall.Kill(os.Getpid(), s); err != nil {
						t.Fatal(err)
					}
					time.Sleep(20 * time.Millisecond)
				}
				select {
				case code := <-codes:
					if code != c.want {
						t.Errorf("exit(%d), want %d", code, c.want)
					}
				case <-time.After(30 * time.Second):
					t.Error("exit not called")
				}
				return nil
			})
			if !errors.Is(err, ErrInterrupted) {
				t.Errorf("Write: %v, want ErrInterrupted", err)
			}
			var in *Interrupted
			if cause := context.Cause(ctx); ctx.Err() == nil || !errors.As(cause, &in) || in.Signal != c.sigs[0] ||
				!errors.Is(cause, context.Canceled) || in.ExitCode() != 128+int(c.sigs[0]) {
				t.Errorf("context: err %v, cause %v; want canceled by %v", ctx.Err(), cause, c.sigs[0])
			}
			if es := entries(t, dir); len(es) != 0 {
				t.Errorf("left behind: %v", es)
			}
		})
	}
}
