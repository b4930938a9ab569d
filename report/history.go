package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/history"
)

// HistoryVerifier is history's Verifier with verify's rules: each file's
// records go through one Scan to history's accumulator and a
// VerifyAccumulator side by side, so a file is read once and judged as
// `snaptool verify` judges it (every layer: gzip, tar, checksums,
// meta.json, records, ordering, unknown types).
type HistoryVerifier struct {
	Options VerifyOptions
}

var _ history.Verifier = HistoryVerifier{}

// Read implements history.Verifier.
func (v HistoryVerifier) Read(ctx context.Context, s *decode.Snapshot, rec history.Recorder) (history.Verdict, error) {
	va := NewVerify(v.Options)
	if err := Scan(ctx, s, rec, va); err != nil {
		return history.Verdict{}, err
	}
	return historyVerdict(va.Finish(s)), nil
}

// OpenFailed implements history.Verifier (VerifyOpenError).
func (v HistoryVerifier) OpenFailed(path string, err error) history.Verdict {
	return historyVerdict(VerifyOpenError(path, err, v.Options))
}

func historyVerdict(r *VerifyResult) history.Verdict {
	out := history.Verdict{Verdict: r.Verdict, Integrity: r.Integrity}
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			out.Errors = append(out.Errors, f.Message)
		} else {
			out.Warnings = append(out.Warnings, f.Message)
		}
	}
	return out
}

// History reads the series with verify's verdicts (HistoryVerifier with
// vo): history.Run with o.Verifier set.
func History(ctx context.Context, paths []string, o history.Options, vo VerifyOptions) (*history.Result, error) {
	o.Verifier = HistoryVerifier{Options: vo}
	return history.Run(ctx, paths, o)
}

// Renderers of a history.Result: the table and JSON printers' History,
// CSV, Prometheus text exposition and HTML (history_html.go).

// History writes one row per snapshot (saved time in UTC, Index, verdict,
// records, bytes, growth over the previous snapshot and the records added,
// removed and modified), then the attribution: what grew most from the
// first to the last intact snapshot.
func (p *tablePrinter) History(r *history.Result) error {
	w := p.w
	t := newTable(w, tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignLeft, tw.AlignRight, tw.AlignRight,
		tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight)
	t.Header("Snapshot", "Saved (UTC)", "Index", "Verdict", "Records", "Bytes", "Growth", "%", "Added", "Removed", "Modified")
	var rows [][]string
	for i, s := range r.Snapshots {
		row := []string{oneLine(baseName(s.File)), savedUTC(s.Saved), strconv.FormatUint(s.Index, 10), s.Verdict,
			strconv.FormatInt(s.Records, 10), strconv.FormatInt(s.Bytes, 10), "", "", "", "", ""}
		if i > 0 {
			st := r.Steps[i-1]
			mark := ""
			if st.Partial {
				mark = "*"
			}
			row[6] = signedInt(st.Delta) + mark
			row[7] = percentCell(st.Percent)
			row[8], row[9], row[10] = "-", "-", "-"
			if st.Compared {
				row[8] = strconv.FormatInt(st.Added, 10)
				row[9] = strconv.FormatInt(st.Removed, 10)
				row[10] = strconv.FormatInt(st.Modified, 10)
			}
		}
		rows = append(rows, row)
	}
	if err := renderTable(t, rows); err != nil {
		return err
	}
	partial := false
	for _, st := range r.Steps {
		partial = partial || st.Partial
	}
	if partial {
		if _, err := io.WriteString(w, "* a damaged snapshot on one side: counts of what could be read\n"); err != nil {
			return err
		}
	}
	a := r.Attribution
	if a.From < 0 {
		_, err := io.WriteString(w, "\nGrowth over the series: fewer than two intact snapshots.\n")
		return err
	}
	if _, err := fmt.Fprintf(w, "\nGrew most from %s to %s (KV depth %d):\n", oneLine(baseName(r.Snapshots[a.From].File)), oneLine(baseName(r.Snapshots[a.To].File)), r.KVDepth); err != nil {
		return err
	}
	g := newTable(w, tw.AlignLeft, tw.AlignRight, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight)
	g.Header("Kind", "#", "Name", "From", "To", "Growth")
	rows = rows[:0]
	for _, l := range attributionLists(a) {
		if len(l.list) == 0 {
			rows = append(rows, []string{l.kind, "", "(none grew)", "", "", ""})
		}
		for i, x := range l.list {
			rows = append(rows, []string{l.kind, strconv.Itoa(i + 1), oneLine(x.Name), strconv.FormatInt(x.From, 10), strconv.FormatInt(x.To, 10), signedInt(x.Delta)})
		}
	}
	return renderTable(g, rows)
}

type attributionList struct {
	kind string
	list []history.Growth
}

func attributionLists(a history.Attribution) []attributionList {
	return []attributionList{{"type", a.Types}, {"kv prefix", a.KV}, {"node", a.Nodes}, {"service", a.Services}}
}

