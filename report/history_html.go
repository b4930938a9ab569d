package report

import (
	"bytes"
	_ "embed"
	"html/template"
	"io"
	"strconv"

	"github.com/snaptool/snaptool/history"
)

//go:embed html/history.tmpl
var historyTmpl string

// chartColors are the series colours of the history charts (the last one is "other").
var chartColors = []string{"#3b6fd6", "#d0743c", "#2e9e5b", "#9a5cd0", "#c23b5a", "#1f9bb3", "#a88a1e", "#6b7a8f", "#b9bec8"}

const maxChartSeries = 8 // largest types or prefixes drawn; the rest sum to "other"

// LineChart is a line chart of bytes per series over the snapshots, laid
// out for inline SVG (viewBox units).
type LineChart struct {
	Width, Height int
	Plot          Rect
	YTicks        []Tick
	XTicks        []Tick
	Lines         []Line
}

// Rect is a plot area.
type Rect struct{ X, Y, W, H float64 }

// Tick is an axis label at a position.
type Tick struct {
	Pos   float64
	Label string
}

// Line is one series of a LineChart.
type Line struct {
	Name   string
	Color  string
	Points string // SVG polyline points
	Dots   []Dot
}

// Dot is one value of a series, with a hover title.
type Dot struct {
	X, Y  float64
	Title string
}

// StackChart is a stacked bar chart: one bar per snapshot, a segment per series.
type StackChart struct {
	Width, Height int
	Plot          Rect
	YTicks        []Tick
	XTicks        []Tick
	Bars          []StackBar
	Legend        []Line
}

// StackBar is one snapshot's bar.
type StackBar struct {
	Segments []Segment
}

// Segment is one series' part of a bar.
type Segment struct {
	Name       string
	Color      string
	X, Y, W, H float64
	Title      string
}

// pickSeries chooses the maxChartSeries names with the largest peak and
// whether an "other" series is needed.
func pickSeries(r *history.Result, of func(*history.Snapshot) []history.Stat) (names []string, other bool) {
	peak := map[string]int64{}
	for _, s := range r.Snapshots {
		for _, st := range of(s) {
			if st.Bytes > peak[st.Name] {
				peak[st.Name] = st.Bytes
			}
		}
	}
	all := make([]Stat, 0, len(peak))
	for n, b := range peak {
		all = append(all, Stat{Name: n, Sum: b})
	}
	sortStats(all)
	for i, st := range all {
		if i == maxChartSeries {
			return names, true
		}
		names = append(names, st.Name)
	}
	return names, false
}

// chartSeries picks the series of a chart (the largest names, then
// "other" for the rest) with their colours ("other" takes the last one)
// and, per snapshot, their bytes; no names when there is nothing to draw.
func chartSeries(r *history.Result, of func(*history.Snapshot) []history.Stat) (names, colors []string, vals [][]int64) {
	names, other := pickSeries(r, of)
	if len(names) == 0 {
		return nil, nil, nil
	}
	vals = values(r, of, names, other)
	if other {
		names = append(names, "other")
	}
	for j := range names {
		colors = append(colors, chartColors[min(j, len(chartColors)-1)])
	}
	if other {
		colors[len(colors)-1] = chartColors[len(chartColors)-1]
	}
	return names, colors, vals
}

// values returns, per snapshot, the bytes of each picked name (and "other").
func values(r *history.Result, of func(*history.Snapshot) []history.Stat, names []string, other bool) [][]int64 {
	idx := map[string]int{}
	for i, n := range names {
		idx[n] = i
	}
	k := len(names)
	if other {
		k++
	}
	out := make([][]int64, len(r.Snapshots))
	for i, s := range r.Snapshots {
		out[i] = make([]int64, k)
		for _, st := range of(s) {
			if j, ok := idx[st.Name]; ok {
				out[i][j] = st.Bytes
			} else if other {
				out[i][k-1] += st.Bytes
			}
		}
	}
	return out
}

const (
	chartW, chartH         = 640, 300
	padL, padR, padT, padB = 64, 12, 12, 34
	chartFont              = 15
)

func plotRect() Rect {
	return Rect{X: padL, Y: padT, W: chartW - padL - padR, H: chartH - padT - padB}
}

func xTicks(r *history.Result, p Rect, center bool) []Tick {
	n := len(r.Snapshots)
	var t []Tick
	for i := range r.Snapshots {
		t = append(t, Tick{Pos: round2(xPos(i, n, p, center)), Label: strconv.Itoa(i + 1)})
	}
	return t
}

func xPos(i, n int, p Rect, center bool) float64 {
	if center || n == 1 {
		return p.X + p.W*(float64(i)+0.5)/float64(n)
	}
	return p.X + p.W*float64(i)/float64(n-1)
}

// yScale returns a rounded maximum and its ticks, at round numbers of the
// binary unit ByteSize prints (so labels read 200KB, not 195.3KB).
func yScale(max int64, p Rect) (int64, []Tick) {
	if max <= 0 {
		max = 1
	}
	unit := int64(1)
	for unit < 1<<40 && max >= unit<<10 {
		unit <<= 10
	}
	step := niceStep((max+unit*4-1)/(unit*4)) * unit
	top := step
	for top < max {
		top += step
	}
	var t []Tick
	for v := int64(0); v <= top; v += step {
		t = append(t, Tick{Pos: round2(p.Y + p.H - p.H*float64(v)/float64(top)), Label: ByteSize(v)})
	}
	return top, t
}

