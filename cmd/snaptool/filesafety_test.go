//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// File safety: every command, in every format, over inputs that are
// read-only copies (0444 files, 0555 directories) of the fixtures. After
// each run no input may have changed (content hash, size, mode, mtime), no
// file may have appeared beside the inputs, and — because the tests may run
// as root, which ignores permission bits — inotify must have seen no
// input opened for writing (IN_CLOSE_WRITE), modified or re-attributed.
// Commands that write a file (kv export -o, report --html) must refuse an
// input as destination, write atomically and leave no temp file on any
// error path.

// outputFlags names, per command, the flag that makes it write a file, and
// the arguments that precede the input.
var outputFlags = map[string]struct {
	pre  []string
	flag string
}{
	"kv":      {pre: []string{"export"}, flag: "-o"},
	"report":  {flag: "--html"},
	"history": {flag: "--out"},
}

type fileState struct {
	sum   [32]byte
	mode  fs.FileMode
	mtime time.Time
}

func snapshotTree(t *testing.T, root string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fsx := fileState{mode: st.Mode(), mtime: st.ModTime()}
		if st.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fsx.sum = sha256.Sum256(b)
		}
		out[p] = fsx
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// watcher reports inotify events that mean an input was written.
type watcher struct {
	fd    int
	names map[int32]string
}

const writeEvents = syscall.IN_MODIFY | syscall.IN_ATTRIB | syscall.IN_CLOSE_WRITE | syscall.IN_MOVE_SELF | syscall.IN_DELETE_SELF |
	syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO

func newWatcher(t *testing.T, root string) *watcher {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	w := &watcher{fd: fd, names: map[int32]string{}}
	t.Cleanup(func() { syscall.Close(fd) })
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		wd, err := syscall.InotifyAddWatch(fd, p, writeEvents)
		if err != nil {
			t.Fatalf("inotify watch %s: %v", p, err)
		}
		w.names[int32(wd)] = p
		return nil
	})
	return w
}

// events drains pending events and describes them.
func (w *watcher) events() []string {
	var out []string
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Read(w.fd, buf)
		if n <= 0 || err != nil {
			return out
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := ""
			if ev.Len > 0 {
				name = "/" + string(bytes.TrimRight(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			}
			out = append(out, describeMask(ev.Mask)+" "+w.names[ev.Wd]+name)
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

func describeMask(m uint32) string {
	var parts []string
	for bit, name := range map[uint32]string{syscall.IN_MODIFY: "modify", syscall.IN_ATTRIB: "attrib", syscall.IN_CLOSE_WRITE: "close-after-write-open",
		syscall.IN_MOVE_SELF: "move", syscall.IN_DELETE_SELF: "delete", syscall.IN_CREATE: "create", syscall.IN_DELETE: "delete-entry",
		syscall.IN_MOVED_FROM: "moved-from", syscall.IN_MOVED_TO: "moved-to"} {
		if m&bit != 0 {
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, "|")
}

// safetyInputs copies the fixtures into dir/in, makes them read-only and
// returns the placeholder map.
func safetyInputs(t *testing.T, dir string) (in string, ph map[string]string) {
	t.Helper()
	in = filepath.Join(dir, "in")
	copyFile(t, repoPath(fixDir, "before.snap"), filepath.Join(in, "before.snap"))
	copyFile(t, repoPath(fixDir, "after.snap"), filepath.Join(in, "after.snap"))
	dirs, _ := filepath.Glob(repoPath(fixDir, "datadir", "*-*-*"))
	if len(dirs) == 0 {
		t.Fatal("no data-dir fixture")
	}
	id := filepath.Base(dirs[0])
	for _, f := range []string{"state.bin", "meta.json"} {
		copyFile(t, filepath.Join(dirs[0], f), filepath.Join(in, "datadir", id, f))
		copyFile(t, repoPath("fixtures", "consul-testdata", "raw", f), filepath.Join(in, "raw", f))
	}
	patchedSnapshot(t, filepath.Join(in, "after.snap"), in, "b0000000-0000-4000-8000-000000000001", "c0ffee00-0000-4000-8000-000000000001")
	unpackRaftlog(t, raftlogFixture(fixDir), filepath.Join(in, "raftdata"))
	full, _ := os.ReadFile(filepath.Join(in, "after.snap"))
	if err := os.WriteFile(filepath.Join(in, "damaged.snap"), full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// Read-only: files 0444, directories 0555 (restored for cleanup).
	filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			return nil
		}
		return os.Chmod(p, 0o444)
	})
	var dirsRO []string
	filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			dirsRO = append(dirsRO, p)
		}
		return nil
	})
	for i := len(dirsRO) - 1; i >= 0; i-- {
		os.Chmod(dirsRO[i], 0o555)
	}
	t.Cleanup(func() {
		for _, d := range dirsRO {
			os.Chmod(d, 0o755)
		}
	})
	return in, map[string]string{
		"{A}":  filepath.Join(in, "before.snap"),
		"{B}":  filepath.Join(in, "after.snap"),
		"{D}":  filepath.Join(in, "datadir", id),
		"{P}":  filepath.Join(in, "patched.snap"),
		"{R}":  filepath.Join(in, "raw", "state.bin"),
		"{X}":  filepath.Join(in, "damaged.snap"),
		"{L}":  filepath.Join(in, "raftdata"),
		"{LA}": strconv.FormatUint(raftlogSnapIndex(t, filepath.Join(in, "raftdata"))+1, 10),
		"{LB}": strconv.FormatUint(raftlogSnapIndex(t, filepath.Join(in, "raftdata"))+5, 10),
	}
}

