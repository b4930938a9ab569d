package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
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

Formats: table (default; text is its alias), pretty (byte-identical to
` + "`consul snapshot inspect`" + `), json (a superset of ` + "`consul snapshot inspect -format json`" + `:
Meta, Stats, StatsKV, TotalSize, TotalSizeKV, then LastIndex, SavedTime,
Records, Integrity, Errors, Warnings). table and json give the time the
snapshot was saved (UTC, from its ID); pretty, like Consul, does not.
A file that is not a snapshot at all exits 2 and says what it looks like. Consul's spellings -kvdetails, -kvdepth, -kvfilter and
-format are accepted.

A damaged snapshot still prints the counts of what could be read, then the
errors on stderr, and exits 3.`

// inspectOptions are inspect's flags.
type inspectOptions struct {
	input  inputOptions
	format string
	report.InspectOptions
}

// inspectFormats are inspect's --format names ("text" is "table").
var inspectFormats = []string{"table", "text", "pretty", "json"}

// AddFlags registers inspect's flags on fs.
func (o *inspectOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "table", "output format: table, text, pretty or json (text is table)")
	fs.BoolVar(&o.KVDetails, "kv-details", false, "break KV records down by key prefix")
	fs.IntVar(&o.KVDepth, "kv-depth", 2, "number of key parts (split on /) that name a prefix group")
	fs.StringVar(&o.KVFilter, "kv-filter", "", "only count KV keys that start with this prefix")
	o.input.AddFlags(fs)
}

func runInspect(ctx context.Context, args []string, e *env) error {
	var o inspectOptions
	fs := newFlagSet("inspect")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, inspectUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, inspectFormats...); err != nil {
		return err
	}
	if o.KVDepth < 0 {
		return usagef("", "--kv-depth must be 0 or more, got %d", o.KVDepth)
	}
	if err := checkArgs(fs, "FILE", 1, 1); err != nil {
		return err
	}
	p, err := report.NewPrinter(o.format, e.stdout)
	if err != nil {
		return usagef("", "%v", err)
	}
	opts, done := withProgress(e, fs.Arg(0), o.format, decode.Options{})
	defer done()
	s, err := openInput(ctx, e, fs.Arg(0), opts, o.input)
	if err != nil {
		return err
	}
	defer s.Close()
	res, ierr := report.Inspect(ctx, s, o.InspectOptions)
	done()
	if res == nil {
		return ierr
	}
	if err := p.Inspect(res); err != nil {
		return errors.Join(fmt.Errorf("writing output: %w", err), ierr)
	}
	printWarnings(e, s)
	return ierr
}
