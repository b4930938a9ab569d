package raftlog

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/snaptool/snaptool/decode"
)

// Filter selects entries. Zero fields select everything.
type Filter struct {
	// SinceIndex and UntilIndex bound the index (inclusive; 0 = open).
	SinceIndex, UntilIndex uint64
	// Since and Until bound AppendedAt (inclusive). An entry without
	// AppendedAt (older raft) does not match a time bound.
	Since, Until time.Time
	// Types keeps command entries of these message types (raft's own
	// entries, noop and configuration, are dropped when Types is set).
	Types []decode.MessageType
	// KVPrefix and Key keep entries touching a KV key with that prefix or
	// that exact key (transactions included).
	KVPrefix string
	Key      string
	// Node keeps entries touching the node (its node:, service: or check:
	// identities); Service those touching a service by ID or name.
	Node    string
	Service string
	// Token keeps entries whose caller's AccessorID starts with Token or
	// whose token Description equals it (case-insensitive).
	Token string
}

// selectsAll reports whether match is true for every entry in the index range.
func (f *Filter) selectsAll() bool {
	return f.Since.IsZero() && f.Until.IsZero() && len(f.Types) == 0 && f.KVPrefix == "" && f.Key == "" &&
		f.Node == "" && f.Service == "" && f.Token == ""
}

func (f *Filter) match(e *Entry) bool {
	if !f.Since.IsZero() && (e.AppendedAt.IsZero() || e.AppendedAt.Before(f.Since)) {
		return false
	}
	if !f.Until.IsZero() && (e.AppendedAt.IsZero() || e.AppendedAt.After(f.Until)) {
		return false
	}
	if len(f.Types) > 0 {
		t, ok := e.MessageType()
		found := false
		for _, want := range f.Types {
			found = found || (ok && t == want)
		}
		if !found {
			return false
		}
	}
	if f.KVPrefix != "" || f.Key != "" {
		if !anyTarget(e, func(t Target) bool {
			if t.Type != "KVS" {
				return false
			}
			k := unqualified(t.ID)
			return (f.Key == "" || k == f.Key) && strings.HasPrefix(k, f.KVPrefix)
		}) {
			return false
		}
	}
	if f.Node != "" && !anyTarget(e, func(t Target) bool {
		if t.Type != "Register" {
			return false
		}
		id := unqualified(t.ID)
		return id == "node:"+f.Node || strings.HasPrefix(id, "service:"+f.Node+"/") || strings.HasPrefix(id, "check:"+f.Node+"/")
	}) {
		return false
	}
	if f.Service != "" && !anyTarget(e, func(t Target) bool {
		id := unqualified(t.ID)
		return t.Type == "Register" && strings.HasPrefix(id, "service:") && (strings.HasSuffix(id, "/"+f.Service) || t.Name == f.Service)
	}) {
		return false
	}
	if f.Token != "" {
		w := e.Token
		if w == nil || !(strings.HasPrefix(w.Accessor, f.Token) || strings.EqualFold(w.Description, f.Token)) {
			return false
		}
	}
	return true
}

func anyTarget(e *Entry, fn func(Target) bool) bool {
	for _, t := range e.Targets {
		if fn(t) {
			return true
		}
	}
	return false
}

// unqualified drops a ?peer=&partition=&namespace= suffix. A KV key may
// itself contain '?': only a suffix decode's qualifier would write is cut.
func unqualified(id string) string {
	for _, q := range []string{"?peer=", "?partition=", "?namespace="} {
		if i := strings.LastIndex(id, q); i >= 0 {
			return id[:i]
		}
	}
	return id
}

// Scanner reads entries in index order. Use it like bufio.Scanner:
//
//	s := log.Scan(raftlog.Filter{})
//	defer s.Close()
//	for s.Next() { e := s.Entry() }
//	if err := s.Err(); err != nil { … }
type Scanner struct {
	log    *Log
	filter Filter
	// Tree: build Entry.Request (off saves the typed decode of every
	// request when only the timeline is wanted).
	Tree bool

	src   source
	done  bool
	entry Entry
	err   error
	read  int64
}

// source yields stored entries in index order: the index and the stored
// bytes (raft-boltdb's msgpack raft.Log, or raft-wal's BinaryCodec).
type source interface {
	next() (uint64, []byte, bool)
	error() error
	close()
}

