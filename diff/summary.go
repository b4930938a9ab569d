package diff

import (
	"fmt"
	"sort"
	"time"

	"github.com/snaptool/snaptool/decode"
)

func metaSummary(s *decode.Snapshot) *MetaSummary {
	m := &MetaSummary{Name: s.Name, Form: s.Form.String(), Integrity: s.Integrity().String()}
	if md := s.Meta(); md != nil {
		m.ID, m.Index, m.Term, m.Version, m.Size = md.ID, md.Index, md.Term, int(md.Version), md.Size
		if t, ok := md.SavedTime(); ok {
			m.Saved = t.Format(time.RFC3339Nano)
		}
	}
	if st := s.Stream(); st != nil {
		m.Records = st.Count()
	}
	return m
}

// maxWarnings caps Summary.Warnings (a garbled input would repeat them).
const maxWarnings = 20

func (e *engine) warnf(format string, a ...any) {
	if len(e.warn) >= maxWarnings {
		e.suppressed++
		return
	}
	e.warn = append(e.warn, fmt.Sprintf(format, a...))
}

func (e *engine) prefixOf(it *item) *PrefixSummary {
	if it.typ != decode.TypeKVS {
		return nil
	}
	return prefixFor(e, decode.KVGroup(it.kvKey, e.o.KVDepth))
}

// MaxPrefixes caps the KV prefixes the summary counts one by one; the
// keys of further prefixes are counted together under OtherPrefixes, with
// a warning. (A snapshot whose keys are all distinct at KVDepth would
// otherwise cost a summary entry per key.)
const MaxPrefixes = 10_000

// OtherPrefixes is the PrefixSummary.Prefix of the keys beyond MaxPrefixes.
const OtherPrefixes = "(other prefixes)"

// prefixFor returns the summary of KV prefix p, creating it while there
// are fewer than MaxPrefixes, and OtherPrefixes' after that.
func prefixFor[S ~string | ~[]byte](e *engine, p S) *PrefixSummary {
	if ps := e.prefix[string(p)]; ps != nil {
		return ps
	}
	name := string(p)
	if len(e.prefix) >= MaxPrefixes {
		if ps := e.prefix[OtherPrefixes]; ps != nil {
			return ps
		}
		name = OtherPrefixes
		e.warnf("more than %d KV prefixes at depth %d: the keys of the others are counted together as %q", MaxPrefixes, e.o.KVDepth, OtherPrefixes)
	}
	ps := &PrefixSummary{Prefix: name}
	e.prefix[name] = ps
	return ps
}

// count adds a record of side i to the summaries.
func (e *engine) count(i int, it *item) {
	ts := e.state(it.typ)
	ps := e.prefixOf(it)
	if i == 0 {
		ts.sum.CountA++
		ts.sum.BytesA += it.rec.Size
		if ps != nil {
			ps.CountA++
			ps.BytesA += it.rec.Size
		}
	} else {
		ts.sum.CountB++
		ts.sum.BytesB += it.rec.Size
		if ps != nil {
			ps.CountB++
			ps.BytesB += it.rec.Size
		}
	}
}

// count1 counts a change in the summaries.
func (e *engine) count1(ts *typeState, ch *Change, kvk string) {
	switch ch.Op {
	case Added:
		ts.sum.Added++
	case Removed:
		ts.sum.Removed++
	case Modified:
		ts.sum.Modified++
	}
	if ts.typ == decode.TypeKVS {
		ps := e.prefix[decode.KVGroup(kvk, e.o.KVDepth)]
		if ps == nil {
			ps = e.prefix[OtherPrefixes]
		}
		if ps != nil {
			switch ch.Op {
			case Added:
				ps.Added++
			case Removed:
				ps.Removed++
			case Modified:
				ps.Modified++
			}
		}
	}
	if ch.Fields == nil {
		ch.Fields = []FieldChange{}
	}
}

// take handles a record of side i that has no partner at the other input's
func (e *engine) summary() *Summary {
	s := &Summary{KVDepth: e.o.KVDepth, Changes: e.changes, Warnings: e.warn,
		SchemaOnly: e.schemaOnly, SchemaOnlyRecords: e.schemaRecords, KVDeleted: e.links.deleted,
		MetaA: metaSummary(e.sides[0].s), MetaB: metaSummary(e.sides[1].s)}
	if e.suppressed > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d more notes like these not shown", e.suppressed))
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	s.Types = []TypeSummary{}
	for _, ts := range e.types {
		t := ts.sum
		t.Delta = t.BytesB - t.BytesA
		s.Types = append(s.Types, t)
	}
	sort.Slice(s.Types, func(i, j int) bool {
		a, b := s.Types[i], s.Types[j]
		if a.Delta != b.Delta {
			return a.Delta > b.Delta
		}
		return a.Name < b.Name
	})
	s.KVPrefixes = []PrefixSummary{}
	for _, p := range e.prefix {
		q := *p
		q.Delta = q.BytesB - q.BytesA
		s.KVPrefixes = append(s.KVPrefixes, q)
	}
	sort.Slice(s.KVPrefixes, func(i, j int) bool {
		a, b := s.KVPrefixes[i], s.KVPrefixes[j]
		if a.Delta != b.Delta {
			return a.Delta > b.Delta
		}
		return a.Prefix < b.Prefix
	})
	s.Identical = e.changes == 0 && len(e.errs) == 0
	return s
}
