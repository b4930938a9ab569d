package diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// Op is the kind of a change.
type Op string

// The three kinds of change.
const (
	Added    Op = "added"
	Removed  Op = "removed"
	Modified Op = "modified"
)

// Change is one record that differs between snapshot A and snapshot B.
// JSON names: op, type, id, size_a, size_b, offset_a, offset_b, fields, note.
type Change struct {
	Op Op `json:"op"`
	// Type is Consul's display name of the record type (KVS, Register, …).
	Type string `json:"type"`
	// ID is the record's identity (decode.Identity).
	ID string `json:"id"`
	// SizeA and SizeB are the record's size in A and B as `consul snapshot
	// inspect` counts it (0 on the side where the record does not exist).
	SizeA int64 `json:"size_a"`
	SizeB int64 `json:"size_b"`
	// OffsetA and OffsetB are the record's byte offset in each state.bin
	// (omitted on the side where it does not exist).
	OffsetA int64 `json:"offset_a,omitempty"`
	OffsetB int64 `json:"offset_b,omitempty"`
	// Fields lists the changed field paths of a modified record ([] for
	// added and removed records).
	Fields []FieldChange `json:"fields"`
	// Note explains a modified record without field detail (see Options.RawBudget).
	Note string `json:"note,omitempty"`

	// MessageType is the type number.
	MessageType decode.MessageType `json:"-"`

	key string // merge key, for ordering within a type
}

// FieldChange is one changed field of a modified record. Path uses Consul's
// field names, dots for nesting and [i] for array elements
// (Service.Tags[1], Check.Status, Value, Rules, Entry.Sources). Old and New
// are JSON renderings of the values (byte strings as JSON strings when they
// are text, 0x-hex otherwise), truncated to Options.MaxValueLen with the
// full length noted; Absent ("(absent)") when the field exists on one side
// only. Diff is a unified diff of a KVS Value that is text on both sides,
// with Options.Values.
type FieldChange struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`
	Diff string `json:"diff,omitempty"`
}

// Options tune a diff. The zero value compares every record type except
// Index, ignores raft bookkeeping and masks secrets.
type Options struct {
	// Types restricts the diff to these record types (empty: all).
	Types []decode.MessageType
	// IgnoreTypes skips these record types.
	IgnoreTypes []decode.MessageType
	// KVPrefix restricts KVS and Tombstone records to keys with this prefix.
	KVPrefix string
	// KVDepth groups KV keys for the per-prefix summary (0: DefaultKVDepth).
	KVDepth int
	// IncludeRaftBookkeeping compares CreateIndex/ModifyIndex fields and
	// the Index table, which are otherwise ignored.
	IncludeRaftBookkeeping bool
	// ShowSecrets compares and shows secrets in clear instead of fingerprints.
	ShowSecrets bool
	// Values adds a unified diff of KVS values that are text on both sides.
	Values bool
	// MaxValueLen truncates Old/New renderings (0: DefaultMaxValueLen).
	MaxValueLen int
	// RawBudget caps the bytes of records held while waiting for their
	// partner (records added or removed, or out of Consul's order);
	// 0: DefaultRawBudget. Beyond it only a content digest is kept, and a
	// late match that differs is reported modified without field detail.
	RawBudget int64
	// MaxHeld is how many changes and waiting records of one type are held
	// before the part of them that Consul's order makes final is emitted
	// early (0: DefaultMaxHeld); see the package doc.
	MaxHeld int
}

// Defaults for Options.
const (
	DefaultKVDepth     = 2
	DefaultMaxValueLen = 120
	DefaultRawBudget   = 8 << 20
	DefaultMaxHeld     = 1000
)

func (o *Options) maxValueLen() int {
	if o.MaxValueLen <= 0 {
		return DefaultMaxValueLen
	}
	return o.MaxValueLen
}

// Summary is the result of a diff besides the changes.
// JSON names: identical, changes, types, kv_depth, kv_prefixes, meta_a, meta_b, warnings.
type Summary struct {
	Identical bool          `json:"identical"`
	Changes   int           `json:"changes"`
	Types     []TypeSummary `json:"types"`
	KVDepth   int           `json:"kv_depth"`
	// KVPrefixes groups KVS records (tombstones excluded, as Consul's
	// inspect does) by prefix at KVDepth.
	KVPrefixes []PrefixSummary `json:"kv_prefixes"`
	MetaA      *MetaSummary    `json:"meta_a"`
	MetaB      *MetaSummary    `json:"meta_b"`
	// Warnings are notes about the inputs' record order (see the package doc).
	Warnings []string `json:"warnings"`
}

// TypeSummary counts one record type. Bytes are sizes as `consul snapshot
// inspect` counts them; Delta = BytesB − BytesA. Types are sorted by Delta,
// largest growth first, then by name.
// JSON names: name, added, removed, modified, unchanged, count_a, count_b, bytes_a, bytes_b, delta.
type TypeSummary struct {
	Name      string `json:"name"`
	Added     int    `json:"added"`
	Removed   int    `json:"removed"`
	Modified  int    `json:"modified"`
	Unchanged int    `json:"unchanged"`
	CountA    int    `json:"count_a"`
	CountB    int    `json:"count_b"`
	BytesA    int64  `json:"bytes_a"`
	BytesB    int64  `json:"bytes_b"`
	Delta     int64  `json:"delta"`
}