// mapWindow is how many bytes of entries a scan reads through one memory
// map before it remaps. bbolt maps the whole file and every page read stays
// resident (and counts in RSS) until unmapped; ending the read transaction,
// closing and reopening the file every mapWindow bytes keeps the mapped
// pages a scan holds bounded, whatever the file's size. raft-boltdb's pages
// are about half full (sequential inserts split pages at bbolt's default
// 50 % fill), so 16 MiB of entries is about 32–64 MiB of pages.
var mapWindow = 16 << 20

// remapHook, when set (benchmarks), runs just before each remap.
var remapHook func()

type boltSource struct {
	log    *Log
	tx     *bolt.Tx
	cur    *bolt.Cursor
	begun  bool
	err    error
	window int
	last   uint64
}

func (b *boltSource) next() (uint64, []byte, bool) {
	if b.err != nil || b.tx == nil {
		return 0, nil, false
	}
	var k, v []byte
	switch {
	case !b.begun:
		k, v = b.cur.First()
		b.begun = true
	case b.window >= mapWindow:
		if !b.remap() {
			return 0, nil, false
		}
		var from [8]byte
		binary.BigEndian.PutUint64(from[:], b.last+1)
		k, v = b.cur.Seek(from[:])
		if b.last == ^uint64(0) {
			k = nil
		}
	default:
		k, v = b.cur.Next()
	}
	if k == nil {
		return 0, nil, false
	}
	if len(k) != 8 {
		b.err = fmt.Errorf("%s: logs bucket: key of %d bytes, want 8 (big-endian index)", b.log.Path, len(k))
		return 0, nil, false
	}
	b.window += len(k) + len(v)
	b.last = binary.BigEndian.Uint64(k)
	return b.last, v, true
}

// remap ends the transaction, closes and reopens raft.db (dropping the
// pages mapped so far) and starts a new read transaction.
func (b *boltSource) remap() bool {
	if remapHook != nil {
		remapHook()
	}
	b.tx.Rollback()
	b.tx = nil
	l := b.log
	if err := l.db.Close(); err != nil {
		b.err = fmt.Errorf("%s: %w", l.Path, err)
		return false
	}
	db, err := openBolt(l.Path, l.lockTimeout())
	if err != nil {
		b.err = fmt.Errorf("reopening after index %d: %w", b.last, err)
		l.db = nil
		return false
	}
	l.db = db
	tx, err := db.Begin(false)
	if err != nil {
		b.err = fmt.Errorf("%s: %w", l.Path, err)
		return false
	}
	b.tx, b.cur, b.window = tx, tx.Bucket(bucketLogs).Cursor(), 0
	return true
}

func (b *boltSource) error() error { return b.err }

func (b *boltSource) close() {
	if b.tx != nil {
		b.tx.Rollback()
		b.tx = nil
	}
}

func (w *walSource) error() error { return w.err }

// Scan starts a scan; Close ends it. One scan at a time per Log: a scan
// of raft.db remaps the file as it goes (see mapWindow). The scan reads every entry from the
// first (token writes before SinceIndex still teach the token table) but
// decodes fully only the entries in the index range.
func (l *Log) Scan(f Filter) *Scanner {
	s := &Scanner{log: l, filter: f, Tree: true}
	if l.db == nil {
		s.err, s.done = fmt.Errorf("%s: log is closed", l.Path), true
		return s
	}
	if l.scans == nil {
		l.scans = map[*Scanner]struct{}{}
	}
	l.scans[s] = struct{}{}
	if l.Backend == "wal" {
		s.src = l.newWALSource()
		return s
	}
	tx, err := l.db.Begin(false)
	if err != nil {
		s.err = fmt.Errorf("%s: %w", l.Path, err)
		s.done = true
		return s
	}
	s.src = &boltSource{log: l, tx: tx, cur: tx.Bucket(bucketLogs).Cursor()}
	return s
}

