package diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// item is the current record of one input, with what the merge needs.
type item struct {
	rec   *decode.Record
	typ   decode.MessageType
	rank  int
	key   string
	id    string
	kvKey string
}

// side is one input of the merge: its stream, its current record and what
// the order checks remember of it.
type side struct {
	name       string // "A" or "B"
	idx        int    // 0 for A, 1 for B (Options.OnRecord)
	s          *decode.Snapshot
	cur        *item
	lastRank   int
	lastKey    []byte // key of the last record (a copy)
	scratch    []byte // kvPair's identity buffer
	maxRank    int
	warnedType map[decode.MessageType]bool
	ended      bool  // Next returned false
	broken     bool  // ended before its last record (its record stream failed)
	read       int64 // records read (nextWanted's ctx check)
	it         item  // cur points here (one item per side, reused)
}

// engine is one diff: the two inputs, the per-type state (emit.go), the
// waiting records (pending.go) and the summaries (summary.go).
type engine struct {
	ctx        context.Context
	o          Options
	emit       func(*Change) error
	sides      [2]*side
	types      map[decode.MessageType]*typeState
	prefix     map[string]*PrefixSummary
	warn       []string
	errs       []error
	changes    int
	lastLow    int
	suppressed int
	// schemaOnly counts schema-only differences hidden, schemaRecords the
	// records they alone made differ (Summary.SchemaOnly, SchemaOnlyRecords).
	schemaOnly    int
	schemaRecords int
	links         kvLinks   // removed KVS records and their tombstones (emit.go)
	heldBytes     int64     // value bytes of held changes (holdValues)
	want          [256]bool // wanted types (Options.Types, IgnoreTypes)
	pend          pending   // the waiting records and their bound (pending.go)
	stop          error     // ctx's error once seen canceled: the diff stops
}

// interrupted reports whether ctx was canceled, and remembers it in
// e.stop, which ends the merge loop.
func (e *engine) interrupted() bool {
	if e.stop == nil {
		e.stop = e.ctx.Err()
	}
	return e.stop != nil
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
		prefix: map[string]*PrefixSummary{}, pend: newPending(opts.RawBudget)}
	if e.o.MaxHeld <= 0 {
		e.o.MaxHeld = DefaultMaxHeld
	}
	if e.o.MaxOutOfOrder <= 0 {
		e.o.MaxOutOfOrder = DefaultMaxOutOfOrder
	}
	var only map[decode.MessageType]bool
	if len(opts.Types) > 0 {
		only = map[decode.MessageType]bool{}
		for _, t := range opts.Types {
			only[t] = true
		}
	}
	ignore := map[decode.MessageType]bool{}
	for _, t := range opts.IgnoreTypes {
		ignore[t] = true
	}
	if !opts.IncludeRaftBookkeeping && !only[decode.TypeIndex] {
		ignore[decode.TypeIndex] = true
	}
	for t := range e.want {
		mt := decode.MessageType(t)
		e.want[t] = (only == nil || only[mt]) && !ignore[mt]
	}
	e.sides[0] = &side{name: "A", idx: 0, s: a, warnedType: map[decode.MessageType]bool{}}
	e.sides[1] = &side{name: "B", idx: 1, s: b, warnedType: map[decode.MessageType]bool{}}
	err := e.run()
	sum := e.summary()
	if e.cut() {
		sum.Incomplete = e.incomplete()
		sum.Identical = false
	}
	if err != nil {
		return sum, err
	}
	return sum, errors.Join(e.errs...)
}

