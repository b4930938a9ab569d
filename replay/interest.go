package replay

import (
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/raftlog"
)

// interest is what the log entries to replay can read or change in the
// base snapshot: only those records are loaded into memory, the others
// are copied from the base snapshot as they stream by.
type interest struct {
	all      bool            // load everything (tests)
	keys     map[string]bool // KV keys named by an operation
	prefixes []string        // delete-tree prefixes: every key under them
	sessions map[string]bool // sessions named (lock, unlock, create, destroy): their records and the keys they hold
	nodes    map[string]bool // lower-cased nodes of session creates and catalog entries: their records, sessions, coordinates
	nodeIDs  map[string]bool // lower-cased node IDs of registrations (a node found by ID may be renamed)
	// coordNodes are the lower-cased nodes of coordinate updates: whether
	// they exist, and their coordinate records.
	coordNodes map[string]bool
	// queries: the log can change a prepared query (a query entry, or a
	// session destroy, directly or through the catalog): hold them all.
	queries bool
	// acl: the log has an ACL policy or token entry: hold every policy,
	// and the tokens named (by SecretID, by lower-cased AccessorID).
	acl                          bool
	configs                      bool                        // the log writes a config entry: hold them all
	rows                         map[decode.MessageType]bool // bookkeeping tables the log writes (meta.go)
	tokenSecrets, tokenAccessors map[string]bool
	maxReap                      uint64 // tombstones at or below it are reaped
}

func newInterest() *interest {
	return &interest{keys: map[string]bool{}, sessions: map[string]bool{}, nodes: map[string]bool{}, nodeIDs: map[string]bool{}, coordNodes: map[string]bool{},
		tokenSecrets: map[string]bool{}, tokenAccessors: map[string]bool{}, rows: map[decode.MessageType]bool{}}
}

// add notes what one entry's request can touch.
func (in *interest) add(e *raftlog.Entry) {
	mt, isCmd := e.MessageType()
	if !isCmd {
		return
	}
	body := e.Body()
	str := func(path ...any) string {
		raw, ok := decode.ValueAt(body, path...)
		if !ok {
			return ""
		}
		v, err := decode.DecodeAll(raw)
		if err != nil {
			return ""
		}
		return v.String()
	}
	kv := func(op string, path ...any) {
		key := str(append(path, "Key")...)
		if op == "delete-tree" || op == "get-tree" {
			in.prefixes = append(in.prefixes, key)
		} else {
			in.keys[key] = true
		}
		if s := str(append(path, "Session")...); s != "" {
			in.sessions[s] = true
		}
	}
	switch mt {
	case decode.TypeSession, decode.TypeRegister, decode.TypeDeregister, decode.TypePreparedQuery:
		in.queries = true
	}
	token := func(path ...any) {
		in.tokenSecrets[str(append(path, "SecretID")...)] = true
		in.tokenAccessors[strings.ToLower(str(append(path, "AccessorID")...))] = true
	}
	switch mt {
	case decode.TypeACLPolicy, decode.TypeACLPolicyDelete:
		in.acl = true
	case decode.TypeConfigEntry:
		in.configs = true
	case decode.TypeAutopilot, decode.TypeFederationState, decode.TypeSystemMetadata:
		in.rows[mt] = true
	case decode.TypeConnectCA:
		for _, t := range caTables {
			in.rows[t] = true
		}
	case decode.TypeIntention:
		in.rows[decode.TypeIntention], in.rows[decode.TypeSystemMetadata] = true, true
	case decode.TypeACLToken:
		in.acl = true
		if raw, ok := decode.ValueAt(body, "Tokens"); ok {
			els, _ := decode.ArrayValues(raw)
			for i := range els {
				token("Tokens", i)
			}
		}
	case decode.TypeACLBootstrap:
		in.acl = true
		token("Token")
	case decode.TypeACLTokenDelete:
		in.acl = true
		if raw, ok := decode.ValueAt(body, "TokenIDs"); ok {
			els, _ := decode.ArrayValues(raw)
			for i := range els {
				in.tokenAccessors[strings.ToLower(str("TokenIDs", i))] = true
			}
		}
	case decode.TypePreparedQuery:
		if sess := str("Query", "Session"); sess != "" {
			in.sessions[sess] = true
		}
	case decode.TypeKVS:
		kv(str("Op"), "DirEnt")
	case decode.TypeTxn:
		ops, ok := decode.ValueAt(body, "Ops")
		if !ok {
			return
		}
		els, _ := decode.ArrayValues(ops)
		for i := range els {
			kv(str("Ops", i, "KV", "Verb"), "Ops", i, "KV", "DirEnt")
		}
	case decode.TypeSession:
		in.sessions[str("Session", "ID")] = true
		in.nodes[strings.ToLower(str("Session", "Node"))] = true
	case decode.TypeRegister:
		in.nodes[strings.ToLower(str("Node"))] = true
		if id := str("ID"); id != "" {
			in.nodeIDs[strings.ToLower(id)] = true
		}
	case decode.TypeDeregister:
		in.nodes[strings.ToLower(str("Node"))] = true
	case decode.TypeCoordinateBatchUpdate:
		els, _ := decode.ArrayValues(body)
		for i := range els {
			in.coordNodes[strings.ToLower(str(i, "Node"))] = true
		}
	case decode.TypeTombstone:
		if raw, ok := decode.ValueAt(body, "ReapIndex"); ok {
			if v, err := decode.DecodeAll(raw); err == nil {
				if n, ok := v.AsUint(); ok && n > in.maxReap {
					in.maxReap = n
				}
			}
		}
	}
}

// wantKV says whether a base KVS or Tombstone record must be loaded.
func (in *interest) wantKV(rec *decode.Record) bool {
	if in.all {
		return true
	}
	f, ok := decode.KVFields(rec)
	if !ok {
		return true // let the typed decode report it
	}
	key := string(f.Key)
	if in.keys[key] || (len(f.Session) > 0 && in.sessions[string(f.Session)]) {
		return true
	}
	if rec.Type == decode.TypeTombstone && f.ModifyIndex <= in.maxReap {
		return true
	}
	for _, p := range in.prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