// Next advances to the next selected entry.
func (s *Scanner) Next() bool {
	for !s.done {
		idx, raw, ok := s.src.next()
		if !ok {
			s.err = s.src.error()
			s.done = true
			break
		}
		s.read++
		if s.filter.UntilIndex != 0 && idx > s.filter.UntilIndex {
			s.done = true
			break
		}
		if idx < s.filter.SinceIndex {
			s.learnOnly(idx, raw)
			continue
		}
		s.entry = Entry{}
		if !s.Tree || s.filter.selectsAll() {
			s.log.decodeEntry(&s.entry, idx, raw, s.Tree)
			if s.filter.match(&s.entry) {
				return true
			}
			continue
		}
		// Decode cheaply to filter; build the request tree for a match only.
		s.log.decodeEntry(&s.entry, idx, raw, false)
		if s.filter.match(&s.entry) {
			s.entry = Entry{}
			s.log.decodeEntry(&s.entry, idx, raw, true) // token writes are learned again: idempotent
			return true
		}
	}
	return false
}

// learnOnly reads a token write before the selected range so that later
// entries resolve its token.
func (s *Scanner) learnOnly(idx uint64, raw []byte) {
	l, err := s.log.parse(raw)
	if err != nil || l.Type != LogCommand || len(l.Data) == 0 {
		return
	}
	if len(l.Extensions) > 0 { // a chunk: collect it, an op may straddle SinceIndex
		var e Entry
		s.log.decodeEntry(&e, idx, raw, false)
		return
	}
	switch decode.MessageType(l.Data[0] &^ IgnoreUnknownFlag) {
	case decode.TypeACLToken, decode.TypeACLBootstrap, decode.TypeACL:
		var e Entry
		s.log.decodeEntry(&e, idx, raw, false)
	}
}

// Entry is the current entry; valid until the next call to Next.
func (s *Scanner) Entry() *Entry { return &s.entry }

// Err is the error that stopped the scan (damaged entries do not stop it:
// see Entry.Err).
func (s *Scanner) Err() error { return s.err }

// Read is the number of stored entries visited so far.
func (s *Scanner) Read() int64 { return s.read }

// Close ends the read transaction.
func (s *Scanner) Close() error {
	s.done = true
	if s.src != nil {
		s.src.close()
	}
	delete(s.log.scans, s)
	return nil
}

// Uncommitted is the number of WAL entries after a segment's last commit
// frame (written but never acknowledged, so not part of the log); 0 for
// raft.db.
func (s *Scanner) Uncommitted() int {
	if w, ok := s.src.(*walSource); ok {
		return w.Uncommitted
	}
	return 0
}

func (l *Log) parse(raw []byte) (rawLog, error) {
	if l.Backend == "wal" {
		return parseWALLog(raw)
	}
	return parseLog(raw)
}

