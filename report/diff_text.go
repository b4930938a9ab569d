package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/snaptool/snaptool/decode"
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
	fmt.Fprintf(&b, "%s %s %s\n", mark, c.Type, decode.SafeText(c.ID))
	for _, f := range c.Fields {
		fmt.Fprintf(&b, "    %s: %s -> %s\n", decode.SafeText(f.Path), decode.SafeText(f.Old), decode.SafeText(f.New))
		if f.Diff != "" {
			for _, l := range strings.SplitAfter(strings.TrimSuffix(f.Diff, "\n"), "\n") {
				fmt.Fprintf(&b, "      %s", decode.SafeText(strings.TrimSuffix(l, "\n")))
				b.WriteByte('\n')
			}
		}
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "    (%s)\n", decode.SafeText(c.Note))
	}
	_, err := io.WriteString(p.W, b.String())
	return err
}

// Summary writes the per-type table and the per-KV-prefix table
// (tablewriter, like every table), each sorted by bytes growth (largest
// first). Only rows with a change or a size difference are listed; the
// TOTAL footer counts every compared record. blankFirst says whether a
// blank line separates the tables from changes above.
func (p *DiffTextPrinter) Summary(s *diff.Summary, blankFirst bool) error {
	if blankFirst {
		if _, err := fmt.Fprintln(p.W); err != nil {
			return err
		}
	}
	num := func(n int) string { return strconv.Itoa(n) }
	aligns := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}
	t := newTable(p.W, aligns...)
	t.Header("TYPE", "ADDED", "REMOVED", "MODIFIED", "BYTES A", "BYTES B", "DELTA")
	var tot diff.TypeSummary
	var rows [][]string
	for _, x := range s.Types {
		tot.Added += x.Added
		tot.Removed += x.Removed
		tot.Modified += x.Modified
		tot.BytesA += x.BytesA
		tot.BytesB += x.BytesB
		if x.Added+x.Removed+x.Modified == 0 && x.Delta == 0 {
			continue
		}
		rows = append(rows, []string{x.Name, num(x.Added), num(x.Removed), num(x.Modified), i64(x.BytesA), i64(x.BytesB), signed(x.Delta)})
	}
	t.Footer("TOTAL", num(tot.Added), num(tot.Removed), num(tot.Modified), i64(tot.BytesA), i64(tot.BytesB), signed(tot.BytesB-tot.BytesA))
	if err := renderTable(t, rows); err != nil {
		return err
	}
	rows = nil
	for _, k := range s.KVPrefixes {
		if k.Added+k.Removed+k.Modified > 0 || k.Delta != 0 {
			rows = append(rows, []string{oneLine(k.Prefix), num(k.Added), num(k.Removed), num(k.Modified), i64(k.BytesA), i64(k.BytesB), signed(k.Delta)})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(p.W); err != nil {
		return err
	}
	t = newTable(p.W, aligns...)
	t.Header(fmt.Sprintf("KV PREFIX (depth %d)", s.KVDepth), "ADDED", "REMOVED", "MODIFIED", "BYTES A", "BYTES B", "DELTA")
	return renderTable(t, rows)
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// signed writes n with its sign (+12, -3, 0).
func signed(n int64) string {
	if n > 0 {
		return "+" + i64(n)
	}
	return i64(n)
}
