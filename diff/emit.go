package diff

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

// typeState is one record type's state: its summary, the changes held
// until the type may be emitted, and what is known of the inputs' order in
// it. (Its waiting records are in engine.pend.)
type typeState struct {
	typ     decode.MessageType
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
	heldBytes  int64 // value bytes of this type's held changes (holdValues)
}

// record holds a change of type ts until the type is emitted.
func (e *engine) record(ts *typeState, ch *Change, kvk string) {
	e.count1(ts, ch, kvk)
	e.holdValues(ch)
	ts.heldBytes += ch.held
	ts.changes = append(ts.changes, ch)
}

// heldValueBudget bounds the bytes of field values that held changes keep
// (whole values, see FieldChange), as a multiple of Options.RawBudget.
const heldValueBudget = 4

// maxCutValue is the length a string value is cut to when the held
// changes exceed their budget.
const maxCutValue = 4096

// holdValues accounts for the values a change keeps until it is emitted
// (its records' sizes bound them). Within the budget they stay whole; the
// budget is only exceeded when Consul's order cannot release changes
// early (an input out of order, or thousands of large changes in one
// type), and then string values beyond maxCutValue bytes are cut, and the
// change's Note says so: memory stays bounded.
func (e *engine) holdValues(ch *Change) {
	if len(ch.Fields) == 0 {
		return
	}
	ch.held = ch.SizeA + ch.SizeB
	if e.heldBytes+ch.held > heldValueBudget*e.pend.budget {
		cut := false
		for i := range ch.Fields {
			f := &ch.Fields[i]
			f.Old, cut = cutValue(f.Old, cut)
			f.New, cut = cutValue(f.New, cut)
		}
		if cut {
			ch.held = int64(len(ch.Fields)) * 2 * maxCutValue
			note := fmt.Sprintf("values over %d bytes cut: too many large changes held at once (an input out of Consul's order)", maxCutValue)
			if ch.Note != "" {
				note = ch.Note + "; " + note
			}
			ch.Note = note
		}
	}
	e.heldBytes += ch.held
}

func cutValue(x any, cut bool) (any, bool) {
	if s, ok := x.(string); ok && len(s) > maxCutValue {
		n := maxCutValue
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return s[:n] + fmt.Sprintf("… (%d bytes)", len(s)), true
	}
	return x, cut
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
		if !ts.sticky && rankOf(ts.typ) < low && (e.pend.count(ts.typ) > 0 || len(ts.changes) > 0) {
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
	if err := e.flush(all); err != nil {
		return err
	}
	return e.flushKV()
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
		e.pend.release(ts.typ, true, "", func(i int, w *waiting) {
			e.record(ts, e.waitingChange(ts.typ, i, w), w.kvKey)
		})
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
		var err error
		e.state(ch.MessageType).heldBytes -= ch.held // no longer the type's (see holdValues)
		if ch.MessageType == decode.TypeKVS || ch.MessageType == decode.TypeTombstone {
			err = e.holdKV(ch)
		} else if err = e.flushKV(); err == nil {
			err = e.emitOne(ch)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) emitOne(ch *Change) error {
	e.changes++
	e.heldBytes -= ch.held
	if e.emit != nil {
		return e.emit(ch)
	}
	return nil
}

// kvLinks holds the KVS and Tombstone changes (in emission order: the two
// types are adjacent in Consul's order) until the Tombstone changes are
// known, so that a removed KVS record and the tombstone B holds for its key
// are linked (Change.Tombstone, Change.Deletes). At most linkHold ×
// Options.MaxHeld changes are held (their values count against the held
// values' budget, see holdValues): beyond that they are emitted, and a
// deletion whose two changes are not held together stays unlinked.
// linkHold is how many times MaxHeld KVS and Tombstone changes may wait
// to be linked: a KVS change without values is a few hundred bytes, so
// 16000 of them stay within a few MiB.
const linkHold = 16

type kvLinks struct {
	held    []*Change
	removed map[string]*Change // removed KVS changes in held, by key
	deleted int                // links made (Summary.KVDeleted)
}

func (e *engine) holdKV(ch *Change) error {
	l := &e.links
	switch {
	case ch.MessageType == decode.TypeKVS && ch.Op == Removed:
		if l.removed == nil {
			l.removed = map[string]*Change{}
		}
		l.removed[ch.ID] = ch
	case ch.MessageType == decode.TypeTombstone && ch.Op == Added:
		if k := l.removed[ch.ID]; k != nil && k.Tombstone == nil {
			k.Tombstone = &TombstoneLink{Index: ch.ModifyIndex, OffsetB: ch.OffsetB, SizeB: ch.SizeB}
			ch.Deletes = decode.TypeKVS.String()
			l.deleted++
		}
	}
	l.held = append(l.held, ch)
	if len(l.held) > linkHold*e.o.MaxHeld {
		return e.flushKV()
	}
	return nil
}

// flushKV emits the held KVS and Tombstone changes.
func (e *engine) flushKV() error {
	l := &e.links
	held := l.held
	l.held, l.removed = nil, nil
	for _, ch := range held {
		if err := e.emitOne(ch); err != nil {
			return err
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
	held := len(ts.changes) + e.pend.count(t)
	limit := e.o.MaxHeld
	if ts.nextSafe > limit {
		limit = ts.nextSafe
	}
	if held <= limit && ts.heldBytes <= e.pend.budget {
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
	e.pend.release(t, !inType, bound, func(i int, w *waiting) {
		ch := e.waitingChange(t, i, w)
		e.count1(ts, ch, w.kvKey)
		out = append(out, ch)
	})
	ts.changes = keep
	ts.early += len(out)
	ts.nextSafe = len(ts.changes) + e.pend.count(t) + e.o.MaxHeld
	return e.emitSorted(out)
}