func niceStep(x int64) int64 {
	if x < 1 {
		return 1
	}
	m := int64(1)
	for m*10 <= x {
		m *= 10
	}
	for _, f := range []int64{1, 2, 5, 10} {
		if f*m >= x {
			return f * m
		}
	}
	return 10 * m
}

// TypeLines lays out the size per type over the series.
func historyTypeLines(r *history.Result) *LineChart {
	names, colors, vals := chartSeries(r, func(s *history.Snapshot) []history.Stat { return s.Types })
	if len(names) == 0 {
		return nil
	}
	var max int64
	for _, row := range vals {
		for _, v := range row {
			if v > max {
				max = v
			}
		}
	}
	p := plotRect()
	top, yt := yScale(max, p)
	c := &LineChart{Width: chartW, Height: chartH, Plot: p, YTicks: yt, XTicks: xTicks(r, p, false)}
	for j, name := range names {
		l := Line{Name: name, Color: colors[j]}
		for i := range r.Snapshots {
			x := round2(xPos(i, len(r.Snapshots), p, false))
			y := round2(p.Y + p.H - p.H*float64(vals[i][j])/float64(top))
			if l.Points != "" {
				l.Points += " "
			}
			l.Points += strconv.FormatFloat(x, 'f', -1, 64) + "," + strconv.FormatFloat(y, 'f', -1, 64)
			l.Dots = append(l.Dots, Dot{X: x, Y: y, Title: strconv.Itoa(i+1) + " " + baseName(r.Snapshots[i].File) + ": " + name + " " + ExactBytes(vals[i][j], false)})
		}
		c.Lines = append(c.Lines, l)
	}
	return c
}

// historyKVStack lays out the KV prefix sizes as stacked bars.
func historyKVStack(r *history.Result) *StackChart {
	names, colors, vals := chartSeries(r, func(s *history.Snapshot) []history.Stat { return s.KV })
	if len(names) == 0 {
		return nil
	}
	var max int64
	for _, row := range vals {
		var sum int64
		for _, v := range row {
			sum += v
		}
		if sum > max {
			max = sum
		}
	}
	p := plotRect()
	top, yt := yScale(max, p)
	c := &StackChart{Width: chartW, Height: chartH, Plot: p, YTicks: yt, XTicks: xTicks(r, p, true)}
	n := len(r.Snapshots)
	slot := p.W / float64(n)
	bw := slot * 0.6
	for j, name := range names {
		c.Legend = append(c.Legend, Line{Name: name, Color: colors[j]})
	}
	for i := range r.Snapshots {
		var bar StackBar
		y := p.Y + p.H
		for j, name := range names {
			v := vals[i][j]
			if v == 0 {
				continue
			}
			h := p.H * float64(v) / float64(top)
			y -= h
			bar.Segments = append(bar.Segments, Segment{Name: name, Color: c.Legend[j].Color,
				X: round2(p.X + slot*float64(i) + (slot-bw)/2), Y: round2(y), W: round2(bw), H: round2(h),
				Title: strconv.Itoa(i+1) + " " + baseName(r.Snapshots[i].File) + ": " + name + " " + ExactBytes(v, false)})
		}
		c.Bars = append(c.Bars, bar)
	}
	return c
}

// WriteHistoryHTML writes the series as one self-contained HTML page
// (report.css inline, charts as inline SVG, no external resources): the
// snapshots table, a line chart of the size per type, a stacked chart of
// the KV prefixes, the steps with their growth per type and prefix, and
// what grew most.
func WriteHistoryHTML(w io.Writer, r *history.Result, title string) error {
	css, err := htmlFiles.ReadFile("html/report.css")
	if err != nil {
		return err
	}
	js, err := htmlFiles.ReadFile("html/report.js")
	if err != nil {
		return err
	}
	t, err := template.New("history").Funcs(htmlFormatters()).Funcs(template.FuncMap{
		"sign":   signClass,
		"pct":    percentCell,
		"saved":  savedUTC,
		"base":   baseName,
		"inc":    func(i int) int { return i + 1 },
		"kinds":  attributionLists,
		"kindOf": func(l attributionList) string { return l.kind },
		"listOf": func(l attributionList) []history.Growth { return l.list },
		"step":   func(i int) *history.Step { return stepInto(r, i) },
		"snapAt": func(i int) *history.Snapshot { return r.Snapshots[i] },
	}).Parse(historyTmpl)
	if err != nil {
		return err
	}
	data := struct {
		*history.Result
		Title string
		Types *LineChart
		KV    *StackChart
		CSS   template.CSS
		JS    template.JS
	}{r, title, historyTypeLines(r), historyKVStack(r), template.CSS(css), template.JS(js)}
	return writeDocument(w, func(b *bytes.Buffer) error { return t.Execute(b, data) })
}

func stepInto(r *history.Result, i int) *history.Step {
	if i <= 0 || i > len(r.Steps) {
		return nil
	}
	return r.Steps[i-1]
}

// round2 rounds a chart coordinate to two decimals, so the SVG stays short
// and stable across platforms.
func round2(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 2, 64), 64)
	return v
}