func savedUTC(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func signedInt(n int64) string {
	if n > 0 {
		return "+" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

func percentCell(p *float64) string {
	if p == nil {
		return "new"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + "%"
}

// History writes the Result as indented JSON: {kv_depth,
// snapshots:[{file, form, id, index, term, saved, verdict, integrity,
// records, bytes, types:[{name,count,bytes}], kv_prefixes, errors,
// warnings}], steps:[{from, to, partial, delta, percent, added, removed,
// modified, types:[{name, bytes_from, bytes_to, delta, percent,
// count_from, count_to, added, removed, modified}], kv_prefixes}],
// attribution:{from, to, types, kv_prefixes, nodes, services:[{name,
// bytes_from, bytes_to, delta}]}}. from/to are positions in snapshots.
func (p *jsonPrinter) History(r *history.Result) error { return p.encode(r, true) }

// WriteHistoryCSV writes one row per snapshot and total, type or KV prefix:
// file,id,index,saved,verdict,kind,name,count,bytes,delta_bytes,
// delta_percent,added,removed,modified. kind is total, type or kv; the
// delta columns are the growth over the previous snapshot (empty for the
// first; delta_percent empty when the previous had none; added, removed
// and modified empty when the step did not compare records). A type or
// prefix that vanished in a step gets a row with count and bytes 0. A cell that a
// spreadsheet would run as a formula (= + - @ first) gets a leading '.
func WriteHistoryCSV(w io.Writer, r *history.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"file", "id", "index", "saved", "verdict", "kind", "name", "count", "bytes", "delta_bytes", "delta_percent", "added", "removed", "modified"}); err != nil {
		return err
	}
	for i, s := range r.Snapshots {
		var st *history.Step
		compared := false
		if i > 0 {
			st = r.Steps[i-1]
			compared = st.Compared
		}
		saved := ""
		if s.Saved != nil {
			saved = s.Saved.UTC().Format(time.RFC3339Nano)
		}
		head := []string{csvCell(s.File), csvCell(s.ID), strconv.FormatUint(s.Index, 10), saved, s.Verdict}
		row := func(kind, name string, count, bytes int64, c *history.Change) []string {
			out := append(append([]string{}, head...), kind, csvCell(name), strconv.FormatInt(count, 10), strconv.FormatInt(bytes, 10), "", "", "", "", "")
			if c != nil {
				out[9] = strconv.FormatInt(c.Delta, 10)
				if c.Percent != nil {
					out[10] = strconv.FormatFloat(*c.Percent, 'f', 2, 64)
				}
				if kind != "kv" && compared {
					out[11], out[12], out[13] = strconv.FormatInt(c.Added, 10), strconv.FormatInt(c.Removed, 10), strconv.FormatInt(c.Modified, 10)
				}
			}
			return out
		}
		var total *history.Change
		types, kv := map[string]*history.Change{}, map[string]*history.Change{}
		if st != nil {
			total = &history.Change{Delta: st.Delta, Percent: st.Percent, Added: st.Added, Removed: st.Removed, Modified: st.Modified}
			for j := range st.Types {
				types[st.Types[j].Name] = &st.Types[j]
			}
			for j := range st.KV {
				kv[st.KV[j].Name] = &st.KV[j]
			}
		}
		if err := cw.Write(row("total", "", s.Records, s.Bytes, total)); err != nil {
			return err
		}
		for _, t := range s.Types {
			if err := cw.Write(row("type", t.Name, t.Count, t.Bytes, types[t.Name])); err != nil {
				return err
			}
		}
		for _, t := range s.KV {
			if err := cw.Write(row("kv", t.Name, t.Count, t.Bytes, kv[t.Name])); err != nil {
				return err
			}
		}
		if st != nil { // what vanished in this step: a row of zeros with the change
			for j := range st.Types {
				if c := &st.Types[j]; c.CountTo == 0 && c.BytesTo == 0 {
					if err := cw.Write(row("type", c.Name, 0, 0, c)); err != nil {
						return err
					}
				}
			}
			for j := range st.KV {
				if c := &st.KV[j]; c.CountTo == 0 && c.BytesTo == 0 {
					if err := cw.Write(row("kv", c.Name, 0, 0, c)); err != nil {
						return err
					}
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(s string) string {
	s = decode.SafeText(s) // no control or bidi character reaches a terminal that cats the file
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}

// WriteHistoryPrometheus writes the Prometheus text exposition format
// (version 0.0.4) for node_exporter's textfile collector: the newest
// intact backup's time, age (at now), Index, size and records, per type
// and per KV prefix, the newest file's verdict, and the growth of the
// last step. Every metric is a gauge (none counts up forever, so none
// ends in _total). Names and labels are listed in README.md.
func WriteHistoryPrometheus(w io.Writer, r *history.Result, now time.Time) error {
	var b strings.Builder
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	sample := func(name string, v float64, labels ...string) {
		b.WriteString(name)
		if len(labels) > 0 {
			b.WriteByte('{')
			for i := 0; i < len(labels); i += 2 {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%s=\"%s\"", labels[i], promLabel(labels[i+1]))
			}
			b.WriteByte('}')
		}
		b.WriteByte(' ')
		b.WriteString(promFloat(v))
		b.WriteByte('\n')
	}
	damaged := 0
	for _, s := range r.Snapshots {
		if !s.Intact() {
			damaged++
		}
	}
	gauge("snaptool_backup_files", "Snapshots in the series.")
	sample("snaptool_backup_files", float64(len(r.Snapshots)))
	gauge("snaptool_backup_damaged_files", "Snapshots in the series that are damaged or unreadable.")
	sample("snaptool_backup_damaged_files", float64(damaged))
	if n := r.Newest(); n != nil {
		gauge("snaptool_backup_newest_intact", "1 if the newest snapshot of the series is intact (verdict ok or warnings), else 0.")
		intact := 0.0
		if n.Intact() {
			intact = 1
		}
		sample("snaptool_backup_newest_intact", intact)
		gauge("snaptool_backup_newest_info", "The newest snapshot of the series: file, snapshot ID and verdict (ok, warnings, damaged, unreadable); always 1.")
		sample("snaptool_backup_newest_info", 1, "file", n.File, "id", n.ID, "verdict", n.Verdict)
	}
	ni := r.NewestIntact()
	if ni < 0 {
		_, err := io.WriteString(w, b.String())
		return err
	}
	s := r.Snapshots[ni]
	if s.Saved != nil {
		gauge("snaptool_backup_last_intact_timestamp_seconds", "Time the newest intact backup was saved (from its snapshot ID), Unix seconds.")
		sample("snaptool_backup_last_intact_timestamp_seconds", float64(s.Saved.UnixMilli())/1000)
		gauge("snaptool_backup_last_intact_age_seconds", "Age of the newest intact backup when snaptool ran.")
		sample("snaptool_backup_last_intact_age_seconds", now.Sub(*s.Saved).Seconds())
	}
	gauge("snaptool_backup_last_intact_index", "Raft index of the newest intact backup (meta.json Index).")
	sample("snaptool_backup_last_intact_index", float64(s.Index))
	gauge("snaptool_backup_size_bytes", "state.bin bytes of the newest intact backup, counted as consul snapshot inspect counts them.")
	sample("snaptool_backup_size_bytes", float64(s.Bytes))
	gauge("snaptool_backup_records", "Records in the newest intact backup.")
	sample("snaptool_backup_records", float64(s.Records))
	gauge("snaptool_backup_type_size_bytes", "Bytes per record type in the newest intact backup.")
	for _, t := range s.Types {
		sample("snaptool_backup_type_size_bytes", float64(t.Bytes), "type", t.Name)
	}
	gauge("snaptool_backup_type_records", "Records per type in the newest intact backup.")
	for _, t := range s.Types {
		sample("snaptool_backup_type_records", float64(t.Count), "type", t.Name)
	}
	gauge("snaptool_backup_kv_prefix_size_bytes", fmt.Sprintf("Bytes per KV prefix (depth %d) in the newest intact backup.", r.KVDepth))
	for _, t := range s.KV {
		sample("snaptool_backup_kv_prefix_size_bytes", float64(t.Bytes), "prefix", t.Name)
	}
	if from, to, delta, pct, ok := r.LastGrowth(); ok {
		gauge("snaptool_backup_last_step_growth_bytes", "Bytes the newest intact backup grew over the intact one before it (negative: shrank).")
		sample("snaptool_backup_last_step_growth_bytes", float64(delta))
		gauge("snaptool_backup_last_step_growth_ratio", "Growth of the last step as a ratio of the older size (0.1 = 10%).")
		sample("snaptool_backup_last_step_growth_ratio", pct/100)
		if to == from+1 {
			st := r.Steps[from]
			gauge("snaptool_backup_last_step_type_growth_bytes", "Bytes per record type the last step grew.")
			for _, c := range st.Types {
				sample("snaptool_backup_last_step_type_growth_bytes", float64(c.Delta), "type", c.Name)
			}
			if st.Compared {
				gauge("snaptool_backup_last_step_records", "Records added, removed and modified per type in the last step.")
			}
			for _, c := range sortedByName(st.Types) {
				if !st.Compared {
					break
				}
				for _, x := range []struct {
					change string
					n      int64
				}{{"added", c.Added}, {"removed", c.Removed}, {"modified", c.Modified}} {
					sample("snaptool_backup_last_step_records", float64(x.n), "type", c.Name, "change", x.change)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortedByName(c []history.Change) []history.Change {
	out := append([]history.Change(nil), c...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// promLabel escapes a label value: control and bidi characters as
// decode.SafeText does, then backslash, quote and newline for the format.
func promLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(decode.SafeText(s))
}

func promFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
