package replay

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// The tables replay keeps and changes, and what Consul 1.13's state store
// does to them (agent/consul/state: kvs.go, kvs_oss.go, graveyard.go,
// session.go, session_oss.go, txn.go), step by step.

// kvRec is one KVS record: raw is the record as read (type byte + value)
// until the entry changes, then nil and e is written.
type kvRec struct {
	raw []byte
	e   encode.DirEntry
}

type tombRec struct {
	raw   []byte
	key   string
	index uint64
}

type sessRec struct {
	raw []byte
	s   encode.Session
}

type indexRec struct {
	raw   []byte
	key   string // as written (the table is keyed case-insensitively)
	value uint64
}

// state is the part of a snapshot that replay changes, plus what it reads
// to decide (catalog.go's counts).
type state struct {
	kv       map[string]*kvRec
	tombs    map[string]*tombRec
	sessions map[string]*sessRec  // by ID
	index    map[string]*indexRec // by lower-cased key
	cat      *catalog

	queries     map[string]*rowRec // by lower-cased ID: all of them, when the log can change one
	queriesHeld bool               // queries holds the whole table
	// ACL (acl.go): every policy when the log has an ACL entry; the tokens
	// the entries name, by SecretID (tokensAll: the whole table, tests).
	policies      map[string]*rowRec // by lower-cased ID
	tokens        map[string]*rowRec // by SecretID
	aclHeld       bool
	tokensAll     bool
	tokensHeld    map[string]bool // SecretIDs
	accessorsHeld map[string]bool // lower-cased AccessorIDs
	// Config entries (configentry.go): all of them when the log writes one.
	configs     map[string]*ceRec // by lower-cased kind/name
	configsHeld bool
	configGraph bool // the snapshot has an entry of a kind in graphKinds
	// The servers' bookkeeping tables (meta.go), whole when the log writes them.
	rows     map[decode.MessageType]map[string]*rowRec
	rowsHeld map[decode.MessageType]bool

	changed map[decode.MessageType]bool
	undo    []func() // in a transaction: how to take back each change
	// refusal is the error of Consul's state store that made the entry
	// being applied change nothing (a session on a missing node, a lock
	// with an invalid session, a registration on a missing service): the
	// same as Consul's, unless an entry skipped before it (BestEffort)
	// would have made it succeed.
	refusal error

	// known are the base records loaded into the tables above, by type and
	// identity: the output takes them from the tables (changed, deleted or
	// as they were), every other base record as it streams by.
	known map[decode.MessageType]map[string]bool
}

func newState() *state {
	s := &state{
		kv: map[string]*kvRec{}, tombs: map[string]*tombRec{}, sessions: map[string]*sessRec{},
		index: map[string]*indexRec{}, cat: newCatalog(),
		queries: map[string]*rowRec{}, queriesHeld: true,
		policies: map[string]*rowRec{}, tokens: map[string]*rowRec{}, aclHeld: true, tokensAll: true,
		configs: map[string]*ceRec{}, configsHeld: true,
		rows: map[decode.MessageType]map[string]*rowRec{}, rowsHeld: map[decode.MessageType]bool{},
		changed: map[decode.MessageType]bool{},
		known: map[decode.MessageType]map[string]bool{decode.TypeKVS: {}, decode.TypeTombstone: {}, decode.TypeSession: {},
			decode.TypeIndex: {}, decode.TypeRegister: {}, decode.TypeCoordinateBatchUpdate: {}, decode.TypePreparedQuery: {},
			decode.TypeACLPolicy: {}, decode.TypeACLToken: {}, decode.TypeConfigEntry: {}},
	}
	for _, t := range rowTables {
		s.rows[t], s.rowsHeld[t], s.known[t] = map[string]*rowRec{}, true, map[string]bool{}
	}
	return s
}

