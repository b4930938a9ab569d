package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser test renders the HTML report of the shipped fixture pair in a
// real headless Chromium. Artifacts (the screenshot and the report) are
// kept in $SNAPTOOL_ARTIFACTS, or artifacts/browser/ at the repository root.
//
// Chromium is found as $SNAPTOOL_CHROMIUM or on PATH (chromium,
// chromium-browser, google-chrome, headless-shell). Without it the test
// fails when CI is set (CI must not pass silently) and skips otherwise.

func findChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the browser test (seconds of Chromium) runs in make test, without -short")
	}
	if p := os.Getenv("SNAPTOOL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (install Debian's chromium package, or set SNAPTOOL_CHROMIUM)"
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: the browser test must run in CI", msg)
	}
	t.Skipf("%s: skipping the browser test (it fails instead when CI is set)", msg)
	return ""
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SNAPTOOL_ARTIFACTS")
	if dir == "" {
		dir = repoPath("artifacts", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserEvents collects what the page reports: console errors, uncaught
// exceptions, error log entries and every URL it requested.
type browserEvents struct {
	mu       sync.Mutex
	errors   []string
	requests []string
}

func (b *browserEvents) listen(ctx context.Context) error {
	return chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.errors = append(b.errors, "console."+string(ev.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			text := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				text += " " + ev.ExceptionDetails.Exception.Description
			}
			b.errors = append(b.errors, "exception: "+text)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				b.errors = append(b.errors, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		}
	})
}

func (b *browserEvents) snapshot() (errs, reqs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...), append([]string(nil), b.requests...)
}

func newBrowser(t *testing.T, chromium string) (context.Context, *browserEvents) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	ev := &browserEvents{}
	// The first Do starts the browser; Listen needs the tab to exist.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	if err := ev.listen(bctx); err != nil {
		t.Fatal(err)
	}
	return bctx, ev
}

