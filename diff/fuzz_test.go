package diff

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/hostile"
)

// stateOf rebuilds a fixture's state.bin from the record stream (header
// bytes + every record's raw bytes reproduce it).
func stateOf(t testing.TB, path string) []byte {
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b bytes.Buffer
	first := true
	for s.Next() {
		if first {
			h, _ := s.Header()
			b.Write(h.Raw)
			first = false
		}
		b.Write(s.Record().Raw)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func fuzzSnap(b []byte, name string) (*decode.Snapshot, error) {
	meta := fmt.Sprintf(`{"Version":1,"ID":"x","Index":1,"Term":1,"Size":%d}`, len(b))
	s, err := decode.NewStateBin(bytes.NewReader(b), []byte(meta), decode.Options{MaxRecordSize: 1 << 20})
	if s != nil {
		s.Name = name
	}
	return s, err
}

// FuzzDiff: any two byte streams diff without panicking; a stream diffed
// with itself is identical whenever it reads cleanly; the summary counts
// agree with the changes emitted.
func FuzzDiff(f *testing.F) {
	before := stateOf(f, filepath.Join(fx, "before.snap"))
	after := stateOf(f, filepath.Join(fx, "after.snap"))
	kv := stateOf(f, "../fixtures/consul-testdata/backupWithKV.snap")
	f.Add(before, after)
	f.Add(kv, kv)
	f.Add(stateBin(kvRec("a", "1", 1), chunking()), stateBin(tombRec("a", 2), chunking()))
	f.Add(before[:len(before)/2], after)
	for _, c := range hostile.Classes() { // issue 11's crafted classes, seed size: A and B
		a, err := c.State(0, 0)
		if err != nil {
			f.Fatal(err)
		}
		b, err := c.State(0, 1)
		if err != nil {
			f.Fatal(err)
		}
		if a != nil {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		for i, pair := range [][2][]byte{{a, b}, {a, a}} {
			sa, err := fuzzSnap(pair[0], "A")
			if err != nil {
				return
			}
			sb, err := fuzzSnap(pair[1], "B")
			if err != nil {
				return
			}
			n := 0
			sum, err := Run(context.Background(), sa, sb, Options{IncludeRaftBookkeeping: true, Values: true, RawBudget: 64}, func(*Change) error {
				n++
				return nil
			})
			if sum == nil {
				t.Fatal("nil summary")
			}
			if err != nil {
				continue
			}
			total := 0
			for _, ts := range sum.Types {
				total += ts.Added + ts.Removed + ts.Modified
			}
			if total != n || sum.Changes != n {
				t.Fatalf("summary counts %d/%d, emitted %d", total, sum.Changes, n)
			}
			if i == 1 && n != 0 {
				t.Fatalf("self-diff found %d changes", n)
			}
		}
	})
}
