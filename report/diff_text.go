package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
)

// DefaultDiffValueLen is the default DiffTextPrinter.MaxValueLen (the
// HTML report's too).
const DefaultDiffValueLen = 120

// DiffTextPrinter writes diff.Run's changes as text: a header line per
// input (Header), one line per change ("+", "-", "M", then type, identity
// and the record's label in quotes, as restic, borg and zfs do), changed
// leaves of a modified record indented below it (path: old -> new, values
// as JSON, elided beyond MaxValueLen), and the summary tables with human
// sizes. A KV key deleted between A and B (a removed KVS record linked to
// B's tombstone) is one line: "- KVS app/x (deleted, tombstone at index N)".
// Strings from the input are escaped for the terminal (decode.SafeText).
type DiffTextPrinter struct {
	W io.Writer
	// MaxValueLen elides old and new values longer than this many bytes
	// (0: values are shown whole).
	MaxValueLen int

	header string // written before the first change or summary
}

// Header sets the lines that open the output, one per input: its name,
// raft index, when it was saved (UTC, from the snapshot ID), its form and
// state.bin size. They are written before the first change or the
// summary, so that identical snapshots still print nothing.
func (p *DiffTextPrinter) Header(a, b *diff.MetaSummary) error {
	var buf strings.Builder
	for i, m := range []*diff.MetaSummary{a, b} {
		fmt.Fprintf(&buf, "%s: %s  index %d  saved %s  (%s, state.bin %s)\n", "AB"[i:i+1], decode.SafeText(m.Name), m.Index, savedText(m.Saved), m.Form, ByteSize(m.Size))
	}
	buf.WriteByte('\n')
	p.header = buf.String()
	return nil
}

func (p *DiffTextPrinter) writeHeader() error {
	if p.header == "" {
		return nil
	}
	_, err := io.WriteString(p.W, p.header)
	p.header = ""
	return err
}

func savedText(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "(unknown time)"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Change writes one change.
func (p *DiffTextPrinter) Change(c *diff.Change) error {
	if c.Deletes != "" {
		return nil // shown with the KVS record it deletes
	}
	if err := p.writeHeader(); err != nil {
		return err
	}
	mark := map[diff.Op]string{diff.Added: "+", diff.Removed: "-", diff.Modified: "M"}[c.Op]
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", mark, c.Type, decode.SafeText(c.ID))
	if c.Label != "" && c.Label != c.ID {
		b.WriteString(` "` + decode.SafeText(c.Label) + `"`)
	}
	if c.Tombstone != nil {
		fmt.Fprintf(&b, " (deleted, tombstone at index %d)", c.Tombstone.Index)
	}
	b.WriteByte('\n')
	if bl := c.Blame; bl != nil {
		if bl.Index == 0 {
			b.WriteString("    last touched: no log entry in the range names it\n")
		} else {
			fmt.Fprintf(&b, "    last touched: index %d", bl.Index)
			if !bl.Time.IsZero() {
				b.WriteString(" " + bl.Time.UTC().Format(time.RFC3339))
			}
			b.WriteString(" " + decode.SafeText(bl.Entry))
			if bl.By != "" {
				b.WriteString(" by " + decode.SafeText(bl.By))
			}
			b.WriteByte('\n')
		}
	}
	for _, f := range c.Fields {
		fmt.Fprintf(&b, "    %s: %s -> %s\n", decode.SafeText(f.Path), p.value(f.Old, f.OldAbsent), p.value(f.New, f.NewAbsent))
		if f.Diff != "" {
			for _, l := range strings.Split(strings.TrimSuffix(f.Diff, "\n"), "\n") {
				b.WriteString("      " + decode.SafeText(l) + "\n")
			}
		}
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "    (%s)\n", decode.SafeText(c.Note))
	}
	_, err := io.WriteString(p.W, b.String())
	return err
}

// value renders a field value as JSON, elided beyond MaxValueLen with its
// full length noted; "(absent)" when the field does not exist on that side.
func (p *DiffTextPrinter) value(x any, absent bool) string {
	if absent {
		return "(absent)"
	}
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(x); err != nil {
		return decode.SafeText(fmt.Sprint(x))
	}
	s := strings.TrimSuffix(buf.String(), "\n")
	if p.MaxValueLen > 0 && len(s) > p.MaxValueLen {
		n := p.MaxValueLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + fmt.Sprintf("… (%d chars)", utf8.RuneCountInString(s))
	}
	return decode.SafeText(s)
}

