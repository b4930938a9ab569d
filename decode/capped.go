package decode

// MaxFindings is how many findings of one kind any command keeps and
// shows (errors of a snapshot, per-record decode errors, verify's
// findings per check); the rest are only counted and shown as "and N more
// of this kind". A file of millions of bad records costs a counter, not
// memory or screen.
const MaxFindings = 100

// Capped keeps the first MaxFindings items of one kind and counts the
// rest: the one findings cap, used by Snapshot's errors and by every
// report. Note before building an item, so that an item past the cap is
// never built (a malformed record then costs no more than a valid one).
// The zero value is ready to use.
type Capped[T any] struct {
	kept []T
	n    int64
}

// Note counts one item and reports whether it is to be kept (then Keep it).
func (c *Capped[T]) Note() bool {
	c.n++
	return len(c.kept) < MaxFindings
}

// Keep stores an item Note allowed.
func (c *Capped[T]) Keep(x T) {
	if len(c.kept) < MaxFindings {
		c.kept = append(c.kept, x)
	}
}

// Add counts x and keeps it when it is among the first MaxFindings.
func (c *Capped[T]) Add(x T) {
	if c.Note() {
		c.Keep(x)
	}
}

// Kept returns the items kept, in the order they came.
func (c *Capped[T]) Kept() []T { return c.kept }

// Count is the number of items counted, kept or not.
func (c *Capped[T]) Count() int64 { return c.n }

// More is the number of items counted but not kept.
func (c *Capped[T]) More() int64 { return c.n - int64(len(c.kept)) }
