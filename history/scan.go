package history

import (
	"context"
	"hash/maphash"
	"sort"

	"github.com/snaptool/snaptool/decode"
)

// scan reads one snapshot once: counts and sizes per type and KV prefix,
// the verdict, the node and service tables and the digest.
func scan(ctx context.Context, s *Snapshot, o Options, seed maphash.Seed) {
	snap, err := decode.Open(s.File, o.Decode)
	if err != nil {
		s.Verdict = VerdictUnreadable
		if decode.IsDamage(err) {
			s.Verdict = VerdictDamaged
		}
		s.Errors = []string{err.Error()}
		s.Types, s.KV = []Stat{}, []Stat{}
		return
	}
	defer snap.Close()
	s.Form = snap.Form.String()

	var byType [256]Stat
	var seen [256]bool
	kv := map[string]*Stat{}
	s.nodes = map[string]int64{}
	s.services = map[string]int64{}
	var recErrs int
	var h maphash.Hash
	h.SetSeed(seed)
	for snap.Next() {
		if s.Records&0xfff == 0 && ctx.Err() != nil {
			break
		}
		rec := snap.Record()
		t := rec.Type
		if !seen[t] {
			seen[t] = true
			byType[t].Name = t.String()
		}
		byType[t].Count++
		byType[t].Bytes += rec.Size
		s.Records++
		s.Bytes += rec.Size

		if err := decode.CheckRecord(rec); err != nil {
			recErrs++
			s.Errors = keep(s.Errors, (&decode.RecordError{Member: decode.MemberState, Offset: rec.Offset, N: rec.N, Type: t, TypeKnown: true, Err: err}).Error(), recErrs)
		}
		switch t {
		case decode.TypeKVS:
			if key, ok := decode.KVKeyBytes(rec); ok {
				g := decode.KVGroup(key, o.KVDepth)
				st := kv[string(g)] // no allocation for the lookup
				if st == nil {
					name := string(g)
					if len(kv) >= MaxNames {
						name = OtherName
					}
					if st = kv[name]; st == nil {
						st = &Stat{Name: name}
						kv[name] = st
					}
				}
				st.Count++
				st.Bytes += rec.Size
			}
		case decode.TypeRegister:
			node, svc := registerNames(rec)
			addName(s.nodes, node, rec.Size)
			if svc != nil {
				addName(s.services, svc, rec.Size)
			}
		}
		if len(s.digest) < o.MaxDigest {
			s.digest = append(s.digest, entry{key: identityKey(&h, rec), sum: contentHash(seed, rec)})
		} else if !s.digestFull {
			s.digestFull = true
			s.digest = nil // over the budget: this snapshot's records are not compared
		}
	}
	s.digest.sort()

	if m := snap.Meta(); m != nil {
		s.ID, s.Index, s.Term = m.ID, m.Index, m.Term
		s.Saved = nil
		if t, ok := SavedTime(m.ID); ok {
			s.Saved = &t
		}
	}
	if in := snap.Integrity(); in != decode.Pending {
		s.Integrity = in.String()
	}
	errs := snap.Errors()
	for i, e := range errs {
		s.Errors = keep(s.Errors, e.Error(), recErrs+i+1)
	}
	for i, w := range snap.Warnings() {
		s.Warnings = keep(s.Warnings, w.Error(), i+1)
	}
	switch {
	case ctx.Err() != nil:
		s.Verdict = VerdictUnreadable
		s.Errors = append(s.Errors, ctx.Err().Error())
	case len(errs) > 0 || recErrs > 0:
		s.Verdict = VerdictDamaged
		if len(errs) > 0 && !decode.IsDamage(snap.Err()) {
			s.Verdict = VerdictUnreadable // an I/O error, not damage
		}
	case len(s.Warnings) > 0:
		s.Verdict = VerdictWarnings
	default:
		s.Verdict = VerdictOK
	}

	s.Types = []Stat{}
	for t := range seen {
		if seen[t] {
			s.Types = append(s.Types, byType[t])
		}
	}
	sortStats(s.Types)
	s.KV = make([]Stat, 0, len(kv))
	for _, st := range kv {
		s.KV = append(s.KV, *st)
	}
	sortStats(s.KV)
}

// addName adds size to m[name], or to OtherName once m holds MaxNames names.
func addName(m map[string]int64, name []byte, size int64) {
	if _, ok := m[string(name)]; ok || len(m) < MaxNames {
		m[string(name)] += size
		return
	}
	m[OtherName] += size
}

// registerNames reads a Register record's Node and, for a service
// registration, the service name (Service.Service), without decoding the rest.
func registerNames(rec *decode.Record) (node, service []byte) {
	if len(rec.Raw) < 2 {
		return nil, nil
	}
	b := rec.Raw[1:]
	if p, ok := decode.MapField(b, 0, "Node"); ok {
		node, _, _ = decode.StrAt(b, p)
	}
	if p, ok := decode.MapField(b, 0, "Service"); ok && decode.IsMapAt(b, p) {
		if q, ok := decode.MapField(b, p, "Service"); ok {
			if v, _, isStr := decode.StrAt(b, q); isStr {
				service = v
				if service == nil {
					service = []byte{}
				}
			}
		}
	}
	return node, service
}

// identityKey is the digest key of a record: its type in the top 8 bits and
// 56 bits of a hash of its identity. A record whose identity cannot be
// computed (it does not decode) is keyed by its content.
func identityKey(h *maphash.Hash, rec *decode.Record) uint64 {
	h.Reset()
	if id, err := decode.Identity(rec); err == nil {
		h.WriteString(id)
	} else {
		h.WriteByte(0xff)
		h.Write(rec.Raw)
	}
	return uint64(rec.Type)<<56 | h.Sum64()>>8
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
