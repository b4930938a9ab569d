package snaptool

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestMakeGolden: `make golden` runs -update on exactly the packages whose
// tests import internal/golden (the only test binaries that define the
// flag; `go test ./... -update` fails on the others).
func TestMakeGolden(t *testing.T) {
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GOLDEN_PKGS\s*:?=\s*(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile has no GOLDEN_PKGS")
	}
	if !regexp.MustCompile(`(?m)^golden:\n\t\$\(GO\) test .*\$\(GOLDEN_PKGS\) -update$`).Match(mk) {
		t.Error("the golden target does not run go test $(GOLDEN_PKGS) -update")
	}
	listed := strings.Fields(string(m[1]))
	sort.Strings(listed)

	var want []string
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "fixtures" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if strings.Trim(imp.Path.Value, `"`) == module+"internal/golden" {
				pkg := "./" + filepath.ToSlash(filepath.Dir(path))
				if len(want) == 0 || want[len(want)-1] != pkg {
					want = append(want, pkg)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	want = compactStrings(want)
	if strings.Join(listed, " ") != strings.Join(want, " ") {
		t.Errorf("GOLDEN_PKGS = %v, want the packages whose tests use internal/golden: %v", listed, want)
	}
}

func compactStrings(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
