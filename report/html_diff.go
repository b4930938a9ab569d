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
// keeping at most o.MaxChanges changes, and feeds every record it reads to
// the snapshot's pass, so that each input is read once. Secrets are masked
// unless o.ShowSecrets.
func buildHTMLDiff(ctx context.Context, a, b *snapshotPass, o HTMLOptions) (*HTMLDiff, error) {
	d := &HTMLDiff{}
	passes := [2]*snapshotPass{a, b}
	sum, err := diff.Run(ctx, a.s, b.s, diff.Options{KVDepth: o.KVDepth, ShowSecrets: o.ShowSecrets,
		OnRecord: func(side int, rec *decode.Record) { passes[side].Add(rec) }},
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
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if sum == nil {
		return nil, fmt.Errorf("comparing %s with %s: %w", a.s.Name, b.s.Name, err)
	}
	d.Summary = sum
	if err != nil {
		d.Err = err.Error()
	}
	return d, nil
}
