package main

import (
	"os"
	"runtime/debug"

	"github.com/snaptool/snaptool/history"
)

// GC tuning for streaming. Every command allocates short-lived values per
// record while its live heap stays at a few MiB, so with the default
// GOGC=100 the collector runs every few MiB of allocation and its
// preemptions and write barriers cost 15-20% of verify's and dump's time.
// A higher GOGC with a soft memory limit keeps peak RSS flat (the limit makes
// the collector work harder only as the heap nears it) and collects far less
// often. GOGC and GOMEMLIMIT in the environment still win.
const (
	gcPercent   = 400
	memoryLimit = 18 << 20
)

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// historyMemoryLimit is the soft limit while history reads two files at
// once (two decode pipelines) and holds up to three digests: 32 MiB plus
// the digests, raised as they are seen. GOMEMLIMIT in the environment wins.
func historyMemoryLimit() func(records int) {
	const base = 32 << 20
	var most int
	set := func() {
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(int64(base + 3*history.EntrySize*most))
		}
	}
	set()
	return func(records int) {
		if records > most {
			most = records
			set()
		}
	}
}