// incomplete says where the comparison stopped: the first error that cut
// an input's record stream.
func (e *engine) incomplete() *Incomplete {
	for _, err := range e.errs {
		var ie *InputError
		if !errors.As(err, &ie) {
			continue
		}
		sd := e.sides[0]
		if ie.Input == e.sides[1].name {
			sd = e.sides[1]
		}
		var re *decode.RecordError
		var ae *decode.ArchiveError
		in := &Incomplete{Input: ie.Input, Name: ie.Name, Offset: -1, Error: ie.Err.Error()}
		read := int64(0)
		if st := sd.s.Stream(); st != nil {
			read = st.Count()
		}
		switch {
		case errors.As(err, &re):
			in.Record, in.Offset, in.Layer = re.N, re.Offset, re.Member
		case errors.As(err, &ae):
			in.Record, in.Offset, in.Layer = read+1, ae.Offset, ae.Layer
			if ae.Member != "" {
				in.Layer += " " + ae.Member
			}
		default:
			in.Record = read + 1
		}
		if !sd.broken && re == nil && !errors.Is(err, decode.ErrTypedDecode) {
			continue // an archive-level failure found after every record: not what cut the stream
		}
		in.Before = in.Record <= 1
		return in
	}
	return &Incomplete{Input: "?", Offset: -1, Error: "comparison stopped"}
}

func (e *engine) run() error {
	if e.o.Start != nil {
		ok := true
		for _, sd := range e.sides {
			_, err := sd.s.Header() // reads meta.json and the state.bin header; errors stay in the snapshot
			ok = ok && err == nil && len(sd.s.Errors()) == 0
		}
		if ok {
			if err := e.o.Start(metaSummary(e.sides[0].s), metaSummary(e.sides[1].s)); err != nil {
				return err
			}
		}
	}
	if err := e.advanceBoth(); err != nil {
		return err
	}
	n := 0
	for e.sides[0].cur != nil || e.sides[1].cur != nil {
		if n++; n%1024 == 0 {
			e.interrupted()
		}
		if e.stop != nil {
			return e.stop
		}
		if e.cut() {
			return e.stopAtCut()
		}
		a, b := e.sides[0].cur, e.sides[1].cur
		c := cmpItems(a, b)
		// The record this step handles (B's of a matched pair), for holdLimit.
		hi, ht := 1, b
		if c <= 0 && (c != 0 || a.id != b.id) {
			hi, ht = 0, a
		}
		htyp, hn, hoff := ht.typ, ht.rec.N, ht.rec.Offset
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
		if err := e.holdLimit(hi, htyp, hn, hoff); err != nil {
			e.drain() // OnRecord still sees every record (the report's other sections)
			if e.stop != nil {
				return e.stop
			}
			return err
		}
		if err := e.flushPassed(); err != nil {
			return err
		}
	}
	if e.stop != nil {
		return e.stop
	}
	if e.cut() {
		return e.stopAtCut()
	}
	// Every record of both inputs was compared (an archive-level failure
	// such as a checksum mismatch is still returned by Run).
	return e.flushAll()
}

// stopAtCut ends a comparison whose input's record stream is cut or
// undecodable: whatever remains of the other would show as added or
// removed, so it stops; what both inputs had passed is final.
func (e *engine) stopAtCut() error {
	e.drain()
	if err := e.flushKV(); err != nil {
		return err
	}
	return e.stop // nil unless ctx was canceled while draining
}

