package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/history"
	"github.com/snaptool/snaptool/internal/safefile"
	"github.com/snaptool/snaptool/replay"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

func init() {
	// GOGC 100, not gctune's 200: history holds two pipelines and up to
	// three digests (11-17 MiB live over 8 snapshots of 136 MB); at 200 the
	// heap grew to 52 MiB before a collection and peak RSS to 58-67 MiB
	// (68.5 in make bench), over its 64 MiB + 3.5 MiB digest target; at
	// 100, 50-53 MiB for 1-2% more wall time.
	register(&command{name: "history", summary: "a series of backups over time: growth per type and prefix, checks for cron, Prometheus metrics", run: runHistory, gcPercent: 100})
}

const historyUsage = `Usage: snaptool history [flags] FILE... | DIR

Reads a series of snapshots (files, or a directory of them: *.snap and
gzip archives, data-dir snapshot directories; other files are skipped),
each once, two at a time, and orders them by Index, then by the time in
their snapshot ID. Per snapshot: saved time (UTC), Index, integrity
verdict, records, bytes, size and count per type and per KV prefix
(--kv-depth). Between consecutive snapshots: growth per type and prefix,
and records added, removed and modified per type (raft bookkeeping
included, as 'snaptool diff --include-raft-bookkeeping' counts them).
Over the series: the types, KV prefixes, nodes and services that grew
most. A damaged snapshot stays in the series, marked.

Formats: table (default), json, csv, html (a self-contained page with
charts; --out FILE writes it, or any format, atomically), prometheus (the
text exposition format for node_exporter's textfile collector; metric
names in README.md).

Checks for cron: --max-age (the newest intact backup is older: exit 1),
--max-growth (the last step grew more, in percent: exit 1); a damaged
newest backup exits 3 in any case (2 when it cannot be read at all: an I/O
error). One line on stderr per rule that fired. The verdict is verify's
(every layer), from the same single pass. --now sets the clock for --max-age and the age metric (RFC 3339;
default: the current time).`

// historyFormats are history's --format names ("text" is "table", as in
// inspect and top).
var historyFormats = []string{"table", "text", "json", "csv", "html", "prometheus"}

type historyOptions struct {
	format    string
	out       string
	kvDepth   int
	top       int
	maxAge    time.Duration
	maxGrowth float64
	now       string
	workers   int
	input     inputOptions
}

func (o *historyOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "table", "output format: table, text, json, csv, html or prometheus")
	fs.StringVar(&o.out, "out", "", "write the output to `FILE` (atomically) instead of stdout")
	fs.IntVar(&o.kvDepth, "kv-depth", history.DefaultKVDepth, "number of key parts (split on /) that name a KV prefix")
	fs.IntVarP(&o.top, "n", "n", history.DefaultTopN, "length of each 'grew most' list")
	fs.DurationVar(&o.maxAge, "max-age", 0, "exit 1 when the newest intact backup is older than this (e.g. 26h)")
	fs.Float64Var(&o.maxGrowth, "max-growth", -1, "exit 1 when the last step grew more than this many percent")
	fs.StringVar(&o.now, "now", "", "the current time for --max-age and the age metric (RFC 3339)")
	fs.IntVar(&o.workers, "workers", history.DefaultWorkers, "files read at once (each also inflates in its own goroutine); 1 is faster on a busy machine")
	o.input.AddFlags(fs)
}

func runHistory(ctx context.Context, args []string, e *env) error {
	var o historyOptions
	fs := newFlagSet("history")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, historyUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, historyFormats...); err != nil {
		return err
	}
	if err := checkArgs(fs, "FILE... | DIR", 1, -1); err != nil {
		return err
	}
	if o.kvDepth < 1 || o.top < 1 || o.workers < 1 || o.workers > 16 {
		return usagef("", "--kv-depth and -n must be at least 1, --workers 1 to 16")
	}
	if o.maxAge < 0 {
		return usagef("", "--max-age must not be negative, got %s", o.maxAge)
	}
	now := time.Now()
	if o.now != "" {
		t, err := time.Parse(time.RFC3339, o.now)
		if err != nil {
			return usagef("", "--now %q: want RFC 3339, e.g. 2026-11-30T00:00:00Z", o.now)
		}
		now = t
	}
	for _, a := range fs.Args() {
		if a == "-" {
			return usagef("snaptool history [flags] FILE... | DIR", "history reads files, not standard input")
		}
	}
	// DATA_DIR@INDEX arguments are inputs as they are; the others expand
	// (a directory stands for its snapshots).
	var paths, plain []string
	for _, a := range fs.Args() {
		if _, err := os.Stat(a); err != nil {
			if _, _, ok := replay.Split(a); ok {
				paths = append(paths, a)
				continue
			}
		}
		plain = append(plain, a)
	}
	if len(plain) > 0 {
		expanded, err := history.Expand(plain)
		if err != nil {
			return err
		}
		paths = append(paths, expanded...)
	}
	res, err := report.History(ctx, paths, history.Options{KVDepth: o.kvDepth, TopN: o.top, Workers: o.workers, Open: o.input.opener(ctx, e)}, report.VerifyOptions{})
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		switch o.format {
		case "csv":
			return report.WriteHistoryCSV(w, res)
		case "html":
			return report.WriteHistoryHTML(w, res, fmt.Sprintf("Snapshot history: %d snapshots", len(res.Snapshots)))
		case "prometheus":
			return report.WriteHistoryPrometheus(w, res, now)
		}
		p, err := report.NewPrinter(o.format, w)
		if err != nil {
			return err
		}
		return p.History(res)
	}
	if o.out != "" {
		var inputs []string
		for _, p := range paths {
			inputs = append(inputs, inputFiles(p)...)
		}
		if err := safefile.Write(o.out, inputs, write); err != nil {
			return err
		}
	} else if err := write(e.stdout); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	newest := res.Newest()
	for _, s := range res.Snapshots {
		if !s.Intact() && s != newest {
			fmt.Fprintf(e.stderr, "Warning: %s is %s: it stays in the series with what could be read\n", decode.SafeText(s.File), s.Verdict)
		}
	}
	found := history.Check{MaxAge: o.maxAge, MaxGrowth: o.maxGrowth, Now: now}.Evaluate(res)
	damaged := false
	for _, f := range found {
		fmt.Fprintf(e.stderr, "Error: check %s failed: %s\n", f.Rule, decode.SafeText(f.Message))
		damaged = damaged || f.Rule == history.RuleDamaged
	}
	switch {
	case damaged && newest.Verdict == history.VerdictUnreadable:
		return fmt.Errorf("newest backup %s could not be read: %s", decode.SafeText(newest.File), decode.SafeText(strings.Join(newest.Errors, "; ")))
	case damaged && newest.Verdict == history.VerdictNotSnapshot:
		// Not a snapshot exits 2 in every command; the rule line above
		// already says that the newest backup is not one.
		return fmt.Errorf("newest backup %s: %w", decode.SafeText(newest.File), decode.ErrNotSnapshot)
	case damaged:
		return errDamaged
	case len(found) > 0:
		return errCheckFailed
	}
	return nil
}
