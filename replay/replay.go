// Package replay gives the state of a Consul server at any raft index: the
// newest snapshot of its data dir at or below the index, with the log
// entries after it, up to the index, applied the way Consul 1.13's state
// store applies them. The result is an ordinary decode.Snapshot
// (state.bin form), so every reading command takes DATA_DIR@INDEX.
//
// Contract:
//
//   - Exact: KV (set, CAS, delete, delete-CAS, delete-tree, lock, unlock,
//     and those inside transactions, which apply all or nothing, with the
//     read/check verbs that can fail them), with Consul's CreateIndex,
//     ModifyIndex, LockIndex and Session; sessions (create, with Consul's
//     node and check validation against the replayed catalog; destroy,
//     with its release or delete behaviour on the locks the session holds);
//     tombstones (a delete's tombstone, a delete-tree's one tombstone for
//     the prefix, reap); the catalog (catalog.go: register and deregister
//     of nodes, services and checks, node renames by ID, the sessions a
//     critical or deleted check or a deleted node destroys, coordinate
//     updates and the coordinates a node deletion removes); the Index rows
//     of all those tables (kvs, tombstones, sessions, nodes, services,
//     checks, coordinates, the per-node, per-service, per-kind and
//     kind_service_names rows, the extinction rows, prepared-queries);
//     prepared queries (query.go: create, update, delete, and those a
//     destroyed session takes with it); ACL policies and tokens (acl.go:
//     set, delete, bootstrap); service-defaults and proxy-defaults config
//     entries while no discovery-chain, gateway, intention or export entry
//     exists (configentry.go); the autopilot configuration, federation
//     states and system metadata (meta.go); the Connect CA's configuration,
//     roots and provider state (ca.go); the legacy intentions table's
//     delete-all (meta.go). Raft's own entries
//     (noop, barrier, configuration) change no state.
//   - Not replayed: every other request type (other config entries, ACL roles,
//     binding rules and auth methods, other intention operations,
//     peering, …),
//     prepared-query templates, legacy or role-linked ACL tokens,
//     transactions with
//     catalog, session or intention operations, Connect, gateway and virtual-IP
//     effects of a registration, and Enterprise (namespaced) or peered
//     records. Such an entry is Unreproduced: Open fails with an
//     *UnreproducibleError listing them all, unless Options.BestEffort,
//     which applies the rest and lists them in Result.Skipped.
//   - Bytes: records replay does not change are copied byte for byte from
//     the base snapshot, in its order; a changed table (KVS, Tombstone,
//     Session, Index) is written whole in Consul's order (decode.Keys) with
//     changed records encoded by encode (Consul's handle). When nothing is
//     applied, the base snapshot is returned as it is (its meta.json, CRC
//     and all).
//   - Memory: a first pass over the log notes what its entries can read or
//     change; only those records of the base snapshot are held in memory
//     (values included): the KV keys the entries name, every key under a
//     delete-tree prefix, the keys and records of the sessions they name,
//     the tombstones a reap removes, the nodes that catalog entries and
//     session creates name (with their services, checks, coordinates and
//     sessions, and the keys those sessions lock), every prepared query
//     when the log can change one, every ACL policy and the tokens named
//     when it has an ACL entry, every config entry when it writes one, the
//     bookkeeping tables it writes, the Index rows; plus
//     what the entries write, and one count per service name. So memory
//     follows the log range replayed, not the size of the snapshot (a
//     delete-tree of "" holds the whole KV store). Everything else
//     streams: the log is scanned twice, the base
//     snapshot is read three times (once to load; once to size state.bin
//     and compute its CRC-64 for meta.json, as raft's file store does; once
//     while state.bin is written into a pipe that decode reads and
//     verifies), nothing is spooled to disk.
//   - The data dir is only read: raft.db through raftlog (read-only).
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-msgpack/codec"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/raftlog"
)

// Options configure Open.
type Options struct {
	// BestEffort applies what can be reproduced and lists the rest in
	// Result.Skipped instead of failing.
	BestEffort bool
	// Decode are the options of the returned snapshot's reader.
	Decode decode.Options
	// Context, when set, stops the replay (Open returns its error) and the
	// writer of the replayed stream.
	Context context.Context

	// baseAtMost, when set, takes the base snapshot at or below it instead
	// of at or below the target index (tests replay past a newer snapshot
	// to compare with it).
	baseAtMost uint64
}

// Unreproduced is a log entry whose effect replay cannot reproduce exactly.
type Unreproduced struct {
	Index  uint64
	Type   string // message type name
	Op     string
	Reason string
}

func (u Unreproduced) String() string {
	op := u.Op
	if op == "" {
		op = "-"
	}
	return fmt.Sprintf("index %d %s %s: %s", u.Index, u.Type, op, u.Reason)
}

