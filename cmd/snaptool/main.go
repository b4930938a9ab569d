// Command snaptool inspects, verifies, dumps and diffs HashiCorp Consul
// snapshots offline. This package only wires flags to the library: the work
// is done by decode, diff and report. Exit codes are decided in one place,
// exitCode, and nothing but main (and the signal handler it installs)
// calls os.Exit.
package main

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/snaptool/snaptool/internal/safefile"
)

// signalGrace is how long a command has, after SIGINT or SIGTERM, to stop
// on its own (record loops look at ctx every 1024 records) before the
// process exits anyway (a read blocked on a stalled pipe): well within the
// one second every command promises.
const signalGrace = 500 * time.Millisecond

func main() {
	// One handler for both signals, for every command: ctx is canceled with
	// the signal as its cause (exitCode maps it to 130 or 143), temp files
	// go at once, and the process exits after signalGrace if still running.
	ctx, stop := safefile.NotifyContext(context.Background(), signalGrace, func(code int) {
		in := &safefile.Interrupted{Signal: syscall.Signal(code - 128)}
		fmt.Fprintf(os.Stderr, "Error: %v: stopped after %v (waiting on input)\n", in, signalGrace)
		os.Exit(code)
	})
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