// PrefixSummary counts the KVS records under one key prefix, sorted like TypeSummary.
// JSON names: prefix, added, removed, modified, count_a, count_b, bytes_a, bytes_b, delta.
type PrefixSummary struct {
	Prefix   string `json:"prefix"`
	Added    int    `json:"added"`
	Removed  int    `json:"removed"`
	Modified int    `json:"modified"`
	CountA   int    `json:"count_a"`
	CountB   int    `json:"count_b"`
	BytesA   int64  `json:"bytes_a"`
	BytesB   int64  `json:"bytes_b"`
	Delta    int64  `json:"delta"`
}

// MetaSummary describes one input.
// JSON names: name, form, id, index, term, version, size, integrity.
type MetaSummary struct {
	Name      string `json:"name"`
	Form      string `json:"form"`
	ID        string `json:"id"`
	Index     uint64 `json:"index"`
	Term      uint64 `json:"term"`
	Version   int    `json:"version"`
	Size      int64  `json:"size"`
	Integrity string `json:"integrity"`
}

func metaSummary(s *decode.Snapshot) *MetaSummary {
	m := &MetaSummary{Name: s.Name, Form: s.Form.String(), Integrity: s.Integrity().String()}
	if md := s.Meta(); md != nil {
		m.ID, m.Index, m.Term, m.Version, m.Size = md.ID, md.Index, md.Term, int(md.Version), md.Size
	}
	return m
}

// item is the current record of one input, with what the merge needs.
type item struct {
	rec   *decode.Record
	typ   decode.MessageType
	rank  int
	key   string
	id    string
	kvKey string
}

// pend is a record waiting for its partner: added or removed unless a
// later record of the other input has the same identity.
type pend struct {
	id            string
	key           string
	n, off, size  int64
	raw           []byte // nil when over the budget (or not needed)
	digest        [32]byte
	haveDigest    bool
	kvKey         string
	contentUnique bool // identity is content-addressed: a match is equal
}

type typeState struct {
	typ     decode.MessageType
	pending [2]map[string][]*pend
	npend   int
	changes []*Change
	sum     TypeSummary
	flushed bool
	sticky  bool // the type reappeared after later types: keep until the end
	// disordered: an input left Consul's order in this type; from then on
	// nothing of it is emitted before both inputs have left it.
	disordered bool
	// early counts changes emitted before the type ended (see emitSafe);
	// nextSafe is the held count that triggers the next attempt.
	early      int
	nextSafe   int
	warnedLate bool
}