// cut reports whether an error so far means the record stream of an input
// stopped early or a record could not be decoded, as opposed to an
// archive-level failure found after every record was read.
func (e *engine) cut() bool {
	if e.sides[0].broken || e.sides[1].broken {
		return true
	}
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

// nextWanted moves a side's stream to its next record of a wanted type and
// returns it, or nil when Next returned false (the caller calls ended) or
// ctx was canceled (e.stop; it looks every 1024 records, wanted or not).
func (e *engine) nextWanted(sd *side) *decode.Record {
	for sd.s.Next() {
		if sd.read++; sd.read%1024 == 0 && e.interrupted() {
			return nil
		}
		rec := sd.s.Record()
		if e.o.OnRecord != nil {
			e.o.OnRecord(sd.idx, rec)
		}
		if e.want[rec.Type] {
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
		e.errs = append(e.errs, sd.recordErr(rec.N, rec.Offset, rec.Type, err))
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

// ended collects the errors of an input whose Next returned false.
func (e *engine) ended(sd *side) {
	sd.ended = true
	errs := sd.s.Errors()
	for _, err := range errs {
		e.errs = append(e.errs, sd.inputErr(err))
	}
	if st := sd.s.Stream(); len(errs) > 0 && (st == nil || st.Err() != nil) {
		sd.broken = true
	}
}

// inputErr wraps an error of input sd, once, with which input it was.
func (sd *side) inputErr(err error) error {
	return &InputError{Input: sd.name, Name: sd.s.Name, Err: err}
}

// recordErr is the error err about record n (type t, at offset off) of
// input sd: decode's RecordError (unless err already carries one) inside
// sd's InputError, so that errors.As gives a caller of Run the record.
func (sd *side) recordErr(n, off int64, t decode.MessageType, err error) error {
	var re *decode.RecordError
	if !errors.As(err, &re) {
		err = &decode.RecordError{Member: decode.MemberState, Offset: off, N: n, Type: t, TypeKnown: true, Err: err}
	}
	return sd.inputErr(err)
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
			if sd.read++; sd.read%1024 == 0 && e.interrupted() {
				return
			}
			if e.o.OnRecord != nil {
				e.o.OnRecord(sd.idx, sd.s.Record())
			}
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
				sd.name, t, rec.N, rec.Offset, e.pend.budget)
		}
	}
	if rank > sd.maxRank {
		sd.maxRank = rank
	}
	sd.lastRank = rank
}

func (e *engine) state(t decode.MessageType) *typeState {
	ts := e.types[t]
	if ts == nil {
		ts = &typeState{typ: t, sum: TypeSummary{Name: t.String()}}
		e.types[t] = ts
	}
	return ts
}

// repeated notes that input sd repeats the identity of a record that
// still waits (it is the second): not Consul's order, so the type is
// matched by identity from now on, like a decreasing key, and its waiting
// records count against Options.MaxOutOfOrder.
func (e *engine) repeated(sd *side, ts *typeState, it *item) {
	ts.disordered = true
	if !sd.warnedType[it.typ] {
		sd.warnedType[it.typ] = true
		e.warnf("%s: %s record %d (offset %d) repeats an identity; that type is matched by identity, holding unmatched records until the type ends",
			sd.name, it.typ, it.rec.N, it.rec.Offset)
	}
}

// matchLive compares two current records with the same identity.
func (e *engine) matchLive(a, b *item) error {
	e.count(0, a)
	e.count(1, b)
	ch := &Change{Op: Modified, Type: a.typ.String(), MessageType: a.typ, ID: a.id,
		SizeA: a.rec.Size, SizeB: b.rec.Size, OffsetA: a.rec.Offset, OffsetB: b.rec.Offset, key: a.key}
	return e.compare(ch, a.typ, a.rec.Value(), b.rec.Value(), a.kvKey, a.rec.N, b.rec.N)
}

// compare decides whether two records of the same identity differ and
// records the change (or counts them unchanged). na and nb are the
// records' numbers in A and B (their offsets are in ch).
func (e *engine) compare(ch *Change, t decode.MessageType, va, vb []byte, kvk string, na, nb int64) error {
	ts := e.state(t)
	if bytes.Equal(va, vb) || !t.InSnapshots() {
		ts.sum.Unchanged++
		return nil
	}
	ca, err := contentOf(t, va, &e.o)
	if err != nil {
		e.errs = append(e.errs, e.sides[0].recordErr(na, ch.OffsetA, t, err))
		return nil
	}
	cb, err := contentOf(t, vb, &e.o)
	if err != nil {
		e.errs = append(e.errs, e.sides[1].recordErr(nb, ch.OffsetB, t, err))
		return nil
	}
	ch.ModifyIndex = cb.index
	fields, more, schema := compareTrees(ca.tree, cb.tree, t == decode.TypeKVS, &e.o)
	e.schemaOnly += schema
	if len(fields) == 0 && more == 0 {
		if schema > 0 {
			e.schemaRecords++
		}
		ts.sum.Unchanged++
		return nil
	}
	ch.Fields = fields
	if more > 0 {
		ch.Note = fmt.Sprintf("%d more changed fields not listed", more)
	}
	ch.Label = cb.label
	if ch.Label == "" {
		ch.Label = ca.label
	}
	e.record(ts, ch, kvk)
	return nil
}
