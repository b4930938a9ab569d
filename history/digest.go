package history

import (
	"cmp"
	"slices"
)

// entry is one record of a digest: key is the record type (top 8 bits) and
// 56 bits of the hash of its identity, sum the hash of its raw bytes.
type entry struct{ key, sum uint64 }

// digest is a snapshot's records as entries, sorted by key once complete:
// 16 bytes per record.
type digest []entry

// EntrySize is the size of one digest entry in bytes (one per record).
const EntrySize = 16

func (d digest) sort() {
	slices.SortFunc(d, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
}

// counts are the record changes of one type.
type counts struct{ added, removed, modified int64 }

// compare merge-joins two sorted digests and counts, per type, the
// records added (key only in b), removed (only in a) and modified (in both,
// different content). Repeated keys pair up in order; extra ones count as
// added or removed.
func compare(a, b digest) (byType [256]counts) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i].key < b[j].key):
			byType[a[i].key>>56].removed++
			i++
		case i >= len(a) || b[j].key < a[i].key:
			byType[b[j].key>>56].added++
			j++
		default:
			if a[i].sum != b[j].sum {
				byType[a[i].key>>56].modified++
			}
			i++
			j++
		}
	}
	return byType
}
