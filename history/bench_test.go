package history_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/snaptool/snaptool/history"
	"github.com/snaptool/snaptool/report"
)

// BenchmarkRun reads the series in $SNAPTOOL_HISTORY_BENCH (a directory,
// e.g. bench/out after `BENCH_GEN_ONLY=1 make bench`, h-*.snap), or the
// fixture series.
func BenchmarkRun(b *testing.B) {
	dir := os.Getenv("SNAPTOOL_HISTORY_BENCH")
	var paths []string
	if dir != "" {
		paths, _ = filepath.Glob(filepath.Join(dir, "h-135-*.snap"))
	} else {
		var err error
		if paths, err = history.Expand([]string{seriesDir()}); err != nil {
			b.Fatal(err)
		}
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := report.History(context.Background(), paths, history.Options{Workers: w}, report.VerifyOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
