package report

import (
	"context"

	"github.com/snaptool/snaptool/decode"
)

// An Accumulator builds one result from records fed one at a time, in
// stream order. InspectAccumulator, VerifyAccumulator and TopAccumulator
// share this shape (New…(opts), Add(rec), Finish(snapshot) → result), so
// that several results come from one pass over a snapshot (Scan): the HTML
// report reads each input once, and can read standard input.
type Accumulator interface {
	// Add accounts one record. rec and its bytes are valid only during
	// the call: an accumulator copies what it keeps.
	Add(rec *decode.Record)
}

// snapshotBound is implemented by accumulators that look at the snapshot
// itself while records stream (verify compares raft indexes with
// meta.json as soon as it is known). Scan binds them before the first
// record.
type snapshotBound interface {
	bind(s *decode.Snapshot)
}

// ctxCheckEvery is how many records pass between two looks at the
// context: small enough that Ctrl-C stops a command well within a second,
// large enough to cost nothing.
const ctxCheckEvery = 1024

// Scan reads every record of s once and feeds it to each accumulator in
// turn. It stops early, returning ctx's error, when ctx is cancelled
// (checked every ctxCheckEvery records); otherwise it returns nil and the
// snapshot's own errors stay in s.Err for the accumulators' Finish.
func Scan(ctx context.Context, s *decode.Snapshot, accs ...Accumulator) error {
	for _, a := range accs {
		if b, ok := a.(snapshotBound); ok {
			b.bind(s)
		}
	}
	n := 0
	for s.Next() {
		if n++; n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec := s.Record()
		for _, a := range accs {
			a.Add(rec)
		}
	}
	return ctx.Err()
}
