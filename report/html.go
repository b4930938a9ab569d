package report

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
)

//go:embed html/report.tmpl html/diff.tmpl html/report.css html/report.js
var htmlFiles embed.FS

// HTMLOptions tune the HTML report. The zero value means the defaults.
type HTMLOptions struct {
	// TopN is the length of the top lists; 0 means 20.
	TopN int
	// KVDepth groups KV keys for the top list and the growth table; 0 means DefaultKVDepth.
	KVDepth int
	// TreeDepth is how deep the KV drill-down goes; 0 means 4.
	TreeDepth int
	// MaxChanges caps the list of changes; 0 means 2000.
	MaxChanges int
	// ShowSecrets disables masking in the list of changes.
	ShowSecrets bool
	// Decode is passed to decode.Open.
	Decode decode.Options
	// Open, when set, opens each path instead of decode.Open (see
	// VerifyOptions.Open).
	Open func(path string, opts decode.Options) (*decode.Snapshot, error)
}

func (o *HTMLOptions) defaults() {
	if o.TopN <= 0 {
		o.TopN = 20
	}
	if o.KVDepth <= 0 {
		o.KVDepth = DefaultKVDepth
	}
	if o.TreeDepth <= 0 {
		o.TreeDepth = 4
	}
	if o.MaxChanges <= 0 {
		o.MaxChanges = 2000
	}
}

// HTMLReport is everything the HTML report shows. It holds the same result
// structs the JSON outputs print: InspectResult, VerifyResult and
// TopResult per snapshot, and the diff of the two when there are two.
type HTMLReport struct {
	Title       string
	Snapshots   []*HTMLSnapshot
	Compare     *HTMLCompare
	TreeDepth   int
	ShowSecrets bool
}

// HTMLSnapshot is one snapshot's part of the report.
type HTMLSnapshot struct {
	Label   string // "A", "B"
	File    string
	Inspect *InspectResult
	Verify  *VerifyResult
	Top     *TopResult
	// Damaged is true when reading the snapshot found damage.
	Damaged bool
	// TreeDepth is the depth of the KV drill-down (Top.KVTree).
	TreeDepth int
}

// HTMLCompare is the comparison of snapshot A with snapshot B.
type HTMLCompare struct {
	A, B string
	// Diff is the record-level comparison, with the growth per type and
	// per KV prefix.
	Diff *HTMLDiff
}

// BuildHTMLReport reads each path (one or two snapshots, any input form,
// "-" for an archive on standard input, at most once) exactly once and
// gathers what the report shows: verify, inspect and top are accumulators
// fed by that one pass, and with two snapshots the pass is diff's own
// merge (diff.Options.OnRecord), so the sections and the comparison all
// describe the same bytes. Damage does not stop it: a damaged snapshot is
// reported with what could be read, and HTMLSnapshot.Damaged is set. The
// error is for inputs that cannot be opened at all, and for ctx's
// cancellation.
func BuildHTMLReport(ctx context.Context, paths []string, o HTMLOptions) (*HTMLReport, error) {
	o.defaults()
	if len(paths) < 1 || len(paths) > 2 {
		return nil, fmt.Errorf("the report takes one or two snapshots, got %d", len(paths))
	}
	if len(paths) == 2 && paths[0] == "-" && paths[1] == "-" {
		return nil, fmt.Errorf("only one of the two snapshots can be - (standard input)")
	}
	r := &HTMLReport{TreeDepth: o.TreeDepth, ShowSecrets: o.ShowSecrets}
	var snaps []*decode.Snapshot
	defer func() {
		for _, s := range snaps {
			s.Close()
		}
	}()
	var passes []*snapshotPass
	for i, p := range paths {
		sn := &HTMLSnapshot{Label: string(rune('A' + i)), File: p, TreeDepth: o.TreeDepth}
		r.Snapshots = append(r.Snapshots, sn)
		s, err := openWith(o.Open, p, o.Decode)
		if err != nil {
			if !decode.IsDamage(err) {
				return nil, fmt.Errorf("opening %s: %w", p, err)
			}
			sn.Damaged = true
			sn.Verify = VerifyOpenError(p, err, VerifyOptions{})
			sn.Inspect = &InspectResult{Stats: []Stat{}}
			sn.Top = NewTop(TopOptions{N: o.TopN, KVDepth: o.KVDepth, TreeDepth: o.TreeDepth}).Finish(nil)
			if len(paths) == 2 {
				return nil, fmt.Errorf("opening %s: %w", p, err)
			}
			continue
		}
		snaps = append(snaps, s)
		passes = append(passes, newSnapshotPass(sn, s, o))
	}
	if len(paths) == 1 {
		r.Title = "Snapshot report: " + baseName(paths[0])
		if len(passes) == 1 {
			if err := Scan(ctx, passes[0].s, passes[0]); err != nil {
				return nil, err
			}
			passes[0].finish()
		}
		return r, nil
	}
	r.Title = "Snapshot report: " + baseName(paths[0]) + " → " + baseName(paths[1])
	d, err := buildHTMLDiff(ctx, passes[0], passes[1], o)
	if err != nil {
		return nil, err
	}
	for _, p := range passes {
		p.finish()
	}
	r.Compare = &HTMLCompare{A: paths[0], B: paths[1], Diff: d}
	return r, nil
}

