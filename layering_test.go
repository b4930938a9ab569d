package snaptool

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/snaptool/snaptool/"

// TestLayering enforces the architecture in doc.go: decode imports nothing
// of ours, diff and encode build on decode only, report does not reach into
// the CLI. It reads the import lines of every non-test file.
func TestLayering(t *testing.T) {
	allowed := map[string][]string{
		"decode":            {},
		"encode":            {"decode"},
		"diff":              {"decode"},
		"history":           {"decode"},
		"report":            {"decode", "diff", "history", "internal/safefile"},
		"internal/safefile": {},
		"internal/golden":   {},
	}
	for pkg, ok := range allowed {
		files, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", pkg, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				if !strings.HasPrefix(path, module) {
					continue
				}
				dep := strings.TrimPrefix(path, module)
				permitted := false
				for _, a := range ok {
					permitted = permitted || a == dep
				}
				if !permitted {
					t.Errorf("%s imports %s: %s may only import %v of ours", f, dep, pkg, ok)
				}
			}
		}
	}
}
