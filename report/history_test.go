package report

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/snaptool/snaptool/history"
)

// TestHistoryVerdictIsVerify: history's verdict on each file (one pass,
// HistoryVerifier) is verify's, on intact, cut, corrupted and missing files.
func TestHistoryVerdictIsVerify(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "fixtures", "consul-1.13.9", "series", "03.snap"))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), src...)
	flipped[len(flipped)/2] ^= 0x40
	files := map[string][]byte{"a-intact.snap": src, "b-cut.snap": src[:len(src)/2], "c-flipped.snap": flipped, "d-empty.snap": {}}
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	paths = append(paths, filepath.Join(dir, "e-missing.snap"))
	res, err := History(context.Background(), paths, history.Options{}, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, s := range res.Snapshots {
		v, _ := VerifyFile(context.Background(), s.File, VerifyOptions{})
		var errs, warns int
		for _, f := range v.Findings {
			if f.Severity == SeverityError {
				errs++
			} else {
				warns++
			}
		}
		if s.Verdict != v.Verdict || s.Integrity != v.Integrity || len(s.Errors) != min(errs, 20) || len(s.Warnings) != min(warns, 20) {
			t.Errorf("%s: history %s (%s, %d errors, %d warnings), verify %s (%s, %d, %d)", filepath.Base(s.File), s.Verdict, s.Integrity, len(s.Errors), len(s.Warnings), v.Verdict, v.Integrity, errs, warns)
		}
		seen[v.Verdict] = true
	}
	for _, want := range []string{VerdictOK, VerdictDamaged, VerdictUnreadable} {
		if !seen[want] {
			t.Errorf("no file was %s: the test lost its cases", want)
		}
	}
}

func TestHistoryNeedsVerifier(t *testing.T) {
	if _, err := history.Run(context.Background(), []string{"x.snap"}, history.Options{}); err == nil {
		t.Error("history.Run without a Verifier: no error")
	}
}
