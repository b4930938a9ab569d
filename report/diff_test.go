package report

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
	"github.com/snaptool/snaptool/internal/golden"
)

// Golden outputs of diff.Run, in both formats, on the 1.13.9 pair (the
// known change list: labels, leaf paths, the deleted key as one line) and
// on a cross-version pair (1.13.9 after → 1.14.11 after: schema-only
// differences hidden and counted, or shown).
func TestDiffPrintersGolden(t *testing.T) {
	pairs := []struct{ prefix, a, b string }{
		{"diff_pair", consul1139 + "/before.snap", consul1139 + "/after.snap"},
		{"diff_cross", consul1139 + "/after.snap", "../fixtures/consul-1.14.11/after.snap"},
	}
	for _, pair := range pairs {
		for _, tc := range []struct {
			name   string
			json   bool
			o      diff.Options
			maxLen int
		}{
			{".txt", false, diff.Options{}, DefaultDiffValueLen},
			{".values.txt", false, diff.Options{Values: true}, DefaultDiffValueLen},
			{".bookkeeping.txt", false, diff.Options{IncludeRaftBookkeeping: true}, DefaultDiffValueLen},
			{".schema.txt", false, diff.Options{IncludeSchemaChanges: true}, DefaultDiffValueLen},
			{".whole.txt", false, diff.Options{}, 0},
			{".jsonl", true, diff.Options{}, 0},
			{".values.jsonl", true, diff.Options{Values: true}, 0},
			{".schema.jsonl", true, diff.Options{IncludeSchemaChanges: true}, 0},
		} {
			t.Run(pair.prefix+tc.name, func(t *testing.T) {
				var buf bytes.Buffer
				tp, jp := &DiffTextPrinter{W: &buf, MaxValueLen: tc.maxLen}, &DiffJSONPrinter{W: &buf}
				emit := tp.Change
				if tc.json {
					emit = jp.Change
				} else {
					tc.o.Start = func(a, b *diff.MetaSummary) error {
						a2, b2 := *a, *b
						a2.Name, b2.Name = "A.snap", "B.snap"
						return tp.Header(&a2, &b2)
					}
				}
				sum, err := diff.Run(context.Background(), openFixture(t, pair.a), openFixture(t, pair.b), tc.o, emit)
				if err != nil {
					t.Fatal(err)
				}
				sum.MetaA.Name, sum.MetaB.Name = "A.snap", "B.snap"
				if tc.json {
					err = jp.Summary(sum)
				} else {
					err = tp.Summary(sum, true)
				}
				if err != nil {
					t.Fatal(err)
				}
				golden.Check(t, pair.prefix+tc.name, buf.Bytes())
			})
		}
	}
}

// The text renderer shows short values whole, elides long ones only
// beyond MaxValueLen (0: never), and never lets a control or bidi
// character from the input reach the terminal.
func TestDiffTextValues(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		max  int
		v    any
		want string
	}{
		{120, "db", `"db"`},
		{120, long, `"` + strings.Repeat("x", 119) + "… (302 chars)"},
		{0, long, `"` + long + `"`},
		{120, "a\u202eb", `"a\u202eb"`},
		{120, "a\u202eb\x1b[31m", `"a\u202eb\u001b[31m"`},
		{120, &decode.Object{Keys: []string{"Name", "Port"}, Values: []any{"db", int64(5432)}}, `{"Name":"db","Port":5432}`},
	} {
		p := &DiffTextPrinter{MaxValueLen: tc.max}
		if got := p.value(tc.v, false); got != tc.want {
			t.Errorf("value(%v, max %d) = %s, want %s", tc.v, tc.max, got, tc.want)
		}
	}
	var buf bytes.Buffer
	p := &DiffTextPrinter{W: &buf}
	if err := p.Change(&diff.Change{Op: diff.Added, Type: "ACLToken", ID: "id\u202e1", Label: "app\x1btoken"}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); strings.ContainsAny(got, "\u202e\x1b") || !strings.Contains(got, `+ ACLToken id\u202e1 "app\x1btoken"`) {
		t.Errorf("unsafe line %q", got)
	}
}