type side struct {
	name       string
	s          *decode.Snapshot
	cur        *item
	lastRank   int
	lastKey    []byte // key of the last record (a copy)
	scratch    []byte // kvPair's identity buffer
	maxRank    int
	warnedType map[decode.MessageType]bool
	ended      bool // Next returned false
	it         item // cur points here (one item per side, reused)
}

type engine struct {
	ctx        context.Context
	o          Options
	emit       func(*Change) error
	sides      [2]*side
	types      map[decode.MessageType]*typeState
	prefix     map[string]*PrefixSummary
	budget     int64
	held       int64
	warn       []string
	errs       []error
	changes    int
	lastLow    int
	suppressed int
	only       map[decode.MessageType]bool
	ignore     map[decode.MessageType]bool
	want       [256]bool // wanted types (only, ignore)
}

// Run compares snapshot a with snapshot b in one streaming pass over both
// (a merge-join on Consul's record order, see the package doc) and calls
// emit for every change, grouped by record type in Consul's type order and
// within a type in Consul's record order. It returns the summary, and an
// error when an input could not be read completely or is damaged (then the
// changes emitted so far are not the whole story: callers must report the
// error). emit's error stops the diff and is returned.
func Run(ctx context.Context, a, b *decode.Snapshot, opts Options, emit func(*Change) error) (*Summary, error) {
	if opts.KVDepth <= 0 {
		opts.KVDepth = DefaultKVDepth
	}
	e := &engine{ctx: ctx, o: opts, emit: emit, types: map[decode.MessageType]*typeState{},
		prefix: map[string]*PrefixSummary{}, budget: opts.RawBudget}
	if e.budget <= 0 {
		e.budget = DefaultRawBudget
	}
	if e.o.MaxHeld <= 0 {
		e.o.MaxHeld = DefaultMaxHeld
	}
	if len(opts.Types) > 0 {
		e.only = map[decode.MessageType]bool{}
		for _, t := range opts.Types {
			e.only[t] = true
		}
	}
	e.ignore = map[decode.MessageType]bool{}
	for _, t := range opts.IgnoreTypes {
		e.ignore[t] = true
	}
	if !opts.IncludeRaftBookkeeping && !e.only[decode.TypeIndex] {
		e.ignore[decode.TypeIndex] = true
	}
	for t := range e.want {
		mt := decode.MessageType(t)
		e.want[t] = (e.only == nil || e.only[mt]) && !e.ignore[mt]
	}
	e.sides[0] = &side{name: "A", s: a, warnedType: map[decode.MessageType]bool{}}
	e.sides[1] = &side{name: "B", s: b, warnedType: map[decode.MessageType]bool{}}
	err := e.run()
	sum := e.summary()
	if err != nil {
		return sum, err
	}
	return sum, errors.Join(e.errs...)
}

func (e *engine) run() error {
	if err := e.advanceBoth(); err != nil {
		return err
	}
	n := 0
	for e.sides[0].cur != nil || e.sides[1].cur != nil {
		if n++; n%1024 == 0 {
			if err := e.ctx.Err(); err != nil {
				return err
			}
		}
		if e.cut() {
			// An input's record stream is cut or undecodable: whatever
			// remains of the other would show as added or removed. Stop.
			e.drain()
			return nil
		}
		a, b := e.sides[0].cur, e.sides[1].cur
		c := cmpItems(a, b)
		var err error
		switch {
		case c == 0 && a.id == b.id:
			err = e.matchLive(a, b)
			if err == nil {
				err = e.advanceBoth()
			}
		case c <= 0:
			err = e.take(0, a)
			if err == nil {
				err = e.advance(e.sides[0])
			}
		default:
			err = e.take(1, b)
			if err == nil {
				err = e.advance(e.sides[1])
			}
		}
		if err != nil {
			return err
		}
		if err := e.emitSafe(); err != nil {
			return err
		}
		if err := e.flushPassed(); err != nil {
			return err
		}
	}
	if e.cut() {
		e.drain()
		return nil
	}
	// Every record of both inputs was compared (an archive-level failure
	// such as a checksum mismatch is still returned by Run).
	return e.flushAll()
}

