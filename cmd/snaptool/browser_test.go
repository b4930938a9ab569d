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
	bar := evalJS[string](t, ctx, `document.querySelector("#snap-A svg.chart g.type-bar").dataset.type`)
	if bar != largest.Name {
		t.Errorf("first bar of the chart is %q, want %q", bar, largest.Name)
	}
	removed := evalJS[[]string](t, ctx, `[...document.querySelectorAll('#compare tr.change[data-op="removed"] td.id')].map(e => e.textContent)`)
	if !containsString(removed, "node:"+removedNode) {
		t.Errorf("removed node %q not among the removed records %q", removedNode, removed)
	}

	// Drill-down: opening a prefix shows its children.
	kids := evalJS[int](t, ctx, `(() => { const d = document.querySelector('#snap-A .kvtree details[data-prefix="app"]'); d.open = true; return [...d.querySelectorAll(':scope > details')].filter(x => x.getBoundingClientRect().height > 0).length; })()`)
	if kids == 0 {
		t.Error("opening KV prefix app shows no child prefix")
	}

	// Full-page screenshot, kept as an artifact, must not be blank.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(art, "report.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	checkNotBlank(t, shot)

	// Narrow screen: nothing wider than the viewport.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 812)); err != nil {
		t.Fatal(err)
	}
	if w := evalJS[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); len(w) != 2 || w[0] > w[1]+1 {
		t.Errorf("narrow screen: page is %v px wide for a %v px viewport", w, w)
	}
	narrow, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(art, "report-narrow.png"), narrow, 0o644); err != nil {
		t.Fatal(err)
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