// UnreproducibleError lists the entries that stop a replay.
type UnreproducibleError struct {
	Target  string
	Entries []Unreproduced
}

func (e *UnreproducibleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d log entries cannot be replayed exactly (--best-effort applies the rest):", e.Target, len(e.Entries))
	for _, u := range e.Entries {
		b.WriteString("\n  ")
		b.WriteString(decode.SafeText(u.String()))
	}
	return b.String()
}

// ErrNoBase means the data dir has no snapshot at or below the index, or
// its log does not reach from that snapshot to the index.
var ErrNoBase = errors.New("cannot replay to this index")

// Result says what a replay did.
type Result struct {
	// Base is the data-dir snapshot replay started from, BaseIndex its index.
	Base      string
	BaseIndex uint64
	// Applied counts the entries applied (including those with no effect).
	Applied int
	// Skipped are the entries not reproduced (BestEffort only).
	Skipped []Unreproduced
}

// Split parses "DATA_DIR@INDEX". ok is false when arg is not of that form
// (no '@', or a non-numeric or zero index after the last one).
func Split(arg string) (dir string, index uint64, ok bool) {
	i := strings.LastIndexByte(arg, '@')
	if i <= 0 || i == len(arg)-1 {
		return "", 0, false
	}
	var n uint64
	for _, c := range arg[i+1:] {
		if c < '0' || c > '9' || n > (1<<63)/10 {
			return "", 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n == 0 {
		return "", 0, false
	}
	return arg[:i], n, true
}

// baseSnapshot finds the newest snapshot of dataDir whose index is at most index.
func baseSnapshot(dataDir string, index uint64) (dir string, meta *decode.Meta, oldest uint64, err error) {
	var root string
	for _, sub := range []string{filepath.Join("raft", "snapshots"), "snapshots"} {
		if st, err := os.Stat(filepath.Join(dataDir, sub)); err == nil && st.IsDir() {
			root = filepath.Join(dataDir, sub)
			break
		}
	}
	if root == "" {
		return "", nil, 0, fmt.Errorf("%s: %w: no raft/snapshots directory", dataDir, ErrNoBase)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return "", nil, 0, err
	}
	for _, e := range ents {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		p := filepath.Join(root, e.Name())
		s, err := decode.Open(p, decode.Options{})
		if err != nil || s.Meta() == nil {
			if s != nil {
				s.Close()
			}
			continue
		}
		m := s.Meta()
		s.Close()
		if oldest == 0 || m.Index < oldest {
			oldest = m.Index
		}
		if m.Index <= index && (meta == nil || m.Index > meta.Index) {
			dir, meta = p, m
		}
	}
	if meta == nil {
		if oldest == 0 {
			return "", nil, 0, fmt.Errorf("%s: %w: no readable snapshot in %s", dataDir, ErrNoBase, root)
		}
		return "", nil, oldest, fmt.Errorf("%s: %w %d: the oldest snapshot of the data dir is at index %d", dataDir, ErrNoBase, index, oldest)
	}
	return dir, meta, oldest, nil
}

// Open replays dataDir to index and returns the state as a snapshot.
func Open(dataDir string, index uint64, opts Options) (*decode.Snapshot, *Result, error) {
	target := fmt.Sprintf("%s@%d", dataDir, index)
	baseAt := index
	if opts.baseAtMost != 0 && opts.baseAtMost < index {
		baseAt = opts.baseAtMost
	}
	baseDir, meta, _, err := baseSnapshot(dataDir, baseAt)
	if err != nil {
		return nil, nil, err
	}
	res := &Result{Base: baseDir, BaseIndex: meta.Index}

	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	st := newState()
	term := meta.Term
	if index > meta.Index {
		l, err := raftlog.Open(dataDir, raftlog.Options{NoSnapshot: true})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", target, err)
		}
		defer l.Close()
		// Pass 1: what the entries can touch, so that only those records
		// of the base snapshot are held in memory.
		in := newInterest()
		next, err := scanRange(ctx, l, meta.Index+1, index, func(e *raftlog.Entry) { in.add(e) })
		if err != nil {
			return nil, nil, fmt.Errorf("%s: reading the log: %w", target, err)
		}
		if next != index+1 {
			return nil, nil, fmt.Errorf("%s: %w: the log lacks entry %d (the snapshot is at %d)", target, ErrNoBase, next, meta.Index)
		}
		st.queriesHeld = in.queries
		st.configsHeld = in.configs
		for t := range st.rowsHeld {
			st.rowsHeld[t] = in.rows[t]
		}
		st.aclHeld, st.tokensAll, st.tokensHeld, st.accessorsHeld = in.acl, false, in.tokenSecrets, in.tokenAccessors
		if err := loadBase(ctx, baseDir, st, in); err != nil {
			return nil, nil, fmt.Errorf("%s: base snapshot %s: %w", target, baseDir, err)
		}
		// Pass 2: apply.
		var bad []Unreproduced
		if _, err := scanRange(ctx, l, meta.Index+1, index, func(e *raftlog.Entry) {
			term = e.Term
			res.Applied++
			st.refusal = nil
			why := st.apply(e)
			if why == "" && st.refusal != nil && len(bad) > 0 {
				// Consul's state store refuses it here; with an entry
				// skipped above it may have succeeded (a session on a node
				// whose registration was skipped): not known to be exact.
				why = fmt.Sprintf("the state store refuses it here (%v), which may come from an entry skipped above", st.refusal)
			}
			if why != "" {
				bad = append(bad, Unreproduced{Index: e.Index, Type: orLogType(e), Op: e.Op, Reason: why})
			}
		}); err != nil {
			return nil, nil, fmt.Errorf("%s: reading the log: %w", target, err)
		}
		if len(bad) > 0 && !opts.BestEffort {
			return nil, nil, &UnreproducibleError{Target: target, Entries: bad}
		}
		res.Skipped = bad
	}

	if len(st.changed) == 0 && index == meta.Index {
		s, err := decode.Open(baseDir, opts.Decode)
		if err != nil {
			return nil, nil, err
		}
		s.Name = target
		return s, res, nil
	}
	// A first pass sizes state.bin and computes its CRC-64, as raft's file
	// snapshot store records them in meta.json: the output is a function
	// of its inputs (tables sorted), so the second pass, read by decode,
	// writes the same bytes and decode verifies them.
	sum := crc64.New(crc64.MakeTable(crc64.ECMA))
	size, err := writeState(ctx, sum, baseDir, index, st)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", target, err)
	}
	rm := meta.SnapshotMeta
	rm.ID = fmt.Sprintf("%s+log-%d", meta.ID, index)
	rm.Index, rm.Term, rm.Size = index, term, size
	metaJSON, err := json.Marshal(decode.Meta{SnapshotMeta: rm, CRC: sum.Sum(nil)})
	if err != nil {
		return nil, nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := writeState(ctx, pw, baseDir, index, st)
		pw.CloseWithError(err)
	}()
	s, err := decode.NewStateBin(pr, metaJSON, opts.Decode)
	if err != nil {
		pr.Close()
		return nil, nil, err
	}
	s.Name = target
	return s, res, nil
}

