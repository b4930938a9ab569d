package report

import (
	"context"
	"fmt"
	"sort"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/diff"
)

// HTMLDiff is the record-level comparison of the report: diff.Run's
// summary and changes, the same structs `snaptool diff --format json` prints.
type HTMLDiff struct {
	Summary *diff.Summary
	// Changes are the first HTMLOptions.MaxChanges changes, in diff order.
	Changes []*diff.Change
	// Omitted counts the changes beyond MaxChanges.
	Omitted int
	// Important are the MaxImportant most important changes of all of
	// them (not only of Changes), most important first: see
	// ChangeImportance.
	Important []*diff.Change
	// Err is set when the diff could not read both snapshots to the end:
	// then the changes are not the whole story.
	Err string
}

// MaxImportant is how many changes the report's summary of changes lists.
const MaxImportant = 10

// ChangedTypes are the rows of Summary.Types that have a change or whose
// bytes differ, in the Summary's order (Delta descending — largest growth
// first, largest shrink last — then name).
func (d *HTMLDiff) ChangedTypes() []diff.TypeSummary {
	var out []diff.TypeSummary
	for _, t := range countedTypes(d.Summary) {
		if t.Added+t.Removed+t.Modified > 0 || t.Delta != 0 {
			out = append(out, t)
		}
	}
	return out
}

// UnchangedTypes counts the rows of Summary.Types that ChangedTypes leaves out.
func (d *HTMLDiff) UnchangedTypes() int { return len(d.Summary.Types) - len(d.ChangedTypes()) }

// ChangeTotals sums the added, removed and modified records and the byte
// growth over every type.
func (d *HTMLDiff) ChangeTotals() diff.TypeSummary {
	var t diff.TypeSummary
	for _, ts := range countedTypes(d.Summary) {
		t.Added += ts.Added
		t.Removed += ts.Removed
		t.Modified += ts.Modified
		t.BytesA += ts.BytesA
		t.BytesB += ts.BytesB
		t.Delta += ts.Delta
	}
	return t
}

// Importance classes of ChangeImportance, most important first.
const (
	ImportanceSecurity    = iota // ACL tokens, policies, roles, binding rules, auth methods, legacy ACLs, peering secrets
	ImportanceCA                 // Connect CA roots, CA configuration and provider state, peering trust bundles
	ImportanceConfig             // config entries, intentions, peerings, prepared queries, autopilot configuration
	ImportanceData               // everything else: catalog, KV, sessions, federation states, virtual IPs, …
	ImportanceBookkeeping        // Index, Tombstone, coordinates, chunking state, system metadata, free virtual IPs
)

// ChangeImportance ranks a change for the report's summary of changes.
// A change is more important when its class is (security first, then the
// CA, then configuration, then data, bookkeeping last: what changes who may
// do what and who is trusted comes before what only changes data), and
// within a class when more bytes changed (|SizeB − SizeA|, so an added or
// removed record weighs its whole size). Ties go removed, modified, added,
// then the diff order (type, identity).
func ChangeImportance(c *diff.Change) (class int, bytes int64) {
	bytes = c.SizeB - c.SizeA
	if bytes < 0 {
		bytes = -bytes
	}
	switch c.MessageType {
	case decode.TypeACLToken, decode.TypeACLPolicy, decode.TypeACLRole, decode.TypeACLBindingRule,
		decode.TypeACLAuthMethod, decode.TypeACL, decode.TypeACLBootstrap, decode.TypePeeringSecret:
		class = ImportanceSecurity
	case decode.TypeConnectCA, decode.TypeConnectCAConfig, decode.TypeConnectCAProviderState,
		decode.TypePeeringTrustBundle:
		class = ImportanceCA
	case decode.TypeConfigEntry, decode.TypeIntention, decode.TypePeering, decode.TypePreparedQuery,
		decode.TypeAutopilot:
		class = ImportanceConfig
	case decode.TypeIndex, decode.TypeTombstone, decode.TypeCoordinateBatchUpdate, decode.TypeChunkingState,
		decode.TypeSystemMetadata, decode.TypeFreeVirtualIP:
		class = ImportanceBookkeeping
	default:
		class = ImportanceData
	}
	return class, bytes
}

var opRank = map[diff.Op]int{diff.Removed: 0, diff.Modified: 1, diff.Added: 2}

// moreImportant orders two changes by ChangeImportance; seq is the diff
// order, the last tie-break.
func moreImportant(a, b *rankedChange) bool {
	if a.class != b.class {
		return a.class < b.class
	}
	if a.bytes != b.bytes {
		return a.bytes > b.bytes
	}
	if ra, rb := opRank[a.c.Op], opRank[b.c.Op]; ra != rb {
		return ra < rb
	}
	return a.seq < b.seq
}

type rankedChange struct {
	c     *diff.Change
	class int
	bytes int64
	seq   int
}

// topChanges keeps the n most important changes seen, in order.
type topChanges struct {
	n    int
	seq  int
	list []*rankedChange
}

func (t *topChanges) add(c *diff.Change) {
	class, bytes := ChangeImportance(c)
	r := &rankedChange{c: c, class: class, bytes: bytes, seq: t.seq}
	t.seq++
	i := sort.Search(len(t.list), func(i int) bool { return moreImportant(r, t.list[i]) })
	if i >= t.n {
		return
	}
	t.list = append(t.list, nil)
	copy(t.list[i+1:], t.list[i:])
	t.list[i] = r
	if len(t.list) > t.n {
		t.list = t.list[:t.n]
	}
}

func (t *topChanges) changes() []*diff.Change {
	out := make([]*diff.Change, len(t.list))
	for i, r := range t.list {
		out[i] = r.c
	}
	return out
}

// buildHTMLDiff runs the diff of a and b (one streaming pass over both),
// keeping at most o.MaxChanges changes and the MaxImportant most important
// of all, and feeds every record it reads to the snapshot's pass, so that
// each input is read once. Secrets are masked unless o.ShowSecrets.
func buildHTMLDiff(ctx context.Context, a, b *snapshotPass, o HTMLOptions) (*HTMLDiff, error) {
	d := &HTMLDiff{}
	top := &topChanges{n: MaxImportant}
	passes := [2]*snapshotPass{a, b}
	sum, err := diff.Run(ctx, a.s, b.s, diff.Options{KVDepth: o.KVDepth, ShowSecrets: o.ShowSecrets,
		OnRecord: func(side int, rec *decode.Record) { passes[side].Add(rec) }},
		func(c *diff.Change) error {
			cc := *c
			cc.Fields = append([]diff.FieldChange(nil), c.Fields...)
			top.add(&cc)
			if len(d.Changes) >= o.MaxChanges {
				d.Omitted++
				return nil
			}
			d.Changes = append(d.Changes, &cc)
			return nil
		})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if sum == nil {
		return nil, fmt.Errorf("comparing %s with %s: %w", a.s.Name, b.s.Name, err)
	}
	d.Summary = sum
	d.Important = top.changes()
	if err != nil {
		d.Err = err.Error()
	}
	return d, nil
}

// ChangeLabel is the human label of a change's record (diff.Change.Label,
// from decode.Label), "" when it has none. The report shows it above the
// identity (unless it repeats the identity) and carries it as data-label.
func ChangeLabel(c *diff.Change) string {
	return c.Label
}
