package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/snaptool/snaptool/internal/safefile"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "report", summary: "write a self-contained HTML report of one snapshot, or of two and what changed", run: runReport})
}

const reportUsage = `Usage: snaptool report --html OUT FILE [FILE2]

Writes one self-contained HTML file (inline CSS, no external resources;
readable printed and on a narrow screen) with, for each snapshot: meta.json
and when it was saved, the integrity verdict of 'snaptool verify', the size
per record type as bars, the KV prefix sizes with drill-down by depth, the
largest records, the busiest nodes, sessions per node and tombstones. With
FILE2 what changed from FILE to FILE2 comes first: the changes per type
(sorted by byte growth, largest growth first and largest shrink last) and
the ten most important changes (security, then the Connect CA, then
configuration, then data, bookkeeping last; largest byte change first
within each), then the growth per KV prefix and the list of changes, then
each snapshot. Secrets are masked unless --show-secrets.

OUT is written atomically and never replaces an input. Each snapshot is read
once (verify, inspect, top and the diff share one pass), so either FILE
may be '-' (an archive on standard input). A damaged snapshot is still
reported (the report shows the damage) and the exit status is then 3.`

// reportOptions are report's flags.
type reportOptions struct {
	html        string
	top         int
	kvDepth     int
	treeDepth   int
	maxChanges  int
	showSecrets bool
	input       inputOptions
}

// AddFlags registers report's flags on fs.
func (o *reportOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.html, "html", "", "write the HTML report to `OUT` (required)")
	fs.IntVarP(&o.top, "n", "n", 20, "length of the top lists")
	fs.IntVar(&o.kvDepth, "kv-depth", report.DefaultKVDepth, "KV prefix depth of the top list and the growth table")
	fs.IntVar(&o.treeDepth, "tree-depth", 4, "depth of the KV drill-down")
	fs.IntVar(&o.maxChanges, "max-changes", 2000, "list at most this many changes")
	fs.BoolVar(&o.showSecrets, "show-secrets", false, "show secrets instead of masking them")
	o.input.AddFlags(fs)
}

func runReport(ctx context.Context, args []string, e *env) error {
	var o reportOptions
	fs := newFlagSet("report")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, reportUsage); err != nil {
		return err
	}
	if o.html == "" {
		return usagef("snaptool report --html report.html FILE [FILE2]", "--html OUT is required")
	}
	if err := checkArgs(fs, "FILE [FILE2]", 1, 2); err != nil {
		return err
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"-n", o.top}, {"--kv-depth", o.kvDepth}, {"--tree-depth", o.treeDepth}, {"--max-changes", o.maxChanges}} {
		if v.n < 1 {
			return usagef("", "%s must be at least 1, got %d", v.name, v.n)
		}
	}
	paths := fs.Args()
	if len(paths) == 2 && paths[0] == "-" && paths[1] == "-" {
		return usagef("", "only one of FILE and FILE2 can be - (standard input)")
	}
	var inputs []string
	for _, p := range paths {
		inputs = append(inputs, inputFiles(p)...)
	}
	r, err := report.BuildHTMLReport(ctx, paths, report.HTMLOptions{
		TopN: o.top, KVDepth: o.kvDepth, TreeDepth: o.treeDepth, MaxChanges: o.maxChanges, ShowSecrets: o.showSecrets,
		Open: o.input.opener(ctx, e),
	})
	if err != nil {
		return err
	}
	if err := safefile.Write(o.html, inputs, func(w io.Writer) error { return report.WriteHTML(w, r) }); err != nil {
		return err
	}
	abs, err := filepath.Abs(o.html)
	if err != nil {
		abs = o.html
	}
	fmt.Fprintf(e.stdout, "%s\n", abs)
	damaged := false
	for _, s := range r.Snapshots {
		if s.Damaged {
			damaged = true
			fmt.Fprintf(e.stderr, "Warning: %s is damaged; the report shows what could be read and the damage\n", s.File)
		}
	}
	if damaged {
		return errDamaged
	}
	return nil
}
