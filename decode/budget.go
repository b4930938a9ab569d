package decode

import (
	"errors"
	"unsafe"
)

// The work budget of one record's decode. A record's bytes are bounded by
// Options.MaxRecordSize, but what decoding them builds is not: a one-byte
// empty array becomes a Value, an interface, a tree node; a record of 16
// MiB of them once cost 2 GB. So every full decode of a record (the
// generic Value, the typed struct, Interface, Tree, as View and
// DecodeRecord run them) charges what it allocates to one budget, sized
// by the record, before it allocates: container slabs by their counted
// size, strings and byte slices by their length, maps, slices and tree
// nodes by their Go size (estimates, at least what the runtime
// allocates). Past the budget the decode stops with ErrBudget (wrapped,
// like every typed-decode failure, in ErrTypedDecode and a *RecordError):
// the record is reported as a finding and shown as its type, size and
// offset, never expanded. The scanner and CheckRecord build nothing and
// need no budget.
//
// The budget of a record of n encoded bytes is n (copies of its strings
// and byte values) plus BudgetPerByte·n + BudgetFloor heap bytes, at most
// BudgetCeiling: real Consul records use at most about 40 budget bytes
// per input byte (TestBudgetRealRecords), hostile ones 200 and more.
const (
	// BudgetPerByte is the heap a decode may use per encoded byte, on top
	// of copies of the record's own strings and bytes.
	BudgetPerByte = 96
	// BudgetFloor is what any record may use, however small.
	BudgetFloor = 64 << 10
	// BudgetCeiling is the hard ceiling of a record's heap, on top of the
	// copies of its strings and bytes.
	BudgetCeiling = 32 << 20
)

// ErrBudget means a record's full decode would build more than its work
// budget allows (see BudgetPerByte). The record's bytes are intact; it
// is reported as a finding and not expanded.
var ErrBudget = errors.New("record too costly to decode: over its work budget")

// budget is what is left of one record's allowance, in heap bytes.
type budget struct {
	left int64
}

// budgetFor returns the budget of a record value of n bytes (a value, so
// that a caller's budget lives on its stack).
func budgetFor(n int) budget {
	heap := int64(n)*BudgetPerByte + BudgetFloor
	if heap > BudgetCeiling {
		heap = BudgetCeiling
	}
	return budget{left: heap + int64(n)}
}

// spend charges n bytes; false (and the budget stays exhausted) when it is over.
func (b *budget) spend(n int64) bool {
	if b == nil {
		return true
	}
	b.left -= n
	return b.left >= 0
}

// ok reports whether the budget is not yet exhausted.
func (b *budget) ok() bool { return b == nil || b.left >= 0 }

// Go sizes the charges are made of.
const (
	sizeValue = int64(unsafe.Sizeof(Value{}))
	sizePair  = int64(unsafe.Sizeof(Pair{}))
	sizeIface = int64(unsafe.Sizeof(any(nil)))
	sizeSlice = int64(unsafe.Sizeof([]byte(nil)))
	sizeStr   = int64(unsafe.Sizeof(""))
	// sizeMapEntry is a map[string]any entry with the map's overhead
	// (buckets at a load factor of about 7/8, tophash bytes), rounded up.
	sizeMapEntry = 64
	sizeMap      = 48
	sizeObject   = int64(unsafe.Sizeof(Object{}))
	sizeBox      = 16 // a scalar or string header moved to the heap by an interface
)
