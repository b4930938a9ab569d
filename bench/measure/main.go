// Command measure runs a command with its standard output discarded and
// prints "<wall seconds> <peak RSS KiB> <exit code>" to the file named by -o
// (or stderr), like GNU time's "%e %M" but with nothing to install:
// scripts/bench.sh uses it. The command's stderr passes through.
//
// Usage: measure -o FILE CMD [ARGS...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "", "write the measurement to this file instead of stderr")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: measure [-o FILE] CMD [ARGS...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdout = nil // /dev/null
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintf(os.Stderr, "measure: %v\n", err)
		os.Exit(2)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = int64(ru.Maxrss) // KiB on Linux
	}
	line := fmt.Sprintf("%.3f %d %d\n", wall.Seconds(), rss, code)
	if *out == "" {
		fmt.Fprint(os.Stderr, line)
	} else if err := os.WriteFile(*out, []byte(line), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "measure: %v\n", err)
		os.Exit(2)
	}
	os.Exit(code)
}
