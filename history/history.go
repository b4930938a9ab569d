package history

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sort"
	"sync"
	"time"

	"github.com/snaptool/snaptool/decode"
)

// Defaults for Options.
const (
	DefaultKVDepth = 2
	DefaultWorkers = 2
	DefaultTopN    = 5
	// DefaultMaxDigest is the default Options.MaxDigest: 2 Mi records, a
	// 32 MiB digest (a Consul snapshot of about 1 GB), so that the three
	// digests alive at once (96 MiB) and two decode pipelines stay under
	// the command's soft memory limit (2 × 64 MiB + 16 MiB, derived from
	// the record cap in cmd/snaptool/gctune.go).
	DefaultMaxDigest = 2 << 20
	// MaxNames caps the KV prefixes, nodes and services counted by name per
	// snapshot; the rest are summed under OtherName.
	MaxNames = 1 << 17
	// OtherName is the row of names beyond MaxNames.
	OtherName = "(other)"
	// maxMessages caps the errors and warnings kept per snapshot.
	maxMessages = 20
)

// Verdicts, as verify names them.
const (
	VerdictOK         = "ok"
	VerdictWarnings   = "warnings"
	VerdictDamaged    = "damaged"
	VerdictUnreadable = "unreadable"
	// VerdictNotSnapshot is verify's verdict for a file that is not a
	// Consul snapshot at all (an empty file, text, JSON): in a series it is
	// a failed backup, so the newest-damaged rule fires for it too.
	VerdictNotSnapshot = "not_snapshot"
)

// Options tune Run. The zero value means the defaults.
type Options struct {
	// KVDepth groups KV keys into prefixes (decode.KVGroup); 0 means DefaultKVDepth.
	KVDepth int
	// Workers is how many files are read at once; 0 means DefaultWorkers.
	Workers int
	// TopN is the length of each attribution list; 0 means DefaultTopN.
	TopN int
	// Decode is passed to decode.Open.
	Decode decode.Options
	// Open, when set, opens each input instead of decode.Open (the CLI's
	// opener, which also takes DATA_DIR@INDEX).
	Open func(path string, opts decode.Options) (*decode.Snapshot, error)
	// MaxDigest caps the records of one snapshot's digest; 0 means
	// DefaultMaxDigest. A snapshot with more records is still counted, but
	// the steps into and out of it do not compare records (Step.Compared
	// is false), so memory stays bounded whatever the input.
	MaxDigest int
	// Verifier gives each file's verdict in the pass that reads it
	// (required; report.HistoryVerifier is verify's).
	Verifier Verifier
}

// open is o.Open, or decode.Open when it is nil.
func (o *Options) open(path string, opts decode.Options) (*decode.Snapshot, error) {
	if o.Open != nil {
		return o.Open(path, opts)
	}
	return decode.Open(path, opts)
}

// Stat is the records of one type or KV prefix in one snapshot.
// JSON: name, count, bytes (sizes as `consul snapshot inspect` counts them).
type Stat struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
	Bytes int64  `json:"bytes"`
}

