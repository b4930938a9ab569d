package report

import (
	"encoding/json"
	"io"

	"github.com/snaptool/snaptool/diff"
)

// jsonPrinter prints the result structs as indented JSON; their field
// names are the contract (documented on each struct).
type jsonPrinter struct {
	w io.Writer
}

// Inspect writes FormatJSON's text (Consul's 3-space indent) and a newline.
func (p *jsonPrinter) Inspect(r *InspectResult) error {
	s, err := FormatJSON(r)
	if err != nil {
		return err
	}
	_, err = io.WriteString(p.w, s+"\n")
	return err
}

// FormatJSON is Consul's JSON formatter (3-space indent, no final newline),
// applied to InspectResult, whose extra keys follow Consul's.
func FormatJSON(r *InspectResult) (string, error) {
	b, err := json.MarshalIndent(r, "", "   ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// VerifyFile prints nothing: the verdicts go out together in VerifyDone.
func (p *jsonPrinter) VerifyFile(*VerifyResult) error { return nil }

// VerifyReport is verify's JSON document. JSON keys: pass (every file
// passed), summary (VerifySummary), files ([VerifyResult]).
type VerifyReport struct {
	Pass    bool            `json:"pass"`
	Summary VerifySummary   `json:"summary"`
	Files   []*VerifyResult `json:"files"`
}

// VerifyDone writes the verdict of every file as one VerifyReport.
func (p *jsonPrinter) VerifyDone(results []*VerifyResult) error {
	sum := Summarize(results)
	rep := VerifyReport{Pass: sum.Passed == sum.Files, Summary: sum, Files: results}
	if rep.Files == nil {
		rep.Files = []*VerifyResult{}
	}
	return p.encode(rep, false)
}

// Top writes r.
func (p *jsonPrinter) Top(r *TopResult) error { return p.encode(r, true) }

// DiffStart writes nothing: every JSON line carries its own context and
// the summary line both inputs' meta.
func (p *jsonPrinter) DiffStart(a, b *diff.MetaSummary, o DiffPrintOptions) error { return nil }

// DiffIncomplete writes the {"op":"incomplete",…} line.
func (p *jsonPrinter) DiffIncomplete(in *diff.Incomplete) error {
	return (&DiffJSONPrinter{W: p.w}).Incomplete(in)
}

// DiffChange writes one change as a JSON line (DiffJSONPrinter).
func (p *jsonPrinter) DiffChange(c *diff.Change) error {
	return (&DiffJSONPrinter{W: p.w}).Change(c)
}

// DiffSummary writes the summary line, identical inputs included.
func (p *jsonPrinter) DiffSummary(s *diff.Summary, _ bool) error {
	return (&DiffJSONPrinter{W: p.w}).Summary(s)
}

func (p *jsonPrinter) encode(v any, escapeHTML bool) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(escapeHTML)
	return enc.Encode(v)
}
