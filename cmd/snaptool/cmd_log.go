package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/raftlog"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "log", summary: "a server's raft log: every write, its targets and its token (what happened between backups)", run: runLog})
}

const logUsage = `Usage: snaptool log [flags] DATA_DIR

Reads the raft log of a Consul server offline: DATA_DIR is the server's
data dir, its raft/ dir or a raft.db file (raft-wal segments in raft/wal/
are read too). raft.db is opened read-only and is never written; when a
running server holds it, stop the server or copy the data dir.

Text output is one line per entry:

  index  time  type  op  target(s)  by

type is Consul's message type (raft's own entries: noop, configuration,
barrier), op the request's operation, targets the identities it touches as
dump and diff name them (a transaction lists each operation), by the
caller's token: its description, resolved through the ACL tokens of the
newest snapshot of the data dir (or --snapshot FILE) and the token writes of
the log itself. --format jsonl (or json) writes one JSON object per entry
with the whole decoded request. --summary counts entries per type,
operation and token instead.

Secrets (the caller's token, token SecretIDs, CA keys, peering secrets and
every secret-named field) are masked as "<masked sha256:1a2b3c4d>" unless
--show-secrets is given.

Filters combine with AND. --since and --until take an index or an RFC 3339
time (inclusive). --token matches an AccessorID prefix or a token
description. An entry that cannot be decoded is still listed with its
error, and the exit status is then 3.`

// logFormats are log's --format names: json is jsonl, as dump's.
var logFormats = []string{"text", "jsonl", "json"}

// logOptions are log's flags.
type logOptions struct {
	format      string
	summary     bool
	since       string
	until       string
	types       typeList
	kvPrefix    string
	key         string
	node        string
	service     string
	token       string
	snapshot    string
	showSecrets bool
}

// AddFlags registers log's flags on fs.
func (o *logOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "text", "output format: text, jsonl or json (both JSON lines)")
	fs.BoolVar(&o.summary, "summary", false, "count entries per type, operation and token instead of listing them")
	fs.StringVar(&o.since, "since", "", "only entries from this index or RFC 3339 time on")
	fs.StringVar(&o.until, "until", "", "only entries up to this index or RFC 3339 time")
	fs.Var(&o.types, "type", "only entries of these message types (repeatable or comma-separated; name or number)")
	fs.StringVar(&o.kvPrefix, "kv-prefix", "", "only entries touching a KV key with this prefix")
	fs.StringVar(&o.key, "key", "", "only entries touching this KV key")
	fs.StringVar(&o.node, "node", "", "only entries touching this node (its services and checks included)")
	fs.StringVar(&o.service, "service", "", "only entries touching this service (ID or name)")
	fs.StringVar(&o.token, "token", "", "only entries by this token (AccessorID prefix or description)")
	fs.StringVar(&o.snapshot, "snapshot", "", "resolve tokens through this snapshot instead of the data dir's newest")
	fs.BoolVar(&o.showSecrets, "show-secrets", false, "show secrets instead of masking them")
}

// filter turns the flags into a raftlog.Filter.
func (o *logOptions) filter() (raftlog.Filter, error) {
	f := raftlog.Filter{Types: o.types, KVPrefix: o.kvPrefix, Key: o.key, Node: o.node, Service: o.service, Token: o.token}
	var err error
	if f.SinceIndex, f.Since, err = indexOrTime("--since", o.since); err != nil {
		return f, err
	}
	if f.UntilIndex, f.Until, err = indexOrTime("--until", o.until); err != nil {
		return f, err
	}
	return f, nil
}

// indexOrTime parses a --since/--until value: a raft index or an RFC 3339 time.
func indexOrTime(flag, v string) (uint64, time.Time, error) {
	if v == "" {
		return 0, time.Time{}, nil
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n == 0 {
			return 0, time.Time{}, usagef("", "%s: raft indexes start at 1", flag)
		}
		return n, time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, time.Time{}, usagef("", "%s %q: want a raft index or an RFC 3339 time (2024-05-01T12:00:00Z)", flag, v)
	}
	return 0, t, nil
}