func orLogType(e *raftlog.Entry) string {
	if e.MsgType != "" {
		return e.MsgType
	}
	return e.LogType
}

// scanRange calls fn for the entries from since to until while their
// indexes follow each other; it returns the index after the last one.
func scanRange(ctx context.Context, l *raftlog.Log, since, until uint64, fn func(*raftlog.Entry)) (uint64, error) {
	sc := l.Scan(raftlog.Filter{SinceIndex: since, UntilIndex: until})
	sc.Tree = false
	defer sc.Close()
	next := since
	for sc.Next() {
		if next%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return next, err
			}
		}
		e := sc.Entry()
		if e.Index != next {
			break
		}
		next++
		fn(e)
	}
	return next, sc.Err()
}

func loadBase(ctx context.Context, dir string, st *state, in *interest) error {
	s, err := decode.Open(dir, decode.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	for n := 0; s.Next(); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := st.load(s.Record(), in); err != nil {
			return err
		}
	}
	return s.Err()
}

// writeState writes state.bin: the base snapshot's records, with each
// changed table merged in Consul's order: the records the replay holds (the
// base records it loaded, changed or not, and new ones) in place of the
// base's copies, the base records it did not load as they stream by.
func writeState(ctx context.Context, w io.Writer, baseDir string, index uint64, st *state) (size int64, err error) {
	err = writeStateTo(ctx, w, baseDir, index, st, &size)
	return size, err
}

