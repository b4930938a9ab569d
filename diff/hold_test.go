package diff

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// kvState is a state.bin of KVS records with the given keys, in the order given.
func kvState(keys []string, value string) []byte {
	recs := make([]rec, len(keys))
	for i, k := range keys {
		recs[i] = kvRec(k, value, 5)
	}
	return stateBin(recs...)
}

func keysN(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// The hold for records out of Consul's order has a count cap: an input in
// reverse order, or repeating one identity, stops the diff with ErrOrder
// at the record where the hold overflowed (a damage error naming input B),
// instead of growing; inputs in Consul's order never reach the cap,
// however many changes they have.
func TestHoldLimit(t *testing.T) {
	const n, max = 3000, 1500 // max above DefaultMaxHeld, where emitSafe releases in-order records
	inOrder := keysN(n, func(i int) string { return fmt.Sprintf("r/%06d", i) })
	reversed := keysN(n, func(i int) string { return fmt.Sprintf("r/%06d", n-1-i) })
	other := keysN(n, func(i int) string { return fmt.Sprintf("s/%06d", i) })
	dup := keysN(n, func(int) string { return "dup/key" })
	cases := []struct {
		name    string
		a, b    []byte
		wantErr bool
	}{
		{"B in reverse order", kvState(inOrder, "x"), kvState(reversed, "y"), true},
		{"B repeats one key", kvState(dup[:1], "x"), kvState(dup, "y"), true},
		{"A in reverse order", kvState(reversed, "x"), kvState(inOrder, "x"), true},
		{"in order, every key modified", kvState(inOrder, "x"), kvState(inOrder, "y"), false},
		{"in order, every key added and removed", kvState(inOrder, "x"), kvState(other, "x"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, sum, err := runDiff(t, c.a, c.b, Options{MaxOutOfOrder: max})
			if !c.wantErr {
				if err != nil {
					t.Fatalf("in order: %v", err)
				}
				if sum.Changes == 0 {
					t.Fatal("no changes")
				}
				return
			}
			var re *decode.RecordError
			var ie *InputError
			if !errors.Is(err, ErrOrder) || !errors.As(err, &re) || !errors.As(err, &ie) || !decode.IsDamage(err) {
				t.Fatalf("err = %v, want ErrOrder in a RecordError in an InputError", err)
			}
			// It stops as soon as more than max wait (records claimed
			// on the way leave the hold), well before the input ends.
			if re.N >= n || re.N <= max || re.Type != decode.TypeKVS {
				t.Errorf("stopped at record %d (%s); want between %d and %d: %v", re.N, re.Type, max, n, err)
			}
			if want := fmt.Sprintf("more than %d records out of order", max); !strings.Contains(err.Error(), want) ||
				!strings.Contains(err.Error(), "not in Consul's order") {
				t.Errorf("message %q lacks %q", err, want)
			}
		})
	}
}

// The per-prefix summary counts at most MaxPrefixes prefixes one by one;
// the rest are counted together, so a snapshot of distinct keys does not
// cost a summary entry per key. Counts are kept whole.
func TestPrefixCap(t *testing.T) {
	const extra = 300
	keys := keysN(MaxPrefixes+extra, func(i int) string { return fmt.Sprintf("p%06d/x", i) })
	a, b := kvState(keys, "x"), kvState(keys, "x")
	_, sum, err := runDiff(t, a, b, Options{KVDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.KVPrefixes) != MaxPrefixes+1 {
		t.Fatalf("%d prefixes, want %d", len(sum.KVPrefixes), MaxPrefixes+1)
	}
	var total int
	var other *PrefixSummary
	for i, p := range sum.KVPrefixes {
		total += p.CountA
		if p.Prefix == OtherPrefixes {
			other = &sum.KVPrefixes[i]
		}
	}
	if other == nil || other.CountA != extra || other.CountB != extra || total != len(keys) {
		t.Fatalf("other = %+v, total %d", other, total)
	}
	if !strings.Contains(strings.Join(sum.Warnings, "\n"), OtherPrefixes) {
		t.Errorf("no warning about the cap: %q", sum.Warnings)
	}
}
