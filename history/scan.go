package history

import (
	"context"
	"hash/maphash"
	"sort"

	"github.com/snaptool/snaptool/decode"
)

// Verdict is one file's integrity verdict, as Options.Verifier gives it:
// one of the Verdict… names, the checksum's state (decode.Integrity's
// String, "" while pending), and the error and warning messages found.
type Verdict struct {
	Verdict   string
	Integrity string
	Errors    []string
	Warnings  []string
}

// Recorder is what history hands a Verifier: it takes each record of the
// pass (report.Accumulator has the same shape).
type Recorder interface {
	Add(rec *decode.Record)
}

// A Verifier gives each file's verdict in the one pass that history reads
// the file in. report.HistoryVerifier is verify's layered verdict
// (report.VerifyAccumulator fed by report.Scan next to history's own
// accumulator), so history and verify judge a file the same way.
type Verifier interface {
	// Read reads every record of s once, handing each to rec (history's
	// counts and digest) next to its own checks, and returns the verdict.
	// The error is only ctx's, when it was cancelled.
	Read(ctx context.Context, s *decode.Snapshot, rec Recorder) (Verdict, error)
	// OpenFailed is the verdict on a file decode.Open refused with err.
	OpenFailed(path string, err error) Verdict
}

// fileAcc is history's accumulator for one snapshot: counts and sizes per
// type and KV prefix, the node and service tables and the digest.
type fileAcc struct {
	s      *Snapshot
	o      Options
	h      maphash.Hash // the identity hash, seeded once per Run
	byType [256]Stat
	seen   [256]bool
	kv     map[string]*Stat
	id     []byte // identity buffer, reused
}

func newFileAcc(s *Snapshot, o Options, seed maphash.Seed) *fileAcc {
	a := &fileAcc{s: s, o: o, kv: map[string]*Stat{}}
	a.h.SetSeed(seed)
	s.nodes = map[string]int64{}
	s.services = map[string]int64{}
	return a
}

// Add accounts one record.
func (a *fileAcc) Add(rec *decode.Record) {
	s := a.s
	t := rec.Type
	if !a.seen[t] {
		a.seen[t] = true
		a.byType[t].Name = t.String()
	}
	a.byType[t].Count++
	a.byType[t].Bytes += rec.Size
	s.Records++
	s.Bytes += rec.Size

	// The identity: decode.Keys (for KV records, the same fields through
	// decode.KVFields, which also give the key to group by, in one pass).
	a.h.Reset()
	switch t {
	case decode.TypeKVS, decode.TypeTombstone:
		if e, ok := decode.KVFields(rec); ok {
			a.id = e.AppendIdentity(a.id[:0])
			a.h.Write(a.id)
			if t == decode.TypeKVS && e.Key != nil { // as inspect groups keys
				a.addKV(decode.KVGroup(e.Key, a.o.KVDepth), rec.Size)
			}
		} else {
			a.unkeyed(rec)
		}
	default:
		if k, err := decode.Keys(rec); err == nil {
			a.h.WriteString(k.Identity)
		} else {
			a.unkeyed(rec)
		}
		if t == decode.TypeRegister {
			node, svc := decode.RegisterNames(rec)
			addName(s.nodes, node, rec.Size)
			if svc != nil {
				addName(s.services, svc, rec.Size)
			}
		}
	}
	key := uint64(t)<<56 | a.h.Sum64()>>8
	if len(s.digest) < a.o.MaxDigest {
		s.digest = append(s.digest, entry{key: key, sum: decode.ContentHash(rec)})
	} else if !s.digestFull {
		s.digestFull = true
		s.digest = nil // over the budget: this snapshot's records are not compared
	}
}

// unkeyed keys a record whose identity cannot be computed (it does not
// decode) by its bytes.
func (a *fileAcc) unkeyed(rec *decode.Record) {
	a.h.WriteByte(0xff)
	a.h.Write(rec.Raw)
}

func (a *fileAcc) addKV(g []byte, size int64) {
	st := a.kv[string(g)] // no allocation for the lookup
	if st == nil {
		name := string(g)
		if len(a.kv) >= MaxNames {
			name = OtherName
		}
		if st = a.kv[name]; st == nil {
			st = &Stat{Name: name}
			a.kv[name] = st
		}
	}
	st.Count++
	st.Bytes += size
}

// finish sorts the digest and the tables once the pass is over.
func (a *fileAcc) finish() {
	s := a.s
	s.digest.sort()
	s.Types = []Stat{}
	for t := range a.seen {
		if a.seen[t] {
			s.Types = append(s.Types, a.byType[t])
		}
	}
	sortStats(s.Types)
	s.KV = make([]Stat, 0, len(a.kv))
	for _, st := range a.kv {
		s.KV = append(s.KV, *st)
	}
	sortStats(s.KV)
}

// scan reads one snapshot once through o.Verifier: counts and sizes per
// type and KV prefix, the verdict, the node and service tables and the
// digest. The error is ctx's.
func scan(ctx context.Context, s *Snapshot, o Options, seed maphash.Seed) error {
	snap, err := o.open(s.File, o.Decode)
	if err != nil {
		s.setVerdict(o.Verifier.OpenFailed(s.File, err))
		s.Types, s.KV = []Stat{}, []Stat{}
		return nil
	}
	defer snap.Close()
	s.Form = snap.Form.String()
	acc := newFileAcc(s, o, seed)
	v, err := o.Verifier.Read(ctx, snap, acc)
	if err != nil {
		s.digest = nil
		return err
	}
	acc.finish()
	s.setVerdict(v)
	if m := snap.Meta(); m != nil {
		s.ID, s.Index, s.Term = m.ID, m.Index, m.Term
		s.Saved = nil
		if t, ok := m.SavedTime(); ok {
			s.Saved = &t
		}
	}
	return nil
}

// setVerdict keeps the verdict with its messages capped.
func (s *Snapshot) setVerdict(v Verdict) {
	s.Verdict, s.Integrity = v.Verdict, v.Integrity
	s.Errors, s.Warnings = nil, nil
	for i, e := range v.Errors {
		s.Errors = keep(s.Errors, e, i+1)
	}
	for i, w := range v.Warnings {
		s.Warnings = keep(s.Warnings, w, i+1)
	}
}

// addName adds size to m[name], or to OtherName once m holds MaxNames names.
func addName(m map[string]int64, name []byte, size int64) {
	if _, ok := m[string(name)]; ok || len(m) < MaxNames {
		m[string(name)] += size
		return
	}
	m[OtherName] += size
}

// sortStats orders rows like Consul's inspect: Bytes descending, then Name.
func sortStats(st []Stat) {
	sort.Slice(st, func(i, j int) bool {
		if st[i].Bytes != st[j].Bytes {
			return st[i].Bytes > st[j].Bytes
		}
		return st[i].Name < st[j].Name
	})
}
