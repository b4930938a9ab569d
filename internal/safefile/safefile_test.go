package safefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// entries lists a directory's names, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o444); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWrite(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name     string
		setup    func(t *testing.T, dir string) (dest string, inputs []string)
		write    func(dest string) func(io.Writer) error
		wantErr  error  // errors.Is; nil = success
		want     string // destination content afterwards ("" = must not exist)
		wantKeep map[string]string
	}{
		{
			name:  "new file",
			setup: func(t *testing.T, dir string) (string, []string) { return filepath.Join(dir, "out.json"), nil },
			write: func(string) func(io.Writer) error {
				return func(w io.Writer) error { _, err := io.WriteString(w, "hello\n"); return err }
			},
			want: "hello\n",
		},
		{
			name: "replaces an existing output only when complete",
			setup: func(t *testing.T, dir string) (string, []string) {
				p := filepath.Join(dir, "out.json")
				mustWrite(t, p, "old")
				return p, nil
			},
			write: func(dest string) func(io.Writer) error {
				return func(w io.Writer) error {
					io.WriteString(w, "new")
					// While writing, the destination still holds the old content.
					if b, _ := os.ReadFile(dest); string(b) != "old" {
						return errors.New("destination changed before the rename: " + string(b))
					}
					return nil
				}
			},
			want: "new",
		},
		{
			name:  "error mid-write leaves nothing",
			setup: func(t *testing.T, dir string) (string, []string) { return filepath.Join(dir, "out.json"), nil },
			write: func(string) func(io.Writer) error {
				return func(w io.Writer) error {
					io.WriteString(w, strings.Repeat("partial ", 10000))
					return errBoom
				}
			},
			wantErr: errBoom,
		},
		{
			name: "error mid-write keeps the old output",
			setup: func(t *testing.T, dir string) (string, []string) {
				p := filepath.Join(dir, "out.json")
				mustWrite(t, p, "old")
				return p, nil
			},
			write: func(string) func(io.Writer) error {
				return func(w io.Writer) error { io.WriteString(w, "half"); return errBoom }
			},
			wantErr: errBoom,
			want:    "old",
		},
		{
			name: "refuses the input itself",
			setup: func(t *testing.T, dir string) (string, []string) {
				p := filepath.Join(dir, "backup.snap")
				mustWrite(t, p, "INPUT")
				return p, []string{p}
			},
			wantErr: ErrIsInput,
			want:    "INPUT",
		},
		{
			name: "refuses the input by another relative path",
			setup: func(t *testing.T, dir string) (string, []string) {
				p := filepath.Join(dir, "backup.snap")
				mustWrite(t, p, "INPUT")
				os.Mkdir(filepath.Join(dir, "sub"), 0o755)
				return filepath.Join(dir, "sub", "..", "backup.snap"), []string{p}
			},
			wantErr: ErrIsInput,
			want:    "INPUT",
		},
		{
			name: "refuses a hard link to the input",
			setup: func(t *testing.T, dir string) (string, []string) {
				p := filepath.Join(dir, "backup.snap")
				mustWrite(t, p, "INPUT")
				l := filepath.Join(dir, "link.snap")
				if err := os.Link(p, l); err != nil {
					t.Skipf("hard links unsupported: %v", err)
				}
				return l, []string{p}
			},
			wantErr:  ErrIsInput,
			want:     "INPUT",
			wantKeep: map[string]string{"backup.snap": "INPUT"},
		},
		{
			name: "refuses a symlink to the input",
			setup: func(t *testing.T, dir string) (string, []string) {
				p := filepath.Join(dir, "backup.snap")
				mustWrite(t, p, "INPUT")
				l := filepath.Join(dir, "sym.snap")
				if err := os.Symlink("backup.snap", l); err != nil {
					t.Skipf("symlinks unsupported: %v", err)
				}
				return l, []string{p}
			},
			wantErr:  ErrIsInput,
			want:     "INPUT",
			wantKeep: map[string]string{"backup.snap": "INPUT"},
		},
		{
			name: "another file beside the input is fine",
			setup: func(t *testing.T, dir string) (string, []string) {
				p := filepath.Join(dir, "backup.snap")
				mustWrite(t, p, "INPUT")
				return filepath.Join(dir, "report.html"), []string{p}
			},
			want:     "x",
			wantKeep: map[string]string{"backup.snap": "INPUT"},
		},
		{
			name:    "missing directory",
			setup:   func(t *testing.T, dir string) (string, []string) { return filepath.Join(dir, "nope", "out.json"), nil },
			wantErr: os.ErrNotExist,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dest, inputs := c.setup(t, dir)
			before := entries(t, dir)
			called := false
			write := func(w io.Writer) error { called = true; _, err := io.WriteString(w, "x"); return err }
			if c.write != nil {
				inner := c.write(dest)
				write = func(w io.Writer) error { called = true; return inner(w) }
			}
			err := Write(dest, inputs, write)
			switch {
			case c.wantErr == nil && err != nil:
				t.Fatalf("Write: %v", err)
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Fatalf("Write: got %v, want %v", err, c.wantErr)
			}
			if errors.Is(c.wantErr, ErrIsInput) && called {
				t.Errorf("write callback ran although the destination is an input")
			}
			if c.want != "" {
				if got := readFile(t, dest); got != c.want {
					t.Errorf("destination holds %q, want %q", got, c.want)
				}
			} else if _, serr := os.Lstat(dest); !os.IsNotExist(serr) {
				t.Errorf("destination exists after a failed write (%v)", serr)
			}
			for name, want := range c.wantKeep {
				if got := readFile(t, filepath.Join(dir, name)); got != want {
					t.Errorf("%s changed to %q", name, got)
				}
			}
			// No temp file is ever left behind.
			after := entries(t, dir)
			for _, n := range after {
				if strings.Contains(n, ".tmp-") {
					t.Errorf("temp file left behind: %s (dir: %v)", n, after)
				}
			}
			if err != nil && strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("failed write changed the directory: %v → %v", before, after)
			}
			if err == nil {
				// New files are 0600; an existing output (written 0444 by
				// mustWrite) keeps its mode.
				want := os.FileMode(0o600)
				if len(before) > len(inputs) {
					want = 0o444
				}
				st, _ := os.Stat(dest)
				if st.Mode().Perm() != want {
					t.Errorf("mode %v, want %v", st.Mode().Perm(), want)
				}
			}
		})
	}
}