func fileURL(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: abs}).String()
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// TestBrowserErrorDetection makes sure the console-error check of
// TestBrowserReport can fail: a page that logs an error must be caught.
func TestBrowserErrorDetection(t *testing.T) {
	ctx, ev := newBrowser(t, findChromium(t))
	page := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(page, []byte(`<!DOCTYPE html><title>x</title><script>console.error("planted error"); undefinedFunction();</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(t, page))); err != nil {
		t.Fatal(err)
	}
	evalJS[int](t, ctx, `1`) // a round trip, so that the events have arrived
	errs, _ := ev.snapshot()
	joined := strings.Join(errs, "\n")
	if !strings.Contains(joined, "planted error") || !strings.Contains(joined, "undefinedFunction") {
		t.Errorf("planted console error and exception not both detected: %q", errs)
	}
}

func TestBrowserReport(t *testing.T) {
	chromium := findChromium(t)
	fix := repoPath("fixtures", "consul-1.13.9")
	before, after := filepath.Join(fix, "before.snap"), filepath.Join(fix, "after.snap")
	art := artifactDir(t)
	out := filepath.Join(art, "report.html")
	stdout, stderr, code := runCLI(t, "report", "--html", out, before, after)
	if code != 0 {
		t.Fatalf("snaptool report: exit %d\n%s%s", code, stdout, stderr)
	}

	// Expected figures, from Consul's own inspect output and the change list.
	var consul struct {
		Stats []struct {
			Name       string
			Sum, Count int64
		}
		TotalSize int64
	}
	b, err := os.ReadFile(filepath.Join(fix, "before.inspect.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &consul); err != nil || len(consul.Stats) == 0 {
		t.Fatalf("reading Consul's inspect golden: %v", err)
	}
	changes, err := os.ReadFile(filepath.Join(fix, "CHANGES.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\|[^\n]*node deregistered[^\n]*"Node":"([^"]+)"`).FindSubmatch(changes)
	if m == nil {
		t.Fatal("CHANGES.md names no deregistered node")
	}
	removedNode := string(m[1])

	ctx, ev := newBrowser(t, chromium)
	if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(t, out))); err != nil {
		t.Fatal(err)
	}
	if title := evalJS[string](t, ctx, `document.title`); !strings.Contains(title, "before.snap") {
		t.Errorf("title %q", title)
	}

	// Key figures in the DOM.
	total := evalJS[string](t, ctx, `document.querySelector("#snap-A .total-size").dataset.bytes`)
	if total != fmt.Sprint(consul.TotalSize) {
		t.Errorf("total size in the DOM %s, Consul says %d", total, consul.TotalSize)
	}
	totalText := evalJS[string](t, ctx, `document.querySelector("#snap-A .total-size").textContent`)
	if !strings.Contains(totalText, groupThousands(consul.TotalSize)) {
		t.Errorf("total size text %q lacks %s", totalText, groupThousands(consul.TotalSize))
	}
	largest := consul.Stats[0]
	row := evalJS[[]string](t, ctx, `(() => { const r = document.querySelector("#snap-A table.types tbody tr"); return [r.dataset.type, r.querySelector(".count").textContent]; })()`)
	if len(row) != 2 || row[0] != largest.Name || row[1] != fmt.Sprint(largest.Count) {
		t.Errorf("largest type row %q, Consul: %s with %d records", row, largest.Name, largest.Count)
	}
	bar := evalJS[string](t, ctx, `document.querySelector("#snap-A figure.bars.all .type-bar").dataset.type`)
	if bar != largest.Name {
		t.Errorf("first bar of the chart is %q, want %q", bar, largest.Name)
	}
	removed := evalJS[[]string](t, ctx, `[...document.querySelectorAll('#details tr.change[data-op="removed"]')].map(e => e.dataset.id)`)
	if !containsString(removed, "node:"+removedNode) {
		t.Errorf("removed node %q not among the removed records %q", removedNode, removed)
	}

	// Drill-down: opening a prefix shows its children.
	kids := evalJS[int](t, ctx, `(() => { const d = document.querySelector('#snap-A .kvtree details[data-prefix="app"]'); d.open = true; return [...d.querySelectorAll(':scope > details')].filter(x => x.getBoundingClientRect().height > 0).length; })()`)
	if kids == 0 {
		t.Error("opening KV prefix app shows no child prefix")
	}

	// The layout at a desktop and a phone width, each kept as a full-page
	// screenshot; the wide one must not be blank.
	labels := diffLabels(t, before, after)
	for _, w := range []int{1400, 400} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), 900)); err != nil {
			t.Fatal(err)
		}
		checkLayout(t, ctx, w, labels, "consul-1.13.9/before.snap", "consul-1.13.9/after.snap")
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(art, fmt.Sprintf("report-%d.png", w)), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if w == 1400 {
			checkNotBlank(t, shot)
		}
	}

	// Print: the print stylesheet applies and a PDF comes out.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if d := evalJS[string](t, ctx, `getComputedStyle(document.querySelector("nav.toc")).display`); d != "none" {
		t.Errorf("print media: nav display %q, want none", d)
	}
	closed := evalJS[[]int](t, ctx, `(() => { const n = () => document.querySelectorAll("details:not([open])").length; const before = n(); window.dispatchEvent(new Event("beforeprint")); const during = n(); window.dispatchEvent(new Event("afterprint")); return [before, during, n()]; })()`)
	if len(closed) != 3 || closed[0] == 0 || closed[1] != 0 || closed[2] != closed[0] {
		t.Errorf("closed drill-downs before/during/after printing: %v, want N/0/N", closed)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || len(pdf) < 10000 {
		t.Errorf("PDF of %d bytes", len(pdf))
	}

	errs, reqs := ev.snapshot()
	if len(errs) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
	self := fileURL(t, out)
	for _, r := range reqs {
		if r != self && r != "about:blank" && !strings.HasPrefix(r, "data:") {
			t.Errorf("the report loaded an external resource: %s", r)
		}
	}
	t.Logf("screenshots and report kept in %s", art)
}

// diffLabels runs `snaptool diff --format json` on the pair and returns
// each change's label by "type id" (the labels the report must show).
func diffLabels(t *testing.T, a, b string) map[string]string {
	t.Helper()
	stdout, stderr, code := runCLI(t, "diff", "--format", "json", a, b)
	if code != 1 {
		t.Fatalf("snaptool diff: exit %d\n%s", code, stderr)
	}
	labels := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var c struct{ Op, Type, ID, Label string }
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("diff JSON line %q: %v", line, err)
		}
		if c.Op != "summary" {
			labels[c.Type+" "+c.ID] = c.Label
		}
	}
	if len(labels) == 0 {
		t.Fatal("diff of the pair gives no change")
	}
	return labels
}

