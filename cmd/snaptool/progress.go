package main

import (
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/snaptool/snaptool/decode"
)

// progressMin is the input size from which a progress bar is worth showing.
const progressMin = 64 << 20

// withProgress returns opts with a progress hook that draws a bar on
// stderr (bytes read of the input's size) while decode reads path, and a
// done func that removes the bar. There is no bar when stderr is not a
// terminal, when format is a JSON format, for standard input, or for
// inputs under 64 MiB. Usage in a command:
//
//	opts, done := withProgress(e, path, format, decode.Options{})
//	defer done()
//	s, err := openInput(ctx, e, path, opts, o.input)
//
// Call done before printing results, so the bar never interleaves with them.
func withProgress(e *env, path, format string, opts decode.Options) (decode.Options, func()) {
	if !e.stderrIsTTY || strings.Contains(strings.ToLower(format), "json") || path == "-" {
		return opts, func() {}
	}
	var (
		mu   sync.Mutex
		bar  *progressbar.ProgressBar
		done bool
	)
	opts.Progress = func(read, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if done || total < progressMin {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(e.stderr),
				progressbar.OptionSetDescription(filepath.Base(path)),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionSetPredictTime(true),
			)
		}
		_ = bar.Set64(read)
	}
	return opts, func() {
		mu.Lock()
		defer mu.Unlock()
		done = true
		if bar != nil {
			_ = bar.Finish()
			_ = bar.Clear()
		}
	}
}