// Snapshot is one file of the series. JSON keys as tagged; saved is RFC
// 3339 UTC, omitted when the ID carries no time.
type Snapshot struct {
	File      string     `json:"file"`
	Form      string     `json:"form,omitempty"`
	ID        string     `json:"id,omitempty"`
	Index     uint64     `json:"index"`
	Term      uint64     `json:"term,omitempty"`
	Saved     *time.Time `json:"saved,omitempty"`
	Verdict   string     `json:"verdict"`
	Integrity string     `json:"integrity,omitempty"`
	Records   int64      `json:"records"`
	Bytes     int64      `json:"bytes"`
	// Types per record type, Bytes descending then Name; KV per prefix likewise.
	Types    []Stat   `json:"types"`
	KV       []Stat   `json:"kv_prefixes"`
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`

	hasMeta    bool
	digestFull bool
	nodes      map[string]int64
	services   map[string]int64
	digest     digest
}

// Intact reports whether the snapshot was read without damage.
func (s *Snapshot) Intact() bool {
	return s.Verdict == VerdictOK || s.Verdict == VerdictWarnings
}

// Change is the growth of one type or KV prefix from one snapshot to the
// next, with, for types, the record changes. Percent is nil when the older
// side had no bytes. JSON keys as tagged.
type Change struct {
	Name      string   `json:"name"`
	BytesFrom int64    `json:"bytes_from"`
	BytesTo   int64    `json:"bytes_to"`
	Delta     int64    `json:"delta"`
	Percent   *float64 `json:"percent"`
	CountFrom int64    `json:"count_from"`
	CountTo   int64    `json:"count_to"`
	Added     int64    `json:"added"`
	Removed   int64    `json:"removed"`
	Modified  int64    `json:"modified"`
}

// Step is what changed from Snapshots[From] to Snapshots[To] (To = From+1).
// Partial is set when either side is not intact: the counts then come
// from what could be read. Compared is false when a side had more records
// than Options.MaxDigest: then Added, Removed and Modified are 0 and unknown. Types and KV are sorted by Delta, largest
// first, then Name.
type Step struct {
	From     int      `json:"from"`
	To       int      `json:"to"`
	Partial  bool     `json:"partial,omitempty"`
	Compared bool     `json:"compared"`
	Delta    int64    `json:"delta"`
	Percent  *float64 `json:"percent"`
	Added    int64    `json:"added"`
	Removed  int64    `json:"removed"`
	Modified int64    `json:"modified"`
	Types    []Change `json:"types"`
	KV       []Change `json:"kv_prefixes"`
}

// Growth is one entry of an attribution list.
type Growth struct {
	Name  string `json:"name"`
	From  int64  `json:"bytes_from"`
	To    int64  `json:"bytes_to"`
	Delta int64  `json:"delta"`
}

// Attribution ranks what grew most from Snapshots[From] to Snapshots[To]
// (the first and the last intact snapshot); From and To are -1 when fewer
// than two snapshots are intact.
type Attribution struct {
	From     int      `json:"from"`
	To       int      `json:"to"`
	Types    []Growth `json:"types"`
	KV       []Growth `json:"kv_prefixes"`
	Nodes    []Growth `json:"nodes"`
	Services []Growth `json:"services"`
}

// Result is the whole series.
type Result struct {
	KVDepth     int         `json:"kv_depth"`
	Snapshots   []*Snapshot `json:"snapshots"`
	Steps       []*Step     `json:"steps"`
	Attribution Attribution `json:"attribution"`
}

// Newest returns the last snapshot of the series, or nil.
func (r *Result) Newest() *Snapshot {
	if len(r.Snapshots) == 0 {
		return nil
	}
	return r.Snapshots[len(r.Snapshots)-1]
}

// NewestIntact returns the index of the last intact snapshot, or -1.
func (r *Result) NewestIntact() int {
	for i := len(r.Snapshots) - 1; i >= 0; i-- {
		if r.Snapshots[i].Intact() {
			return i
		}
	}
	return -1
}

// LastGrowth is the growth of the newest intact snapshot over the intact
// one before it: bytes and percent (ok false when there are not two
// intact snapshots or the older one is empty, in which case percent is 0).
func (r *Result) LastGrowth() (from, to int, delta int64, percent float64, ok bool) {
	to = r.NewestIntact()
	from = -1
	for i := to - 1; i >= 0; i-- {
		if r.Snapshots[i].Intact() {
			from = i
			break
		}
	}
	if to < 0 || from < 0 {
		return from, to, 0, 0, false
	}
	a, b := r.Snapshots[from].Bytes, r.Snapshots[to].Bytes
	if a == 0 {
		return from, to, b, 0, false
	}
	return from, to, b - a, float64(b-a) * 100 / float64(a), true
}

// Run reads every input (any form decode.Open takes, except "-") once and
// returns the series. Damaged and unreadable inputs are part of the
// result; the error is only for a cancelled context, an empty input list
// or a missing Options.Verifier.
func Run(ctx context.Context, paths []string, o Options) (*Result, error) {
	if o.KVDepth <= 0 {
		o.KVDepth = DefaultKVDepth
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.TopN <= 0 {
		o.TopN = DefaultTopN
	}
	if o.MaxDigest <= 0 {
		o.MaxDigest = DefaultMaxDigest
	}
	if len(paths) == 0 {
		return nil, errors.New("no snapshots given")
	}
	if o.Verifier == nil {
		return nil, errors.New("history: Options.Verifier is not set")
	}
	series := order(paths, o)
	res := &Result{KVDepth: o.KVDepth, Snapshots: series, Steps: []*Step{}}
	seed := maphash.MakeSeed()

	// Workers take files in series order; a token per file read but not yet
	// consumed keeps at most Workers digests besides the previous one.
	results := make([]chan struct{}, len(series))
	for i := range results {
		results[i] = make(chan struct{})
	}
	tokens := make(chan struct{}, o.Workers)
	jobs := make(chan int)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < o.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_ = scan(ctx, series[i], o, seed) // its only error is ctx's, checked below
				close(results[i])
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range series {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()

	att := newAttributor(series)
	var prev *Snapshot
	for i, s := range series {
		select {
		case <-results[i]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if prev != nil {
			res.Steps = append(res.Steps, step(i-1, prev, s))
			prev.digest = nil
		}
		att.add(i, s)
		prev = s
		<-tokens
	}
	if prev != nil {
		prev.digest = nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Attribution = att.result(o.TopN)
	return res, nil
}

// order reads each input's meta.json and sorts the series.
func order(paths []string, o Options) []*Snapshot {
	series := make([]*Snapshot, len(paths))
	for i, p := range paths {
		s := &Snapshot{File: p}
		series[i] = s
		snap, err := o.open(p, o.Decode)
		if err != nil {
			continue
		}
		_, _ = snap.Header() // reaches state.bin: meta.json is read by then in Consul's archives
		if m := snap.Meta(); m != nil {
			s.hasMeta = true
			s.ID, s.Index, s.Term = m.ID, m.Index, m.Term
			if t, ok := m.SavedTime(); ok {
				s.Saved = &t
			}
		}
		snap.Close()
	}
	sort.SliceStable(series, func(i, j int) bool {
		a, b := series[i], series[j]
		if a.hasMeta != b.hasMeta {
			return a.hasMeta
		}
		if a.hasMeta {
			if a.Index != b.Index {
				return a.Index < b.Index
			}
			ta, tb := savedOrZero(a), savedOrZero(b)
			if !ta.Equal(tb) {
				return ta.Before(tb)
			}
		}
		return a.File < b.File
	})
	return series
}

func savedOrZero(s *Snapshot) time.Time {
	if s.Saved == nil {
		return time.Time{}
	}
	return *s.Saved
}

// keep appends a message up to the cap, then counts the rest in a last one.
func keep(list []string, msg string, total int) []string {
	if len(list) < maxMessages {
		return append(list, msg)
	}
	if total > maxMessages {
		list[maxMessages-1] = fmt.Sprintf("… and %d more", total-maxMessages+1)
	}
	return list
}