// cut reports whether an error so far means the record stream of an input
// stopped early or a record could not be decoded, as opposed to an
// archive-level failure found after every record was read.
func (e *engine) cut() bool {
	for _, err := range e.errs {
		var re *decode.RecordError
		if errors.As(err, &re) || errors.Is(err, decode.ErrTypedDecode) {
			return true
		}
	}
	return false
}

// cmpItems orders items by (type rank, key); an input that has ended sorts last.
func cmpItems(a, b *item) int {
	ra, rb := rankEnd, rankEnd
	if a != nil {
		ra = a.rank
	}
	if b != nil {
		rb = b.rank
	}
	if ra != rb {
		if ra < rb {
			return -1
		}
		return 1
	}
	return strings.Compare(a.key, b.key)
}

func (e *engine) wanted(t decode.MessageType) bool { return e.want[t] }

// nextWanted moves a side's stream to its next record of a wanted type and
// returns it, or nil when Next returned false (the caller calls ended).
func (e *engine) nextWanted(sd *side) *decode.Record {
	for sd.s.Next() {
		if rec := sd.s.Record(); e.want[rec.Type] {
			return rec
		}
	}
	return nil
}

// itemOf fills it with what the merge needs of rec, a record of side sd.
// skip: the record is filtered out (KVPrefix). ok false: the record could
// not be read (the error is recorded; the stream is cut).
func (e *engine) itemOf(sd *side, rec *decode.Record, it *item) (skip, ok bool) {
	*it = item{rec: rec, typ: rec.Type, rank: rankOf(rec.Type)}
	k, err := decode.Keys(rec) // a *decode.RecordError: it carries the record's position
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s (%s): %w", sd.name, sd.s.Name, err))
		return false, false
	}
	it.id, it.key, it.kvKey = k.Identity, k.Order, k.KV
	if (rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone) &&
		e.o.KVPrefix != "" && !strings.HasPrefix(k.KV, e.o.KVPrefix) {
		return true, true
	}
	return false, true
}

// place makes rec (just read from side sd) the side's current record, or
// moves on to the side's next record if rec is filtered out.
func (e *engine) place(sd *side, rec *decode.Record) {
	sd.cur = nil
	for rec != nil {
		skip, ok := e.itemOf(sd, rec, &sd.it)
		if !ok {
			return
		}
		if !skip {
			e.checkOrder(sd, &sd.it)
			sd.cur = &sd.it
			return
		}
		rec = e.nextWanted(sd)
	}
	e.ended(sd)
}

// advance moves a side to its next record that passes the filters.
func (e *engine) advance(sd *side) error {
	sd.cur = nil
	e.place(sd, e.nextWanted(sd))
	return nil
}

// advanceBoth moves both sides on after their current records matched.
// While the next records of both inputs are byte-for-byte equal (the
// common case: most of a snapshot does not change between two saves),
// they are a matched, unchanged pair whose identity and sort key are
// computed once, from A's copy, and nothing is decoded or held; the first
// pair that differs becomes the sides' current records as advance would
// make them.
func (e *engine) advanceBoth() error {
	a, b := e.sides[0], e.sides[1]
	a.cur, b.cur = nil, nil
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := e.ctx.Err(); err != nil {
				return err
			}
		}
		ra := e.nextWanted(a)
		if ra == nil {
			e.ended(a)
			return e.advance(b)
		}
		rb := e.nextWanted(b)
		if rb == nil || ra.Type != rb.Type || !bytes.Equal(ra.Raw, rb.Raw) {
			e.place(a, ra)
			if rb == nil {
				e.ended(b)
			} else {
				e.place(b, rb)
			}
			return nil
		}
		if ra.Type == decode.TypeKVS || ra.Type == decode.TypeTombstone {
			if e.kvPair(ra, rb) {
				continue
			}
		}
		skip, ok := e.itemOf(a, ra, &a.it)
		if !ok {
			e.itemOf(b, rb, &b.it) // the same bytes: B's copy fails the same way
			return nil
		}
		if skip {
			continue
		}
		b.it = a.it
		b.it.rec = rb
		e.checkOrder(a, &a.it)
		e.checkOrder(b, &b.it)
		e.count(0, &a.it)
		e.count(1, &b.it)
		e.state(a.it.typ).sum.Unchanged++
	}
}