func runLog(ctx context.Context, args []string, e *env) error {
	var o logOptions
	fs := newFlagSet("log")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, logUsage); err != nil {
		return err
	}
	if o.format == "json" {
		o.format = "jsonl"
	}
	if err := checkFormat(o.format, logFormats...); err != nil {
		return err
	}
	f, err := o.filter()
	if err != nil {
		return err
	}
	if err := checkArgs(fs, "DATA_DIR", 1, 1); err != nil {
		return err
	}
	l, err := raftlog.Open(fs.Arg(0), raftlog.Options{Snapshot: o.snapshot, ShowSecrets: o.showSecrets})
	if err != nil {
		if errors.Is(err, raftlog.ErrInUse) {
			return raftlog.ErrInUse // the one sentence, as it is
		}
		return fmt.Errorf("opening %s: %w", fs.Arg(0), err)
	}
	defer l.Close()
	if l.SnapshotErr != nil && o.snapshot == "" {
		fmt.Fprintf(e.stderr, "Warning: no snapshot to resolve tokens (%v): callers are named from the log's own token writes only\n", l.SnapshotErr)
	}
	s := l.Scan(f)
	defer s.Close()
	s.Tree = o.format == "jsonl" && !o.summary
	var sum raftlog.Summary
	damaged := 0
	for n := 0; s.Next(); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ent := s.Entry()
		if ent.Err != "" {
			damaged++
		}
		if o.summary {
			sum.Add(ent)
			continue
		}
		var werr error
		if o.format == "jsonl" {
			werr = raftlog.WriteJSON(e.stdout, ent)
		} else {
			werr = raftlog.WriteText(e.stdout, ent)
		}
		if werr != nil {
			return fmt.Errorf("writing output: %w", werr)
		}
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("reading %s after %d entries: %w", l.Path, s.Read(), err)
	}
	if o.summary {
		if err := writeLogSummary(e, &sum, o.format); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	if damaged > 0 {
		fmt.Fprintf(e.stderr, "Error: %s: %s could not be decoded (listed with their error)\n", decode.SafeText(l.Path), entries(damaged))
		return errDamaged
	}
	return nil
}

// writeLogSummary prints the summary as report's tables, or as one JSON object.
func writeLogSummary(e *env, s *raftlog.Summary, format string) error {
	if format == "jsonl" {
		enc := json.NewEncoder(decode.SafeJSONWriter(e.stdout))
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			*raftlog.Summary
			ByType  []raftlog.Count `json:"by_type"`
			ByOp    []raftlog.Count `json:"by_op"`
			ByToken []raftlog.Count `json:"by_token"`
		}{s, s.ByType(), s.ByOp(), s.ByToken()})
	}
	span := fmt.Sprintf("%s, indexes %d to %d, %s", entries(int(s.Entries)), s.FirstIndex, s.LastIndex, report.ByteSize(s.Bytes))
	if !s.FirstTime.IsZero() {
		span += fmt.Sprintf(", %s to %s", s.FirstTime.Format(time.RFC3339), s.LastTime.Format(time.RFC3339))
	}
	if s.Errors > 0 {
		span += fmt.Sprintf(", %d not decoded", s.Errors)
	}
	if _, err := fmt.Fprintln(e.stdout, span+"\n"); err != nil {
		return err
	}
	rows := func(cs []raftlog.Count, op bool) [][]string {
		var out [][]string
		for _, c := range cs {
			row := []string{c.Key}
			if op {
				row = append(row, c.Op)
			}
			out = append(out, append(row, strconv.FormatInt(c.Entries, 10), report.ByteSize(c.Bytes)))
		}
		return out
	}
	if err := report.WriteSection(e.stdout, "Per type", []string{"Type", "Entries", "Size"}, rows(s.ByType(), false), 1, 2); err != nil {
		return err
	}
	if err := report.WriteSection(e.stdout, "\nPer operation", []string{"Type", "Op", "Entries", "Size"}, rows(s.ByOp(), true), 2, 3); err != nil {
		return err
	}
	return report.WriteSection(e.stdout, "\nPer token", []string{"Token", "Entries", "Size"}, rows(s.ByToken(), false), 1, 2)
}

// entries is "1 entry" or "N entries".
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return strconv.Itoa(n) + " entries"
}
