// Command snaptool inspects, verifies, dumps and diffs HashiCorp Consul
// snapshots offline. This package only wires flags to the library: the work
// is done by decode, diff and report. Exit codes are decided in one place,
// exitCode, and nothing but main calls os.Exit.
package main

import (
	"context"
	"os"
	"os/signal"
	"time"

	"github.com/snaptool/snaptool/internal/safefile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	safefile.CleanupOnSignal(time.Second, os.Exit) // temp files go at once; exit 130/143 if still running after 1 s
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