func baseName(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// snapshotPass is one snapshot's section of the report while its records
// stream: the verify, inspect and top accumulators fed by the same pass.
type snapshotPass struct {
	sn      *HTMLSnapshot
	s       *decode.Snapshot
	verify  *VerifyAccumulator
	inspect *InspectAccumulator
	top     *TopAccumulator
}

func newSnapshotPass(sn *HTMLSnapshot, s *decode.Snapshot, o HTMLOptions) *snapshotPass {
	p := &snapshotPass{sn: sn, s: s,
		verify:  NewVerify(VerifyOptions{}),
		inspect: NewInspect(InspectOptions{KVDetails: true, KVDepth: o.KVDepth}),
		top:     NewTop(TopOptions{N: o.TopN, KVDepth: o.KVDepth, TreeDepth: o.TreeDepth}),
	}
	p.verify.bind(s)
	return p
}

// Add feeds one record to the three accumulators.
func (p *snapshotPass) Add(rec *decode.Record) {
	p.verify.Add(rec)
	p.inspect.Add(rec)
	p.top.Add(rec)
}

// finish reads what is left of the snapshot (nothing, unless a pass
// stopped early) and fills the section.
func (p *snapshotPass) finish() {
	for p.s.Next() {
		p.Add(p.s.Record())
	}
	sn := p.sn
	sn.Verify = p.verify.Finish(p.s)
	sn.Inspect = p.inspect.Finish(p.s)
	sn.Top = p.top.Finish(p.s)
	sn.Damaged = sn.Verify.Verdict == VerdictDamaged || p.s.Err() != nil || p.top.Err() != nil
}

// WriteHTML renders r as one self-contained HTML document: inline CSS
// (bar charts are HTML rows), a few lines of inline script (open every drill-down before
// printing), no external resource.
func WriteHTML(w io.Writer, r *HTMLReport) error {
	t, err := htmlTemplate()
	if err != nil {
		return err
	}
	css, err := htmlFiles.ReadFile("html/report.css")
	if err != nil {
		return err
	}
	js, err := htmlFiles.ReadFile("html/report.js")
	if err != nil {
		return err
	}
	data := struct {
		*HTMLReport
		CSS template.CSS
		JS  template.JS
	}{r, template.CSS(css), template.JS(js)}
	return writeDocument(w, func(b *bytes.Buffer) error { return t.ExecuteTemplate(b, "report.tmpl", data) })
}

// writeDocument renders a whole HTML page into memory (a report is bounded
// by its options: --max-changes, the top lists, the KV depth) and writes it
// through decode.SafeDocument, the one place that keeps control and bidi
// characters from the input out of a page, whatever template path printed
// them.
func writeDocument(w io.Writer, render func(b *bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return err
	}
	_, err := w.Write(decode.SafeDocument(b.Bytes()))
	return err
}

func htmlTemplate() (*template.Template, error) {
	return template.New("report.tmpl").Funcs(htmlFormatters()).Funcs(template.FuncMap{
		"percent":  percentText,
		"pctw":     pctWidth,
		"upper":    strings.ToUpper,
		"wrapID":   wrapID,
		"wrapType": wrapType,
		"label":    ChangeLabel,
		"inc":      func(i int) int { return i + 1 },
		"delta":    func(c *diff.Change) int64 { return c.SizeB - c.SizeA },
		// fieldValue renders a diff field value as the text diff does,
		// elided beyond the default length (html/template escapes it).
		"fieldValue": func(x any, absent bool) string {
			return (&DiffTextPrinter{MaxValueLen: DefaultDiffValueLen}).value(x, absent)
		},
		"kvArgs": func(n *PrefixNode, total int64) kvArgs {
			return kvArgs{Node: n, Total: total, Open: false}
		},
	}).ParseFS(htmlFiles, "html/report.tmpl", "html/diff.tmpl")
}

// htmlFormatters are the cell formatters of every HTML page (the report's
// and history's): exact and signed byte counts, Consul's short size, the
// class of a growth's sign.
func htmlFormatters() template.FuncMap {
	return template.FuncMap{
		"bytes":     func(n int64) string { return ExactBytes(n, false) },
		"human":     ByteSize,
		"signed":    func(n int64) string { return ExactBytes(n, true) },
		"signClass": signClass,
	}
}

type kvArgs struct {
	Node  *PrefixNode
	Total int64
	Open  bool
}

func signClass(n int64) string {
	switch {
	case n > 0:
		return "pos"
	case n < 0:
		return "neg"
	}
	return ""
}

func percentText(part, total int64) string {
	if total <= 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(part)/float64(total), 'f', 1, 64) + "%"
}

