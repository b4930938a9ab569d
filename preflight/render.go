package preflight

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// Summary counts the verdicts of several inputs. Unreadable inputs (not
// opened, no Result) are counted by the caller.
type Summary struct {
	Files        int `json:"files"`
	WouldRestore int `json:"would_restore"`
	WouldFail    int `json:"would_fail"`
	Damaged      int `json:"damaged"`
	Unreadable   int `json:"unreadable"`
}

// Summarize counts results; unreadable is the number of inputs that could
// not be opened.
func Summarize(results []*Result, unreadable int) Summary {
	s := Summary{Files: len(results) + unreadable, Unreadable: unreadable}
	for _, r := range results {
		switch r.Verdict {
		case VerdictRestore:
			s.WouldRestore++
		case VerdictFail:
			s.WouldFail++
		default:
			s.Damaged++
		}
	}
	return s
}

// Line is the summary line of a multi-file text report.
func (s Summary) Line() string {
	line := fmt.Sprintf("%d file(s): %d would restore, %d would fail, %d damaged", s.Files, s.WouldRestore, s.WouldFail, s.Damaged)
	if s.Unreadable > 0 {
		line += fmt.Sprintf(", %d unreadable", s.Unreadable)
	}
	return line
}

// Report is the JSON document: every Result and the summary. JSON keys:
// would_restore (every file would restore), summary (Summary: files,
// would_restore, would_fail, damaged, unreadable), files ([Result]).
type Report struct {
	WouldRestore bool      `json:"would_restore"`
	Summary      Summary   `json:"summary"`
	Files        []*Result `json:"files"`
}

// WriteJSON writes results as one indented JSON Report.
func WriteJSON(w io.Writer, results []*Result, unreadable int) error {
	sum := Summarize(results, unreadable)
	rep := Report{WouldRestore: sum.Files > 0 && sum.WouldRestore == sum.Files, Summary: sum, Files: results}
	if rep.Files == nil {
		rep.Files = []*Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// WriteText writes one Result for a person: the verdict, the integrity
// verdict, the record types and counts, who wrote the file, then each
// problem with its records, Consul's own error text and the snaptool
// rewrite command that removes it, the record at which Consul would stop,
// one command for every problem, and notes. Every string comes from the
// version table, the command line or numbers, never from the snapshot's
// contents.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	ed := "CE"
	if r.Edition == Enterprise {
		ed = "Enterprise"
	}
	if r.Verdict == VerdictDamaged {
		fmt.Fprintf(&b, "%s: damaged: no Consul restores it (target Consul %s %s)\n", decode.SafeText(r.File), r.Target, ed)
	} else {
		fmt.Fprintf(&b, "%s: %s on Consul %s %s\n", decode.SafeText(r.File), r.Verdict, r.Target, ed)
	}
	fmt.Fprintf(&b, "  integrity     %s (%s)\n", r.Integrity.Verdict, r.Integrity.Source)
	for _, e := range r.Integrity.Errors {
		fmt.Fprintf(&b, "                %s\n", e)
	}
	if r.MetaVersion != nil {
		fmt.Fprintf(&b, "  meta.json     Version %d\n", *r.MetaVersion)
	}
	var types []string
	for _, tc := range r.Types {
		types = append(types, fmt.Sprintf("%s ×%d", tc.Name, tc.Count))
	}
	fmt.Fprintf(&b, "  records       %d", r.Records)
	if len(types) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(types, ", "))
	}
	b.WriteByte('\n')
	if wr := writerText(r); wr != "" {
		fmt.Fprintf(&b, "  written by    %s\n", wr)
	}
	for i, p := range r.Problems {
		fmt.Fprintf(&b, "  problem %d     %s: %s\n", i+1, p.Kind, p.Message)
		for _, tc := range p.Types {
			fmt.Fprintf(&b, "                %s (%d): %d record(s), %d bytes, first is record %d at offset %d\n", tc.Name, tc.Type, tc.Count, tc.Bytes, tc.FirstRecord, tc.FirstOffset)
		}
		if p.ConsulError != "" {
			fmt.Fprintf(&b, "                Consul says: %s\n", p.ConsulError)
		}
		if p.Fix != "" {
			fmt.Fprintf(&b, "                fix: %s\n", decode.SafeText(p.Fix))
		}
	}
	switch {
	case r.ConsulError != "" && r.ConsulErrorRecord > 0:
		fmt.Fprintf(&b, "  Consul stops  at record %d: %s\n", r.ConsulErrorRecord, r.ConsulError)
	case r.ConsulError != "":
		fmt.Fprintf(&b, "  Consul stops  before state.bin: %s\n", r.ConsulError)
	}
	if r.Rewrite != "" {
		fmt.Fprintf(&b, "  rewrite       %s\n", decode.SafeText(r.Rewrite))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note          %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writerText(r *Result) string {
	wr := r.Writer
	var parts []string
	switch {
	case wr.NewerThanTable:
		parts = append(parts, fmt.Sprintf("a Consul newer than %s (%s)", NewestLine().Version(-1).LineString(), strings.Join(wr.Because, ", ")))
	case wr.AtLeast != "":
		parts = append(parts, fmt.Sprintf("Consul %s or later (%s)", wr.AtLeast, strings.Join(wr.Because, ", ")))
	}
	if wr.Enterprise {
		parts = append(parts, "Consul Enterprise")
	}
	if wr.LegacyACL {
		parts = append(parts, "a Consul older than 1.4 (legacy ACL records)")
	}
	if wr.Flagged {
		parts = append(parts, "no Consul (type bytes of 128 and up)")
	}
	s := strings.Join(parts, "; ")
	if r.Downgrade && s != "" {
		s += ": restoring it on " + r.Target + " is a downgrade"
	}
	return s
}
