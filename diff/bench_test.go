package diff

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkDiffFixturePair diffs the real 1.13.9 fixture pair (archives:
// gzip, tar, SHA-256 and the merge-join).
func BenchmarkDiffFixturePair(b *testing.B) {
	for b.Loop() {
		sa := openFixtureB(b, filepath.Join(fx, "before.snap"))
		sb := openFixtureB(b, filepath.Join(fx, "after.snap"))
		if _, err := Run(context.Background(), sa, sb, Options{}, nil); err != nil {
			b.Fatal(err)
		}
		sa.Close()
		sb.Close()
	}
}

// BenchmarkDiffSelf measures the fast path (raw bytes equal) on a KV-heavy stream.
func BenchmarkDiffSelf(b *testing.B) {
	var recs []rec
	for i := 0; i < 5000; i++ {
		recs = append(recs, kvRec("app/"+string(rune('a'+i%26))+"/"+itoa(i), "some value of moderate length", i))
	}
	state := stateBin(append(recs, chunking())...)
	b.SetBytes(int64(len(state)))
	for b.Loop() {
		sa, _ := fuzzSnap(state, "A")
		sb, _ := fuzzSnap(state, "B")
		if sum, err := Run(context.Background(), sa, sb, Options{}, nil); err != nil || !sum.Identical {
			b.Fatal(err)
		}
	}
}