// layoutJS measures the page at the current viewport width.
const layoutJS = `(() => {
  const de = document.documentElement, cw = de.clientWidth;
  const top = id => { const e = document.getElementById(id); return e ? e.getBoundingClientRect().top + window.scrollY : -1; };
  const px = e => parseFloat(getComputedStyle(e).fontSize);
  const chart = [...document.querySelectorAll("figure.bars .bar-label, figure.bars .bar-val")];
  const out = {
    scrollWidth: de.scrollWidth, clientWidth: cw, viewHeight: window.innerHeight,
    order: ["inputs", "summary", "details", "snap-A", "snap-B"].map(top),
    chartFigures: [...document.querySelectorAll("#snap-A figure.bars")].map(f => f.className),
    chartTexts: chart.length,
    chartMinPx: Math.min(...chart.map(px)),
    chartOutside: chart.filter(e => { const r = e.getBoundingClientRect(); return r.width == 0 || r.right > cw + 0.5; }).map(e => e.textContent),
    unwrapped: [...document.querySelectorAll("table")].filter(t => !t.parentElement.classList.contains("table-wrap")).map(t => t.className),
    wrapsOutside: [...document.querySelectorAll(".table-wrap")].filter(w => w.getBoundingClientRect().right > cw + 0.5).map(w => w.firstElementChild.className),
    clipped: [...document.querySelectorAll(".table-wrap")].filter(w => w.scrollWidth > w.clientWidth && getComputedStyle(w).overflowX != "auto").map(w => w.firstElementChild.className),
    summaryHeads: [...document.querySelectorAll("#summary table.diff-types th")].filter(h => h.getBoundingClientRect().width > 0 && h.getBoundingClientRect().right > h.closest(".table-wrap").getBoundingClientRect().right + 0.5).map(h => h.textContent),
    idStyles: [...new Set([...document.querySelectorAll(".id")].map(e => getComputedStyle(e).overflowWrap + "/" + getComputedStyle(e).wordBreak))],
    wbr: document.querySelectorAll(".id wbr").length,
    inputs: [...document.querySelectorAll("#inputs tbody tr")].map(r => r.dataset.label + " " + r.querySelector(".id").textContent + " " + r.querySelector(".saved").textContent),
    important: [...document.querySelectorAll("#summary table.important tbody tr")].map(r => ({type: r.dataset.type, id: r.dataset.id, label: r.dataset.label, text: r.querySelector(".ident").textContent})),
    listed: [...document.querySelectorAll("#details table.changes tbody tr")].map(r => ({type: r.dataset.type, id: r.dataset.id, label: r.dataset.label, text: r.querySelector(".ident").textContent})),
  };
  return out;
})()`

type layoutRow struct{ Type, ID, Label, Text string }

type layout struct {
	ScrollWidth, ClientWidth, ViewHeight  float64
	Order                                 []float64
	ChartFigures                          []string
	ChartTexts                            int
	ChartMinPx                            float64
	ChartOutside, Unwrapped, WrapsOutside []string
	Clipped, SummaryHeads, IDStyles       []string
	Wbr                                   int
	Inputs                                []string
	Important, Listed                     []layoutRow
}

