package report

import (
	"bytes"
	"context"
	"testing"

	"github.com/snaptool/snaptool/diff"
	"github.com/snaptool/snaptool/internal/golden"
)

// Golden outputs of diff.Run on the real fixture pair, in both formats.
func TestDiffPrintersGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		json bool
		o    diff.Options
	}{
		{"diff_pair.txt", false, diff.Options{}},
		{"diff_pair.values.txt", false, diff.Options{Values: true}},
		{"diff_pair.bookkeeping.txt", false, diff.Options{IncludeRaftBookkeeping: true}},
		{"diff_pair.jsonl", true, diff.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tp, jp := &DiffTextPrinter{W: &buf}, &DiffJSONPrinter{W: &buf}
			emit := tp.Change
			if tc.json {
				emit = jp.Change
			}
			sum, err := diff.Run(context.Background(), openFixture(t, consul1139+"/before.snap"), openFixture(t, consul1139+"/after.snap"), tc.o, emit)
			if err != nil {
				t.Fatal(err)
			}
			sum.MetaA.Name, sum.MetaB.Name = "before.snap", "after.snap"
			if tc.json {
				err = jp.Summary(sum)
			} else {
				err = tp.Summary(sum, true)
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.name, buf.Bytes())
		})
	}
}
