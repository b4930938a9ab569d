package decode

import (
	"strconv"
	"strings"
	"time"
)

// SavedTime is when the snapshot was taken, in UTC, read from its ID:
// raft names a snapshot "term-index-milliseconds" (Unix milliseconds,
// e.g. "2-162-1795548439390"), and meta.json keeps that name as ID
// (docs/FORMAT.md §3.2). ok is false when the ID is not in that form.
func (m *Meta) SavedTime() (time.Time, bool) {
	if m == nil {
		return time.Time{}, false
	}
	parts := strings.Split(m.ID, "-")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	for _, p := range parts[:2] {
		if _, err := strconv.ParseUint(p, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	ms, err := strconv.ParseInt(parts[2], 10, 64)
	// Raft writes time.Now in milliseconds: anything before 2000 or after
	// 9999 is not a time (and would not format as RFC 3339).
	if err != nil || ms < 946684800000 || ms > 253402300799999 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}
