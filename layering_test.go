package snaptool

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
		"rewrite":           {"decode", "encode"},
		"preflight":         {"decode"},
		"raftlog":           {"decode"},
		"replay":            {"decode", "encode", "raftlog"},
		"report":            {"decode", "diff", "history", "internal/safefile"},
		"internal/safefile": {},
		"internal/golden":   {},
		"internal/hostile":  {"decode", "encode"},
		"internal/fixture":  {},
		"internal/fuzzopt":  {},
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

// msgpackLeads are lead bytes that only a msgpack reader compares with:
// the ends of the fix families (fixmap, fixarray, fixstr), the negative
// fixint start, and the whole 0xc0–0xdf block (nil, bool, bin, ext, float,
// uint, int, fixext, str8–32, array16/32, map16/32).
func msgpackLead(v uint64) bool {
	switch v {
	case 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xe0:
		return true
	}
	return v >= 0xc0 && v <= 0xdf
}

// msgpackCompares lists the msgpack lead bytes that src compares a value
// with: an integer literal that is a direct operand of ==, !=, <, <=, >, >=
// or a case of a switch. Two or more distinct ones mean the file switches
// on msgpack descriptor bytes (one alone, like `b&0xc0 == 0x80` for UTF-8,
// does not).
func msgpackCompares(t *testing.T, name string, src []byte) map[uint64]bool {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := map[uint64]bool{}
	lit := func(e ast.Expr) {
		if b, ok := ast.Unparen(e).(*ast.BasicLit); ok && b.Kind == token.INT {
			if v, err := strconv.ParseUint(strings.ReplaceAll(b.Value, "_", ""), 0, 64); err == nil && msgpackLead(v) {
				found[v] = true
			}
		}
	}
	ast.Inspect(file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BinaryExpr:
			switch x.Op {
			case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
				lit(x.X)
				lit(x.Y)
			}
		case *ast.CaseClause:
			for _, e := range x.List {
				lit(e)
			}
		}
		return true
	})
	return found
}

// TestOneMsgpackReader enforces the single msgpack reader: no non-test Go
// file but decode/mpdesc.go, the descriptor classifier, switches on msgpack
// descriptor bytes; the rest of decode builds on it, and other packages ask
// decode.
func TestOneMsgpackReader(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "vendor", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") && path != filepath.Join("decode", "mpdesc.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("only %d Go files found", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if found := msgpackCompares(t, f, src); len(found) >= 2 {
			var list []string
			for v := range found {
				list = append(list, fmt.Sprintf("0x%02x", v))
			}
			sort.Strings(list)
			t.Errorf("%s compares bytes with msgpack descriptors %s: read msgpack through decode", f, strings.Join(list, ", "))
		}
	}
}

// The detector itself: it must flag a descriptor switch and pass UTF-8
// handling and gzip magic checks.
func TestMsgpackComparesDetector(t *testing.T) {
	for _, tc := range []struct {
		src  string
		flag bool
	}{
		{"switch { case c >= 0x80 && c <= 0x8f: case c == 0xde: }", true},
		{"switch c { case 0xc4, 0xd9: }", true},
		{"if c == 0xc0 || c == 0xc3 {}", true},
		{"if b&0xc0 == 0x80 {}", false},
		{"if h[0] != 0x1f || h[1] != 0x8b {}", false},
		{"x := []byte{0x91, 0xae, 0xde}; _ = x", false},
	} {
		src := "package p\nfunc f(c byte, b byte, h []byte) {\n" + tc.src + "\n}\n"
		if got := len(msgpackCompares(t, "x.go", []byte(src))) >= 2; got != tc.flag {
			t.Errorf("%s: flagged %v, want %v", tc.src, got, tc.flag)
		}
	}
}
