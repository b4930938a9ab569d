package history

import (
	"sort"

	"github.com/snaptool/snaptool/decode"
)

// step compares two consecutive snapshots.
func step(from int, a, b *Snapshot) *Step {
	st := &Step{From: from, To: from + 1, Partial: !a.Intact() || !b.Intact()}
	st.Delta = b.Bytes - a.Bytes
	st.Percent = percent(a.Bytes, b.Bytes)
	var byType [256]counts
	if st.Compared = !a.digestFull && !b.digestFull; st.Compared {
		byType = compare(a.digest, b.digest)
	}
	types := map[string]*Change{}
	get := func(m map[string]*Change, name string) *Change {
		c := m[name]
		if c == nil {
			c = &Change{Name: name}
			m[name] = c
		}
		return c
	}
	for _, s := range a.Types {
		c := get(types, s.Name)
		c.BytesFrom, c.CountFrom = s.Bytes, s.Count
	}
	for _, s := range b.Types {
		c := get(types, s.Name)
		c.BytesTo, c.CountTo = s.Bytes, s.Count
	}
	for t := range byType {
		n := byType[t]
		if n == (counts{}) {
			continue
		}
		c := get(types, decode.MessageType(t).String())
		c.Added, c.Removed, c.Modified = n.added, n.removed, n.modified
		st.Added += n.added
		st.Removed += n.removed
		st.Modified += n.modified
	}
	st.Types = changes(types)
	kv := map[string]*Change{}
	for _, s := range a.KV {
		c := get(kv, s.Name)
		c.BytesFrom, c.CountFrom = s.Bytes, s.Count
	}
	for _, s := range b.KV {
		c := get(kv, s.Name)
		c.BytesTo, c.CountTo = s.Bytes, s.Count
	}
	st.KV = changes(kv)
	return st
}

func changes(m map[string]*Change) []Change {
	out := make([]Change, 0, len(m))
	for _, c := range m {
		c.Delta = c.BytesTo - c.BytesFrom
		c.Percent = percent(c.BytesFrom, c.BytesTo)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Delta != out[j].Delta {
			return out[i].Delta > out[j].Delta
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// percent is the growth from a to b in percent, nil when a is 0.
func percent(a, b int64) *float64 {
	if a == 0 {
		return nil
	}
	p := float64(b-a) * 100 / float64(a)
	return &p
}

// attributor keeps the first intact snapshot's node and service tables and
// the latest intact one's; the others are dropped as the series is read.
type attributor struct {
	first, last int
	series      []*Snapshot
}

func newAttributor(series []*Snapshot) *attributor {
	return &attributor{first: -1, last: -1, series: series}
}

func (t *attributor) add(i int, s *Snapshot) {
	if !s.Intact() {
		s.nodes, s.services = nil, nil
		return
	}
	if t.first < 0 {
		t.first = i
		return
	}
	if t.last >= 0 && t.last != t.first {
		t.series[t.last].nodes, t.series[t.last].services = nil, nil
	}
	t.last = i
}

func (t *attributor) result(n int) Attribution {
	series := t.series
	a := Attribution{From: -1, To: -1, Types: []Growth{}, KV: []Growth{}, Nodes: []Growth{}, Services: []Growth{}}
	if t.first < 0 || t.last < 0 {
		return a
	}
	x, y := series[t.first], series[t.last]
	a.From, a.To = t.first, t.last
	a.Types = rank(statMap(x.Types), statMap(y.Types), n)
	a.KV = rank(statMap(x.KV), statMap(y.KV), n)
	a.Nodes = rank(x.nodes, y.nodes, n)
	a.Services = rank(x.services, y.services, n)
	return a
}

func statMap(st []Stat) map[string]int64 {
	m := make(map[string]int64, len(st))
	for _, s := range st {
		m[s.Name] = s.Bytes
	}
	return m
}

// rank lists the n names that grew most (positive growth only), largest first.
func rank(a, b map[string]int64, n int) []Growth {
	out := []Growth{}
	for name, to := range b {
		if d := to - a[name]; d > 0 {
			out = append(out, Growth{Name: name, From: a[name], To: to, Delta: d})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Delta != out[j].Delta {
			return out[i].Delta > out[j].Delta
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
