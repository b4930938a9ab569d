package history

import "testing"

func TestCompareDigest(t *testing.T) {
	k := func(typ byte, id uint64) uint64 { return uint64(typ)<<56 | id }
	a := digest{{k(3, 1), 10}, {k(3, 2), 20}, {k(3, 3), 30}, {k(0, 9), 1}}
	b := digest{{k(3, 2), 20}, {k(3, 3), 31}, {k(3, 4), 40}, {k(0, 9), 1}, {k(0, 10), 5}}
	a.sort()
	b.sort()
	c := compare(a, b)
	if c[3] != (counts{added: 1, removed: 1, modified: 1}) || c[0] != (counts{added: 1}) {
		t.Errorf("compare: type 3 %+v, type 0 %+v", c[3], c[0])
	}
}