// kvPair handles a byte-identical pair of KVS or Tombstone records ra, rb
// without building items: identity (the sort key) and Key straight from
// the bytes (decode.KVFields), no allocation. false: the value does not
// decode; take the general path, which reports it.
func (e *engine) kvPair(ra, rb *decode.Record) bool {
	a, b := e.sides[0], e.sides[1]
	kv, ok := decode.KVFields(ra)
	if !ok {
		return false
	}
	id, key := kv.AppendIdentity(a.scratch[:0]), kv.Key
	a.scratch = id[:0]
	if e.o.KVPrefix != "" && !bytes.HasPrefix(key, []byte(e.o.KVPrefix)) {
		return true
	}
	t, rank := ra.Type, rankOf(ra.Type)
	e.checkOrderOf(a, rank, t, ra, bytes.Compare(id, a.lastKey) < 0)
	a.lastKey = append(a.lastKey[:0], id...)
	e.checkOrderOf(b, rank, t, rb, bytes.Compare(id, b.lastKey) < 0)
	b.lastKey = append(b.lastKey[:0], id...)
	ts := e.state(t)
	ts.sum.CountA++
	ts.sum.BytesA += ra.Size
	ts.sum.CountB++
	ts.sum.BytesB += rb.Size
	ts.sum.Unchanged++
	if t == decode.TypeKVS {
		p := decode.KVGroup(key, e.o.KVDepth)
		ps := e.prefix[string(p)]
		if ps == nil {
			ps = &PrefixSummary{Prefix: string(p)}
			e.prefix[ps.Prefix] = ps
		}
		ps.CountA++
		ps.BytesA += ra.Size
		ps.CountB++
		ps.BytesB += rb.Size
	}
	return true
}

// ended collects the errors of an input whose Next returned false.
func (e *engine) ended(sd *side) {
	sd.ended = true
	for _, err := range sd.s.Errors() {
		e.errs = append(e.errs, fmt.Errorf("%s (%s): %w", sd.name, sd.s.Name, err))
	}
}

// drain reads what is left of every input after the comparison stopped,
// so that decode still checks and reports the checksums (which often
// explain why a record could not be read).
func (e *engine) drain() {
	for _, sd := range e.sides {
		if sd.ended {
			continue
		}
		sd.cur = nil
		for sd.s.Next() {
		}
		e.ended(sd)
	}
}

// checkOrder notes where an input leaves Consul's order. Matching stays
// correct (records wait for their partner by identity); only the memory
// held for that type grows, which is why it is reported.
func (e *engine) checkOrder(sd *side, it *item) {
	e.checkOrderOf(sd, it.rank, it.typ, it.rec, it.key < string(sd.lastKey))
	sd.lastKey = append(sd.lastKey[:0], it.key...)
}

