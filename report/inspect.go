package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/snaptool/snaptool/decode"
)

// InspectOptions selects the KV breakdown, like the flags of
// `consul snapshot inspect`.
type InspectOptions struct {
	// KVDetails adds the per-prefix breakdown of KVS records (StatsKV).
	KVDetails bool
	// KVDepth is how many "/"-separated parts of a key name its group.
	// 0 puts every key in the group "" (as Consul's -kvdepth 0 does); the
	// command line defaults it to 2, Consul's default. Negative is an error.
	KVDepth int
	// KVFilter keeps only the keys that start with it (empty keeps all).
	KVFilter string
}

// InspectMeta is the snapshot metadata Consul prints: from meta.json, not
// recomputed. JSON keys: ID, Size, Index, Term, Version.
type InspectMeta struct {
	ID      string
	Size    int64
	Index   uint64
	Term    uint64
	Version int
}

// Stat is one row of a breakdown: a type name or a KV prefix, the bytes its
// records take (Sum, counted as Consul counts, docs/FORMAT.md §11.1) and how many
// records. JSON keys: Name, Sum, Count.
type Stat struct {
	Name  string
	Sum   int64
	Count int64
}

// InspectResult is what inspect found. Its JSON is a superset of
// `consul snapshot inspect -format json`, in Consul's key order:
//
//	Meta        {ID, Size, Index, Term, Version} from meta.json
//	Stats       [{Name, Sum, Count}] per type, Sum descending then Name ascending ([] if no records)
//	StatsKV     same shape per KV prefix; null unless KV details were asked for and a key matched
//	TotalSize   bytes of state.bin consumed through the last record (0 if there is none)
//	TotalSizeKV sum of StatsKV
//
// then snaptool's own keys, each left out when empty:
//
//	LastIndex   the state.bin header's LastIndex
//	Records     number of records
//	Integrity   "verified", "failed" or "unverifiable" (checksum state)
//	Errors      every problem found, located (damaged input)
//	Warnings    findings that do not make the input damaged
type InspectResult struct {
	Meta        InspectMeta
	Stats       []Stat
	StatsKV     []Stat
	TotalSize   int64
	TotalSizeKV int64

	LastIndex uint64   `json:",omitempty"`
	Records   int64    `json:",omitempty"`
	Integrity string   `json:",omitempty"`
	Errors    []string `json:",omitempty"`
	Warnings  []string `json:",omitempty"`
}

// Inspect reads s once, record by record, and counts them the way
// `consul snapshot inspect` does. Records are not typed-decoded; with
// KVDetails only the Key of each KVS record is read. It returns the result
// even when the input is damaged, with the counts of what could be read,
// together with the errors found (joined; see decode.IsDamage).
func Inspect(s *decode.Snapshot, o InspectOptions) (*InspectResult, error) {
	if o.KVDepth < 0 {
		return nil, fmt.Errorf("KV depth %d: must be 0 or more", o.KVDepth)
	}
	var byType [256]Stat
	var seen [256]bool
	var kv map[string]*Stat
	if o.KVDetails {
		kv = map[string]*Stat{}
	}
	r := &InspectResult{Stats: []Stat{}}
	for s.Next() {
		rec := s.Record()
		t := rec.Type
		if !seen[t] {
			seen[t] = true
			byType[t].Name = t.String()
		}
		byType[t].Sum += rec.Size
		byType[t].Count++
		r.TotalSize += rec.Size
		r.Records++
		if kv != nil && t == decode.TypeKVS {
			key, ok := kvKey(rec)
			if !ok || !strings.HasPrefix(string(key), o.KVFilter) {
				continue
			}
			name := decode.KVGroup(key, o.KVDepth)
			st := kv[string(name)]
			if st == nil {
				st = &Stat{Name: string(name)}
				kv[st.Name] = st
			}
			st.Sum += rec.Size
			st.Count++
			r.TotalSizeKV += rec.Size
		}
	}
	for t := range seen {
		if seen[t] {
			r.Stats = append(r.Stats, byType[t])
		}
	}
	sortStats(r.Stats)
	if len(kv) > 0 {
		r.StatsKV = make([]Stat, 0, len(kv))
		for _, st := range kv {
			r.StatsKV = append(r.StatsKV, *st)
		}
		sortStats(r.StatsKV)
	}
	if m := s.Meta(); m != nil {
		r.Meta = InspectMeta{ID: m.ID, Size: m.Size, Index: m.Index, Term: m.Term, Version: int(m.Version)}
	}
	if st := s.Stream(); st != nil {
		if h, err := st.Header(); err == nil {
			r.LastIndex = h.LastIndex
		}
	}
	if in := s.Integrity(); in != decode.Pending {
		r.Integrity = in.String()
	}
	for _, e := range s.Errors() {
		r.Errors = append(r.Errors, e.Error())
	}
	for _, w := range s.Warnings() {
		r.Warnings = append(r.Warnings, w.Error())
	}
	return r, s.Err()
}

