// Command snaptool inspects, verifies, dumps and diffs HashiCorp Consul
// snapshots offline. This package only wires flags to the library: the work
// is done by decode, diff and report. Exit codes are decided in one place,
// exitCode, and nothing but main calls os.Exit.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