// checkLayout asserts the report's layout at viewport width w: no
// horizontal scrolling of the page, the diff story first (inputs, summary
// of changes, details, then each snapshot), readable charts, tables that
// scroll in their own box, identities that wrap only at separators, and
// every label diff gives shown beside its identity.
func checkLayout(t *testing.T, ctx context.Context, w int, labels map[string]string, fileA, fileB string) {
	t.Helper()
	l := evalJS[layout](t, ctx, layoutJS)
	t.Logf("%d px: page %v/%v px wide, sections at %v, %d chart texts >= %.1f px, %d <wbr>, id styles %v",
		w, l.ScrollWidth, l.ClientWidth, l.Order, l.ChartTexts, l.ChartMinPx, l.Wbr, l.IDStyles)
	if l.ClientWidth != float64(w) || l.ScrollWidth > l.ClientWidth {
		t.Errorf("%d px: the page scrolls sideways: scrollWidth %v > clientWidth %v", w, l.ScrollWidth, l.ClientWidth)
	}
	for i := range l.Order {
		if l.Order[i] < 0 || i > 0 && l.Order[i] <= l.Order[i-1] {
			t.Errorf("%d px: sections inputs, summary, details, snap-A, snap-B at %v: want each present and below the one before", w, l.Order)
			break
		}
	}
	if len(l.Order) > 1 && l.Order[1] > l.ViewHeight {
		t.Errorf("%d px: the summary of changes starts at %v px, below the first screen (%v px)", w, l.Order[1], l.ViewHeight)
	}
	if len(l.ChartFigures) != 2 || !strings.Contains(l.ChartFigures[1], "others") {
		t.Errorf("%d px: size charts %q: KVS dominates snapshot A, want the chart of all types and the other types' own", w, l.ChartFigures)
	}
	if l.ChartTexts < 20 || l.ChartMinPx < 10 {
		t.Errorf("%d px: %d chart labels, smallest %.1f px: want them readable (>= 10 px)", w, l.ChartTexts, l.ChartMinPx)
	}
	if len(l.ChartOutside) > 0 {
		t.Errorf("%d px: chart text hidden or cut at the right edge: %q", w, l.ChartOutside)
	}
	if len(l.Unwrapped) > 0 || len(l.WrapsOutside) > 0 || len(l.Clipped) > 0 {
		t.Errorf("%d px: tables not in a scroll box %q, boxes wider than the page %q, cut without scrolling %q", w, l.Unwrapped, l.WrapsOutside, l.Clipped)
	}
	if len(l.SummaryHeads) > 0 {
		t.Errorf("%d px: the changes-per-type table is cut at %q", w, l.SummaryHeads)
	}
	if len(l.IDStyles) != 1 || l.IDStyles[0] != "normal/keep-all" || l.Wbr == 0 {
		t.Errorf("%d px: identities wrap with %q and %d <wbr>: want normal/keep-all, breaks only at / . - :", w, l.IDStyles, l.Wbr)
	}
	if len(l.Inputs) != 2 || !strings.HasPrefix(l.Inputs[0], "A ") || !strings.Contains(l.Inputs[0], fileA) ||
		!strings.HasPrefix(l.Inputs[1], "B ") || !strings.Contains(l.Inputs[1], fileB) {
		t.Errorf("%d px: inputs table %q: want A %s and B %s", w, l.Inputs, fileA, fileB)
	}
	for _, in := range l.Inputs {
		if !regexp.MustCompile(` 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC$`).MatchString(in) {
			t.Errorf("%d px: input %q does not show when it was saved", w, in)
		}
	}
	want := len(labels)
	if want > 10 {
		want = 10
	}
	if len(l.Important) != want || len(l.Listed) != len(labels) {
		t.Errorf("%d px: %d important changes and %d listed, diff gives %d", w, len(l.Important), len(l.Listed), len(labels))
	}
	shown, importantLabels := 0, 0
	for _, r := range l.Important {
		if r.Label != "" && strings.Contains(r.Text, r.Label) {
			importantLabels++
		}
	}
	if importantLabels < 5 {
		t.Errorf("%d px: only %d of the important changes show a label: %+v", w, importantLabels, l.Important)
	}
	for _, r := range append(append([]layoutRow(nil), l.Important...), l.Listed...) {
		lab, ok := labels[r.Type+" "+r.ID]
		if !ok {
			t.Errorf("%d px: the report lists %s %s, which diff does not", w, r.Type, r.ID)
			continue
		}
		if r.Label != lab || !strings.Contains(r.Text, lab) || !strings.Contains(r.Text, r.ID) {
			t.Errorf("%d px: %s %s shows label %q (%q), diff's label is %q", w, r.Type, r.ID, r.Label, r.Text, lab)
		}
		if lab != "" {
			shown++
		}
	}
	t.Logf("%d px: %d of the listed changes carry a label", w, shown)
}

