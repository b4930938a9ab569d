package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

func TestWithProgress(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		path    string
		format  string
		total   int64
		hook    bool
		drawsAt bool // the bar is drawn
	}{
		{"terminal, big input", true, "big.snap", "text", 200 << 20, true, true},
		{"terminal, small input", true, "small.snap", "text", 1 << 20, true, false},
		{"not a terminal", false, "big.snap", "text", 200 << 20, false, false},
		{"json output", true, "big.snap", "json", 200 << 20, false, false},
		{"jsonl output", true, "big.snap", "jsonl", 200 << 20, false, false},
		{"stdin", true, "-", "text", 200 << 20, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errBuf bytes.Buffer
			e := &env{stdout: &bytes.Buffer{}, stderr: &errBuf, stderrIsTTY: tt.tty}
			opts, done := withProgress(e, tt.path, tt.format, decode.Options{MaxRecordSize: 7})
			if opts.MaxRecordSize != 7 {
				t.Errorf("other options lost")
			}
			if (opts.Progress != nil) != tt.hook {
				t.Fatalf("progress hook set = %v, want %v", opts.Progress != nil, tt.hook)
			}
			if opts.Progress != nil {
				opts.Progress(tt.total/2, tt.total)
				opts.Progress(tt.total, tt.total)
			}
			drawn := strings.Contains(errBuf.String(), tt.path) || strings.Contains(errBuf.String(), "%")
			if drawn != tt.drawsAt {
				t.Errorf("bar drawn = %v, want %v (stderr %q)", drawn, tt.drawsAt, errBuf.String())
			}
			done()
			n := errBuf.Len()
			if opts.Progress != nil {
				opts.Progress(tt.total, tt.total) // after done: silent
			}
			if errBuf.Len() != n {
				t.Errorf("the bar drew after done")
			}
		})
	}
}