// checkOrderOf is checkOrder for a record of type t and rank at rec whose
// key sorts below the side's last key (decreased); the caller updates lastKey.
func (e *engine) checkOrderOf(sd *side, rank int, t decode.MessageType, rec *decode.Record, decreased bool) {
	if rank < sd.maxRank {
		if !sd.warnedType[t] {
			sd.warnedType[t] = true
			e.warnf("%s: %s records appear again after records of a later type (record %d, offset %d); they are matched by identity and held until the end of the diff",
				sd.name, t, rec.N, rec.Offset)
		}
		ts := e.state(t)
		ts.sticky = true
		ts.disordered = true
		if ts.flushed && !ts.warnedLate {
			ts.warnedLate = true
			e.warnf("%s: %s changes were already reported before record %d; a record reported as added or removed there may be listed again", sd.name, t, rec.N)
		}
	} else if rank == sd.lastRank && decreased && t.InSnapshots() {
		ts := e.state(t)
		if !ts.disordered && ts.early > 0 && !ts.warnedLate {
			ts.warnedLate = true
			e.warnf("%s: %d %s changes were reported before record %d assuming Consul's order; a record reported as added or removed there may be listed again", sd.name, ts.early, t, rec.N)
		}
		ts.disordered = true
		if !sd.warnedType[t] {
			sd.warnedType[t] = true
			e.warnf("%s: %s records are not in Consul's order (record %d, offset %d); that type is matched by identity, holding unmatched records until the type ends (at most %d bytes of them, digests beyond)",
				sd.name, t, rec.N, rec.Offset, e.budget)
		}
	}
	if rank > sd.maxRank {
		sd.maxRank = rank
	}
	sd.lastRank = rank
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

func (e *engine) state(t decode.MessageType) *typeState {
	ts := e.types[t]
	if ts == nil {
		ts = &typeState{typ: t, sum: TypeSummary{Name: t.String()}}
		ts.pending[0] = map[string][]*pend{}
		ts.pending[1] = map[string][]*pend{}
		e.types[t] = ts
	}
	return ts
}

func (e *engine) prefixOf(it *item) *PrefixSummary {
	if it.typ != decode.TypeKVS {
		return nil
	}
	p := decode.KVGroup(it.kvKey, e.o.KVDepth)
	ps := e.prefix[p]
	if ps == nil {
		ps = &PrefixSummary{Prefix: p}
		e.prefix[p] = ps
	}
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

// matchLive compares two current records with the same identity.
func (e *engine) matchLive(a, b *item) error {
	e.count(0, a)
	e.count(1, b)
	ch := &Change{Op: Modified, Type: a.typ.String(), MessageType: a.typ, ID: a.id,
		SizeA: a.rec.Size, SizeB: b.rec.Size, OffsetA: a.rec.Offset, OffsetB: b.rec.Offset, key: a.key}
	return e.compare(ch, a.typ, a.rec.Value(), b.rec.Value(), a.kvKey)
}

// compare decides whether two records of the same identity differ and
// records the change (or counts them unchanged).
func (e *engine) compare(ch *Change, t decode.MessageType, va, vb []byte, kvk string) error {
	ts := e.state(t)
	if bytes.Equal(va, vb) || !t.InSnapshots() {
		ts.sum.Unchanged++
		return nil
	}
	ta, err := contentTree(t, va, &e.o)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("A (%s): record at offset %d (%s %s): %w", e.sides[0].s.Name, ch.OffsetA, t, ch.ID, err))
		return nil
	}
	tb, err := contentTree(t, vb, &e.o)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("B (%s): record at offset %d (%s %s): %w", e.sides[1].s.Name, ch.OffsetB, t, ch.ID, err))
		return nil
	}
	ch.Fields = compareTrees(ta, tb, t == decode.TypeKVS, &e.o)
	if len(ch.Fields) == 0 {
		ts.sum.Unchanged++
		return nil
	}
	e.record(ts, ch, kvk)
	return nil
}

