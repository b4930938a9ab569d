package decode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// budgetBound is the most heap a record of n bytes may make its decode
// allocate: its budget (decode/budget.go) with room for the estimates.
func budgetBound(n int) uint64 {
	heap := min(uint64(n)*decode.BudgetPerByte+decode.BudgetFloor, decode.BudgetCeiling)
	return (heap+uint64(n))*3/2 + 1<<20
}

// TestBudgetHostileClasses: records that pass the scan and whose full
// decode amplifies (tiny containers, many short keys, deep nesting, a
// config entry that nests) stop at their work budget in every decode
// path (View, DecodeRecord, CheckRecord, RecordOK, Keys for the wrapped
// types) with ErrBudget in a *RecordError, allocating no more than the
// budget. With the budget removed they decode and allocate 100 and more
// bytes per input byte.
func TestBudgetHostileClasses(t *testing.T) {
	const size = 1 << 20
	for _, c := range hostileClasses {
		if c.name == "nonfinite" || c.name == "zeros" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			st := c.state(size)
			s := decode.NewStream(bytes.NewReader(st), decode.Options{})
			n := 0
			for s.Next() {
				rec := s.Record()
				if len(rec.Raw) < 64<<10 {
					continue // the remainder record of a class
				}
				n++
				var err error
				got := allocated(func() { _, err = decode.View(rec.Type, rec.Value(), false) })
				if !errors.Is(err, decode.ErrBudget) || !errors.Is(err, decode.ErrTypedDecode) {
					t.Fatalf("record %d (%s, %d bytes): View: %v, want ErrBudget", rec.N, rec.Type, len(rec.Raw), err)
				}
				if bound := budgetBound(len(rec.Raw)); got > bound {
					t.Errorf("record %d (%d bytes): View allocated %d bytes, budget bound %d", rec.N, len(rec.Raw), got, bound)
				}
				t.Logf("record %d (%s, %d bytes): View allocated %.1f bytes per input byte before stopping", rec.N, rec.Type, len(rec.Raw), float64(got)/float64(len(rec.Raw)))
				_, derr := decode.DecodeRecord(rec)
				var re *decode.RecordError
				if !errors.Is(derr, decode.ErrBudget) || !errors.As(derr, &re) || re.N != rec.N || re.Offset != rec.Offset {
					t.Errorf("DecodeRecord: %v, want ErrBudget in a RecordError at record %d", derr, rec.N)
				}
				if cerr := decode.CheckRecord(rec); cerr == nil || cerr.Error() != derr.Error() {
					t.Errorf("CheckRecord: %v, want DecodeRecord's %v", cerr, derr)
				}
				if decode.RecordOK(rec) {
					t.Errorf("RecordOK accepts a record over its budget")
				}
			}
			if s.Err() != nil || n == 0 {
				t.Fatalf("scan: %d records, %v", n, s.Err())
			}
		})
	}
}

// TestBudgetCeiling: the hard ceiling holds for a record far larger than
// BudgetCeiling/BudgetPerByte: a 16 MiB record of empty arrays is refused
// before its slabs are made.
func TestBudgetCeiling(t *testing.T) {
	if testing.Short() {
		t.Skip("16 MiB record")
	}
	v := withExtra(emptiesValue(16<<20), "Key", "k")
	var err error
	got := allocated(func() { _, err = decode.View(decode.TypeKVS, v, false) })
	if !errors.Is(err, decode.ErrBudget) {
		t.Fatalf("View: %v, want ErrBudget", err)
	}
	if got > decode.BudgetCeiling {
		t.Errorf("allocated %d bytes, over the ceiling %d", got, decode.BudgetCeiling)
	}
}

// TestNonFiniteFloatsJSON: NaN and ±Inf in unknown fields become the JSON
// strings "NaN", "+Inf", "-Inf" in the tree every output renders, and the
// JSON stays valid (encoding/json refuses them as numbers).
func TestNonFiniteFloatsJSON(t *testing.T) {
	var all []byte
	for _, raw := range nonFiniteRecords() {
		typ := decode.MessageType(raw[0])
		tree, err := decode.View(typ, raw[1:], false)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		js, err := decode.AppendJSON(nil, tree)
		if err != nil || !json.Valid(js) {
			t.Fatalf("%s: JSON %q: %v", typ, js, err)
		}
		if std, err := json.Marshal(tree); err != nil || !json.Valid(std) { // the encoding/json paths (diff) too
			t.Fatalf("%s: encoding/json: %s: %v", typ, std, err)
		}
		all = append(all, js...)
	}
	for _, want := range []string{`"NaN"`, `"+Inf"`, `"-Inf"`, `1.5`} {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("%s lacks %s", all, want)
		}
	}
	for _, f := range []any{nanF(), float32(nanF())} {
		js, err := decode.AppendJSON(nil, []any{f})
		if err != nil || string(js) != `["NaN"]` {
			t.Errorf("AppendJSON(%v) = %s, %v", f, js, err)
		}
	}
}

func nanF() float64 { var z float64; return z / z }

// TestSnapshotErrorsCapped: an archive with many unexpected members keeps
// MaxFindings errors and one that counts the rest.
func TestSnapshotErrorsCapped(t *testing.T) {
	f := loadFixture(t, fixtureKV)
	ms := []member{{name: decode.MemberMeta, data: f.meta}, {name: decode.MemberState, data: f.state}}
	const extra = decode.MaxFindings + 50
	for i := 0; i < extra; i++ {
		ms = append(ms, member{name: fmt.Sprintf("x%d", i), data: []byte("x")})
	}
	ms = append(ms, member{name: decode.MemberSums, data: sumsOf(f.meta, f.state)})
	s := decode.NewArchive(bytes.NewReader(gz(t, tarOf(t, f.mtime, ms...))), decode.Options{})
	for s.Next() {
	}
	errs := s.Errors()
	if len(errs) != decode.MaxFindings+1 {
		t.Fatalf("%d errors, want %d and a count", len(errs), decode.MaxFindings)
	}
	last := errs[len(errs)-1]
	if !strings.Contains(last.Error(), "and 50 more errors of this kind") || !decode.IsDamage(last) || !errors.Is(last, decode.ErrUnexpectedMember) {
		t.Errorf("last error %v", last)
	}
}
