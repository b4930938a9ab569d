package main

import (
	"os"
	"runtime/debug"

	"github.com/snaptool/snaptool/decode"
)

// GC tuning for streaming. Every command allocates short-lived values per
// record while its live heap stays at a few MiB, so with the default
// GOGC=100 the collector runs every few MiB of allocation and its
// preemptions and write barriers cost 15-20% of verify's and dump's time;
// GOGC=200 halves that.
//
// The soft memory limit is derived from the record cap: one record may be
// decode.DefaultMaxRecordSize (64 MiB), and a command may hold two at once
// (diff's current pair) on top of its baseline, so the limit is
// 2 × 64 MiB + 16 MiB = 144 MiB, under the 256 MiB budget. A limit below
// the live heap makes the collector run back to back: with the former
// 18 MiB limit a 2 MB diff input whose records decode to a large live heap
// took 3.8 s of CPU instead of 2.4 s, and a diff of two archives of 2 MB
// records 1.7 s instead of 1.2 s. On ordinary snapshots the live heap
// stays far below the limit and GOGC alone paces the collector (peak RSS
// of inspect, verify and diff unchanged). GOGC and GOMEMLIMIT in the
// environment still win.
const (
	gcPercent   = 200
	memBaseline = 16 << 20
	memoryLimit = 2*decode.DefaultMaxRecordSize + memBaseline
)

func init() {
	tuneGC(gcPercent)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// tuneGC sets GOGC to percent unless the environment sets it.
func tuneGC(percent int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
}
