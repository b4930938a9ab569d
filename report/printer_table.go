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

// tablePrinter prints results as tables (tablewriter, newTable) with
// Consul's short sizes (ByteSize) and exact byte counts beside them.
// Strings from the snapshot go through oneLine, so that a key never
// breaks a row or reaches the terminal with control or bidi characters.
type tablePrinter struct {
	w    io.Writer
	diff *DiffTextPrinter
}

// Inspect renders the meta table, the per-type table and, when present,
// the per-KV-prefix table.
func (p *tablePrinter) Inspect(r *InspectResult) error {
	meta := newTable(p.w, tw.AlignLeft, tw.AlignLeft)
	meta.Header("Snapshot", "Value")
	rows := [][]string{
		{"ID", oneLine(r.Meta.ID)},
		{"Size", strconv.FormatInt(r.Meta.Size, 10)},
		{"Index", strconv.FormatUint(r.Meta.Index, 10)},
		{"Term", strconv.FormatUint(r.Meta.Term, 10)},
		{"Version", strconv.Itoa(r.Meta.Version)},
	}
	if r.SavedTime != "" {
		rows = append(rows, []string{"Saved", SavedText(r.SavedTime)})
	}
	if r.LastIndex != 0 {
		rows = append(rows, []string{"LastIndex", strconv.FormatUint(r.LastIndex, 10)})
	}
	if r.Integrity != "" {
		rows = append(rows, []string{"Integrity", r.Integrity})
	}
	if err := renderTable(meta, rows); err != nil {
		return err
	}
	if err := p.statTable("Type", r.Stats, r.TotalSize); err != nil {
		return err
	}
	if r.StatsKV != nil {
		return p.statTable("Key Name", r.StatsKV, r.TotalSizeKV)
	}
	return nil
}

func (p *tablePrinter) statTable(first string, stats []Stat, total int64) error {
	if _, err := io.WriteString(p.w, "\n"); err != nil {
		return err
	}
	t := newTable(p.w, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight)
	t.Header(first, "Count", "Size", "Bytes")
	rows := make([][]string, 0, len(stats))
	var count int64
	for _, s := range stats {
		rows = append(rows, []string{oneLine(s.Name), strconv.FormatInt(s.Count, 10), ByteSize(s.Sum), strconv.FormatInt(s.Sum, 10)})
		count += s.Count
	}
	t.Footer("Total", strconv.FormatInt(count, 10), ByteSize(total), strconv.FormatInt(total, 10))
	return renderTable(t, rows)
}

