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
	register(&command{name: "top", summary: "what takes the space: largest records, KV prefixes, busiest nodes, sessions, tombstones", run: runTop})
}

const topUsage = `Usage: snaptool top [-n N] [--type T] [--kv-depth D] [--format table|text|json] FILE

Lists, in one streaming pass, the N largest records (type, identity, size as
'consul snapshot inspect' counts it), the N largest KV prefixes at depth D,
the nodes with the most services and checks, sessions per node, and the
tombstone build-up (count, bytes, oldest/newest ModifyIndex, top prefixes).
--type restricts the largest-records list (repeatable, or comma-separated;
names as inspect prints them, e.g. KVS, Register, or a type number).

The tables open with the snapshot's ID and when it was saved (UTC, from
the ID). Largest records are ranked (#1, #2…); the Record column is the
record's number in state.bin (as dump's n), Offset its byte offset there.
--format text is table; json carries id, saved and the lists.`

// topOptions are top's flags.
type topOptions struct {
	input   inputOptions
	n       int
	types   typeList
	kvDepth int
	format  string
}

// topFormats are top's --format names ("text" is "table").
var topFormats = []string{"table", "text", "json"}

// AddFlags registers top's flags on fs.
func (o *topOptions) AddFlags(fs *pflag.FlagSet) {
	fs.IntVarP(&o.n, "n", "n", report.DefaultTopN, "length of each list")
	fs.Var(&o.types, "type", "only records of these types in the largest-records list (repeatable or comma-separated; name or number)")
	fs.IntVar(&o.kvDepth, "kv-depth", report.DefaultKVDepth, "KV prefix depth (key parts split on /)")
	fs.StringVar(&o.format, "format", "table", "output format: table, text or json (text is table)")
	o.input.AddFlags(fs)
}

func runTop(ctx context.Context, args []string, e *env) error {
	var o topOptions
	fs := newFlagSet("top")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, topUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, topFormats...); err != nil {
		return err
	}
	if o.n < 1 {
		return usagef("", "-n must be at least 1, got %d", o.n)
	}
	if o.kvDepth < 1 {
		return usagef("", "--kv-depth must be at least 1, got %d", o.kvDepth)
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
	res, terr := report.Top(ctx, s, report.TopOptions{N: o.n, Types: o.types, KVDepth: o.kvDepth})
	done()
	if res == nil {
		return terr
	}
	if err := p.Top(res); err != nil {
		return errors.Join(fmt.Errorf("writing output: %w", err), terr)
	}
	printWarnings(e, s)
	return terr // what could be read is printed; damage exits 3
}