// load takes one record of the base snapshot if the replay can need it.
func (s *state) load(rec *decode.Record, in *interest) error {
	switch rec.Type {
	case decode.TypeKVS, decode.TypeTombstone:
		if !in.wantKV(rec) {
			return nil
		}
	case decode.TypeRegister:
		return s.cat.loadRegister(rec, in, s.known[rec.Type])
	case decode.TypeCoordinateBatchUpdate:
		node, ok := decode.ValueAt(rec.Value(), 0, "Node")
		if !ok {
			return nil // the typed check reports it
		}
		v, err := decode.DecodeAll(node)
		if err != nil {
			return nil
		}
		key := strings.ToLower(v.String())
		if s.cat.nodes[key] == nil && !in.coordNodes[key] {
			return nil
		}
		k, err := decode.Keys(rec)
		if err != nil {
			return err
		}
		seg := ""
		if raw, ok := decode.ValueAt(rec.Value(), 0, "Segment"); ok {
			if sv, err := decode.DecodeAll(raw); err == nil {
				seg = sv.String()
			}
		}
		s.cat.coords[key] = append(s.cat.coords[key], coordRec{id: k.Identity, key: coordKey(v.String(), seg), raw: append([]byte(nil), rec.Raw...)})
		s.known[rec.Type][k.Identity] = true
		return nil
	case decode.TypeServiceVirtualIP:
		if id, err := decode.Identity(rec); err == nil {
			s.cat.vips[strings.ToLower(id)] = true
		}
		return nil
	case decode.TypeConfigEntry:
		return s.loadConfigEntry(rec, in)
	case decode.TypeAutopilot, decode.TypeFederationState, decode.TypeSystemMetadata,
		decode.TypeConnectCA, decode.TypeConnectCAProviderState, decode.TypeConnectCAConfig, decode.TypeIntention:
		if !in.all && !in.rows[rec.Type] {
			return nil
		}
		return s.loadRow(rec)
	case decode.TypeSession:
		// Skip, before any typed decode, the sessions no entry can touch:
		// those it names and those of the nodes it names (a node or check
		// change can destroy them).
		if !in.all {
			id, err := decode.Identity(rec)
			if err != nil {
				return err
			}
			if !in.sessions[id] {
				node, ok := decode.ValueAt(rec.Value(), "Node")
				if !ok {
					return nil
				}
				v, err := decode.DecodeAll(node)
				if err != nil || s.cat.nodes[strings.ToLower(v.String())] == nil {
					return nil
				}
				in.sessions[id] = true // so are the keys it holds, the queries bound to it
			}
		}
	case decode.TypePreparedQuery:
		if !in.all && !in.queries {
			return nil
		}
		return s.loadRow(rec)
	case decode.TypeACLPolicy:
		if !in.all && !in.acl {
			return nil
		}
		return s.loadRow(rec)
	case decode.TypeACLToken:
		if !in.all {
			acc, sec := "", ""
			if raw, ok := decode.ValueAt(rec.Value(), "AccessorID"); ok && isStr(raw) {
				v, _ := decode.DecodeAll(raw)
				acc = strings.ToLower(v.String())
			}
			if raw, ok := decode.ValueAt(rec.Value(), "SecretID"); ok && isStr(raw) {
				v, _ := decode.DecodeAll(raw)
				sec = v.String()
			}
			if !in.tokenSecrets[sec] && !in.tokenAccessors[acc] {
				return nil
			}
		}
		return s.loadRow(rec)
	case decode.TypeIndex:
	default:
		return nil
	}
	raw := append([]byte(nil), rec.Raw...)
	d, err := decode.DecodeRecord(rec)
	if err != nil {
		return err
	}
	switch x := d.Data.(type) {
	case *decode.DirEntry:
		if x.Namespace != "" || x.Partition != "" || len(x.Extra) > 0 {
			return fmt.Errorf("%w: %s record %q has Enterprise or unknown fields", errNotCE, rec.Type, x.Key)
		}
		if rec.Type == decode.TypeKVS {
			s.kv[x.Key] = &kvRec{raw: raw, e: dirEntry(x)}
		} else {
			s.tombs[x.Key] = &tombRec{raw: raw, key: x.Key, index: x.ModifyIndex}
		}
		s.known[rec.Type][x.Key] = true
	case *decode.Session:
		es, err := session(x)
		if err != nil {
			return err
		}
		s.sessions[x.ID] = &sessRec{raw: raw, s: es}
		s.known[rec.Type][x.ID] = true
	case *decode.IndexEntry: // one row per state-store table, node and service name: small
		s.index[strings.ToLower(x.Key)] = &indexRec{raw: raw, key: x.Key, value: x.Value}
		s.known[rec.Type][x.Key] = true
		if strings.HasPrefix(x.Key, "peer.") {
			s.cat.peerIndexes = true
		}
	}
	return nil
}

var errNotCE = fmt.Errorf("not reproducible")

func dirEntry(x *decode.DirEntry) encode.DirEntry {
	return encode.DirEntry{CreateIndex: x.CreateIndex, ModifyIndex: x.ModifyIndex, LockIndex: x.LockIndex,
		Key: x.Key, Flags: x.Flags, Value: x.Value, Session: x.Session}
}

