package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/snaptool/snaptool/internal/hostile"
)

// rawControl returns the first control or bidi character in b that a
// terminal would act on (C0 but tab and newline, DEL, C1, bidi overrides
// and isolates), or "" if there is none.
func rawControl(b []byte) string {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			// an invalid byte: not a control character by itself
		case r < 0x20 && r != '\t' && r != '\n', r == 0x7f, r >= 0x80 && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return string(r)
		}
		b = b[n:]
	}
	return ""
}

// TestHostileCorpus runs every command through the real binary on each
// crafted class of internal/hostile at scale 1 (the growing sizes are
// scripts/hostile-mem.sh's): no panic, an exit code of the documented set
// (and the exact one where the class decides it), no raw control character
// on stdout or stderr, and none of the planted secrets anywhere, the HTML
// report and the rewritten archive's dump included.
func TestHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: every command through the real binary takes tens of seconds; make test runs it")
	}
	dir := t.TempDir()
	// want: exit codes per class and command where the class decides them
	// ("*" for every command); other commands may exit 0 to 3.
	want := map[string]map[string]int{
		"sparse-member":  {"*": 3, "kv-get": 3, "report": 3},
		"reverse-order":  {"diff": 3, "verify": 0, "inspect": 0},
		"duplicate-keys": {"diff": 3},
		"zero-records":   {"verify": 3},
		"config-secrets": {"verify": 3},
		"large-records":  {"verify": 0, "diff": 1},
	}
	for _, c := range hostile.Classes() {
		t.Run(c.Name, func(t *testing.T) {
			var ab [2]string
			for side := range ab {
				b, err := c.Bytes(1, side)
				if err != nil {
					t.Fatal(err)
				}
				ab[side] = filepath.Join(dir, c.Name+[]string{"-a", "-b"}[side]+".snap")
				if err := os.WriteFile(ab[side], b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			a, b := ab[0], ab[1]
			out := filepath.Join(t.TempDir(), "out")
			runs := []struct {
				name string
				args []string
			}{
				{"inspect", []string{"inspect", b}},
				{"inspect-json", []string{"inspect", "--format", "json", b}},
				{"verify", []string{"verify", b}},
				{"verify-json", []string{"verify", "--format", "json", b}},
				{"top-json", []string{"top", "--format", "json", b}},
				{"history-csv", []string{"history", "--format", "csv", a, b}},
				{"history-prometheus", []string{"history", "--format", "prometheus", a, b}},
				{"history-html", []string{"history", "--format", "html", "--out", out + ".history.html", a, b}},
				{"dump", []string{"dump", b}},
				{"diff", []string{"diff", a, b}},
				{"diff-stat", []string{"diff", "--stat", a, b}},
				{"diff-json", []string{"diff", "--format", "json", a, b}},
				{"top", []string{"top", b}},
				{"kv-export", []string{"kv", "export", b}},
				{"kv-get", []string{"kv", "get", b, "no/such/key"}},
				{"report", []string{"report", "--html", out + ".html", a, b}},
				{"preflight", []string{"preflight", "--target", "1.13", b}},
				{"rewrite", []string{"rewrite", b, out + ".snap"}},
			}
			for _, r := range runs {
				stdout, stderr, code := runCLI(t, r.args...)
				if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") || code < 0 || code > 3 {
					t.Errorf("%s: exit %d\n%s", r.name, code, stderr)
					continue
				}
				if w, ok := want[c.Name][r.name]; ok && code != w {
					t.Errorf("%s: exit %d, want %d; stderr: %s", r.name, code, w, stderr)
				} else if w, ok := want[c.Name]["*"]; ok && !ok2(want[c.Name], r.name) && code != w {
					t.Errorf("%s: exit %d, want %d; stderr: %s", r.name, code, w, stderr)
				}
				for _, s := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", stderr}} {
					if ch := rawControl([]byte(s.text)); ch != "" {
						t.Errorf("%s: raw control character %q on %s", r.name, ch, s.name)
					}
					for _, secret := range hostile.Secrets {
						if strings.Contains(s.text, secret) {
							t.Errorf("%s: secret %q on %s", r.name, secret, s.name)
						}
					}
				}
			}
			for _, page := range []string{out + ".html", out + ".history.html"} {
				html, err := os.ReadFile(page)
				if err != nil {
					continue
				}
				if ch := rawControl(html); ch != "" {
					t.Errorf("%s: raw control character %q in the page", filepath.Base(page), ch)
				}
				for _, secret := range hostile.Secrets {
					if strings.Contains(string(html), secret) {
						t.Errorf("report: secret %q in the HTML", secret)
					}
				}
			}
			if c.Name == "config-secrets" {
				// The class does plant them: --show-secrets shows them.
				stdout, _, _ := runCLI(t, "dump", "--show-secrets", b)
				for _, secret := range []string{hostile.Secrets[1], hostile.Secrets[3], hostile.Secrets[5]} {
					if !strings.Contains(stdout, secret) {
						t.Errorf("dump --show-secrets lacks %q: the class no longer plants it", secret)
					}
				}
			}
		})
	}
}

// ok2 reports whether name has its own entry in m.
func ok2(m map[string]int, name string) bool {
	_, ok := m[name]
	return ok
}
