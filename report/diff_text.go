package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/snaptool/snaptool/diff"
)

// DiffTextPrinter writes diff.Run's changes as text, one line per change
// ("+", "-", "M", then type and identity, as restic, borg and zfs do),
// field changes of a modified record indented below it, and the summary
// tables.
type DiffTextPrinter struct {
	W io.Writer
}

// Change writes one change.
func (p *DiffTextPrinter) Change(c *diff.Change) error {
	mark := map[diff.Op]string{diff.Added: "+", diff.Removed: "-", diff.Modified: "M"}[c.Op]
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\n", mark, c.Type, c.ID)
	for _, f := range c.Fields {
		fmt.Fprintf(&b, "    %s: %s -> %s\n", f.Path, f.Old, f.New)
		if f.Diff != "" {
			for _, l := range strings.SplitAfter(strings.TrimSuffix(f.Diff, "\n"), "\n") {
				fmt.Fprintf(&b, "      %s", strings.TrimSuffix(l, "\n"))
				b.WriteByte('\n')
			}
		}
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "    (%s)\n", c.Note)
	}
	_, err := io.WriteString(p.W, b.String())
	return err
}

// Summary writes the per-type table and the per-KV-prefix table, each
// sorted by bytes growth (largest first). Only rows with a change or a
// size difference are listed; the TOTAL row counts every compared record.
// blankFirst says whether a blank line separates the tables from changes
// above.
func (p *DiffTextPrinter) Summary(s *diff.Summary, blankFirst bool) error {
	tw := tabwriter.NewWriter(p.W, 0, 8, 2, ' ', 0)
	if blankFirst {
		fmt.Fprintln(p.W)
	}
	fmt.Fprintf(tw, "TYPE\tADDED\tREMOVED\tMODIFIED\tBYTES A\tBYTES B\tDELTA\n")
	var tot diff.TypeSummary
	for _, t := range s.Types {
		tot.Added += t.Added
		tot.Removed += t.Removed
		tot.Modified += t.Modified
		tot.BytesA += t.BytesA
		tot.BytesB += t.BytesB
		if t.Added+t.Removed+t.Modified == 0 && t.Delta == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", t.Name, t.Added, t.Removed, t.Modified, t.BytesA, t.BytesB, signed(t.Delta))
	}
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%d\t%d\t%s\n", tot.Added, tot.Removed, tot.Modified, tot.BytesA, tot.BytesB, signed(tot.BytesB-tot.BytesA))
	if err := tw.Flush(); err != nil {
		return err
	}
	var rows []diff.PrefixSummary
	for _, k := range s.KVPrefixes {
		if k.Added+k.Removed+k.Modified > 0 || k.Delta != 0 {
			rows = append(rows, k)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(p.W)
	tw = tabwriter.NewWriter(p.W, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "KV PREFIX (depth %d)\tADDED\tREMOVED\tMODIFIED\tBYTES A\tBYTES B\tDELTA\n", s.KVDepth)
	for _, k := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", k.Prefix, k.Added, k.Removed, k.Modified, k.BytesA, k.BytesB, signed(k.Delta))
	}
	return tw.Flush()
}

// signed writes n with its sign (+12, -3, 0).
func signed(n int64) string {
	if n > 0 {
		return fmt.Sprintf("+%d", n)
	}
	return fmt.Sprintf("%d", n)
}