func session(x *decode.Session) (encode.Session, error) {
	if x.Namespace != "" || x.Partition != "" || len(x.Extra) > 0 {
		return encode.Session{}, fmt.Errorf("%w: session %s has Enterprise or unknown fields", errNotCE, x.ID)
	}
	es := encode.Session{ID: x.ID, Name: x.Name, Node: x.Node, LockDelay: x.LockDelay, Behavior: x.Behavior,
		TTL: x.TTL, NodeChecks: x.NodeChecks, Checks: x.Checks, CreateIndex: x.CreateIndex, ModifyIndex: x.ModifyIndex}
	for _, sc := range x.ServiceChecks {
		id, _ := sc["ID"].(string)
		ns, _ := sc["Namespace"].(string)
		if len(sc) > 2 || ns != "" {
			return encode.Session{}, fmt.Errorf("%w: session %s has a service check with fields this replay does not write", errNotCE, x.ID)
		}
		es.ServiceChecks = append(es.ServiceChecks, encode.ServiceCheck{ID: id, Namespace: ns})
	}
	return es, nil
}

// --- changes, each undoable inside a transaction ---

// set is every change replay makes to a table: m[key] = v, or delete when
// del, recorded inside a transaction (s.undo) so that it can be taken
// back, and t (when not 0xff) marked changed.
func set[V any](s *state, t decode.MessageType, m map[string]V, key string, v V, del bool) {
	old, had := m[key]
	if s.undo != nil {
		s.undo = append(s.undo, func() {
			if had {
				m[key] = old
			} else {
				delete(m, key)
			}
		})
	}
	if del {
		delete(m, key)
	} else {
		m[key] = v
	}
	if t != noTable {
		s.changed[t] = true
	}
}

// noTable: a change to what replay keeps beside the tables.
const noTable decode.MessageType = 0xff

func (s *state) putKV(key string, r *kvRec) { set(s, decode.TypeKVS, s.kv, key, r, r == nil) }

func (s *state) putTomb(key string, r *tombRec) {
	set(s, decode.TypeTombstone, s.tombs, key, r, r == nil)
}

func (s *state) putSession(id string, r *sessRec) {
	set(s, decode.TypeSession, s.sessions, id, r, r == nil)
}

// setIndex is tx.Insert(tableIndex, &IndexEntry{table, idx}).
func (s *state) setIndex(table string, idx uint64) {
	s.putIndex(table, &indexRec{key: table, value: idx})
}

// putIndex sets (r) or deletes (nil) the Index row key.
func (s *state) putIndex(key string, r *indexRec) {
	set(s, decode.TypeIndex, s.index, strings.ToLower(key), r, r == nil)
}

// --- KV (kvs.go, kvs_oss.go) ---

func equalKV(a, b *encode.DirEntry) bool {
	return a.LockIndex == b.LockIndex && a.Key == b.Key && a.Flags == b.Flags && bytes.Equal(a.Value, b.Value) && a.Session == b.Session
}

// kvsSet is kvsSetTxn.
func (s *state) kvsSet(idx uint64, e encode.DirEntry, updateSession bool) {
	existing := s.kv[e.Key]
	if existing != nil {
		e.CreateIndex = existing.e.CreateIndex
	} else {
		e.CreateIndex = idx
	}
	if !updateSession {
		if existing != nil {
			e.Session = existing.e.Session
		} else {
			e.Session = ""
		}
	}
	if existing != nil && equalKV(&existing.e, &e) {
		return
	}
	e.ModifyIndex = idx
	s.putKV(e.Key, &kvRec{e: e})
	s.setIndex("kvs", idx)
}

// kvsDelete is kvsDeleteTxn.
func (s *state) kvsDelete(idx uint64, key string) {
	if s.kv[key] == nil {
		return
	}
	s.graveyardInsert(idx, key)
	s.putKV(key, nil)
	s.setIndex("kvs", idx)
}

// graveyardInsert is Graveyard.InsertTxn.
func (s *state) graveyardInsert(idx uint64, key string) {
	s.putTomb(key, &tombRec{key: key, index: idx})
	s.setIndex("tombstones", idx)
}

// kvsDeleteCAS is kvsDeleteCASTxn.
func (s *state) kvsDeleteCAS(idx, cidx uint64, key string) bool {
	e := s.kv[key]
	if e == nil || e.e.ModifyIndex != cidx {
		return e == nil
	}
	s.kvsDelete(idx, key)
	return true
}

// kvsSetCAS is kvsSetCASTxn.
func (s *state) kvsSetCAS(idx uint64, e encode.DirEntry) bool {
	existing := s.kv[e.Key]
	if e.ModifyIndex == 0 && existing != nil {
		return false
	}
	if e.ModifyIndex != 0 && existing == nil {
		return false
	}
	if existing != nil && e.ModifyIndex != 0 && e.ModifyIndex != existing.e.ModifyIndex {
		return false
	}
	s.kvsSet(idx, e, false)
	return true
}