func (e *engine) record(ts *typeState, ch *Change, kvk string) {
	e.count1(ts, ch, kvk)
	ts.changes = append(ts.changes, ch)
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
// current position: it matches a waiting record of the other input with
// the same identity, or waits itself.
func (e *engine) take(i int, it *item) error {
	e.count(i, it)
	ts := e.state(it.typ)
	other := 1 - i
	if list := ts.pending[other][it.id]; len(list) > 0 {
		p := list[0]
		if len(list) == 1 {
			delete(ts.pending[other], it.id)
		} else {
			ts.pending[other][it.id] = list[1:]
		}
		ts.npend--
		e.held -= int64(len(p.raw))
		return e.matchPending(ts, i, it, p)
	}
	p := &pend{id: it.id, key: it.key, n: it.rec.N, off: it.rec.Offset, size: it.rec.Size,
		kvKey: it.kvKey, contentUnique: !it.typ.InSnapshots()}
	if !p.contentUnique {
		v := it.rec.Value()
		if e.held+int64(len(v)) <= e.budget {
			p.raw = append([]byte(nil), v...)
			e.held += int64(len(v))
		} else {
			tree, err := contentTree(it.typ, v, &e.o)
			if err != nil {
				e.errs = append(e.errs, fmt.Errorf("%s (%s): record %d (%s) at offset %d: %w", e.sides[i].name, e.sides[i].s.Name, it.rec.N, it.typ, it.rec.Offset, err))
				return nil
			}
			p.digest, p.haveDigest = contentDigest(tree), true
		}
	}
	ts.pending[i][it.id] = append(ts.pending[i][it.id], p)
	ts.npend++
	return nil
}

// matchPending compares the live record it of side i with the waiting
// record p of the other side.
func (e *engine) matchPending(ts *typeState, i int, it *item, p *pend) error {
	ch := &Change{Op: Modified, Type: it.typ.String(), MessageType: it.typ, ID: it.id}
	va, vb := p.raw, it.rec.Value()
	if i == 0 {
		ch.SizeA, ch.OffsetA, ch.SizeB, ch.OffsetB = it.rec.Size, it.rec.Offset, p.size, p.off
		ch.key = it.key
		va, vb = vb, va
	} else {
		ch.SizeA, ch.OffsetA, ch.SizeB, ch.OffsetB = p.size, p.off, it.rec.Size, it.rec.Offset
		ch.key = p.key
	}
	if p.contentUnique {
		ts.sum.Unchanged++
		return nil
	}
	if !p.haveDigest {
		return e.compare(ch, it.typ, va, vb, it.kvKey)
	}
	tree, err := contentTree(it.typ, it.rec.Value(), &e.o)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s (%s): record %d (%s) at offset %d: %w", e.sides[i].name, e.sides[i].s.Name, it.rec.N, it.typ, it.rec.Offset, err))
		return nil
	}
	if contentDigest(tree) == p.digest {
		ts.sum.Unchanged++
		return nil
	}
	ch.Note = "content differs; field detail not kept (record out of Consul's order beyond the buffer budget)"
	e.record(ts, ch, it.kvKey)
	return nil
}

// flushPassed emits the changes of every type both inputs have moved past.
func (e *engine) flushPassed() error {
	low := rankEnd
	for _, sd := range e.sides {
		if sd.cur != nil && sd.cur.rank < low {
			low = sd.cur.rank
		}
	}
	if low == e.lastLow {
		return nil
	}
	e.lastLow = low
	var ready []*typeState
	for _, ts := range e.types {
		if !ts.sticky && rankOf(ts.typ) < low && (ts.npend > 0 || len(ts.changes) > 0) {
			ready = append(ready, ts)
		}
	}
	return e.flush(ready)
}

func (e *engine) flushAll() error {
	var all []*typeState
	for _, ts := range e.types {
		all = append(all, ts)
	}
	return e.flush(all)
}

func (e *engine) flush(list []*typeState) error {
	sort.Slice(list, func(i, j int) bool {
		ri, rj := rankOf(list[i].typ), rankOf(list[j].typ)
		if ri != rj {
			return ri < rj
		}
		return list[i].typ < list[j].typ
	})
	for _, ts := range list {
		for i, op := range []Op{Removed, Added} {
			for _, ps := range ts.pending[i] {
				for _, p := range ps {
					ch := &Change{Op: op, Type: ts.typ.String(), MessageType: ts.typ, ID: p.id, key: p.key}
					if i == 0 {
						ch.SizeA, ch.OffsetA = p.size, p.off
					} else {
						ch.SizeB, ch.OffsetB = p.size, p.off
					}
					e.held -= int64(len(p.raw))
					e.record(ts, ch, p.kvKey)
				}
			}
			ts.pending[i] = map[string][]*pend{}
		}
		ts.npend = 0
		if err := e.emitSorted(ts.changes); err != nil {
			return err
		}
		ts.changes = nil
		ts.flushed = true
	}
	return nil
}