// pctWidth is a bar width in percent, at least a sliver for non-zero values.
func pctWidth(part, total int64) string {
	if total <= 0 || part <= 0 {
		return "0"
	}
	p := 100 * float64(part) / float64(total)
	if p < 0.3 {
		p = 0.3
	}
	return strconv.FormatFloat(p, 'f', 2, 64)
}

// Chart is a horizontal bar chart drawn as HTML rows (a label, a bar, a
// value), so its text keeps the page's font size at any width: an SVG
// scaled by a viewBox shrinks its text with the page.
type Chart struct {
	// Title names the chart; Note says what the bars are relative to.
	Title, Note string
	// Class is "all" for the chart of every type, "others" for the
	// chart of the types besides a dominant one.
	Class string
	Bars  []ChartBar
}

// ChartBar is one bar of a Chart. Pct is its width in percent of the
// chart's largest bar.
type ChartBar struct {
	Label       string
	Count, Size int64
	Share       string // of the snapshot's total size
	Pct         string
}

// DominantShare is the share of the total size above which one type
// dominates the size chart: then a second chart shows the other types to
// their own scale, so that they stay readable (with the largest bar at
// full width, a type of 1% of it is a sliver).
const DominantShare = 0.5

// TypeCharts lays out the size per type as bar charts (the order of
// Stats: largest first). The first chart has every type, its bars relative
// to the largest. When the largest type takes more than DominantShare of
// the total and at least two other types have records, a second chart
// shows the other types, relative to the largest of them.
func (s *HTMLSnapshot) TypeCharts() []*Chart {
	if s.Inspect == nil || len(s.Inspect.Stats) == 0 {
		return nil
	}
	stats, total := s.Inspect.Stats, s.Inspect.TotalSize
	all := &Chart{Title: "All types", Class: "all", Note: "Bars are relative to the largest type.", Bars: chartBars(stats, total)}
	charts := []*Chart{all}
	first := stats[0]
	if total > 0 && float64(first.Sum) > DominantShare*float64(total) && len(stats) >= 3 && stats[2].Sum > 0 {
		charts = append(charts, &Chart{
			Title: "The other types, to their own scale",
			Class: "others",
			Note: fmt.Sprintf("%s takes %s of the size, so the other %d types are drawn again relative to the largest of them (%s).",
				first.Name, percentText(first.Sum, total), len(stats)-1, stats[1].Name),
			Bars: chartBars(stats[1:], total),
		})
	}
	return charts
}

func chartBars(stats []Stat, total int64) []ChartBar {
	var max int64
	for _, st := range stats {
		if st.Sum > max {
			max = st.Sum
		}
	}
	bars := make([]ChartBar, 0, len(stats))
	for _, st := range stats {
		bars = append(bars, ChartBar{Label: st.Name, Count: st.Count, Size: st.Sum,
			Share: percentText(st.Sum, total), Pct: pctWidth(st.Sum, max)})
	}
	return bars
}

// Saved is when the snapshot was taken, from its ID
// (decode.Meta.SavedTime), as "2026-11-24 19:27:19 UTC"; "" when the ID
// does not carry it.
func (s *HTMLSnapshot) Saved() string {
	if s.Inspect == nil {
		return ""
	}
	m := &decode.Meta{}
	m.ID = s.Inspect.Meta.ID
	t, ok := m.SavedTime()
	if !ok {
		return ""
	}
	return t.Format("2006-01-02 15:04:05 UTC")
}

// wrapType escapes a record type name and lets it wrap between its words
// (Connect<wbr>CA<wbr>Provider<wbr>State), so that a narrow table of
// types need not scroll.
func wrapType(s string) template.HTML {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsLower(rs[i+1])) {
			b.WriteString("<wbr>")
		}
		b.WriteString(template.HTMLEscapeString(string(r)))
	}
	return template.HTML(b.String())
}

// wrapID escapes an identity and lets it wrap only after "/", ".", "-"
// and ":" (a <wbr> after each), never inside a token; the CSS of .id
// turns off every other break.
func wrapID(s string) template.HTML {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(template.HTMLEscapeString(string(r)))
		switch r {
		case '/', '.', '-', ':':
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}
