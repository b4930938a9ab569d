package report

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/snaptool/snaptool/decode"
)

// The cell formatters every renderer shares: one human size (ByteSize),
// one exact byte count (ExactBytes), one plural (Plural), one table
// (newTable, through tablewriter).

// ByteSize formats a byte count the way Consul's inspect does: the largest
// binary unit not above the value, one decimal, a trailing ".0" dropped
// (344 → "344B", 1750 → "1.7KB", 5141 → "5KB"); 0 and negative → "0".
func ByteSize(n int64) string {
	const (
		kb = 1 << 10
		mb = 1 << 20
		gb = 1 << 30
		tb = 1 << 40
	)
	unit := ""
	v := float64(n)
	switch {
	case n >= tb:
		unit, v = "TB", v/tb
	case n >= gb:
		unit, v = "GB", v/gb
	case n >= mb:
		unit, v = "MB", v/mb
	case n >= kb:
		unit, v = "KB", v/kb
	case n >= 1:
		unit = "B"
	default:
		return "0"
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + unit
}

// ExactBytes prints an exact byte count with thousands separators
// ("12,345 B"); signed adds "+" or "−" ("+1,024 B", "0 B").
func ExactBytes(n int64, signed bool) string {
	switch {
	case signed && n > 0:
		return "+" + groupDigits(n) + " B"
	case signed && n < 0:
		return "−" + groupDigits(-n) + " B"
	}
	return groupDigits(n) + " B"
}

func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// SavedTime is a snapshot's saved time (decode.Meta.SavedTime) for JSON:
// RFC 3339 in UTC with milliseconds, "" when meta.json is unknown or its ID
// carries no time.
func SavedTime(m *decode.Meta) string {
	t, ok := m.SavedTime()
	if !ok {
		return ""
	}
	return t.Format(savedJSONLayout)
}

const savedJSONLayout = "2006-01-02T15:04:05.000Z07:00"

// SavedText is SavedTime (its RFC 3339 form) for a person:
// "2026-11-24 19:27:19 UTC"; "" stays "".
func SavedText(rfc string) string {
	t, err := time.Parse(savedJSONLayout, rfc)
	if err != nil {
		return rfc
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Plural is "1 file", "0 files", "3 files".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// newTable is every table of the text outputs: tablewriter with the
// given column alignments, headers as given.
func newTable(w io.Writer, aligns ...tw.Align) *tablewriter.Table {
	cell := tw.CellConfig{
		Alignment: tw.CellAlignment{PerColumn: aligns},
		Padding:   tw.CellPadding{Global: tw.PaddingDefault},
	}
	return tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowConfig(cell),
		tablewriter.WithFooterConfig(cell),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
}

// renderTable appends rows to t and renders it, with the errors wrapped.
func renderTable(t *tablewriter.Table, rows [][]string) error {
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return fmt.Errorf("rendering table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("rendering table: %w", err)
	}
	return nil
}

// recordError locates err at rec: a *decode.RecordError (state.bin,
// record number, type, offset), unless err already is one.
func recordError(rec *decode.Record, err error) error {
	var re *decode.RecordError
	if errors.As(err, &re) {
		return err
	}
	return &decode.RecordError{Member: decode.MemberState, Offset: rec.Offset, N: rec.N, Type: rec.Type, TypeKnown: true, Err: err}
}

// maxKeptErrors caps the per-record errors a report function keeps; the
// rest are only counted, so that a snapshot of undecodable records cannot
// fill memory with errors (decode.Capped, the one findings cap).
const maxKeptErrors = decode.MaxFindings

// recordErrors keeps the first maxKeptErrors errors and counts the rest.
type recordErrors struct {
	c decode.Capped[error]
}

func (e *recordErrors) add(err error) { e.c.Add(err) }

// addRecord counts rec as undecodable and builds its error (DecodeRecord's,
// located) only when it is kept: past the cap a bad record costs a count.
func (e *recordErrors) addRecord(rec *decode.Record) {
	if e.c.Note() {
		_, err := decode.DecodeRecord(rec)
		if err == nil { // RecordOK and DecodeRecord disagree (FuzzCheckRecord guards this)
			err = fmt.Errorf("%w: %s", decode.ErrTypedDecode, rec.Type)
		}
		e.c.Keep(recordError(rec, err))
	}
}

// err joins the kept errors and, when some were only counted, how many.
func (e *recordErrors) err() error {
	errs := e.c.Kept()
	if more := e.c.More(); more > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("and %d more records of this kind could not be decoded: %w", more, decode.ErrTypedDecode))
	}
	return errors.Join(errs...)
}

// WriteSection writes a titled table in the style of every table of the
// text outputs (tablewriter through newTable): the title line, then the
// header and rows, or "(none)" when there are no rows. Cells are made
// terminal-safe (decode.SafeText); the columns listed in right are
// right-aligned (counts, sizes). It serves commands whose results live
// outside report (the raft log summary).
func WriteSection(w io.Writer, title string, header []string, rows [][]string, right ...int) error {
	aligns := make([]tw.Align, len(header))
	for i := range aligns {
		aligns[i] = tw.AlignLeft
	}
	for _, c := range right {
		if c >= 0 && c < len(aligns) {
			aligns[c] = tw.AlignRight
		}
	}
	safe := make([][]string, len(rows))
	for i, row := range rows {
		safe[i] = make([]string, len(row))
		for j, c := range row {
			safe[i][j] = oneLine(c)
		}
	}
	p := &tablePrinter{w: w}
	return p.section(title, safe, header, nil, aligns...)
}
