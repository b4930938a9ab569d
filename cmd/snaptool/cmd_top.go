package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/report"
)

func init() {
	register(&command{name: "top", summary: "what takes the space: largest records, KV prefixes, busiest nodes, sessions, tombstones", run: runTop})
}

const topUsage = `Usage: snaptool top [-n N] [--type T] [--kv-depth D] [--format table|json] FILE

Lists, in one streaming pass, the N largest records (type, identity, size as
'consul snapshot inspect' counts it), the N largest KV prefixes at depth D,
the nodes with the most services and checks, sessions per node, and the
tombstone build-up (count, bytes, oldest/newest ModifyIndex, top prefixes).
--type restricts the largest-records list (repeatable, or comma-separated;
names as inspect prints them, e.g. KVS, Register, or a type number).`

type topOptions struct {
	n       int
	types   []string
	kvDepth int
	format  string
}

func runTop(ctx context.Context, args []string, e *env) error {
	var o topOptions
	fs := newFlagSet("top")
	fs.IntVarP(&o.n, "n", "n", report.DefaultTopN, "length of each list")
	fs.StringSliceVar(&o.types, "type", nil, "only records of these types in the largest-records list")
	fs.IntVar(&o.kvDepth, "kv-depth", report.DefaultKVDepth, "KV prefix depth (key parts split on /)")
	fs.StringVar(&o.format, "format", "table", "output format: table or json")
	if err := parseFlags(fs, args, e, topUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, "table", "json"); err != nil {
		return err
	}
	if o.n < 1 {
		return usagef("", "-n must be at least 1, got %d", o.n)
	}
	if o.kvDepth < 1 {
		return usagef("", "--kv-depth must be at least 1, got %d", o.kvDepth)
	}
	var types []decode.MessageType
	for _, name := range o.types {
		t, ok := decode.ParseType(strings.TrimSpace(name))
		if !ok {
			return usagef("snaptool top --type KVS", "unknown record type %q", name)
		}
		types = append(types, t)
	}
	if fs.NArg() != 1 {
		return usagef("", "top needs exactly one FILE, got %d arguments", fs.NArg())
	}
	s, err := openInput(fs.Arg(0), decode.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	res, errs := report.Top(s, report.TopOptions{N: o.n, Types: types, KVDepth: o.kvDepth})
	if o.format == "json" {
		err = report.WriteTopJSON(e.stdout, res)
	} else {
		err = report.WriteTopTable(e.stdout, res)
	}
	if err != nil {
		return err
	}
	return readErrors(e, s, errs)
}

// readErrors prints s's warnings to stderr and returns everything that went
// wrong while reading it, joined (nil if nothing did). The data is printed
// before: what could be read is useful. run classifies the result: damage
// exits 3, an I/O error 2.
func readErrors(e *env, s *decode.Snapshot, errs []error) error {
	for _, w := range s.Warnings() {
		fmt.Fprintf(e.stderr, "%s: warning: %v\n", programName, w)
	}
	return errors.Join(errs...)
}
