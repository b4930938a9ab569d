package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/snaptool/snaptool/decode"
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

// BuildHTMLReport reads each path (one or two snapshots, any input form
// except "-": every snapshot is read more than once) and gathers what the
// report shows. Damage does not stop it: a damaged snapshot is reported
// with what could be read, and HTMLSnapshot.Damaged is set. The error is
// for inputs that cannot be opened at all.
func BuildHTMLReport(paths []string, o HTMLOptions) (*HTMLReport, error) {
	o.defaults()
	if len(paths) < 1 || len(paths) > 2 {
		return nil, fmt.Errorf("the report takes one or two snapshots, got %d", len(paths))
	}
	r := &HTMLReport{TreeDepth: o.TreeDepth, ShowSecrets: o.ShowSecrets}
	for i, p := range paths {
		if p == "-" {
			return nil, fmt.Errorf("the report reads each snapshot more than once: give a file, not -")
		}
		sn, err := buildSnapshotSection(p, string(rune('A'+i)), o)
		if err != nil {
			return nil, err
		}
		r.Snapshots = append(r.Snapshots, sn)
	}
	if len(paths) == 1 {
		r.Title = "Snapshot report: " + baseName(paths[0])
		return r, nil
	}
	r.Title = "Snapshot report: " + baseName(paths[0]) + " → " + baseName(paths[1])
	a, b := r.Snapshots[0], r.Snapshots[1]
	c := &HTMLCompare{A: a.File, B: b.File}
	d, err := buildHTMLDiff(paths[0], paths[1], o)
	if err != nil {
		return nil, err
	}
	c.Diff = d
	r.Compare = c
	return r, nil
}

func baseName(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// buildSnapshotSection reads path three times: inspect, verify, top. Each
// pass streams with bounded memory.
func buildSnapshotSection(path, label string, o HTMLOptions) (*HTMLSnapshot, error) {
	sn := &HTMLSnapshot{Label: label, File: path, TreeDepth: o.TreeDepth}
	v, err := VerifyFile(path, VerifyOptions{Decode: o.Decode})
	if err != nil {
		return nil, err
	}
	sn.Verify = v
	sn.Damaged = v.Verdict == VerdictDamaged

	s, err := decode.Open(path, o.Decode)
	if err != nil {
		if !decode.IsDamage(err) {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		sn.Damaged = true
		sn.Inspect = &InspectResult{Stats: []Stat{}}
		sn.Top = NewTop(TopOptions{N: o.TopN, KVDepth: o.KVDepth, TreeDepth: o.TreeDepth}).Result()
		return sn, nil
	}
	in, err := Inspect(s, InspectOptions{KVDetails: true, KVDepth: o.KVDepth})
	s.Close()
	if in == nil {
		return nil, fmt.Errorf("inspecting %s: %w", path, err)
	}
	if err != nil {
		sn.Damaged = true
	}
	sn.Inspect = in

	s, err = decode.Open(path, o.Decode)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	top, errs := Top(s, TopOptions{N: o.TopN, KVDepth: o.KVDepth, TreeDepth: o.TreeDepth})
	s.Close()
	if len(errs) > 0 {
		sn.Damaged = true
	}
	sn.Top = top
	return sn, nil
}

// WriteHTML renders r as one self-contained HTML document: inline CSS,
// inline SVG, a few lines of inline script (open every drill-down before
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
	return t.ExecuteTemplate(w, "report.tmpl", data)
}

func htmlTemplate() (*template.Template, error) {
	return template.New("report.tmpl").Funcs(template.FuncMap{
		"bytes":     bytesText,
		"human":     humanSize,
		"percent":   percentText,
		"pctw":      pctWidth,
		"signed":    signedBytes,
		"signClass": signClass,
		"upper":     strings.ToUpper,
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

type kvArgs struct {
	Node  *PrefixNode
	Total int64
	Open  bool
}

// bytesText prints exact bytes with thousands separators.
func bytesText(n int64) string {
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

func signedBytes(n int64) string {
	switch {
	case n > 0:
		return "+" + groupDigits(n) + " B"
	case n < 0:
		return "−" + groupDigits(-n) + " B"
	}
	return "0 B"
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

// Chart is a horizontal bar chart laid out for inline SVG.
type Chart struct {
	Width, Height int
	Bars          []ChartBar
}

// ChartBar is one bar of a Chart.
type ChartBar struct {
	Label        string
	Count, Size  int64
	X, Y, W, H   float64
	LabelX, ValX float64
	TextY        float64
}

// TypeChart lays out the size per type as bars (the order of Stats: largest first).
func (s *HTMLSnapshot) TypeChart() *Chart {
	if s.Inspect == nil || len(s.Inspect.Stats) == 0 {
		return nil
	}
	const (
		width  = 900
		labelW = 190
		valW   = 130
		rowH   = 22
		barH   = 15
	)
	var max int64
	for _, st := range s.Inspect.Stats {
		if st.Sum > max {
			max = st.Sum
		}
	}
	c := &Chart{Width: width, Height: rowH*len(s.Inspect.Stats) + 4}
	span := float64(width - labelW - valW - 10)
	for i, st := range s.Inspect.Stats {
		w := 0.0
		if max > 0 {
			w = span * float64(st.Sum) / float64(max)
		}
		if st.Sum > 0 && w < 1 {
			w = 1
		}
		y := float64(i*rowH + 2)
		c.Bars = append(c.Bars, ChartBar{
			Label: st.Name, Count: st.Count, Size: st.Sum,
			X: labelW, Y: y, W: round2(w), H: barH,
			LabelX: labelW - 6, ValX: round2(labelW + w + 6), TextY: y + 12,
		})
	}
	return c
}

func round2(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 2, 64), 64)
	return v
}