// kvsDeleteTree is kvsDeleteTreeTxn (memdb's DeletePrefix on the id index).
func (s *state) kvsDeleteTree(idx uint64, prefix string) {
	deleted := false
	for k := range s.kv {
		if strings.HasPrefix(k, prefix) {
			s.putKV(k, nil)
			deleted = true
		}
	}
	if deleted {
		if prefix != "" {
			s.graveyardInsert(idx, prefix)
		}
		s.setIndex("kvs", idx)
	}
}

// kvsLock is kvsLockTxn.
func (s *state) kvsLock(idx uint64, e encode.DirEntry) (bool, error) {
	if e.Session == "" {
		return false, fmt.Errorf("missing session")
	}
	if s.sessions[e.Session] == nil {
		return false, fmt.Errorf("invalid session %q", e.Session)
	}
	if existing := s.kv[e.Key]; existing != nil {
		switch {
		case existing.e.Session == e.Session:
			e.CreateIndex, e.LockIndex = existing.e.CreateIndex, existing.e.LockIndex
		case existing.e.Session != "":
			return false, nil
		default:
			e.CreateIndex, e.LockIndex = existing.e.CreateIndex, existing.e.LockIndex+1
		}
	} else {
		e.CreateIndex, e.LockIndex = idx, 1
	}
	e.ModifyIndex = idx
	s.kvsSet(idx, e, true)
	return true, nil
}

// kvsUnlock is kvsUnlockTxn.
func (s *state) kvsUnlock(idx uint64, e encode.DirEntry) (bool, error) {
	if e.Session == "" {
		return false, fmt.Errorf("missing session")
	}
	existing := s.kv[e.Key]
	if existing == nil || existing.e.Session != e.Session {
		return false, nil
	}
	e.Session = ""
	e.LockIndex, e.CreateIndex, e.ModifyIndex = existing.e.LockIndex, existing.e.CreateIndex, idx
	s.kvsSet(idx, e, true)
	return true, nil
}

// reapTombstones is Graveyard.ReapTxn (no index update).
func (s *state) reapTombstones(reapIndex uint64) {
	for k, t := range s.tombs {
		if t.index <= reapIndex {
			s.putTomb(k, nil)
		}
	}
}

// --- sessions (session.go, session_oss.go) ---

// sessionCreate is sessionCreateTxn; an error means Consul's FSM returned
// one and changed nothing.
func (s *state) sessionCreate(idx uint64, sess encode.Session) error {
	if sess.ID == "" {
		return fmt.Errorf("missing session ID")
	}
	switch sess.Behavior {
	case "":
		sess.Behavior = "release"
	case "release", "delete":
	default:
		return fmt.Errorf("invalid session behavior %q", sess.Behavior)
	}
	sess.CreateIndex, sess.ModifyIndex = idx, idx
	node := s.cat.nodes[strings.ToLower(sess.Node)]
	if node == nil {
		return fmt.Errorf("missing node %q", sess.Node)
	}
	for _, id := range sessionCheckIDs(&sess) {
		ch := node.checks[strings.ToLower(id)]
		if ch == nil {
			return fmt.Errorf("missing check %q", id)
		}
		if ch.status == "critical" {
			return fmt.Errorf("check %q is critical", id)
		}
	}
	s.putSession(sess.ID, &sessRec{s: sess})
	s.setIndex("sessions", idx)
	return nil
}

// sessionDestroy is deleteSessionTxn: the session, then the keys it holds
// (released or deleted as its behaviour says), then the prepared queries
// bound to it. It returns false when those queries are not held (the log
// range changes no query, session or catalog, so they were not loaded):
// never the case when replay applies a destroy.
func (s *state) sessionDestroy(idx uint64, id string) bool {
	sess := s.sessions[id]
	if sess == nil {
		return true
	}
	if !s.queriesHeld {
		return false
	}
	s.putSession(id, nil)
	s.setIndex("sessions", idx)
	var held []string
	for k, r := range s.kv {
		if r.e.Session == id {
			held = append(held, k)
		}
	}
	for _, k := range held {
		switch sess.s.Behavior {
		case "delete":
			s.kvsDelete(idx, k)
		default: // release
			e := s.kv[k].e
			e.Session = ""
			s.kvsSet(idx, e, true)
		}
	}
	var bound []string
	for key, q := range s.queries {
		if strings.EqualFold(q.str("Session"), id) {
			bound = append(bound, key)
		}
	}
	sort.Strings(bound)
	for _, key := range bound {
		s.preparedQueryDelete(idx, key)
	}
	return true
}

// sessionCheckIDs is Session.CheckIDs: the checks a session is bound to.
func sessionCheckIDs(x *encode.Session) []string {
	ids := append(append([]string(nil), x.Checks...), x.NodeChecks...)
	for _, c := range x.ServiceChecks {
		ids = append(ids, c.ID)
	}
	return ids
}

// refused notes that the entry being applied failed in the state store.
func (s *state) refused(err error) { s.refusal = err }
