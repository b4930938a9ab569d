package report

import (
	"context"
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
)

// HTMLDiff is the record-level comparison of the report: diff.Run's
// summary and changes, the same structs `snaptool diff --format json` prints.
type HTMLDiff struct {
	Summary *diff.Summary
	// Changes are the first HTMLOptions.MaxChanges changes, in diff order.
	Changes []*diff.Change
	// Omitted counts the changes beyond MaxChanges.
	Omitted int
	// Err is set when the diff could not read both snapshots to the end:
	// then the changes are not the whole story.
	Err string
}

// buildHTMLDiff runs the diff of a and b (one streaming pass over both),
// keeping at most o.MaxChanges changes. Secrets are masked unless
// o.ShowSecrets.
func buildHTMLDiff(a, b string, o HTMLOptions) (*HTMLDiff, error) {
	sa, err := decode.Open(a, o.Decode)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", a, err)
	}
	defer sa.Close()
	sb, err := decode.Open(b, o.Decode)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", b, err)
	}
	defer sb.Close()
	d := &HTMLDiff{}
	sum, err := diff.Run(context.Background(), sa, sb, diff.Options{KVDepth: o.KVDepth, ShowSecrets: o.ShowSecrets},
		func(c *diff.Change) error {
			if len(d.Changes) >= o.MaxChanges {
				d.Omitted++
				return nil
			}
			cc := *c
			cc.Fields = append([]diff.FieldChange(nil), c.Fields...)
			d.Changes = append(d.Changes, &cc)
			return nil
		})
	if sum == nil {
		return nil, fmt.Errorf("comparing %s with %s: %w", a, b, err)
	}
	d.Summary = sum
	if err != nil {
		d.Err = err.Error()
	}
	return d, nil
}
