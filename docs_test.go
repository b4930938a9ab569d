package snaptool

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// formatDoc is the project's description of the snapshot format. Comments
// cite its numbered sections as "docs/FORMAT.md §N" or "§N.M".
const formatDoc = "docs/FORMAT.md"

var (
	// A numbered heading: "## §4 state.bin", "### §4.2 Record framing".
	formatHeading = regexp.MustCompile(`(?m)^#{2,6} §(\d+(?:\.\d+)*) \S`)
	// A citation: the path, then one or more sections ("§4.1, §4.2 and §8.6").
	formatCitation = regexp.MustCompile(`docs/FORMAT\.md((?:(?:,? and |, | )§\d+(?:\.\d+)*)+)`)
	formatSection  = regexp.MustCompile(`§(\d+(?:\.\d+)*)`)
	// Any mention of the file, to find those without the docs/ path.
	formatMention = regexp.MustCompile(`([\w./-]*)FORMAT\.md`)
	whiteSpace    = regexp.MustCompile(`\s+`)
	// Comment markers at the start of a line, and block comment delimiters.
	commentMarks = regexp.MustCompile(`(?m)^\s*//|/\*|\*/`)
)

// commentText joins a comment's lines into one line of text without the
// comment markers, so that a citation wrapped over two lines reads as one.
func commentText(c string) string {
	return whiteSpace.ReplaceAllString(commentMarks.ReplaceAllString(c, " "), " ")
}

// comment is the text of one comment group and where it starts.
type comment struct {
	pos  string
	text string
}

// formatSections returns the section numbers of doc's headings, and
// complaints about headings numbered twice.
func formatSections(doc string) (map[string]bool, []string) {
	secs := map[string]bool{}
	var problems []string
	for _, m := range formatHeading.FindAllStringSubmatch(doc, -1) {
		if secs[m[1]] {
			problems = append(problems, formatDoc+": two headings numbered §"+m[1])
		}
		secs[m[1]] = true
	}
	return secs, problems
}

// checkFormatCitations returns one problem per citation of a section that
// doc has no heading for, and per mention of the file by any other path
// than docs/. A comment's lines are joined first, so a citation may wrap.
func checkFormatCitations(doc string, comments []comment) []string {
	secs, problems := formatSections(doc)
	for _, c := range comments {
		text := commentText(c.text)
		for _, m := range formatMention.FindAllStringSubmatch(text, -1) {
			if m[1] != "docs/" {
				problems = append(problems, c.pos+": cites "+m[0]+", not "+formatDoc)
			}
		}
		for _, m := range formatCitation.FindAllStringSubmatch(text, -1) {
			for _, s := range formatSection.FindAllStringSubmatch(m[1], -1) {
				if !secs[s[1]] {
					problems = append(problems, c.pos+": cites "+formatDoc+" §"+s[1]+", which has no such section heading")
				}
			}
		}
	}
	return problems
}

// goComments returns every comment group of every Go file under root,
// skipping hidden directories and testdata.
func goComments(t *testing.T, root string) []comment {
	t.Helper()
	var out []comment
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, g := range f.Comments {
			var b strings.Builder
			for _, c := range g.List {
				b.WriteString(c.Text)
				b.WriteByte('\n')
			}
			out = append(out, comment{pos: fset.Position(g.Pos()).String(), text: b.String()})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFormatCitations keeps the code's comments and docs/FORMAT.md in step:
// every "docs/FORMAT.md §N[.M]" in a Go comment names a section heading that
// exists, and no comment names the file by another path.
func TestFormatCitations(t *testing.T) {
	doc, err := os.ReadFile(formatDoc)
	if err != nil {
		t.Fatal(err)
	}
	comments := goComments(t, ".")
	cited := 0
	for _, c := range comments {
		cited += len(formatCitation.FindAllString(commentText(c.text), -1))
	}
	// The code cites the document in about thirty places; none found means
	// the walk or the pattern is broken, not that all is well.
	if cited < 20 {
		t.Fatalf("found %d citations of %s in Go comments, want at least 20", cited, formatDoc)
	}
	for _, p := range checkFormatCitations(string(doc), comments) {
		t.Error(p)
	}
}

func TestCheckFormatCitations(t *testing.T) {
	doc := "# Title\n\n## §1 Archive\n\n### §1.2 Members\n\n## §4 state.bin\n\n### §4.2 Record framing\n"
	tests := []struct {
		name    string
		doc     string
		comment string
		want    []string // substrings, one per problem
	}{
		{"section exists", doc, "// framing (docs/FORMAT.md §4.2).", nil},
		{"top-level section", doc, "// see docs/FORMAT.md §1", nil},
		{"several sections", doc, "// docs/FORMAT.md §1.2, §4 and §4.2 spell it out", nil},
		{"citation wraps a line", doc, "// order (docs/FORMAT.md\n//     §4.2, verified)", nil},
		{"wrapped citation of a missing section", doc, "// order (docs/FORMAT.md\n//     §3.2, verified)", []string{"§3.2, which"}},
		{"block comment", doc, "/* see docs/FORMAT.md\n   §7 */", []string{"§7, which"}},
		{"missing section", doc, "// docs/FORMAT.md §3.5", []string{"§3.5, which has no such section"}},
		{"section renamed", strings.Replace(doc, "§4.2 Record", "§4.3 Record", 1),
			"// framing (docs/FORMAT.md §4.2).", []string{"§4.2, which has no such section"}},
		{"second section of a list missing", doc, "// docs/FORMAT.md §1.2 and §9", []string{"§9, which"}},
		{"bare name", doc, "// as FORMAT.md §4.2 says", []string{"cites FORMAT.md, not docs/FORMAT.md"}},
		{"other path", doc, "// see shared/FORMAT.md §4.2", []string{"cites shared/FORMAT.md"}},
		{"no section is fine", doc, "// the format is in docs/FORMAT.md.", nil},
		{"duplicate heading", doc + "## §4 Again\n", "// nothing cited", []string{"two headings numbered §4"}},
		{"heading without a section sign", "## 4 state.bin\n", "// docs/FORMAT.md §4", []string{"§4, which"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkFormatCitations(tt.doc, []comment{{pos: "x.go:1", text: tt.comment}})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d %q", len(got), got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