// VerifyFile writes one result: its headline and, unless it is a clean
// pass, every layer with its status and findings.
func (p *tablePrinter) VerifyFile(r *VerifyResult) error {
	var b strings.Builder
	b.WriteString(decode.SafeText(r.Headline())) // the file name comes from the user, keys and IDs from the input
	b.WriteByte('\n')
	if r.Verdict != VerdictOK && r.Verdict != VerdictUnreadable && r.Verdict != VerdictNotSnapshot {
		byLayer := map[string][]Finding{}
		for _, f := range r.Findings {
			byLayer[f.Layer] = append(byLayer[f.Layer], f)
		}
		layers := r.Layers
		if fs := byLayer[LayerInput]; len(fs) > 0 {
			layers = append([]LayerStatus{{Name: LayerInput, Status: fs[0].Severity}}, layers...)
		}
		for _, l := range layers {
			fmt.Fprintf(&b, "  %-14s %s\n", l.Name, l.Status)
			for _, f := range byLayer[l.Name] {
				fmt.Fprintf(&b, "    %-8s %s\n", f.Severity+":", f.Message)
			}
		}
	}
	if r.Advice != "" {
		fmt.Fprintf(&b, "  %s\n", r.Advice)
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// VerifyDone writes the summary line.
func (p *tablePrinter) VerifyDone(results []*VerifyResult) error {
	_, err := fmt.Fprintln(p.w, Summarize(results).SummaryLine())
	return err
}

// Top writes one titled table per list.
func (p *tablePrinter) Top(r *TopResult) error {
	size := func(n int64) []string { return []string{ByteSize(n), strconv.FormatInt(n, 10)} }
	count := func(n int64) string { return strconv.FormatInt(n, 10) }
	right := tw.AlignRight
	left := tw.AlignLeft

	if r.ID != "" || r.Saved != "" {
		head := "Snapshot " + oneLine(r.ID)
		if r.Saved != "" {
			head += ", saved " + SavedText(r.Saved)
		}
		if _, err := io.WriteString(p.w, head+"\n\n"); err != nil {
			return err
		}
	}
	title := "Largest records"
	if len(r.Types) > 0 {
		title += " (" + strings.Join(r.Types, ", ") + ")"
	}
	var rows [][]string
	for _, x := range r.Largest {
		label := ""
		if x.Label != "" && x.Label != x.ID {
			label = oneLine(x.Label)
		}
		rows = append(rows, append([]string{"#" + strconv.Itoa(len(rows)+1), count(x.N), x.Type, oneLine(x.ID), label, count(x.Offset)}, size(x.Size)...))
	}
	if err := p.section(title, rows, []string{"Rank", "Record", "Type", "ID", "Label", "Offset", "Size", "Bytes"}, nil,
		right, right, left, left, left, right, right, right); err != nil {
		return err
	}

	rows = nil
	for _, x := range r.KVPrefixes {
		rows = append(rows, append([]string{oneLine(x.Prefix), count(x.Count)}, size(x.Size)...))
	}
	if err := p.section(fmt.Sprintf("\nLargest KV prefixes (depth %d)", r.KVDepth), rows,
		[]string{"Prefix", "Keys", "Size", "Bytes"}, append([]string{"Total", count(r.KVTotal.Count)}, size(r.KVTotal.Size)...),
		left, right, right, right); err != nil {
		return err
	}

	rows = nil
	for _, x := range r.Nodes {
		rows = append(rows, append([]string{oneLine(x.Node), count(x.Services), count(x.Checks)}, size(x.Size)...))
	}
	if err := p.section("\nNodes with the most services and checks", rows,
		[]string{"Node", "Services", "Checks", "Size", "Bytes"}, nil, left, right, right, right, right); err != nil {
		return err
	}

	rows = nil
	for _, x := range r.SessionsPerNode {
		rows = append(rows, []string{oneLine(x.Node), count(x.Count)})
	}
	if err := p.section(fmt.Sprintf("\nSessions per node (%d in all)", r.Sessions), rows,
		[]string{"Node", "Sessions"}, nil, left, right); err != nil {
		return err
	}

	ts := r.Tombstones
	title = fmt.Sprintf("\nTombstones: %d, %s", ts.Count, ByteSize(ts.Size))
	if ts.Count > 0 {
		title += fmt.Sprintf(", ModifyIndex %d..%d", ts.OldestModifyIndex, ts.NewestModifyIndex)
	}
	if len(ts.Prefixes) == 0 {
		_, err := fmt.Fprintln(p.w, title)
		return err
	}
	rows = nil
	for _, x := range ts.Prefixes {
		rows = append(rows, append([]string{oneLine(x.Prefix), count(x.Count)}, size(x.Size)...))
	}
	return p.section(title, rows, []string{"Prefix", "Tombstones", "Size", "Bytes"}, nil, left, right, right, right)
}

// differ is the table printer's DiffTextPrinter, which keeps the header
// until the first line it writes.
func (p *tablePrinter) differ() *DiffTextPrinter {
	if p.diff == nil {
		p.diff = &DiffTextPrinter{W: p.w, MaxValueLen: DefaultDiffValueLen}
	}
	return p.diff
}

// DiffStart sets the header lines (written before the first change or the
// summary, so identical inputs print nothing) and the value length.
func (p *tablePrinter) DiffStart(a, b *diff.MetaSummary, o DiffPrintOptions) error {
	d := p.differ()
	d.MaxValueLen = o.MaxValueLen
	return d.Header(a, b)
}

// DiffChange writes one change line (DiffTextPrinter).
func (p *tablePrinter) DiffChange(c *diff.Change) error { return p.differ().Change(c) }

// DiffIncomplete writes nothing to stdout, which carries only what was
// compared; the command says where it stopped on stderr.
func (p *tablePrinter) DiffIncomplete(in *diff.Incomplete) error { return nil }

// DiffSummary writes the summary tables unless the inputs are identical.
func (p *tablePrinter) DiffSummary(s *diff.Summary, changesAbove bool) error {
	if s.Identical {
		return nil
	}
	return p.differ().Summary(s, changesAbove)
}

// section writes a title line and a table, or "(none)" when there are no rows.
func (p *tablePrinter) section(title string, rows [][]string, header, footer []string, aligns ...tw.Align) error {
	if _, err := fmt.Fprintln(p.w, title); err != nil {
		return err
	}
	if len(rows) == 0 && footer == nil {
		_, err := fmt.Fprintln(p.w, "(none)")
		return err
	}
	t := newTable(p.w, aligns...)
	t.Header(cells(header)...)
	if footer != nil {
		t.Footer(cells(footer)...)
	}
	return renderTable(t, rows)
}

// oneLine keeps table rows on one line whatever a key contains, and keeps
// control and bidi characters from the terminal: such strings are quoted
// (Go syntax, escapes visible). An empty string shows as "".
func oneLine(s string) string {
	if s == "" {
		return `""`
	}
	return decode.SafeText(s) // the one terminal-safety escaper
}

func cells(s []string) []any {
	out := make([]any, len(s))
	for i, c := range s {
		out[i] = c
	}
	return out
}
