package diff

import (
	"bytes"

	"github.com/snaptool/snaptool/decode"
)

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
		ps := prefixFor(e, decode.KVGroup(key, e.o.KVDepth))
		ps.CountA++
		ps.BytesA += ra.Size
		ps.CountB++
		ps.BytesB += rb.Size
	}
	return true
}