// Summary writes the per-type table and the per-KV-prefix table, each
// sorted by bytes growth (largest first), with human sizes, then the
// inputs' record counts, deleted keys and hidden schema-only differences.
// Only rows with a change or a size difference are listed; the TOTAL row
// counts every compared record. A deleted KV key counts once (as a removed
// KVS record; its tombstone is not counted again). blankFirst says
// whether a blank line separates the tables from changes above.
func (p *DiffTextPrinter) Summary(s *diff.Summary, blankFirst bool) error {
	if p.header != "" {
		blankFirst = false // the header ends with a blank line
		if err := p.writeHeader(); err != nil {
			return err
		}
	}
	if blankFirst {
		fmt.Fprintln(p.W)
	}
	num := func(n int) string { return strconv.Itoa(n) }
	aligns := []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}
	t := newTable(p.W, aligns...)
	t.Header("TYPE", "ADDED", "REMOVED", "MODIFIED", "SIZE A", "SIZE B", "DELTA")
	var tot diff.TypeSummary
	var rows [][]string
	for _, x := range countedTypes(s) {
		tot.Added += x.Added
		tot.Removed += x.Removed
		tot.Modified += x.Modified
		tot.BytesA += x.BytesA
		tot.BytesB += x.BytesB
		if x.Added+x.Removed+x.Modified == 0 && x.Delta == 0 {
			continue
		}
		rows = append(rows, []string{x.Name, num(x.Added), num(x.Removed), num(x.Modified), ByteSize(x.BytesA), ByteSize(x.BytesB), signedHuman(x.Delta)})
	}
	t.Footer("TOTAL", num(tot.Added), num(tot.Removed), num(tot.Modified), ByteSize(tot.BytesA), ByteSize(tot.BytesB), signedHuman(tot.BytesB-tot.BytesA))
	if err := renderTable(t, rows); err != nil {
		return err
	}
	rows = nil
	for _, k := range s.KVPrefixes {
		if k.Added+k.Removed+k.Modified > 0 || k.Delta != 0 {
			rows = append(rows, []string{oneLine(k.Prefix), num(k.Added), num(k.Removed), num(k.Modified), ByteSize(k.BytesA), ByteSize(k.BytesB), signedHuman(k.Delta)})
		}
	}
	if len(rows) > 0 {
		if _, err := fmt.Fprintln(p.W); err != nil {
			return err
		}
		t = newTable(p.W, aligns...)
		t.Header(fmt.Sprintf("KV PREFIX (depth %d)", s.KVDepth), "ADDED", "REMOVED", "MODIFIED", "SIZE A", "SIZE B", "DELTA")
		if err := renderTable(t, rows); err != nil {
			return err
		}
	}
	var notes strings.Builder
	notes.WriteByte('\n')
	if s.MetaA != nil && s.MetaB != nil {
		fmt.Fprintf(&notes, "A: %d records, B: %d records\n", s.MetaA.Records, s.MetaB.Records)
	}
	if s.KVDeleted > 0 {
		fmt.Fprintf(&notes, "%s deleted (removed KVS record and its tombstone, counted once)\n", Plural(s.KVDeleted, "KV key"))
	}
	if s.SchemaOnly > 0 {
		fmt.Fprintf(&notes, "%s hidden (absent on one side, null/empty/zero on the other), %s otherwise unchanged; --include-schema-changes shows them\n",
			Plural(s.SchemaOnly, "schema-only difference"), Plural(s.SchemaOnlyRecords, "record"))
	}
	_, err := io.WriteString(p.W, notes.String())
	return err
}

// Incomplete writes where a comparison stopped (to stderr: stdout carries
// only what was compared).
func (p *DiffTextPrinter) Incomplete(in *diff.Incomplete) error {
	what := "the comparison stopped there; the changes above cover only what both inputs had passed"
	if in.Before {
		what = "nothing was compared"
	}
	where := fmt.Sprintf("record %d", in.Record)
	if in.Offset >= 0 {
		where += fmt.Sprintf(" (%s offset %d)", in.Layer, in.Offset)
	}
	_, err := fmt.Fprintf(p.W, "diff incomplete: input %s (%s) failed at %s: %s; %s\n", in.Input, decode.SafeText(in.Name), where, decode.SafeText(in.Error), what)
	return err
}

// signedHuman writes a byte delta with its sign and a human size (+1.2KB,
// -418B, 0).
func signedHuman(n int64) string {
	switch {
	case n > 0:
		return "+" + ByteSize(n)
	case n < 0:
		return "-" + ByteSize(-n)
	}
	return "0"
}

// countedTypes is s.Types as a person counts changes: a deleted KV key (a
// removed KVS record linked to B's new tombstone) counts once, as the
// removal, so the tombstone is not counted again as added. The text diff
// and the HTML report count with it; JSON keeps one line per record.
func countedTypes(s *diff.Summary) []diff.TypeSummary {
	out := make([]diff.TypeSummary, len(s.Types))
	copy(out, s.Types)
	for i := range out {
		if out[i].Name == "Tombstone" {
			out[i].Added -= s.KVDeleted
		}
	}
	return out
}