func expand(args []string, ph map[string]string) []string {
	var out []string
	for _, a := range args {
		for k, v := range ph {
			a = strings.ReplaceAll(a, k, v)
		}
		out = append(out, a)
	}
	return out
}

// checkInputs fails if anything under in changed since want, or inotify saw a write.
func checkInputs(t *testing.T, in string, want map[string]fileState, w *watcher) {
	t.Helper()
	got := snapshotTree(t, in)
	for p, g := range got {
		o, ok := want[p]
		switch {
		case !ok:
			t.Errorf("new file beside the inputs: %s", p)
		case g != o:
			t.Errorf("input changed: %s (was %v %v, now %v %v)", p, o.mode, o.mtime, g.mode, g.mtime)
		}
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			t.Errorf("input removed: %s", p)
		}
	}
	if ev := w.events(); len(ev) > 0 {
		t.Errorf("inputs written to (inotify): %v", ev)
	}
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
}

func TestInputsNeverWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the quick loop; make test runs it")
	}
	dir := t.TempDir()
	in, ph := safetyInputs(t, dir)
	want := snapshotTree(t, in)
	w := newWatcher(t, in)
	outDir := filepath.Join(dir, "out")
	os.Mkdir(outDir, 0o755)

	// Canary: the watcher must notice an input merely opened for writing
	// (root can do that despite 0444), else it proves nothing.
	if f, err := os.OpenFile(ph["{B}"], os.O_WRONLY, 0); err == nil {
		f.Close()
		if ev := w.events(); len(ev) == 0 || !strings.Contains(strings.Join(ev, " "), "close-after-write-open") {
			t.Fatalf("inotify missed an open for writing: %v", ev)
		}
	}

	extra := map[string][]auditPlan{
		"inspect": {{args: []string{"{R}"}}, {args: []string{"{X}"}}},
		"dump":    {{args: []string{"{R}"}}, {args: []string{"{X}"}}},
		"verify":  {{args: []string{"{R}", "{X}", "{P}"}}},
		"diff":    {{args: []string{"{R}", "{D}"}}, {args: []string{"{A}", "{X}"}}},
		"top":     {{args: []string{"{D}"}}},
		"kv":      {{args: []string{"export", "{R}"}}, {args: []string{"export", "-o", "{OUT}", "{X}"}}},
		"report":  {{args: []string{"--html", "{OUT}", "{D}", "{X}"}}},
		"history": {{args: []string{"{R}", "{X}", "{D}"}}, {args: []string{"--out", "{OUT}", "{A}", "{X}"}}},
	}
	extra["preflight"] = []auditPlan{{args: []string{"--target", "1.12", "{R}", "{D}", "{X}", "{P}"}}}
	extra["rewrite"] = []auditPlan{{args: []string{"--drop-enterprise", "{D}", "{OUT}"}}, {args: []string{"--kv-prefix", "app/", "{R}", "{OUT}"}}, {args: []string{"{X}", "{OUT}"}}}
	runs := 0
	for _, name := range commandsFromHelp(t) {
		plans := append(append([]auditPlan(nil), auditPlans[name]...), extra[name]...)
		if len(plans) == 0 {
			t.Errorf("command %q has no file-safety plan: add it to auditPlans", name)
			continue
		}
		formats, _ := commandFlags(t, name)
		if len(formats) == 0 {
			formats = []string{""}
		}
		for _, plan := range plans {
			for _, format := range formats {
				args := append([]string{name}, expand(plan.args, ph)...)
				for i, a := range args {
					args[i] = strings.ReplaceAll(a, "{OUT}", filepath.Join(outDir, "out.file"))
				}
				if format != "" {
					args = append(args, "--format", format)
				}
				_, stderr, code := runCLI(t, args...)
				runs++
				if code == 2 {
					t.Errorf("%v: exit 2 (usage or I/O error), the run proves nothing:\n%s", args, stderr)
				}
				checkInputs(t, in, want, w)
			}
		}
	}
	noTemps(t, outDir)
	t.Logf("%d runs, inputs untouched", runs)
}

