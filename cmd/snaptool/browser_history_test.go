package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserHistory renders the history page of the fixture series in
// headless Chromium at 1400 and 400 px wide: the figures in the DOM are
// Consul's, the charts are drawn, nothing is loaded from outside, nothing
// logs an error, and at 400 px the page does not scroll sideways.
func TestBrowserHistory(t *testing.T) {
	chromium := findChromium(t)
	art := artifactDir(t)
	out := filepath.Join(art, "history.html")
	if stdout, stderr, code := runCLI(t, "history", "--format", "html", "--out", out, seriesPath()); code != 0 {
		t.Fatalf("snaptool history: exit %d\n%s%s", code, stdout, stderr)
	}
	type consulInspect struct {
		Stats     []struct{ Name string }
		StatsKV   []struct{ Name string }
		TotalSize int64
	}
	var inspects []consulInspect
	kvNames, typeNames := map[string]bool{}, map[string]bool{}
	for _, n := range allSeries {
		var c consulInspect
		if err := json.Unmarshal([]byte(mustRead(t, seriesPath(strings.TrimSuffix(n, ".snap")+".inspect.json"))), &c); err != nil {
			t.Fatal(err)
		}
		inspects = append(inspects, c)
		for _, s := range c.Stats {
			typeNames[s.Name] = true
		}
		for _, s := range c.StatsKV {
			kvNames[s.Name] = true
		}
	}

	ctx, ev := newBrowser(t, chromium)
	for _, width := range []int64{1400, 400} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(t, out))); err != nil {
				t.Fatal(err)
			}
			rows := evalJS[[]string](t, ctx, `[...document.querySelectorAll("table.series tr.snap")].map(r => r.dataset.file + " " + r.dataset.bytes + " " + r.dataset.verdict)`)
			if len(rows) != len(allSeries) {
				t.Fatalf("%d snapshot rows, want %d", len(rows), len(allSeries))
			}
			for i, n := range allSeries {
				if want := fmt.Sprintf("%s %d ok", n, inspects[i].TotalSize); rows[i] != want {
					t.Errorf("row %d: %q, want %q (Consul's TotalSize)", i, rows[i], want)
				}
			}
			lines := evalJS[[]string](t, ctx, `[...document.querySelectorAll("svg.chart.lines g.type-line")].map(g => g.dataset.type + " " + g.querySelectorAll("circle").length)`)
			if len(lines) != len(typeNames) {
				t.Errorf("%d type lines %q, want one per type (%d)", len(lines), lines, len(typeNames))
			}
			for _, l := range lines {
				name, dots, _ := strings.Cut(l, " ")
				if !typeNames[name] || dots != fmt.Sprint(len(allSeries)) {
					t.Errorf("type line %q: want a type Consul lists, with %d points", l, len(allSeries))
				}
			}
			bars := evalJS[int](t, ctx, `document.querySelectorAll("svg.chart.stack g.kv-bar").length`)
			if bars != len(allSeries) {
				t.Errorf("%d KV bars, want %d", bars, len(allSeries))
			}
			segs := evalJS[[]string](t, ctx, `[...new Set([...document.querySelectorAll("svg.chart.stack rect.kv-seg")].map(r => r.dataset.prefix))]`)
			for _, s := range segs {
				if !kvNames[s] && s != "other" {
					t.Errorf("KV segment %q is not a prefix Consul lists", s)
				}
			}
			if len(segs) == 0 {
				t.Error("no KV segments drawn")
			}
			// Drawn, not just present: the charts have a real size on screen.
			if h := evalJS[float64](t, ctx, `document.querySelector("svg.chart.lines").getBoundingClientRect().height`); h < 100 {
				t.Errorf("line chart %.0f px high", h)
			}
			grew := evalJS[[]string](t, ctx, `[...document.querySelectorAll('ol.attribution[data-kind="kv prefix"] li')].map(l => l.dataset.name)`)
			if len(grew) == 0 || grew[0] != "jobs/nightly" {
				t.Errorf("KV prefixes that grew most %q, want jobs/nightly first (phases: 120 keys of 256 B)", grew)
			}
			if w := evalJS[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); len(w) != 2 || w[0] > w[1]+1 {
				wide := evalJS[[]string](t, ctx, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + "." + e.className.baseVal + e.className + " " + Math.round(e.getBoundingClientRect().right))`)
				t.Errorf("%d px viewport: page is %v px wide; too wide: %q", width, w, wide)
			}
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(art, fmt.Sprintf("history-%d.png", width)), shot, 0o644); err != nil {
				t.Fatal(err)
			}
			checkNotBlank(t, shot)
		})
	}
	errs, reqs := ev.snapshot()
	if len(errs) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
	self := fileURL(t, out)
	for _, r := range reqs {
		if r != self && r != "about:blank" && !strings.HasPrefix(r, "data:") {
			t.Errorf("the page loaded an external resource: %s", r)
		}
	}
	t.Logf("screenshots and page kept in %s", art)
}