var opRank = map[Op]int{Removed: 0, Modified: 1, Added: 2}

// emitSorted emits changes in Consul's record order; for one key:
// removed, modified, added.
func (e *engine) emitSorted(list []*Change) error {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.key != b.key {
			return a.key < b.key
		}
		if opRank[a.Op] != opRank[b.Op] {
			return opRank[a.Op] < opRank[b.Op]
		}
		return a.ID < b.ID
	})
	for _, ch := range list {
		e.changes++
		if e.emit != nil {
			if err := e.emit(ch); err != nil {
				return err
			}
		}
	}
	return nil
}

// identityKeyed reports whether a type's sort key is a function of its
// identity, so that a record cannot come back later under another key.
// (ACLToken moves with its SecretID, Peering is ordered by name; unknown
// types have content-addressed identities and no order.)
func identityKeyed(t decode.MessageType) bool {
	return t.InSnapshots() && t != decode.TypeACLToken && t != decode.TypePeering
}

// emitSafe keeps memory bounded when a type has many changes: once more
// than MaxHeld changes and waiting records of the type being compared are
// held, and both inputs are in Consul's order in it so far, everything
// with a key below both inputs' current keys is final under that order and
// is emitted now (in order). If an input later leaves the order in that
// type, a warning says that those early changes assumed it.
func (e *engine) emitSafe() error {
	var t decode.MessageType
	switch {
	case e.sides[0].cur != nil:
		t = e.sides[0].cur.typ
	case e.sides[1].cur != nil:
		t = e.sides[1].cur.typ
	default:
		return nil
	}
	ts := e.types[t]
	if ts == nil || ts.disordered || ts.sticky || !identityKeyed(t) {
		return nil
	}
	held := len(ts.changes) + ts.npend
	limit := e.o.MaxHeld
	if ts.nextSafe > limit {
		limit = ts.nextSafe
	}
	if held <= limit {
		return nil
	}
	bound, inType := "", false
	for _, sd := range e.sides {
		switch {
		case sd.cur == nil || sd.cur.rank > rankOf(t):
		case sd.cur.rank == rankOf(t):
			if !inType || sd.cur.key < bound {
				bound = sd.cur.key
			}
			inType = true
		default:
			return nil // this input has not reached the type yet
		}
	}
	var out, keep []*Change
	for _, ch := range ts.changes {
		if !inType || ch.key < bound {
			out = append(out, ch)
		} else {
			keep = append(keep, ch)
		}
	}
	for i, op := range []Op{Removed, Added} {
		for id, ps := range ts.pending[i] {
			var rest []*pend
			for _, p := range ps {
				if inType && p.key >= bound {
					rest = append(rest, p)
					continue
				}
				ch := &Change{Op: op, Type: t.String(), MessageType: t, ID: p.id, key: p.key}
				if i == 0 {
					ch.SizeA, ch.OffsetA = p.size, p.off
				} else {
					ch.SizeB, ch.OffsetB = p.size, p.off
				}
				e.held -= int64(len(p.raw))
				ts.npend--
				e.count1(ts, ch, p.kvKey)
				out = append(out, ch)
			}
			if len(rest) == 0 {
				delete(ts.pending[i], id)
			} else {
				ts.pending[i][id] = rest
			}
		}
	}
	ts.changes = keep
	ts.early += len(out)
	ts.nextSafe = len(ts.changes) + ts.npend + e.o.MaxHeld
	return e.emitSorted(out)
}

func (e *engine) summary() *Summary {
	s := &Summary{KVDepth: e.o.KVDepth, Changes: e.changes, Warnings: e.warn,
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
