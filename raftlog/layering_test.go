package raftlog_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyDecode: raftlog's non-test files import decode and nothing
// else of ours (the root layering_test.go should list raftlog too).
func TestImportsOnlyDecode(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/snaptool/snaptool/") && p != "github.com/snaptool/snaptool/decode" {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
