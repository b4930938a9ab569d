package raftlog

import (
	"cmp"
	"slices"
	"time"
)

// Summary accumulates counts over the selected entries: per message type
// (or raft log type), per type and operation, and per token.
type Summary struct {
	Entries    int64     `json:"entries"`
	Bytes      int64     `json:"bytes"`
	Errors     int64     `json:"errors"`
	FirstIndex uint64    `json:"first_index"`
	LastIndex  uint64    `json:"last_index"`
	FirstTime  time.Time `json:"first_time,omitzero"`
	LastTime   time.Time `json:"last_time,omitzero"`

	types  map[string]*Count
	ops    map[[2]string]*Count
	tokens map[string]*Count
}

// Count is one row of a Summary.
type Count struct {
	Key     string `json:"key"`
	Op      string `json:"op,omitempty"`
	Entries int64  `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

// Add counts one entry.
func (s *Summary) Add(e *Entry) {
	if s.types == nil {
		s.types, s.ops, s.tokens = map[string]*Count{}, map[[2]string]*Count{}, map[string]*Count{}
	}
	if s.Entries == 0 || e.Index < s.FirstIndex {
		s.FirstIndex = e.Index
	}
	if e.Index > s.LastIndex {
		s.LastIndex = e.Index
	}
	if !e.AppendedAt.IsZero() {
		if s.FirstTime.IsZero() || e.AppendedAt.Before(s.FirstTime) {
			s.FirstTime = e.AppendedAt
		}
		if e.AppendedAt.After(s.LastTime) {
			s.LastTime = e.AppendedAt
		}
	}
	s.Entries++
	s.Bytes += int64(e.Size)
	if e.Err != "" {
		s.Errors++
	}
	typ := e.MsgType
	if typ == "" {
		typ = e.LogType
	}
	bump := func(c *Count) { c.Entries++; c.Bytes += int64(e.Size) }
	if s.types[typ] == nil {
		s.types[typ] = &Count{Key: typ}
	}
	bump(s.types[typ])
	k := [2]string{typ, e.Op}
	if s.ops[k] == nil {
		s.ops[k] = &Count{Key: typ, Op: e.Op}
	}
	bump(s.ops[k])
	tok := "-"
	if e.Token != nil {
		tok = e.Token.Label()
	}
	if s.tokens[tok] == nil {
		s.tokens[tok] = &Count{Key: tok}
	}
	bump(s.tokens[tok])
}

func sorted[K comparable](m map[K]*Count) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.Entries, a.Entries); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return cmp.Compare(a.Op, b.Op)
	})
	return out
}

// ByType is the count per message type (raft's log type for non-command
// entries), most entries first.
func (s *Summary) ByType() []Count { return sorted(s.types) }

// ByOp is the count per (type, operation).
func (s *Summary) ByOp() []Count { return sorted(s.ops) }

// ByToken is the count per caller label (Who.Label; "-" when the entry
// records no caller).
func (s *Summary) ByToken() []Count { return sorted(s.tokens) }
