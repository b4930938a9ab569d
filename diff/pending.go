package diff

import (
	"errors"
	"fmt"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// waiting is a record waiting for its partner: added or removed unless a
// later record of the other input has the same identity.
type waiting struct {
	id            string
	key           string
	n, off, size  int64
	raw           []byte // nil when over the budget (or not needed)
	digest        [32]byte
	haveDigest    bool
	kvKey         string
	contentUnique bool // identity is content-addressed: a match is equal
	// label and index (a tombstone's) when raw was not kept: read when
	// the digest was made.
	label string
	index uint64
}

// waitingChange is what a waiting record w of input i becomes when its
// partner never came: removed (A) or added (B), with its label and, with
// Options.Values, its content as fields (both read from its bytes when
// they were kept within the budget).
func (e *engine) waitingChange(t decode.MessageType, i int, w *waiting) *Change {
	ch := &Change{Op: Removed, Type: t.String(), MessageType: t, ID: w.id, key: w.key,
		Label: w.label, ModifyIndex: w.index}
	if i == 0 {
		ch.SizeA, ch.OffsetA = w.size, w.off
	} else {
		ch.Op = Added
		ch.SizeB, ch.OffsetB = w.size, w.off
	}
	if w.raw == nil {
		if e.o.Values && !w.contentUnique {
			ch.Note = "content not kept (beyond the buffer budget for records waiting for their partner)"
		}
		return ch
	}
	c, err := contentOf(t, w.raw, &e.o)
	if err != nil {
		ch.Note = "content could not be decoded: " + err.Error()
		return ch
	}
	ch.Label, ch.ModifyIndex = c.label, c.index
	if e.o.Values {
		var more int
		ch.Fields, more = contentFields(c.tree, i == 0, t == decode.TypeKVS, &e.o)
		if more > 0 {
			ch.Note = fmt.Sprintf("%d more fields not listed", more)
		}
	}
	return ch
}

// pending is all the waiting-record state of a diff: per record type and
// per input, the records waiting for their partner, by identity; and the
// bound on them: their raw values are kept while the total stays within
// budget (Options.RawBudget), beyond it a record keeps only its content
// digest. (How many of a type may wait before some are emitted early is
// Options.MaxHeld, applied by emitSafe.)
//
// The number of waiting records and the bytes of their identities and
// keys are counted too (n, keyBytes): holdLimit stops the diff when
// either passes its cap, so no input makes the hold grow without bound.
type pending struct {
	budget   int64 // bytes of raw values that may be kept
	held     int64 // bytes of raw values kept
	n        int   // records waiting, every type
	keyBytes int64 // bytes of their id, key and kvKey strings
	types    [256]*waitTable
}

// keyBytesOf is what w's strings cost.
func keyBytesOf(w *waiting) int64 { return int64(len(w.id) + len(w.key) + len(w.kvKey)) }

// waits reports whether a record of input i with identity id already
// waits in type t: the input repeats an identity, which Consul's order
// (one record per identity in each table) never does.
func (p *pending) waits(t decode.MessageType, i int, id string) bool {
	tb := p.types[t]
	return tb != nil && len(tb.side[i][id]) > 0
}

// waitTable is one type's waiting records: per input, by identity.
type waitTable struct {
	side [2]map[string][]*waiting
	n    int // records in both maps
}

func newPending(budget int64) pending {
	if budget <= 0 {
		budget = DefaultRawBudget
	}
	return pending{budget: budget}
}

// count is how many records of type t wait (both inputs).
func (p *pending) count(t decode.MessageType) int {
	if tb := p.types[t]; tb != nil {
		return tb.n
	}
	return 0
}

// claim removes and returns the first record of input i waiting in type t
// with identity id, or nil.
func (p *pending) claim(t decode.MessageType, i int, id string) *waiting {
	tb := p.types[t]
	if tb == nil {
		return nil
	}
	list := tb.side[i][id]
	if len(list) == 0 {
		return nil
	}
	w := list[0]
	if len(list) == 1 {
		delete(tb.side[i], id)
	} else {
		tb.side[i][id] = list[1:]
	}
	tb.n--
	p.n--
	p.keyBytes -= keyBytesOf(w)
	p.held -= int64(len(w.raw))
	return w
}

// keepRaw copies v as w's raw value if the budget allows it; false: it
// does not, and w must keep a digest instead.
func (p *pending) keepRaw(w *waiting, v []byte) bool {
	if p.held+int64(len(v)) > p.budget {
		return false
	}
	w.raw = append([]byte(nil), v...)
	return true
}

// add makes w wait in type t for a partner of input 1-i (w is of input i).
func (p *pending) add(t decode.MessageType, i int, w *waiting) {
	tb := p.types[t]
	if tb == nil {
		tb = &waitTable{}
		tb.side[0] = map[string][]*waiting{}
		tb.side[1] = map[string][]*waiting{}
		p.types[t] = tb
	}
	tb.side[i][w.id] = append(tb.side[i][w.id], w)
	tb.n++
	p.n++
	p.keyBytes += keyBytesOf(w)
	p.held += int64(len(w.raw))
}

// release removes the records of type t that will find no partner: every
// one when all, otherwise those whose key sorts below bound. It calls fn
// for each, input A's first.
func (p *pending) release(t decode.MessageType, all bool, bound string, fn func(i int, w *waiting)) {
	tb := p.types[t]
	if tb == nil {
		return
	}
	for i := range tb.side {
		for id, ws := range tb.side[i] {
			var rest []*waiting
			for _, w := range ws {
				if !all && w.key >= bound {
					rest = append(rest, w)
					continue
				}
				p.held -= int64(len(w.raw))
				p.keyBytes -= keyBytesOf(w)
				tb.n--
				p.n--
				fn(i, w)
			}
			if !all {
				if len(rest) == 0 {
					delete(tb.side[i], id)
				} else {
					tb.side[i][id] = rest
				}
			}
		}
		if all {
			tb.side[i] = map[string][]*waiting{}
		}
	}
}

// take handles a record of side i that has no partner at the other input's
// current position: it matches a waiting record of the other input with
// the same identity, or waits itself.
func (e *engine) take(i int, it *item) error {
	e.count(i, it)
	ts := e.state(it.typ)
	if w := e.pend.claim(it.typ, 1-i, it.id); w != nil {
		return e.matchPending(ts, i, it, w)
	}
	if !ts.disordered && it.typ.InSnapshots() && e.pend.waits(it.typ, i, it.id) {
		e.repeated(e.sides[i], ts, it)
	}
	w := &waiting{id: it.id, key: it.key, n: it.rec.N, off: it.rec.Offset, size: it.rec.Size,
		kvKey: it.kvKey, contentUnique: !it.typ.InSnapshots()}
	if !w.contentUnique {
		v := it.rec.Value()
		if !e.pend.keepRaw(w, v) {
			c, err := contentOf(it.typ, v, &e.o)
			if err != nil {
				e.errs = append(e.errs, e.sides[i].recordErr(it.rec.N, it.rec.Offset, it.typ, err))
				return nil
			}
			w.digest, w.haveDigest = contentDigest(c.tree), true
			w.label, w.index = c.label, c.index
		}
	}
	e.pend.add(it.typ, i, w)
	return nil
}

// ErrOrder means an input is not in Consul's record order (a key
// decreases within a type, a type comes back after a later one, or an
// identity repeats) further than diff holds records for: past
// Options.MaxOutOfOrder waiting records and changes, or
// maxWaitingKeyBytes of their identities, Run stops with it, inside a
// *decode.RecordError (the record where the hold overflowed, so
// decode.IsDamage holds) inside the input's *InputError.
var ErrOrder = errors.New("not in Consul's order")

// ErrHoldLimit is ErrOrder's counterpart for an input in Consul's order
// whose records of one type wait unmatched beyond the same caps (ACLToken
// and Peering records are matched by identity across positions, so they
// wait until their type ends).
var ErrHoldLimit = errors.New("too many records without a partner")

// maxWaitingKeyBytes caps the bytes of the identities and keys held by
// waiting records (their values are capped by Options.RawBudget).
const maxWaitingKeyBytes = 32 << 20

// holdLimit stops the diff once the waiting records, or the changes of a
// type that cannot be emitted early, pass their caps. The merge loop calls
// it after each step (after emitSafe released what Consul's order makes
// final); t, n and off are the type, number and offset of the record of
// input i just handled.
func (e *engine) holdLimit(i int, t decode.MessageType, n, off int64) error {
	ts := e.state(t)
	max := e.o.MaxOutOfOrder
	held := e.pend.n
	if ts.disordered || ts.sticky {
		held += len(ts.changes)
	}
	if held <= max && e.pend.keyBytes <= maxWaitingKeyBytes {
		return nil
	}
	sd := e.sides[i]
	what := fmt.Sprintf("more than %d records out of order", max)
	if e.pend.keyBytes > maxWaitingKeyBytes {
		what = fmt.Sprintf("more than %d MiB of identities out of order", maxWaitingKeyBytes>>20)
	}
	var err error
	if ts.disordered || ts.sticky {
		err = fmt.Errorf("input %s is %w: %s (at most %d wait for their partner by identity)", sd.name, ErrOrder, what, max)
	} else {
		err = fmt.Errorf("input %s: %w: %s records are matched by identity, not position, and %s wait unmatched",
			sd.name, ErrHoldLimit, t, strings.TrimSuffix(what, " out of order"))
	}
	return sd.recordErr(n, off, t, err)
}

// matchPending compares the live record it of side i with the waiting
// record w of the other side.
func (e *engine) matchPending(ts *typeState, i int, it *item, w *waiting) error {
	ch := &Change{Op: Modified, Type: it.typ.String(), MessageType: it.typ, ID: it.id}
	va, vb := w.raw, it.rec.Value()
	na, nb := w.n, it.rec.N
	if i == 0 {
		ch.SizeA, ch.OffsetA, ch.SizeB, ch.OffsetB = it.rec.Size, it.rec.Offset, w.size, w.off
		ch.key = it.key
		va, vb = vb, va
		na, nb = nb, na
	} else {
		ch.SizeA, ch.OffsetA, ch.SizeB, ch.OffsetB = w.size, w.off, it.rec.Size, it.rec.Offset
		ch.key = w.key
	}
	if w.contentUnique {
		ts.sum.Unchanged++
		return nil
	}
	if !w.haveDigest {
		return e.compare(ch, it.typ, va, vb, it.kvKey, na, nb)
	}
	c, err := contentOf(it.typ, it.rec.Value(), &e.o)
	if err != nil {
		e.errs = append(e.errs, e.sides[i].recordErr(it.rec.N, it.rec.Offset, it.typ, err))
		return nil
	}
	if contentDigest(c.tree) == w.digest {
		ts.sum.Unchanged++
		return nil
	}
	ch.Label = c.label
	if ch.Label == "" {
		ch.Label = w.label
	}
	ch.Note = "content differs; field detail not kept (record out of Consul's order beyond the buffer budget)"
	e.record(ts, ch, it.kvKey)
	return nil
}
