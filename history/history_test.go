package history_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
	"github.com/snaptool/snaptool/history"
	"github.com/snaptool/snaptool/report"
)

func seriesDir() string { return filepath.Join("..", "fixtures", "consul-1.13.9", "series") }

func runSeries(t *testing.T, o history.Options) *history.Result {
	t.Helper()
	paths, err := history.Expand([]string{seriesDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 7 {
		t.Fatalf("Expand found %d snapshots in the series, want 7: %v", len(paths), paths)
	}
	r, err := report.History(context.Background(), paths, o, report.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type consulInspect struct {
	Meta struct {
		ID    string
		Index uint64
	}
	Stats, StatsKV []struct {
		Name       string
		Sum, Count int64
	}
	TotalSize int64
}

// TestSeriesEqualsConsulInspect checks every per-type and per-prefix number
// of every snapshot against Consul's own inspect output beside it, and the
// order against the IDs.
func TestSeriesEqualsConsulInspect(t *testing.T) {
	r := runSeries(t, history.Options{})
	if len(r.Steps) != len(r.Snapshots)-1 {
		t.Fatalf("%d steps for %d snapshots", len(r.Steps), len(r.Snapshots))
	}
	for i, s := range r.Snapshots {
		want := filepath.Join(seriesDir(), map[bool]string{true: "", false: ""}[true]+
			filepath.Base(s.File)[:2]+".inspect.json")
		if filepath.Base(s.File) != want[len(want)-len("NN.inspect.json"):len(want)-len(".inspect.json")]+".snap" {
			t.Errorf("snapshot %d is %s, want %s (series order)", i, s.File, want)
		}
		var c consulInspect
		b, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if s.ID != c.Meta.ID || s.Index != c.Meta.Index || s.Verdict != history.VerdictOK || s.Bytes != c.TotalSize {
			t.Errorf("%s: id %s index %d verdict %s bytes %d; Consul: %s %d, %d bytes", s.File, s.ID, s.Index, s.Verdict, s.Bytes, c.Meta.ID, c.Meta.Index, c.TotalSize)
		}
		if len(s.Types) != len(c.Stats) {
			t.Errorf("%s: %d types, Consul %d", s.File, len(s.Types), len(c.Stats))
		}
		for j := range c.Stats {
			if j < len(s.Types) && (s.Types[j].Name != c.Stats[j].Name || s.Types[j].Bytes != c.Stats[j].Sum || s.Types[j].Count != c.Stats[j].Count) {
				t.Errorf("%s: type row %d %+v, Consul %+v", s.File, j, s.Types[j], c.Stats[j])
			}
		}
		if len(s.KV) != len(c.StatsKV) {
			t.Errorf("%s: %d KV prefixes, Consul %d", s.File, len(s.KV), len(c.StatsKV))
		}
		for j := range c.StatsKV {
			if j < len(s.KV) && (s.KV[j].Name != c.StatsKV[j].Name || s.KV[j].Bytes != c.StatsKV[j].Sum || s.KV[j].Count != c.StatsKV[j].Count) {
				t.Errorf("%s: KV row %d %+v, Consul %+v", s.File, j, s.KV[j], c.StatsKV[j])
			}
		}
		if s.Saved == nil || s.Saved.Location() != time.UTC {
			t.Errorf("%s: saved time %v, want UTC from the ID", s.File, s.Saved)
		}
	}
}

// TestStepsEqualDiff checks history's record counts per step against
// diff's engine with raft bookkeeping included (history counts byte changes).
func TestStepsEqualDiff(t *testing.T) {
	r := runSeries(t, history.Options{})
	for _, st := range r.Steps {
		a, b := r.Snapshots[st.From].File, r.Snapshots[st.To].File
		sa, err := decode.Open(a, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sb, err := decode.Open(b, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := diff.Run(context.Background(), sa, sb, diff.Options{IncludeRaftBookkeeping: true, ShowSecrets: true}, func(*diff.Change) error { return nil })
		sa.Close()
		sb.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]history.Change{}
		for _, c := range st.Types {
			got[c.Name] = c
		}
		var total int64
		for _, ts := range sum.Types {
			c := got[ts.Name]
			if c.Added != int64(ts.Added) || c.Removed != int64(ts.Removed) || c.Modified != int64(ts.Modified) || c.BytesFrom != ts.BytesA || c.BytesTo != ts.BytesB {
				t.Errorf("%s → %s %s: history +%d -%d ~%d %d→%d B; diff +%d -%d ~%d %d→%d B", filepath.Base(a), filepath.Base(b), ts.Name,
					c.Added, c.Removed, c.Modified, c.BytesFrom, c.BytesTo, ts.Added, ts.Removed, ts.Modified, ts.BytesA, ts.BytesB)
			}
			total += int64(ts.Added + ts.Removed + ts.Modified)
		}
		if st.Added+st.Removed+st.Modified != total {
			t.Errorf("%s → %s: %d changes, diff %d", a, b, st.Added+st.Removed+st.Modified, total)
		}
	}
	// The series has real changes: a step with none would mean the digest is blind.
	if st := r.Steps[1]; st.Added == 0 || st.Removed+st.Modified == 0 {
		t.Errorf("step 02→03: +%d -%d ~%d, want additions and changes", st.Added, st.Removed, st.Modified)
	}
	if st := r.Steps[len(r.Steps)-1]; st.Added+st.Removed+st.Modified != 0 || st.Delta != 0 {
		t.Errorf("06→07 (no change): %+v", st)
	}
}

// TestDigestBudget: a snapshot with more records than MaxDigest is still
// counted, but the steps next to it compare no records.
func TestDigestBudget(t *testing.T) {
	r := runSeries(t, history.Options{MaxDigest: 100})
	for _, st := range r.Steps {
		a, b := r.Snapshots[st.From], r.Snapshots[st.To]
		want := a.Records <= 100 && b.Records <= 100
		if st.Compared != want || (!st.Compared && st.Added+st.Removed+st.Modified != 0) {
			t.Errorf("%s (%d records) → %s (%d): compared %v, +%d -%d ~%d", a.File, a.Records, b.File, b.Records, st.Compared, st.Added, st.Removed, st.Modified)
		}
	}
	if r.Snapshots[6].Bytes != 60680 {
		t.Errorf("07.snap counted %d bytes with the budget exceeded, want 60680", r.Snapshots[6].Bytes)
	}
}