// decodeEntry decodes the stored raft.Log raw at index idx into e.
func (l *Log) decodeEntry(e *Entry, idx uint64, raw []byte, tree bool) {
	e.Index = idx
	e.Size = len(raw)
	e.Targets = []Target{}
	rl, err := l.parse(raw)
	if err != nil {
		e.LogType = "unknown"
		e.Err = fmt.Sprintf("index %d: raft.Log: %v", idx, err)
		return
	}
	if rl.Index != idx {
		e.Err = fmt.Sprintf("index %d: raft.Log says index %d", idx, rl.Index)
	}
	e.Term, e.LogType, e.AppendedAt = rl.Term, rl.Type.String(), rl.AppendedAt.UTC()
	if y := rl.AppendedAt.Year(); y < 0 || y > 9999 {
		e.AppendedAt = time.Time{} // not representable in RFC 3339: a damaged entry
		e.Err = fmt.Sprintf("index %d: AppendedAt year %d out of range", idx, y)
	}
	switch rl.Type {
	case LogCommand:
	case LogConfiguration:
		e.Op = "configuration"
		decodeConfiguration(e, rl.Data, tree)
		return
	default:
		return
	}
	if len(rl.Extensions) > 0 { // go-raftchunking (chunks.go)
		ci, err := parseChunkInfo(rl.Extensions)
		if err != nil {
			e.Op = "chunk"
			e.Err = fmt.Sprintf("index %d: chunk info: %v", idx, err)
			return
		}
		e.Chunk = fmt.Sprintf("op %d part %d/%d", ci.op, ci.seq+1, ci.n)
		all, _, err := l.chunks.add(idx, rl.Term, ci, rl.Data)
		if err != nil {
			e.Op = "chunk"
			e.Err = fmt.Sprintf("index %d: %v", idx, err)
			return
		}
		if all == nil {
			e.Op = "chunk"
			return
		}
		rl.Data = all
	}
	if len(rl.Data) == 0 {
		e.Err = fmt.Sprintf("index %d: command entry without data", idx)
		return
	}
	tb := rl.Data[0]
	mt := decode.MessageType(tb &^ IgnoreUnknownFlag)
	num := uint8(mt)
	e.msgType, e.isCmd = mt, true
	e.MsgType, e.MsgTypeNum, e.IgnoreUnknown = mt.String(), &num, tb&IgnoreUnknownFlag != 0

	e.body = rl.Data[1:]
	c := &reqCtx{t: mt, body: rl.Data[1:], show: l.opts.ShowSecrets, want: tree}
	switch mt {
	case decode.TypePeering, decode.TypePeeringDelete, decode.TypePeeringTerminateByID,
		decode.TypePeeringTrustBundle, decode.TypePeeringTrustBundleDel, decode.TypePeeringSecret:
		mapPeering(c)
	default:
		v, err := decode.DecodeAll(c.body)
		if err != nil {
			e.Err = fmt.Sprintf("index %d: %s request: %v", idx, mt, err)
			return
		}
		c.v = &v
		if fn, ok := requestTable[mt]; ok {
			fn(c)
		} else {
			e.Op = "unknown"
		}
		if !c.hasCaller && !c.noCaller {
			if tok, ok := v.Get("Token"); ok && (tok.Kind == decode.Str || tok.Kind == decode.Bin || tok.Kind == decode.Nil) {
				c.caller, c.hasCaller = tok.String(), true
			}
		}
	}
	if c.err != nil {
		e.Err = fmt.Sprintf("index %d: %s request: %v", idx, mt, c.err)
	}
	if c.op != "" {
		e.Op = c.op
	}
	e.Targets = append(e.Targets, c.targets...)
	if c.hasCaller {
		e.Token = l.tokens.who(c.caller, l.opts.ShowSecrets)
	}
	// Token writes teach the table after the entry's own caller resolved.
	for _, tok := range c.learned {
		l.tokens.learn(tok.SecretID, tok.AccessorID, tok.Description)
	}
	if tree {
		e.Request = c.requestTree()
	}
}

// requestTree is the masked generic tree with typed sub-records in place.
func (c *reqCtx) requestTree() any {
	if c.treeDone {
		return c.tree
	}
	if c.v == nil {
		return nil
	}
	t := decode.Tree(&decode.Unknown{Value: c.v.Interface()})
	if !c.show {
		// decode's one policy, for the wrapper: every secret-named key at any
		// depth (the caller's Token included), PEM private keys. Mask leaves
		// KVS and Tombstone records alone (user data); their requests' wrappers
		// (Op, Datacenter, Token) are masked as a Txn's, and the DirEnt is put
		// back below as the unmasked KV record dump shows.
		// TODO(decode): a Mask mode for raft request wrappers.
		mt := c.t
		if mt == decode.TypeKVS || mt == decode.TypeTombstone {
			mt = decode.TypeTxn
		}
		t = decode.Mask(mt, t)
	}
	for _, r := range c.repl {
		_ = setPath(t, r.path, r.tree) // a path that is not there keeps the generic (masked) form
	}
	return t
}

// decodeConfiguration lists the servers of a raft configuration entry
// (raft.EncodeConfiguration: go-msgpack {Servers: [{Suffrage, ID, Address}]}).
func decodeConfiguration(e *Entry, data []byte, tree bool) {
	v, err := decode.DecodeAll(data)
	if err != nil {
		e.Err = fmt.Sprintf("index %d: configuration: %v", e.Index, err)
		return
	}
	suffrage := []string{"voter", "nonvoter", "staging"}
	if srv, ok := v.Get("Servers"); ok && srv.Kind == decode.Array {
		for i := range srv.Elems {
			s := &srv.Elems[i]
			op := ""
			if n, ok := mustGet(s, "Suffrage").AsUint(); ok && n < uint64(len(suffrage)) {
				op = suffrage[n]
			}
			e.Targets = append(e.Targets, Target{Type: "RaftServer", ID: str(s, "ID"), Op: op, Name: str(s, "Address")})
		}
	}
	if tree {
		e.Request = decode.Tree(&decode.Unknown{Value: v.Interface()})
	}
}

func mustGet(v *decode.Value, k string) *decode.Value {
	if x, ok := v.Get(k); ok {
		return x
	}
	return &decode.Value{}
}
