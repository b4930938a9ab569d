// Package fuzzopt runs a test binary with fuzzing defaults that suit
// inputs of whole snapshots, state.bin streams and records (KBs). Only
// tests import it.
//
// Go minimizes every new interesting input before keeping it, for up to
// -test.fuzzminimizetime (60 s by default), and its byte minimizer tries
// every subset of the input: quadratic in its length. On a snapshot of a
// few KB that always takes the whole minute, during which nothing new is
// tried, so `go test -fuzz FuzzArchive -fuzztime 60s` ran about 30
// inputs. Main makes the limit MinimizeLimit unless the command line
// gives one; a crasher is still saved (minimized as far as the limit
// goes), and scripts/fuzz.sh passes the same limit.
package fuzzopt

import (
	"flag"
	"testing"
)

// MinimizeLimit is the default -test.fuzzminimizetime: executions, not
// time, so that a slow machine minimizes as much as a fast one.
const MinimizeLimit = "100x"

const minimizeFlag = "test.fuzzminimizetime"

// Main parses the flags, sets the minimization default and runs the
// tests; TestMain passes its result to os.Exit.
func Main(m *testing.M) int {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == minimizeFlag })
	if !given {
		if err := flag.Set(minimizeFlag, MinimizeLimit); err != nil {
			panic("fuzzopt: " + err.Error())
		}
	}
	return m.Run()
}
