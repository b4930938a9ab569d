package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/snaptool/snaptool/decode"
	"github.com/spf13/pflag"
)

// newFlagSet returns a FlagSet for one command; flags never live in package variables.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	return fs
}

// parseFlags parses args (after Consul spellings are normalised). On
// --help it prints usage, the flags and the exit codes to stdout and
// returns errHelp.
func parseFlags(fs *pflag.FlagSet, args []string, e *env, usage string) error {
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(normalizeArgs(args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			*help = true
		} else {
			return usagef("", "%v", err)
		}
	}
	if *help {
		fmt.Fprintf(e.stdout, "%s\n\nFlags:\n%s\n%s", usage, fs.FlagUsages(), exitCodesHelp)
		return errHelp
	}
	return nil
}

// checkFormat validates --format before any work starts.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usagef("", "unknown --format %q (want one of %v)", format, allowed)
}

// openInput opens a snapshot in any input form (archive, raw state.bin,
// data-dir snapshot directory, "-" for an archive on stdin).
func openInput(path string, opts decode.Options) (*decode.Snapshot, error) {
	s, err := decode.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return s, nil
}
