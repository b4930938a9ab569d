package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/snaptool/snaptool/internal/golden"
)

func seriesPath(p ...string) string {
	return consul1139Path(append([]string{"series"}, p...)...)
}

// historyNow is the clock of the golden outputs: one hour after 07.snap was saved.
const historyNow = "2026-11-30T00:08:51Z"

// seriesCopy copies the series' snapshots into a temp dir, applying damage
// to the named ones, and returns the dir.
func seriesCopy(t *testing.T, names []string, damage map[string]func([]byte) []byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		b, err := os.ReadFile(seriesPath(n))
		if err != nil {
			t.Fatal(err)
		}
		if d := damage[n]; d != nil {
			b = d(b)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var allSeries = []string{"01.snap", "02.snap", "03.snap", "04.snap", "05.snap", "06.snap", "07.snap"}

func TestHistoryCLIGolden(t *testing.T) {
	for _, tc := range []struct {
		format, golden string
	}{
		{"table", "history/series.table.golden"},
		{"json", "history/series.json.golden"},
		{"csv", "history/series.csv.golden"},
		{"prometheus", "history/series.prom.golden"},
		{"html", "history/series.html.golden"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out, errOut, code := runCLI(t, "history", "--format", tc.format, "--now", historyNow, seriesPath())
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden.Check(t, tc.golden, []byte(out))
		})
	}
	// Files given one by one, in any order, give the same series as the directory.
	dirOut, _, _ := runCLI(t, "history", "--format", "json", seriesPath())
	var args []string
	for i := len(allSeries) - 1; i >= 0; i-- {
		args = append(args, seriesPath(allSeries[i]))
	}
	filesOut, _, code := runCLI(t, append([]string{"history", "--format", "json"}, args...)...)
	if code != 0 || filesOut != dirOut {
		t.Errorf("files in reverse order: exit %d, output differs from the directory's: %v", code, filesOut != dirOut)
	}
}

// TestHistoryPrometheus parses the exposition with Prometheus' own parser
// and checks the figures against Consul's inspect output of the newest
// backup and the clock.
func TestHistoryPrometheus(t *testing.T) {
	out, errOut, code := runCLI(t, "history", "--format", "prometheus", "--now", historyNow, seriesPath())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("Prometheus' parser rejects the output: %v\n%s", err, out)
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, "snaptool_backup_") || f.GetType() != dto.MetricType_GAUGE || f.GetHelp() == "" {
			t.Errorf("%s: type %v, help %q: want a documented snaptool_backup_ gauge", name, f.GetType(), f.GetHelp())
		}
	}
	one := func(name string, labels ...string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("no metric %s", name)
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			return m.GetGauge().GetValue()
		}
		t.Fatalf("no %s%v", name, labels)
		return 0
	}
	var consul struct {
		Meta  struct{ ID string }
		Stats []struct {
			Name       string
			Sum, Count int64
		}
		StatsKV []struct {
			Name       string
			Sum, Count int64
		}
		TotalSize int64
	}
	if err := json.Unmarshal([]byte(mustRead(t, seriesPath("07.inspect.json"))), &consul); err != nil {
		t.Fatal(err)
	}
	if v := one("snaptool_backup_size_bytes"); v != float64(consul.TotalSize) {
		t.Errorf("size %v, Consul %d", v, consul.TotalSize)
	}
	for _, s := range consul.Stats {
		if v := one("snaptool_backup_type_size_bytes", "type", s.Name); v != float64(s.Sum) {
			t.Errorf("type %s: %v bytes, Consul %d", s.Name, v, s.Sum)
		}
		if v := one("snaptool_backup_type_records", "type", s.Name); v != float64(s.Count) {
			t.Errorf("type %s: %v records, Consul %d", s.Name, v, s.Count)
		}
	}
	for _, s := range consul.StatsKV {
		if v := one("snaptool_backup_kv_prefix_size_bytes", "prefix", s.Name); v != float64(s.Sum) {
			t.Errorf("prefix %s: %v bytes, Consul %d", s.Name, v, s.Sum)
		}
	}
	ms := consul.Meta.ID[strings.LastIndexByte(consul.Meta.ID, '-')+1:]
	saved, _ := time.Parse(time.RFC3339, "1970-01-01T00:00:00Z")
	var msv int64
	for _, c := range ms {
		msv = msv*10 + int64(c-'0')
	}
	saved = time.UnixMilli(msv)
	if v := one("snaptool_backup_last_intact_timestamp_seconds"); math.Abs(v-float64(msv)/1000) > 0.001 {
		t.Errorf("timestamp %v, ID says %d ms", v, msv)
	}
	now, _ := time.Parse(time.RFC3339, historyNow)
	if v := one("snaptool_backup_last_intact_age_seconds"); math.Abs(v-now.Sub(saved).Seconds()) > 0.001 {
		t.Errorf("age %v, want %v", v, now.Sub(saved).Seconds())
	}
	if one("snaptool_backup_newest_intact") != 1 || one("snaptool_backup_files") != 7 || one("snaptool_backup_damaged_files") != 0 {
		t.Error("newest_intact, files or damaged_files wrong")
	}
	// 06 → 07 changed nothing.
	if one("snaptool_backup_last_step_growth_bytes") != 0 || one("snaptool_backup_last_step_records", "type", "KVS", "change", "modified") != 0 {
		t.Error("last step 06 → 07 should show no change")
	}

	// A damaged newest backup: the newest intact one is 06, the newest is marked.
	dir := seriesCopy(t, allSeries, map[string]func([]byte) []byte{"07.snap": truncateHalf})
	out, _, code = runCLI(t, "history", "--format", "prometheus", "--now", historyNow, dir)
	if code != 3 {
		t.Errorf("damaged newest: exit %d, want 3", code)
	}
	fams, err = p.TextToMetricFamilies(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parser: %v", err)
	}
	if one("snaptool_backup_newest_intact") != 0 || one("snaptool_backup_damaged_files") != 1 ||
		one("snaptool_backup_newest_info", "verdict", "damaged", "file", filepath.Join(dir, "07.snap")) != 1 {
		t.Errorf("damaged newest not reported:\n%s", out)
	}
}