// TestBrowserCrossVersion: the same layout checks on the cross-version
// pair (1.13.9 after → 1.14.11 after: 59 changes, schema-only differences
// hidden), at 1400 and 400 px, with screenshots.
func TestBrowserCrossVersion(t *testing.T) {
	chromium := findChromium(t)
	a, b := repoPath("fixtures", "consul-1.13.9", "after.snap"), repoPath("fixtures", "consul-1.14.11", "after.snap")
	art := artifactDir(t)
	out := filepath.Join(art, "report-cross.html")
	if stdout, stderr, code := runCLI(t, "report", "--html", out, a, b); code != 0 {
		t.Fatalf("snaptool report: exit %d\n%s%s", code, stdout, stderr)
	}
	labels := diffLabels(t, a, b)
	ctx, ev := newBrowser(t, chromium)
	if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(t, out))); err != nil {
		t.Fatal(err)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll("#summary .schema-only").length`); n != 1 {
		t.Errorf("no note on the hidden schema-only differences (%d)", n)
	}
	for _, w := range []int{1400, 400} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), 900)); err != nil {
			t.Fatal(err)
		}
		checkLayout(t, ctx, w, labels, "consul-1.13.9/after.snap", "consul-1.14.11/after.snap")
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(art, fmt.Sprintf("report-cross-%d.png", w)), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if errs, _ := ev.snapshot(); len(errs) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestBrowserLongIdentity: an identity with no separator in 96
// characters (a KV key of one long token) neither breaks inside the token
// nor widens the page at 400 px: its table scrolls in its own box. This is
// the case the overflow protection is for; the shipped pair fits anyway.
func TestBrowserLongIdentity(t *testing.T) {
	chromium := findChromium(t)
	dir := t.TempDir()
	token := strings.Repeat("0123456789abcdef", 6)
	key := "app/" + token
	kv := func(k, v string) []byte {
		var b bytes.Buffer
		b.WriteByte(0x82)
		for _, s := range []string{"Key", k, "Value", v} {
			if len(s) < 32 {
				b.WriteByte(0xa0 | byte(len(s)))
			} else {
				b.Write([]byte{0xd9, byte(len(s))})
			}
			b.WriteString(s)
		}
		return b.Bytes()
	}
	a := writeKVSnap(t, dir, "a.snap", kv("app/x", "1"))
	b := writeKVSnap(t, dir, "b.snap", kv("app/x", "1"), kv(key, "2"))
	out := filepath.Join(artifactDir(t), "report-long-identity.html")
	if stdout, stderr, code := runCLI(t, "report", "--html", out, a, b); code != 0 {
		t.Fatalf("snaptool report: exit %d\n%s%s", code, stdout, stderr)
	}
	ctx, _ := newBrowser(t, chromium)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(400, 900)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fileURL(t, out))); err != nil {
		t.Fatal(err)
	}
	m := evalJS[struct {
		ScrollWidth, ClientWidth float64
		Lines                    []int
		Boxes                    []string
	}](t, ctx, fmt.Sprintf(`((token) => {
  const de = document.documentElement;
  // Lines the token takes in each identity cell that shows it.
  const lines = [...document.querySelectorAll('.id')].filter(e => e.textContent.includes(token)).map(e => {
    const r = document.createRange(), n = [...e.childNodes].find(c => c.nodeType == 3 && c.textContent.includes(token));
    r.selectNodeContents(n);
    return new Set([...r.getClientRects()].map(q => Math.round(q.top))).size;
  });
  const boxes = [...document.querySelectorAll('.table-wrap')].filter(w => w.scrollWidth > w.clientWidth).map(w => w.firstElementChild.className + ":" + getComputedStyle(w).overflowX);
  return {scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, lines, boxes};
})(%q)`, token))
	t.Logf("page %v/%v px, token lines %v, scrolling boxes %v", m.ScrollWidth, m.ClientWidth, m.Lines, m.Boxes)
	if m.ScrollWidth > m.ClientWidth {
		t.Errorf("a long identity widens the page: scrollWidth %v > clientWidth %v", m.ScrollWidth, m.ClientWidth)
	}
	if len(m.Lines) < 2 {
		t.Errorf("the long identity is shown %d times, want in the important changes and the list", len(m.Lines))
	}
	for _, n := range m.Lines {
		if n != 1 {
			t.Errorf("the token of the long identity is broken over %d lines", n)
		}
	}
	if len(m.Boxes) == 0 {
		t.Error("no table scrolls in its own box, yet the token is wider than the screen")
	}
	for _, b := range m.Boxes {
		if !strings.HasSuffix(b, ":auto") {
			t.Errorf("table box %s does not scroll", b)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), "report-long-identity-400.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkNotBlank decodes a PNG and requires real contrast: the standard
// deviation of the luminance over a grid of samples, and several distinct
// grey levels.
func checkNotBlank(t *testing.T, pngData []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	bnd := img.Bounds()
	if bnd.Dx() < 300 || bnd.Dy() < 300 {
		t.Fatalf("screenshot is only %v", bnd)
	}
	var sum, sum2, n float64
	levels := map[int]bool{}
	for y := bnd.Min.Y; y < bnd.Max.Y; y += 3 {
		for x := bnd.Min.X; x < bnd.Max.X; x += 3 {
			l := luminance(img, x, y)
			sum += l
			sum2 += l * l
			n++
			levels[int(l)/8] = true
		}
	}
	mean := sum / n
	sd := math.Sqrt(sum2/n - mean*mean)
	t.Logf("screenshot %dx%d: luminance mean %.1f, sd %.1f, %d levels", bnd.Dx(), bnd.Dy(), mean, sd, len(levels))
	if sd < 10 || len(levels) < 8 {
		t.Errorf("screenshot looks blank: luminance sd %.1f, %d levels", sd, len(levels))
	}
}

func luminance(img image.Image, x, y int) float64 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 257
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
