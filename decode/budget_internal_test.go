package decode

import (
	"os"
	"path/filepath"
	"testing"
)

// realArchives are every real Consul snapshot we ship.
func realArchives(t *testing.T) []string {
	var out []string
	for _, pat := range []string{"../fixtures/*/*.snap", "../fixtures/*/series/*.snap"} {
		m, _ := filepath.Glob(pat)
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Skip("no fixtures")
	}
	return out
}

// viewSpent is what View charges to decode a record of type t: the heap
// part (beyond copies of the record's bytes), per encoded byte.
func viewSpent(t MessageType, value []byte) (spent int64, err error) {
	bud := &budget{left: 1 << 62}
	d, err := decodeValueOf(t, value, bud)
	if err != nil {
		return 0, err
	}
	treeBudget(d.Data, bud)
	return 1<<62 - bud.left, nil
}

// TestBudgetRealRecords: every record of every real snapshot decodes well
// within its budget, with room to spare (half of BudgetPerByte), so that
// the budget only ever stops hostile records.
func TestBudgetRealRecords(t *testing.T) {
	worst, worstN := 0.0, 0
	var worstT MessageType
	for _, p := range realArchives(t) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		s := NewArchive(f, Options{})
		for s.Next() {
			rec := s.Record()
			v := rec.Value()
			spent, err := viewSpent(rec.Type, v)
			if err != nil {
				continue // damage fixtures
			}
			heap := spent - int64(len(v))
			if heap > int64(len(v))*BudgetPerByte/2+BudgetFloor/2 {
				t.Errorf("%s record %d (%s, %d bytes) charges %d heap bytes: too close to its budget", p, rec.N, rec.Type, len(v), heap)
			}
			if r := float64(heap) / float64(len(v)); len(v) > 64 && r > worst {
				worst, worstN, worstT = r, len(v), rec.Type
			}
		}
		f.Close()
	}
	t.Logf("worst real record: %.1f heap bytes charged per byte (%s, %d bytes)", worst, worstT, worstN)
}

// TestCheckerChargesMatchDecode: the checker charges exactly what
// DecodeValueOf charges its budget, on every real record and on hostile
// shapes, so that CheckRecord's fast accept never hides an ErrBudget.
func TestCheckerChargesMatchDecode(t *testing.T) {
	check := func(name string, typ MessageType, v []byte) {
		t.Helper()
		if _, fast := checkTargets[typ]; !fast && typ.InSnapshots() {
			return
		}
		c := checker{b: v}
		var ok bool
		if target, known := checkTargets[typ]; known {
			ok = c.typed(target, 0)
		} else {
			ok = c.walk(0, true)
		}
		if !ok || c.p != len(v) {
			return
		}
		bud := &budget{left: 1 << 62}
		if _, err := decodeValueOf(typ, v, bud); err != nil {
			t.Errorf("%s: the checker accepts, decode fails: %v", name, err)
			return
		}
		if spent := 1<<62 - bud.left; spent != c.cost {
			t.Errorf("%s (%s, %d bytes): checker charges %d, decode %d", name, typ, len(v), c.cost, spent)
		}
	}
	for _, p := range realArchives(t) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		s := NewArchive(f, Options{})
		for s.Next() {
			rec := s.Record()
			check(p, rec.Type, rec.Value())
		}
		f.Close()
	}
	ext := []byte{0x82, 0xa1, 'X', 0x92, 0xd4, 0x05, 0x01, 0x81, 0xd5, 0x02, 'a', 'b', 0x01, 0xa4, 'N', 'o', 'd', 'e', 0xa1, 'n'}
	check("ext key and value in Extra", TypeRegister, ext)
	check("unknown type with ext", 200, ext)
	check("checks of empty maps", TypeRegister, []byte{0x81, 0xa6, 'C', 'h', 'e', 'c', 'k', 's', 0x93, 0x80, 0x80, 0xc0})
}
