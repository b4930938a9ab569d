package report

import (
	"encoding/json"
	"io"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
)

// DiffJSONPrinter writes diff.Run's result as JSON lines: one object per
// change, then one summary object {"op":"summary", …} (the JSON names of
// diff.Change and diff.Summary, listed in the diff package doc).
type DiffJSONPrinter struct {
	W io.Writer
}

// Change writes one change as a JSON line.
func (p *DiffJSONPrinter) Change(c *diff.Change) error {
	return encodeLine(p.W, c)
}

// Summary writes the summary line.
func (p *DiffJSONPrinter) Summary(s *diff.Summary) error {
	return encodeLine(p.W, struct {
		Op string `json:"op"`
		*diff.Summary
	}{"summary", s})
}

// Incomplete writes the last line of a comparison that stopped early:
// {"op":"incomplete","input","name","record","offset","layer","error",
// "before_first_record"} (diff.Incomplete).
func (p *DiffJSONPrinter) Incomplete(in *diff.Incomplete) error {
	return encodeLine(p.W, struct {
		Op string `json:"op"`
		*diff.Incomplete
	}{"incomplete", in})
}

// encodeLine writes x as one JSON line, without HTML escaping (masked
// secrets read <masked sha256:…>).
func encodeLine(w io.Writer, x any) error {
	e := json.NewEncoder(decode.SafeJSONWriter(w)) // C1 and bidi from the input as \u escapes
	e.SetEscapeHTML(false)
	return e.Encode(x)
}