// sortStats orders rows like Consul: Sum descending, then Name ascending.
func sortStats(st []Stat) {
	sort.Slice(st, func(i, j int) bool {
		if st[i].Sum != st[j].Sum {
			return st[i].Sum > st[j].Sum
		}
		return st[i].Name < st[j].Name
	})
}

// kvKey is a KVS or Tombstone record's Key, read from the bytes by
// decode.KVFields without decoding or allocating; as in Consul's decoder,
// the last "Key" wins. ok is false when the value does not decode or its
// Key is not a str or bin.
func kvKey(rec *decode.Record) (key []byte, ok bool) {
	e, ok := decode.KVFields(rec)
	return e.Key, ok && e.Key != nil
}

// ByteSize formats a byte count the way Consul's inspect does: the largest
// binary unit not above the value, one decimal, a trailing ".0" dropped
// (344 → "344B", 1750 → "1.7KB", 5141 → "5KB"); 0 → "0".
func ByteSize(n uint64) string {
	const (
		kb = 1 << 10
		mb = 1 << 20
		gb = 1 << 30
		tb = 1 << 40
	)
	unit := ""
	v := float64(n)
	switch {
	case n >= tb:
		unit, v = "TB", v/tb
	case n >= gb:
		unit, v = "GB", v/gb
	case n >= mb:
		unit, v = "MB", v/mb
	case n >= kb:
		unit, v = "KB", v/kb
	case n >= 1:
		unit = "B"
	default:
		return "0"
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + unit
}

func byteSize(n int64) string {
	if n < 0 {
		n = 0
	}
	return ByteSize(uint64(n))
}

// FormatPretty is Consul's pretty formatter: the same text, byte for byte,
// without a final newline (docs/FORMAT.md §11.4).
func FormatPretty(r *InspectResult) (string, error) {
	var b bytes.Buffer
	t := tabwriter.NewWriter(&b, 8, 8, 6, ' ', 0)
	fmt.Fprintf(t, " ID\t%s", r.Meta.ID)
	fmt.Fprintf(t, "\n Size\t%d", r.Meta.Size)
	fmt.Fprintf(t, "\n Index\t%d", r.Meta.Index)
	fmt.Fprintf(t, "\n Term\t%d", r.Meta.Term)
	fmt.Fprintf(t, "\n Version\t%d", r.Meta.Version)
	fmt.Fprintf(t, "\n")
	fmt.Fprintln(t, "\n Type\tCount\tSize")
	fmt.Fprintf(t, " %s\t%s\t%s", "----", "----", "----")
	for _, s := range r.Stats {
		fmt.Fprintf(t, "\n %s\t%d\t%s", s.Name, s.Count, byteSize(s.Sum))
	}
	fmt.Fprintf(t, "\n %s\t%s\t%s", "----", "----", "----")
	fmt.Fprintf(t, "\n Total\t\t%s", byteSize(r.TotalSize))
	if r.StatsKV != nil {
		fmt.Fprintf(t, "\n")
		fmt.Fprintln(t, "\n Key Name\tCount\tSize")
		fmt.Fprintf(t, " %s\t%s\t%s", "----", "----", "----")
		for _, s := range r.StatsKV {
			fmt.Fprintf(t, "\n %s\t%d\t%s", s.Name, s.Count, byteSize(s.Sum))
		}
		fmt.Fprintf(t, "\n %s\t%s\t%s", "----", "----", "----")
		fmt.Fprintf(t, "\n Total\t\t%s", byteSize(r.TotalSizeKV))
	}
	if err := t.Flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// WritePretty writes FormatPretty's text and a newline, as the consul CLI prints it.
func WritePretty(w io.Writer, r *InspectResult) error {
	s, err := FormatPretty(r)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, s+"\n")
	return err
}

// FormatJSON is Consul's JSON formatter (3-space indent, no final newline),
// applied to InspectResult, whose extra keys follow Consul's.
func FormatJSON(r *InspectResult) (string, error) {
	b, err := json.MarshalIndent(r, "", "   ")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// WriteJSON writes FormatJSON's text and a newline.
func WriteJSON(w io.Writer, r *InspectResult) error {
	s, err := FormatJSON(r)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, s+"\n")
	return err
}

// WriteTable renders the result as tables (meta, types, KV prefixes when
// present) with Consul's size strings, and exact byte counts beside them.
func WriteTable(w io.Writer, r *InspectResult) error {
	meta := newTable(w, tw.AlignLeft, tw.AlignLeft)
	meta.Header("Snapshot", "Value")
	rows := [][]string{
		{"ID", r.Meta.ID},
		{"Size", strconv.FormatInt(r.Meta.Size, 10)},
		{"Index", strconv.FormatUint(r.Meta.Index, 10)},
		{"Term", strconv.FormatUint(r.Meta.Term, 10)},
		{"Version", strconv.Itoa(r.Meta.Version)},
	}
	if r.LastIndex != 0 {
		rows = append(rows, []string{"LastIndex", strconv.FormatUint(r.LastIndex, 10)})
	}
	if r.Integrity != "" {
		rows = append(rows, []string{"Integrity", r.Integrity})
	}
	if err := appendRows(meta, rows); err != nil {
		return err
	}
	if err := meta.Render(); err != nil {
		return fmt.Errorf("rendering table: %w", err)
	}
	if err := statTable(w, "Type", r.Stats, r.TotalSize); err != nil {
		return err
	}
	if r.StatsKV != nil {
		if err := statTable(w, "Key Name", r.StatsKV, r.TotalSizeKV); err != nil {
			return err
		}
	}
	return nil
}

func statTable(w io.Writer, first string, stats []Stat, total int64) error {
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	t := newTable(w, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight)
	t.Header(first, "Count", "Size", "Bytes")
	rows := make([][]string, 0, len(stats))
	var count int64
	for _, s := range stats {
		rows = append(rows, []string{s.Name, strconv.FormatInt(s.Count, 10), byteSize(s.Sum), strconv.FormatInt(s.Sum, 10)})
		count += s.Count
	}
	if err := appendRows(t, rows); err != nil {
		return err
	}
	t.Footer("Total", strconv.FormatInt(count, 10), byteSize(total), strconv.FormatInt(total, 10))
	if err := t.Render(); err != nil {
		return fmt.Errorf("rendering table: %w", err)
	}
	return nil
}

func newTable(w io.Writer, aligns ...tw.Align) *tablewriter.Table {
	cell := tw.CellConfig{
		Alignment: tw.CellAlignment{PerColumn: aligns},
		Padding:   tw.CellPadding{Global: tw.PaddingDefault},
	}
	return tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowConfig(cell),
		tablewriter.WithFooterConfig(cell),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
}

func appendRows(t *tablewriter.Table, rows [][]string) error {
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return fmt.Errorf("rendering table: %w", err)
		}
	}
	return nil
}