func TestOutputFiles(t *testing.T) {
	dir := t.TempDir()
	in, ph := safetyInputs(t, dir)
	want := snapshotTree(t, in)
	w := newWatcher(t, in)
	cmds := commandsFromHelp(t)
	for name, of := range outputFlags {
		found := false
		for _, c := range cmds {
			found = found || c == name
		}
		if !found {
			t.Errorf("%s is listed in outputFlags but not in snaptool --help", name)
			continue
		}
		run := func(t *testing.T, out string, inputs ...string) (string, int) {
			args := append(append([]string{name}, of.pre...), of.flag, out)
			args = append(args, expand(inputs, ph)...)
			_, stderr, code := runCLI(t, args...)
			return stderr, code
		}
		t.Run(name+" refuses to overwrite an input", func(t *testing.T) {
			for _, c := range []struct{ out, input string }{
				{ph["{B}"], "{B}"},
				{filepath.Join(in, "datadir", "..", "after.snap"), "{B}"},
				{filepath.Join(in, "raw", "meta.json"), "{R}"},
				{filepath.Join(ph["{D}"], "state.bin"), "{D}"},
			} {
				stderr, code := run(t, c.out, c.input)
				if code != 2 || !strings.Contains(stderr, "refusing to overwrite an input") {
					t.Errorf("output %s for input %s: exit %d, stderr %q; want exit 2 and a refusal", c.out, c.input, code, stderr)
				}
				checkInputs(t, in, want, w)
			}
			// A symlink to an input is the input.
			link := filepath.Join(dir, "link-to-input.snap")
			os.Symlink(ph["{A}"], link)
			if stderr, code := run(t, link, "{A}"); code != 2 || !strings.Contains(stderr, "refusing") {
				t.Errorf("symlink to the input: exit %d, %q", code, stderr)
			}
			checkInputs(t, in, want, w)
		})
		t.Run(name+" writes atomically, no temp files", func(t *testing.T) {
			outDir := t.TempDir()
			out := filepath.Join(outDir, "result")
			if stderr, code := run(t, out, "{B}"); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			st, err := os.Stat(out)
			if err != nil || st.Size() == 0 {
				t.Fatalf("output not written: %v", err)
			}
			noTemps(t, outDir)
			if entries, _ := os.ReadDir(outDir); len(entries) != 1 {
				t.Errorf("output dir holds %d entries, want only the output", len(entries))
			}
		})
		t.Run(name+" error paths leave no temp file", func(t *testing.T) {
			outDir := t.TempDir()
			// Missing directory.
			if _, code := run(t, filepath.Join(outDir, "missing", "x"), "{B}"); code == 0 {
				t.Errorf("writing into a missing directory succeeded")
			}
			// Damaged input over an existing output.
			out := filepath.Join(outDir, "result")
			os.WriteFile(out, []byte("previous"), 0o644)
			_, code := run(t, out, "{X}")
			if code != 3 {
				t.Errorf("damaged input: exit %d, want 3", code)
			}
			b, _ := os.ReadFile(out)
			if name == "kv" && string(b) != "previous" {
				t.Errorf("kv export replaced the previous output although the snapshot is damaged")
			}
			if string(b) != "previous" && len(b) < 100 {
				t.Errorf("output is neither the previous file nor a complete new one: %q", b)
			}
			// Unreadable input.
			if _, code := run(t, out+"2", filepath.Join(dir, "no-such.snap")); code != 2 {
				t.Errorf("missing input: exit %d, want 2", code)
			}
			if _, err := os.Stat(out + "2"); err == nil {
				t.Errorf("output written for a missing input")
			}
			noTemps(t, outDir)
			entries, _ := os.ReadDir(outDir)
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("output dir holds %v, want only the output", names)
			}
			checkInputs(t, in, want, w)
		})
	}
}