// writeStateTo is writeState; *size is set to state.bin's size (the
// writer's own count) once it is flushed.
func writeStateTo(ctx context.Context, w io.Writer, baseDir string, index uint64, st *state, size *int64) error {
	base, err := decode.Open(baseDir, decode.Options{})
	if err != nil {
		return err
	}
	defer base.Close()
	sw, err := encode.NewStateWriter(w, index)
	if err != nil {
		return err
	}
	tables, err := st.tables()
	if err != nil {
		return err
	}
	var pending []decode.MessageType // changed tables by rank
	for t := range tables {
		pending = append(pending, t)
	}
	sort.Slice(pending, func(i, j int) bool { return decode.Rank(pending[i]) < decode.Rank(pending[j]) })
	// emitUpTo writes the held records of t that come before order.
	emitUpTo := func(t decode.MessageType, order string, all bool) error {
		tb := tables[t]
		for len(tb.recs) > 0 && (all || tb.keys[0] < order) {
			if err := sw.WriteRaw(tb.recs[0]); err != nil {
				return err
			}
			tb.keys, tb.recs = tb.keys[1:], tb.recs[1:]
		}
		tables[t] = tb
		return nil
	}
	// flush ends the changed tables ranked before rank.
	flush := func(rank int) error {
		for len(pending) > 0 && decode.Rank(pending[0]) < rank {
			if err := emitUpTo(pending[0], "", true); err != nil {
				return err
			}
			pending = pending[1:]
		}
		return nil
	}
	for n := 0; base.Next(); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec := base.Record()
		if err := flush(decode.Rank(rec.Type)); err != nil {
			return err
		}
		if _, changed := tables[rec.Type]; changed {
			k, err := decode.Keys(rec)
			if err != nil {
				return err
			}
			if st.known[rec.Type][k.Identity] {
				continue // held: written from the table
			}
			if err := emitUpTo(rec.Type, k.Order, false); err != nil {
				return err
			}
		}
		if err := sw.WriteRaw(rec.Raw); err != nil {
			return err
		}
	}
	if err := base.Err(); err != nil {
		return err
	}
	if err := flush(decode.MaxRank); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	*size = sw.Size()
	return nil
}

// table is the held records of one changed type in Consul's order, with
// their order keys (decode.Keys).
type table struct {
	keys []string
	recs [][]byte
}

// tables encodes the held records of each changed table, in Consul's order.
func (st *state) tables() (map[decode.MessageType]table, error) {
	h := encode.NewHandle()
	enc := func(t decode.MessageType, v any) ([]byte, error) {
		var b []byte // NewEncoderBytes writes from the start of b
		if err := codec.NewEncoderBytes(&b, h).Encode(v); err != nil {
			return nil, err
		}
		return append([]byte{byte(t)}, b...), nil
	}
	out := map[decode.MessageType][][]byte{}
	add := func(t decode.MessageType, raw []byte, v any) error {
		if raw == nil {
			var err error
			if raw, err = enc(t, v); err != nil {
				return err
			}
		}
		out[t] = append(out[t], raw)
		return nil
	}
	for t := range st.changed {
		out[t] = [][]byte{}
		var err error
		switch t {
		case decode.TypeKVS:
			for _, r := range st.kv {
				if err = add(t, r.raw, &r.e); err != nil {
					return nil, err
				}
			}
		case decode.TypeTombstone:
			for _, r := range st.tombs {
				// Consul persists a tombstone as a DirEntry with Key and ModifyIndex.
				if err = add(t, r.raw, &encode.DirEntry{Key: r.key, ModifyIndex: r.index}); err != nil {
					return nil, err
				}
			}
		case decode.TypeSession:
			for _, r := range st.sessions {
				if err = add(t, r.raw, &r.s); err != nil {
					return nil, err
				}
			}
		case decode.TypeIndex:
			for _, r := range st.index {
				if err = add(t, r.raw, &struct {
					Key   string
					Value uint64
				}{r.key, r.value}); err != nil {
					return nil, err
				}
			}
		case decode.TypeRegister:
			for _, n := range st.cat.nodes {
				out[t] = n.records(out[t])
			}
		case decode.TypePreparedQuery, decode.TypeACLPolicy, decode.TypeACLToken,
			decode.TypeAutopilot, decode.TypeFederationState, decode.TypeSystemMetadata,
			decode.TypeConnectCA, decode.TypeConnectCAProviderState, decode.TypeConnectCAConfig, decode.TypeIntention:
			for _, r := range st.heldRows(t) {
				out[t] = append(out[t], r.record())
			}
		case decode.TypeConfigEntry:
			for _, c := range st.configs {
				out[t] = append(out[t], c.record())
			}
		case decode.TypeCoordinateBatchUpdate:
			for _, cs := range st.cat.coords {
				for _, c := range cs {
					out[t] = append(out[t], c.raw)
				}
			}
		}
	}
	sorted := map[decode.MessageType]table{}
	for t, recs := range out {
		keys := make([]string, len(recs))
		for i, raw := range recs {
			k, err := decode.Keys(&decode.Record{Type: t, Raw: raw})
			if err != nil {
				return nil, err
			}
			keys[i] = k.Order
		}
		sort.Sort(byKey{keys, recs})
		sorted[t] = table{keys, recs}
	}
	return sorted, nil
}

type byKey struct {
	keys []string
	recs [][]byte
}

func (b byKey) Len() int           { return len(b.keys) }
func (b byKey) Less(i, j int) bool { return b.keys[i] < b.keys[j] }
func (b byKey) Swap(i, j int) {
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
	b.recs[i], b.recs[j] = b.recs[j], b.recs[i]
}
