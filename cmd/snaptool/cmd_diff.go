package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
	"github.com/snaptool/snaptool/raftlog"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "diff", summary: "what was added, removed and modified between two snapshots, field by field", run: runDiff})
}

const diffUsage = `Usage: snaptool diff [flags] A B

Compares snapshot A with snapshot B (any input form: .snap archive, raw
state.bin, data-dir snapshot directory, data dir, "-" for an archive on
stdin) in one streaming pass over both. Records are matched on (type,
identity) as 'snaptool dump' prints them. Text output: one line per change,
"+" added, "-" removed, "M" modified (changed fields indented below, as
path: old -> new), then a summary per type and per KV prefix, sorted by
bytes growth, largest first. --format json writes JSON lines: one object
per change, then {"op":"summary", ...}.

Raft bookkeeping (CreateIndex/ModifyIndex at any depth, and the Index
table) is ignored unless --include-raft-bookkeeping. Secrets are compared
and shown as fingerprints (<masked sha256:...>) unless --show-secrets.
--kv-prefix limits the diff to KVS and Tombstone records under that prefix
(unless --type names other types too).

Text output opens with one line per input (file, raft index, when it was
saved); each changed record shows its label (a token's description, a
policy's name, …) beside its identity; changes are listed at their leaf
fields, values elided beyond --max-value-len (0: whole). A deleted KV key
is one line. Schema-only differences (a field absent on one side and
null, "", 0, false, [] or {} on the other) are hidden and counted unless
--include-schema-changes. --values also shows the content of added and
removed records.

If an input cannot be read before its first record, nothing is compared
(exit 2 when it is not a snapshot at all, 3 when damaged). If one fails
part-way, changes stop there, stderr (and the last JSON line,
{"op":"incomplete",...}) says how far the comparison got, exit 3.

--log DATA_DIR (blame) attributes each change to the entry of that data
dir's raft log that last touched the record between A's index and B's
(index, time, operation and the caller's token description); A must be
older than B and the log must hold the entries between them (for example
diff --log DIR DIR@1200 DIR@1350, or a backup and a later one of the same
cluster). A change no entry in that range names says so.

Exit status follows diff(1): 0 identical, 1 different.`

// diffOptions are diff's flags.
type diffOptions struct {
	input       inputOptions
	format      string
	stat        bool
	values      bool
	schema      bool
	types       typeList
	ignoreTypes typeList
	kvPrefix    string
	kvDepth     int
	bookkeeping bool
	showSecrets bool
	maxValueLen int
	log         string
}

// AddFlags registers diff's flags on fs.
func (o *diffOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "text", "output format: text, jsonl or json (JSON lines either way)")
	fs.BoolVar(&o.stat, "stat", false, "print only the summary (per type and per KV prefix)")
	fs.BoolVar(&o.values, "values", false, "show KV values that are text on both sides as a unified diff, and the content of added and removed records")
	fs.BoolVar(&o.schema, "include-schema-changes", false, "also report schema-only differences (absent on one side, null/empty/zero on the other)")
	fs.Var(&o.types, "type", "compare only records of these types (repeatable or comma-separated; name or number, e.g. KVS, Register)")
	fs.Var(&o.ignoreTypes, "ignore-type", "skip records of these types (repeatable or comma-separated)")
	fs.StringVar(&o.kvPrefix, "kv-prefix", "", "compare only KV keys (and tombstones) with this prefix")
	fs.IntVar(&o.kvDepth, "kv-depth", diff.DefaultKVDepth, "KV prefix depth of the summary (key parts split on /)")
	fs.BoolVar(&o.bookkeeping, "include-raft-bookkeeping", false, "also compare CreateIndex/ModifyIndex and the Index table")
	fs.BoolVar(&o.showSecrets, "show-secrets", false, "show secrets in clear instead of fingerprints")
	fs.IntVar(&o.maxValueLen, "max-value-len", report.DefaultDiffValueLen, "text: elide old/new values longer than this many bytes (0: show them whole)")
	fs.StringVar(&o.log, "log", "", "blame: attribute each change to the entry of this data dir's raft log that last touched it between A and B")
	o.input.AddFlags(fs)
}

// newBlamer reads the log entries between A's and B's raft index. The
// log stays open for the blamer's exact lookups: close it when done.
func newBlamer(dataDir string, a, b *diff.MetaSummary) (*raftlog.Blamer, *raftlog.Log, error) {
	if a.Index >= b.Index {
		return nil, nil, usagef("", "--log: A (index %d) must be older than B (index %d)", a.Index, b.Index)
	}
	l, err := raftlog.Open(dataDir, raftlog.Options{})
	if err != nil {
		if errors.Is(err, raftlog.ErrInUse) {
			return nil, nil, raftlog.ErrInUse
		}
		return nil, nil, fmt.Errorf("--log %s: %w", dataDir, err)
	}
	first, last, _, err := l.Bounds()
	if err != nil {
		l.Close()
		return nil, nil, fmt.Errorf("--log %s: %w", dataDir, err)
	}
	if first > a.Index+1 || last < b.Index {
		l.Close()
		return nil, nil, fmt.Errorf("--log %s: the log holds indexes %d to %d, not all of %d to %d (between A and B)", dataDir, first, last, a.Index+1, b.Index)
	}
	bl, err := l.Blamer(a.Index+1, b.Index)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return bl, l, nil
}