// TestHistoryChecks runs the cron rules through the real binary.
func TestHistoryChecks(t *testing.T) {
	saved07 := time.UnixMilli(1795993731000).UTC() // 07.snap's ID time, to the second (phases.json)
	_ = saved07
	for _, tc := range []struct {
		name   string
		files  []string
		damage map[string]func([]byte) []byte
		args   []string
		code   int
		stderr string // substring; "" means stderr must be empty
	}{
		{"fresh", allSeries, nil, []string{"--max-age", "2h", "--now", historyNow}, 0, ""},
		{"old", allSeries, nil, []string{"--max-age", "30m", "--now", historyNow}, 1, "check max-age failed: newest intact backup"},
		{"old days later", allSeries, nil, []string{"--max-age", "26h", "--now", "2026-12-03T00:00:00Z"}, 1, "more than --max-age 26h0m0s"},
		{"growth under limit", allSeries[:3], nil, []string{"--max-growth", "500"}, 0, ""},
		{"growth over limit", allSeries[:3], nil, []string{"--max-growth", "100"}, 1, "check max-growth failed: "},
		{"no growth", allSeries, nil, []string{"--max-growth", "0"}, 0, ""},
		{"newest damaged", allSeries, map[string]func([]byte) []byte{"07.snap": truncateHalf}, []string{"--max-age", "2h", "--now", historyNow}, 3, "check damaged failed: newest backup"},
		{"newest empty", allSeries, map[string]func([]byte) []byte{"07.snap": func([]byte) []byte { return nil }}, nil, 2, "is not a Consul snapshot"},
		{"older damaged", allSeries, map[string]func([]byte) []byte{"03.snap": truncateHalf}, []string{"--max-age", "2h", "--now", historyNow}, 0, "03.snap is damaged: it stays in the series"},
		{"newest damaged and old", allSeries, map[string]func([]byte) []byte{"07.snap": truncateHalf}, []string{"--max-age", "1m", "--now", historyNow}, 3, "check max-age failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := seriesCopy(t, tc.files, tc.damage)
			out, errOut, code := runCLI(t, append(append([]string{"history"}, tc.args...), dir)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, errOut)
			}
			if tc.stderr == "" && errOut != "" || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q, want %q", errOut, tc.stderr)
			}
			if strings.Count(errOut, "\n") > 2 {
				t.Errorf("stderr has more than the rule lines: %q", errOut)
			}
			if rows := strings.Count(out, ".snap "); rows < len(tc.files) {
				t.Errorf("table has %d snapshot rows, want %d (a damaged file stays in the series):\n%s", rows, len(tc.files), out)
			}
			for n := range tc.damage {
				if !strings.Contains(out, "│ damaged") && !strings.Contains(out, "│ not_snapshot") {
					t.Errorf("%s not marked damaged:\n%s", n, out)
				}
			}
		})
	}
}

func TestHistoryCLIErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"history"}, 2, "history needs at least 1 argument (FILE... | DIR), got 0"},
		{[]string{"history", "--format", "xml", seriesPath()}, 2, "unknown --format"},
		{[]string{"history", "-"}, 2, "not standard input"},
		{[]string{"history", "--now", "yesterday", seriesPath()}, 2, "--now"},
		{[]string{"history", "--kv-depth", "0", seriesPath()}, 2, "--kv-depth"},
		{[]string{"history", filepath.Join(t.TempDir(), "missing.snap")}, 2, "no such file"},
		{[]string{"history", t.TempDir()}, 2, "no snapshots"},
	} {
		_, errOut, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, code, errOut, tc.code, tc.stderr)
		}
	}
	// --out writes atomically and refuses an input.
	out := filepath.Join(t.TempDir(), "h.html")
	if _, errOut, code := runCLI(t, "history", "--format", "html", "--out", out, seriesPath()); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(mustRead(t, out), "<!DOCTYPE html>") {
		t.Error("--out did not write the page")
	}
	dir := seriesCopy(t, allSeries[:2], nil)
	if _, _, code := runCLI(t, "history", "--out", filepath.Join(dir, "02.snap"), dir); code != 2 {
		t.Errorf("--out over an input: exit %d, want 2", code)
	}
}

// TestHistoryForms mixes input forms: two archives and a data-dir snapshot
// directory (the same state as after.snap), ordered by Index then ID time.
func TestHistoryForms(t *testing.T) {
	out, errOut, code := runCLI(t, "history", "--format", "json", consul1139Path("datadir"), consul1139Path("after.snap"), consul1139Path("before.snap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Snapshots []struct {
			File, Form, Verdict string
			Index               uint64
			Bytes               int64
		}
		Steps []struct{ Delta, Added, Removed, Modified int64 }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range r.Snapshots {
		got = append(got, filepath.Base(s.File)+" "+s.Form+" "+s.Verdict)
	}
	want := []string{"before.snap archive ok", "after.snap archive ok", "2-109-1795550639209 data-dir ok"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("series %q, want %q", got, want)
	}
	if len(r.Steps) != 2 || r.Steps[0].Added+r.Steps[0].Removed+r.Steps[0].Modified == 0 {
		t.Fatalf("steps %+v", r.Steps)
	}
	if s := r.Steps[1]; s.Delta != 0 || s.Added+s.Removed+s.Modified != 0 {
		t.Errorf("after.snap → its own data-dir snapshot: %+v, want no change", s)
	}
}
