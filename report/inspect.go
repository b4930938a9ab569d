package report

import (
	"context"
	"fmt"
	"sort"
	"strings"

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
//	SavedTime   when the snapshot was taken, from its ID (RFC 3339, UTC, milliseconds)
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
	SavedTime string   `json:",omitempty"`
	Records   int64    `json:",omitempty"`
	Integrity string   `json:",omitempty"`
	Errors    []string `json:",omitempty"`
	Warnings  []string `json:",omitempty"`
}

// InspectAccumulator counts records the way `consul snapshot inspect`
// does, from records fed one at a time. Records are not typed-decoded;
// with KVDetails only the Key of each KVS record is read. Memory is one
// counter per type and one per KV group.
type InspectAccumulator struct {
	o      InspectOptions
	byType [256]Stat
	seen   [256]bool
	kv     map[string]*Stat
	r      InspectResult
}

// NewInspect returns an accumulator for o. A negative KVDepth counts as 0
// (Inspect rejects it).
func NewInspect(o InspectOptions) *InspectAccumulator {
	if o.KVDepth < 0 {
		o.KVDepth = 0
	}
	a := &InspectAccumulator{o: o}
	if o.KVDetails {
		a.kv = map[string]*Stat{}
	}
	return a
}

// Add counts one record.
func (a *InspectAccumulator) Add(rec *decode.Record) {
	t := rec.Type
	if !a.seen[t] {
		a.seen[t] = true
		a.byType[t].Name = t.String()
	}
	a.byType[t].Sum += rec.Size
	a.byType[t].Count++
	a.r.TotalSize += rec.Size
	a.r.Records++
	if a.kv == nil || t != decode.TypeKVS {
		return
	}
	key, ok := kvKey(rec)
	if !ok || !strings.HasPrefix(string(key), a.o.KVFilter) {
		return
	}
	name := decode.KVGroup(key, a.o.KVDepth)
	st := a.kv[string(name)]
	if st == nil && len(a.kv) >= maxGroups {
		// Past maxGroups distinct prefixes (only a crafted file has
		// them; Consul would list each) the rest count as one group, so
		// memory stays bounded.
		st = a.kv[OtherGroup]
		if st == nil {
			st = &Stat{Name: OtherGroup}
			a.kv[OtherGroup] = st
		}
	}
	if st == nil {
		st = &Stat{Name: string(name)}
		a.kv[st.Name] = st
	}
	st.Sum += rec.Size
	st.Count++
	a.r.TotalSizeKV += rec.Size
}

// Finish returns the counts, sorted like Consul's, with s's meta.json,
// header, integrity, errors and warnings. Call it once, after the pass.
func (a *InspectAccumulator) Finish(s *decode.Snapshot) *InspectResult {
	r := a.r
	r.Stats = []Stat{}
	for t := range a.seen {
		if a.seen[t] {
			r.Stats = append(r.Stats, a.byType[t])
		}
	}
	sortStats(r.Stats)
	if len(a.kv) > 0 {
		r.StatsKV = make([]Stat, 0, len(a.kv))
		for _, st := range a.kv {
			r.StatsKV = append(r.StatsKV, *st)
		}
		sortStats(r.StatsKV)
	}
	if m := s.Meta(); m != nil {
		r.Meta = InspectMeta{ID: m.ID, Size: m.Size, Index: m.Index, Term: m.Term, Version: int(m.Version)}
		r.SavedTime = SavedTime(m)
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
	return &r
}

// Inspect reads s once (Scan with an InspectAccumulator). It returns the
// result even when the input is damaged, with the counts of what could be
// read, together with the errors found (joined; see decode.IsDamage). When
// ctx is cancelled it returns no result and ctx's error.
func Inspect(ctx context.Context, s *decode.Snapshot, o InspectOptions) (*InspectResult, error) {
	if o.KVDepth < 0 {
		return nil, fmt.Errorf("KV depth %d: must be 0 or more", o.KVDepth)
	}
	a := NewInspect(o)
	if err := Scan(ctx, s, a); err != nil {
		return nil, err
	}
	return a.Finish(s), s.Err()
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