func runDiff(ctx context.Context, args []string, e *env) error {
	var o diffOptions
	fs := newFlagSet("diff")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, diffUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, "text", "json", "jsonl"); err != nil {
		return err
	}
	if o.kvDepth < 1 {
		return usagef("", "--kv-depth must be at least 1, got %d", o.kvDepth)
	}
	if o.maxValueLen < 0 {
		return usagef("", "--max-value-len must be 0 (whole values) or more, got %d", o.maxValueLen)
	}
	types, ignore := []decode.MessageType(o.types), []decode.MessageType(o.ignoreTypes)
	if o.kvPrefix != "" && len(types) == 0 {
		types = []decode.MessageType{decode.TypeKVS, decode.TypeTombstone}
	}
	if err := checkArgs(fs, "A B", 2, 2); err != nil {
		return err
	}
	if fs.Arg(0) == "-" && fs.Arg(1) == "-" {
		return usagef("", "only one of A and B can be - (standard input)")
	}
	// A progress bar (terminal only, large inputs) follows A, which is read
	// in lockstep with B; only with --stat, whose output comes at the end,
	// so the bar never interleaves with streamed changes.
	aOpts, done := decode.Options{}, func() {}
	if o.stat {
		aOpts, done = withProgress(e, fs.Arg(0), o.format, aOpts)
	}
	defer done()
	a, err := openInput(ctx, e, fs.Arg(0), aOpts, o.input)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := openInput(ctx, e, fs.Arg(1), decode.Options{}, o.input)
	if err != nil {
		return err
	}
	defer b.Close()

	p, err := report.NewPrinter(o.format, e.stdout)
	if err != nil {
		return usagef("", "%v", err)
	}
	var blamer *raftlog.Blamer
	closeLog := func() error { return nil }
	defer func() { closeLog() }()
	opts := diff.Options{Types: types, IgnoreTypes: ignore, KVPrefix: o.kvPrefix, KVDepth: o.kvDepth,
		IncludeRaftBookkeeping: o.bookkeeping, ShowSecrets: o.showSecrets, Values: o.values, IncludeSchemaChanges: o.schema,
		Start: func(a, b *diff.MetaSummary) error {
			if o.log != "" {
				var err error
				var l *raftlog.Log
				if blamer, l, err = newBlamer(o.log, a, b); err != nil {
					return err
				}
				closeLog = l.Close
			}
			return p.DiffStart(a, b, report.DiffPrintOptions{MaxValueLen: o.maxValueLen})
		}}
	var emit func(*diff.Change) error
	if !o.stat {
		emit = func(c *diff.Change) error {
			if blamer != nil && c.MessageType != decode.TypeIndex {
				c.Blame = &diff.Blame{}
				at := c.ModifyIndex
				if c.Op == diff.Removed {
					at = 0 // A's last write, before the range
					if c.Tombstone != nil {
						at = c.Tombstone.Index // the deletion
					}
				}
				if t, ok := blamer.Lookup(c.Type, c.ID, at); ok {
					*c.Blame = diff.Blame{Index: t.Index, Time: t.Time, Entry: t.Entry, By: t.By}
				}
			}
			return p.DiffChange(c)
		}
	}
	sum, runErr := diff.Run(ctx, a, b, opts, emit)
	done()
	if sum != nil && sum.Incomplete != nil {
		// No fake diff: what was emitted covers only what both inputs had
		// passed; say how far the comparison got (stdout's last JSON line,
		// and stderr), and fail.
		in := sum.Incomplete
		if err := p.DiffIncomplete(in); err != nil {
			return err
		}
		(&report.DiffTextPrinter{W: e.stderr}).Incomplete(in) //nolint:errcheck // stderr
		if runErr == nil {
			runErr = errDamaged
		}
		return runErr
	}
	if runErr == nil { // a partial summary of a damaged input would mislead
		if err := p.DiffSummary(sum, !o.stat); err != nil {
			return err
		}
	}
	printWarnings(e, a, b)
	for _, w := range sum.Warnings {
		fmt.Fprintf(e.stderr, "Note: %s\n", w)
	}
	if runErr != nil {
		return runErr
	}
	if !sum.Identical {
		return errDifferent
	}
	return nil
}
