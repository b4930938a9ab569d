package diff

import (
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// pending keeps raw values within its budget and accounts for every byte
// and record it holds, whichever way a record leaves (claimed by its
// partner, released below a bound, released at the end of its type).
func TestPendingBounds(t *testing.T) {
	p := newPending(10)
	add := func(i int, id, key string, v string) *waiting {
		w := &waiting{id: id, key: key}
		kept := p.keepRaw(w, []byte(v))
		if want := p.held+int64(len(v)) <= p.budget; kept != want {
			t.Fatalf("keepRaw(%q) = %v with %d of %d held", v, kept, p.held, p.budget)
		}
		p.add(decode.TypeKVS, i, w)
		return w
	}
	add(0, "a", "a", "123456")
	add(1, "b", "b", "1234")
	if w := add(0, "c", "c", "x"); w.raw != nil || p.held != 10 {
		t.Fatalf("over the budget: raw %q, held %d", w.raw, p.held)
	}
	add(0, "d", "d", "")
	if p.count(decode.TypeKVS) != 4 || p.count(decode.TypeRegister) != 0 {
		t.Fatalf("count = %d, %d", p.count(decode.TypeKVS), p.count(decode.TypeRegister))
	}
	if w := p.claim(decode.TypeKVS, 1, "a"); w != nil {
		t.Fatalf("claimed A's record from B's side: %+v", w)
	}
	if w := p.claim(decode.TypeKVS, 0, "a"); w == nil || string(w.raw) != "123456" || p.held != 4 {
		t.Fatalf("claim a: %+v, held %d", w, p.held)
	}
	var got []string
	p.release(decode.TypeKVS, false, "c", func(i int, w *waiting) {
		got = append(got, string((&engine{}).waitingChange(decode.TypeKVS, i, w).Op)+" "+w.id)
	})
	if len(got) != 1 || got[0] != "added b" || p.held != 0 || p.count(decode.TypeKVS) != 2 {
		t.Fatalf("release below c: %q, held %d, count %d", got, p.held, p.count(decode.TypeKVS))
	}
	got = nil
	p.release(decode.TypeKVS, true, "", func(i int, w *waiting) {
		got = append(got, string((&engine{}).waitingChange(decode.TypeKVS, i, w).Op)+" "+w.id)
	})
	if len(got) != 2 || p.held != 0 || p.count(decode.TypeKVS) != 0 {
		t.Fatalf("release all: %q, held %d, count %d", got, p.held, p.count(decode.TypeKVS))
	}
	if w := p.claim(decode.TypeKVS, 0, "c"); w != nil {
		t.Fatalf("released record still claimable: %+v", w)
	}
}
