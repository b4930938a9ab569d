package report

import (
	"fmt"
	"io"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
	"github.com/snaptool/snaptool/history"
)

// Output formats: "table" (tables through tablewriter), "text" (verify's
// name for the same printer), "pretty" (Consul's `consul snapshot inspect`
// layout, byte for byte) and "json" (indented JSON of the result structs).
// A command offers a subset (inspect: table, pretty, json; verify and
// diff: text, json; top: table, json; history: table, json, csv, prometheus, html) and checks --format with CheckFormat before any
// work starts.

// Printer renders every result struct in one format, in the shape of
// etcdutl's printers: one implementation per format (printer_table.go,
// printer_pretty.go, printer_json.go), chosen by NewPrinter from --format.
type Printer interface {
	// Inspect prints inspect's result.
	Inspect(r *InspectResult) error
	// VerifyFile prints one file's verdict as soon as it is known (the
	// table printer streams; the JSON printer keeps it for VerifyDone).
	VerifyFile(r *VerifyResult) error
	// VerifyDone prints the summary of every file verified.
	VerifyDone(results []*VerifyResult) error
	// Top prints top's lists.
	Top(r *TopResult) error
	// History prints a series of snapshots (history's csv, prometheus
	// and html formats are WriteHistoryCSV, WriteHistoryPrometheus and
	// WriteHistoryHTML).
	History(r *history.Result) error
	// DiffStart opens a diff's output, before any change, with what is
	// known of both inputs (the text printer's header lines; diff.Options.Start).
	DiffStart(a, b *diff.MetaSummary, o DiffPrintOptions) error
	// DiffChange prints one change as diff.Run emits it.
	DiffChange(c *diff.Change) error
	// DiffIncomplete says where a comparison stopped (the JSON printer's
	// last line; the text printer leaves stdout to what was compared).
	DiffIncomplete(in *diff.Incomplete) error
	// DiffSummary prints the summary after the changes (the text printer
	// prints nothing for identical inputs). changesAbove says whether
	// changes were printed before it.
	DiffSummary(s *diff.Summary, changesAbove bool) error
}

// DiffPrintOptions tune how a diff is printed.
type DiffPrintOptions struct {
	// MaxValueLen elides text values longer than this many bytes (0: whole).
	MaxValueLen int
}

// NewPrinter returns the printer of format writing to w. "text" and
// "table" are the table printer; "pretty" is the table printer with
// Consul's inspect layout.
func NewPrinter(format string, w io.Writer) (Printer, error) {
	switch format {
	case "table", "text":
		return &tablePrinter{w: w}, nil
	case "pretty":
		return &prettyPrinter{tablePrinter{w: w}}, nil
	case "json", "jsonl": // jsonl: the commands whose JSON is lines (diff, dump)
		return &jsonPrinter{w: decode.SafeJSONWriter(w)}, nil // strings from the input: C1 and bidi as \u escapes too
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// CheckFormat returns an error unless format is one of allowed.
func CheckFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return fmt.Errorf("unknown --format %q (want one of %v)", format, allowed)
}
