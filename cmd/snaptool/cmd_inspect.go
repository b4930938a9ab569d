package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/report"
)

func init() {
	register(&command{name: "inspect", summary: "per-type and per-KV-prefix counts and sizes, equal to `consul snapshot inspect`", run: runInspect})
}

const inspectUsage = `Usage: snaptool inspect [flags] FILE

Counts the records of a snapshot by type, and with --kv-details the KV
records by key prefix, with the sizes ` + "`consul snapshot inspect`" + ` prints for
the same file. FILE is an archive (.snap), a raw state.bin (meta.json read
from the same directory), a raft data-dir snapshot directory, a data dir,
or - for an archive on standard input.

Formats: table (default), pretty (byte-identical to ` + "`consul snapshot inspect`" + `),
json (a superset of ` + "`consul snapshot inspect -format json`" + `: Meta, Stats,
StatsKV, TotalSize, TotalSizeKV, then LastIndex, Records, Integrity,
Errors, Warnings). Consul's spellings -kvdetails, -kvdepth, -kvfilter and
-format are accepted.

A damaged snapshot still prints the counts of what could be read, then the
errors on stderr, and exits 3.`

type inspectFlags struct {
	format string
	opts   report.InspectOptions
}

func runInspect(ctx context.Context, args []string, e *env) error {
	var f inspectFlags
	fs := newFlagSet("inspect")
	fs.StringVar(&f.format, "format", "table", "output format: table, pretty or json")
	fs.BoolVar(&f.opts.KVDetails, "kv-details", false, "break KV records down by key prefix")
	fs.IntVar(&f.opts.KVDepth, "kv-depth", 2, "number of key parts (split on /) that name a prefix group")
	fs.StringVar(&f.opts.KVFilter, "kv-filter", "", "only count KV keys that start with this prefix")
	if err := parseFlags(fs, args, e, inspectUsage); err != nil {
		return err
	}
	if err := checkFormat(f.format, "table", "pretty", "json"); err != nil {
		return err
	}
	if f.opts.KVDepth < 0 {
		return usagef("", "--kv-depth must be 0 or more, got %d", f.opts.KVDepth)
	}
	if fs.NArg() != 1 {
		if fs.NArg() == 0 {
			return usagef("snaptool inspect [flags] FILE", "missing FILE argument")
		}
		return usagef("snaptool inspect [flags] FILE", "too many arguments (expected 1, got %d)", fs.NArg())
	}
	opts, done := withProgress(e, fs.Arg(0), f.format, decode.Options{})
	defer done()
	s, err := openInput(fs.Arg(0), opts)
	if err != nil {
		return err
	}
	defer s.Close()
	res, ierr := report.Inspect(s, f.opts)
	done()
	if res == nil {
		return ierr
	}
	var werr error
	switch f.format {
	case "pretty":
		werr = report.WritePretty(e.stdout, res)
	case "json":
		werr = report.WriteJSON(e.stdout, res)
	default:
		werr = report.WriteTable(e.stdout, res)
	}
	if werr != nil {
		return errors.Join(fmt.Errorf("writing output: %w", werr), ierr)
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(e.stderr, "%s: warning: %v\n", programName, w)
	}
	return ierr
}
