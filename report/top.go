package report

import (
	"container/heap"
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// TopOptions tune Top. The zero value means the defaults.
type TopOptions struct {
	// N is the length of every list; 0 means DefaultTopN.
	N int
	// Types restricts the largest-records list to these types; empty means all.
	Types []decode.MessageType
	// KVDepth groups KV keys and tombstones by their first KVDepth
	// "/"-separated parts, as `consul snapshot inspect -kvdepth` does; 0
	// means DefaultKVDepth.
	KVDepth int
	// TreeDepth is the depth of the KV prefix tree kept for drill-down
	// (HTML report); 0 means no tree.
	TreeDepth int
}

// DefaultTopN and DefaultKVDepth are Top's defaults.
const (
	DefaultTopN    = 10
	DefaultKVDepth = 2
)

// maxGroups caps the number of distinct prefixes, nodes, session holders
// and tree nodes Top keeps counters for, so that a hostile snapshot with
// millions of distinct prefixes cannot exhaust memory. Beyond the cap,
// further groups are counted under OtherGroup (in the KV tree: one
// OtherGroup child per node at most, so the tree stays under twice the
// cap). A variable for tests.
var maxGroups = 100000

// OtherGroup names the bucket that collects groups beyond the counter cap.
const OtherGroup = "(other)"

// TopResult is what `snaptool top` prints, as a table or as JSON (the field
// names below are the JSON contract), and what the HTML report shows.
type TopResult struct {
	// ID and Saved are the snapshot's (meta.json's ID, and when it was
	// taken, from the ID: RFC 3339, UTC, milliseconds); left out when
	// unknown.
	ID    string `json:"id,omitempty"`
	Saved string `json:"saved,omitempty"`
	// Records and TotalSize count every record of the snapshot (TotalSize
	// as `consul snapshot inspect` counts it).
	Records   int64 `json:"records"`
	TotalSize int64 `json:"total_size"`
	// N and KVDepth are the options the lists were made with; Types is
	// the type filter of Largest (empty: all types).
	N       int      `json:"n"`
	KVDepth int      `json:"kv_depth"`
	Types   []string `json:"types"`
	// Largest are the N largest records, largest first (ties: stream order).
	Largest []TopRecord `json:"largest"`
	// KVPrefixes are the N largest KV prefixes at KVDepth (tombstones excluded).
	KVPrefixes []PrefixSize `json:"kv_prefixes"`
	// KVTotal sums every KVS record.
	KVTotal PrefixSize `json:"kv_total"`
	// Nodes are the N nodes with the most services plus checks.
	Nodes []NodeLoad `json:"nodes"`
	// SessionsPerNode are the N nodes holding the most sessions.
	SessionsPerNode []NodeCount `json:"sessions_per_node"`
	Sessions        int64       `json:"sessions"`
	// Tombstones is the tombstone build-up (deleted keys not yet reaped).
	Tombstones TombstoneStats `json:"tombstones"`
	// KVTree is the KV prefix tree down to TreeDepth (nil unless asked for).
	KVTree *PrefixNode `json:"kv_tree,omitempty"`
}

// TopRecord is one record in a top list.
type TopRecord struct {
	N      int64  `json:"n"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	Label  string `json:"label,omitempty"` // decode.Label: a token's description, a policy's name, …
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
}

// PrefixSize is a KV prefix with the number of keys under it and their total size.
type PrefixSize struct {
	Prefix string `json:"prefix"`
	Count  int64  `json:"count"`
	Size   int64  `json:"size"`
}

// NodeLoad counts what is registered on one node.
type NodeLoad struct {
	Node     string `json:"node"`
	Services int64  `json:"services"`
	Checks   int64  `json:"checks"`
	// Size is the bytes of all the node's Register records.
	Size int64 `json:"size"`
}

// NodeCount is a count per node.
type NodeCount struct {
	Node  string `json:"node"`
	Count int64  `json:"count"`
}

// TombstoneStats describes the tombstones of the KV store.
type TombstoneStats struct {
	Count int64 `json:"count"`
	Size  int64 `json:"size"`
	// OldestModifyIndex and NewestModifyIndex bound the raft indexes at
	// which the keys were deleted (0 when there are none).
	OldestModifyIndex uint64 `json:"oldest_modify_index"`
	NewestModifyIndex uint64 `json:"newest_modify_index"`
	// Prefixes are the N largest tombstone prefixes at KVDepth.
	Prefixes []PrefixSize `json:"prefixes"`
}

// PrefixNode is a node of the KV prefix tree: Name is the last path part,
// Prefix the full prefix; Children are sorted by size, largest first.
type PrefixNode struct {
	Name     string        `json:"name"`
	Prefix   string        `json:"prefix"`
	Count    int64         `json:"count"`
	Size     int64         `json:"size"`
	Children []*PrefixNode `json:"children,omitempty"`

	index map[string]*PrefixNode
}

// TopAccumulator computes a TopResult from records fed one at a time, with
// memory bounded by N (heaps), the number of distinct nodes and prefixes
// (capped at maxGroups each) and the largest record.
type TopAccumulator struct {
	opts    TopOptions
	types   map[decode.MessageType]bool
	res     TopResult
	largest recHeap
	kv      groups
	tomb    groups
	nodes   map[string]*NodeLoad
	sess    map[string]int64
	tree    *PrefixNode
	nTree   int
	errs    recordErrors // capped: the first maxKeptErrors, then a count
}

// NewTop returns an accumulator for opts.
func NewTop(opts TopOptions) *TopAccumulator {
	if opts.N <= 0 {
		opts.N = DefaultTopN
	}
	if opts.KVDepth <= 0 {
		opts.KVDepth = DefaultKVDepth
	}
	t := &TopAccumulator{
		opts:  opts,
		kv:    groups{m: map[string]*PrefixSize{}},
		tomb:  groups{m: map[string]*PrefixSize{}},
		nodes: map[string]*NodeLoad{},
		sess:  map[string]int64{},
	}
	if len(opts.Types) > 0 {
		t.types = map[decode.MessageType]bool{}
		for _, ty := range opts.Types {
			t.types[ty] = true
		}
	}
	if opts.TreeDepth > 0 {
		t.tree = &PrefixNode{}
	}
	return t
}

// Add accounts one record. A record whose value cannot be decoded still
// counts in the sizes; its error is kept (the first maxKeptErrors) or
// counted, for Finish.
func (t *TopAccumulator) Add(rec *decode.Record) {
	t.res.Records++
	t.res.TotalSize += rec.Size
	if t.types == nil || t.types[rec.Type] {
		t.addLargest(rec)
	}
	switch rec.Type {
	case decode.TypeKVS, decode.TypeTombstone, decode.TypeRegister, decode.TypeSession:
	default:
		return
	}
	if !decode.RecordOK(rec) { // allocation-free; the error is built only if it is kept
		t.errs.addRecord(rec)
		return
	}
	if rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone {
		// KV records, most of a snapshot, are read in place (decode.KVFields,
		// the last duplicate Key wins as in DecodeRecord): no typed decode.
		if e, ok := decode.KVFields(rec); ok {
			t.addKV(rec, string(e.Key), e.ModifyIndex)
			return
		}
	}
	d, err := decode.DecodeRecord(rec)
	if err != nil {
		t.errs.add(recordError(rec, err))
		return
	}
	switch x := d.Data.(type) {
	case *decode.DirEntry:
		t.addKV(rec, x.Key, x.ModifyIndex)
	case *decode.RegisterRequest:
		n := t.node(x.Node, x.PeerName)
		if n == nil {
			return
		}
		n.Size += rec.Size
		switch {
		case x.Service != nil:
			n.Services++
		case x.Check != nil:
			n.Checks++
		}
	case *decode.Session:
		t.res.Sessions++
		name := x.Node
		if _, ok := t.sess[name]; !ok && len(t.sess) >= maxGroups {
			name = OtherGroup
		}
		t.sess[name]++
	}
}

// node returns the counters of a node (peered nodes as node@peer).
func (t *TopAccumulator) node(name, peer string) *NodeLoad {
	if peer != "" {
		name += "@" + peer
	}
	n, ok := t.nodes[name]
	if !ok {
		if len(t.nodes) >= maxGroups {
			name = OtherGroup
			if n, ok = t.nodes[name]; ok {
				return n
			}
		}
		n = &NodeLoad{Node: name}
		t.nodes[name] = n
	}
	return n
}

func (t *TopAccumulator) addLargest(rec *decode.Record) {
	if len(t.largest) == t.opts.N {
		min := t.largest[0]
		if rec.Size < min.Size || (rec.Size == min.Size && rec.N > min.N) {
			return
		}
	}
	id, err := decode.Identity(rec)
	if err != nil {
		id = "(undecodable: " + err.Error() + ")"
	}
	tr := TopRecord{N: rec.N, Type: rec.Type.String(), ID: id, Offset: rec.Offset, Size: rec.Size, Label: recordLabel(rec)}
	if len(t.largest) == t.opts.N {
		t.largest[0] = tr
		heap.Fix(&t.largest, 0)
		return
	}
	heap.Push(&t.largest, tr)
}

// addKV counts a KVS record's key under its prefix and in the tree, or a
// tombstone's.
func (t *TopAccumulator) addKV(rec *decode.Record, key string, modifyIndex uint64) {
	if rec.Type == decode.TypeKVS {
		t.kv.add(decode.KVGroup(key, t.opts.KVDepth), rec.Size)
		t.res.KVTotal.Count++
		t.res.KVTotal.Size += rec.Size
		t.addTree(key, rec.Size)
		return
	}
	ts := &t.res.Tombstones
	ts.Count++
	ts.Size += rec.Size
	if ts.Count == 1 || modifyIndex < ts.OldestModifyIndex {
		ts.OldestModifyIndex = modifyIndex
	}
	if modifyIndex > ts.NewestModifyIndex {
		ts.NewestModifyIndex = modifyIndex
	}
	t.tomb.add(decode.KVGroup(key, t.opts.KVDepth), rec.Size)
}

// recordLabel is a record's human label (decode.Label over its masked
// View), computed only for records that enter the largest-records list. KV
// and tombstone records have none (their key is their name), so their
// values are never decoded here.
func recordLabel(rec *decode.Record) string {
	if rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone {
		return ""
	}
	tree, err := decode.View(rec.Type, rec.Value(), false)
	if err != nil {
		return ""
	}
	return decode.Label(rec.Type, tree)
}

func (t *TopAccumulator) addTree(key string, size int64) {
	if t.tree == nil {
		return
	}
	t.tree.Count++
	t.tree.Size += size
	parts := strings.Split(key, "/")
	if len(parts) > t.opts.TreeDepth {
		parts = parts[:t.opts.TreeDepth]
	}
	cur := t.tree
	for i, p := range parts {
		child, ok := cur.index[p]
		if !ok {
			if t.nTree >= maxGroups {
				p = OtherGroup
				child, ok = cur.index[p]
			}
			if !ok {
				child = &PrefixNode{Name: p, Prefix: strings.Join(parts[:i+1], "/")}
				if p == OtherGroup {
					child.Prefix = cur.Prefix + "/" + OtherGroup
				}
				if cur.index == nil { // a leaf gets its map with its first child
					cur.index = map[string]*PrefixNode{}
				}
				cur.index[p] = child
				t.nTree++
			}
		}
		child.Count++
		child.Size += size
		cur = child
	}
}

// Err returns the decode errors of the records fed so far, joined: the
// first maxKeptErrors, then how many more there were (nil when none).
func (t *TopAccumulator) Err() error { return t.errs.err() }

// Finish returns the lists, sorted. Call it once, after the last Add. s
// is the snapshot the records came from; Top needs nothing of it beyond
// the records, it is there for the shape every accumulator shares (nil is
// allowed).
func (t *TopAccumulator) Finish(s *decode.Snapshot) *TopResult {
	r := t.res
	r.N, r.KVDepth = t.opts.N, t.opts.KVDepth
	if s != nil && s.Meta() != nil {
		r.ID, r.Saved = s.Meta().ID, SavedTime(s.Meta())
	}
	r.Types = []string{}
	for _, ty := range t.opts.Types {
		r.Types = append(r.Types, ty.String())
	}
	r.Largest = make([]TopRecord, len(t.largest))
	copy(r.Largest, t.largest)
	sort.Slice(r.Largest, func(i, j int) bool { return t.largest.less(r.Largest[j], r.Largest[i]) })
	r.KVPrefixes = t.kv.top(t.opts.N)
	r.Tombstones.Prefixes = t.tomb.top(t.opts.N)

	r.Nodes = make([]NodeLoad, 0, len(t.nodes))
	for _, n := range t.nodes {
		r.Nodes = append(r.Nodes, *n)
	}
	sort.Slice(r.Nodes, func(i, j int) bool {
		a, b := r.Nodes[i], r.Nodes[j]
		if a.Services+a.Checks != b.Services+b.Checks {
			return a.Services+a.Checks > b.Services+b.Checks
		}
		if a.Size != b.Size {
			return a.Size > b.Size
		}
		return a.Node < b.Node
	})
	if len(r.Nodes) > t.opts.N {
		r.Nodes = r.Nodes[:t.opts.N]
	}

	r.SessionsPerNode = make([]NodeCount, 0, len(t.sess))
	for n, c := range t.sess {
		r.SessionsPerNode = append(r.SessionsPerNode, NodeCount{Node: n, Count: c})
	}
	sort.Slice(r.SessionsPerNode, func(i, j int) bool {
		a, b := r.SessionsPerNode[i], r.SessionsPerNode[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Node < b.Node
	})
	if len(r.SessionsPerNode) > t.opts.N {
		r.SessionsPerNode = r.SessionsPerNode[:t.opts.N]
	}
	if t.tree != nil {
		sortTree(t.tree)
		r.KVTree = t.tree
	}
	return &r
}

func sortTree(n *PrefixNode) {
	n.Children = make([]*PrefixNode, 0, len(n.index))
	for _, c := range n.index {
		n.Children = append(n.Children, c)
		sortTree(c)
	}
	sort.Slice(n.Children, func(i, j int) bool {
		a, b := n.Children[i], n.Children[j]
		if a.Size != b.Size {
			return a.Size > b.Size
		}
		return a.Name < b.Name
	})
	if len(n.Children) > maxTreeChildren {
		// The largest children are shown; the rest are one OtherGroup
		// node with their count and size (a prefix of a million distinct
		// keys is a drill-down of a few hundred rows, not a million).
		other := &PrefixNode{Name: OtherGroup, Prefix: n.Prefix + "/" + OtherGroup}
		for _, c := range n.Children[maxTreeChildren-1:] {
			other.Count += c.Count
			other.Size += c.Size
		}
		n.Children = append(n.Children[:maxTreeChildren-1:maxTreeChildren-1], other)
	}
	if len(n.Children) == 0 {
		n.Children = nil
	}
}

// maxTreeChildren bounds the children of a KV tree node in the result (the
// rest are folded into one OtherGroup node).
const maxTreeChildren = 100

// Top reads every record of s once (Scan with a TopAccumulator) and
// returns the top lists. s must not have been read yet. Records that fail
// to decode are counted by size; the error joins the snapshot's errors and
// the decode errors (capped, see TopAccumulator.Err). When ctx is
// cancelled it returns no result and ctx's error.
func Top(ctx context.Context, s *decode.Snapshot, opts TopOptions) (*TopResult, error) {
	t := NewTop(opts)
	if err := Scan(ctx, s, t); err != nil {
		return nil, err
	}
	return t.Finish(s), errors.Join(s.Err(), t.Err())
}

// groups sums sizes per prefix, up to maxGroups distinct prefixes.
type groups struct {
	m map[string]*PrefixSize
}

func (g *groups) add(prefix string, size int64) {
	p, ok := g.m[prefix]
	if !ok {
		if len(g.m) >= maxGroups {
			prefix = OtherGroup
			p, ok = g.m[prefix]
		}
		if !ok {
			p = &PrefixSize{Prefix: prefix}
			g.m[prefix] = p
		}
	}
	p.Count++
	p.Size += size
}

// top returns the n largest groups, sorted like Consul's inspect (size
// descending, then name ascending).
func (g *groups) top(n int) []PrefixSize {
	out := make([]PrefixSize, 0, len(g.m))
	for _, p := range g.m {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Size != out[j].Size {
			return out[i].Size > out[j].Size
		}
		return out[i].Prefix < out[j].Prefix
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// recHeap is a min-heap of the largest records seen: the root is the
// smallest (ties: the later record, which loses to the earlier one).
type recHeap []TopRecord

func (h recHeap) less(a, b TopRecord) bool {
	if a.Size != b.Size {
		return a.Size < b.Size
	}
	return a.N > b.N
}
func (h recHeap) Len() int           { return len(h) }
func (h recHeap) Less(i, j int) bool { return h.less(h[i], h[j]) }
func (h recHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *recHeap) Push(x any)        { *h = append(*h, x.(TopRecord)) }
func (h *recHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
