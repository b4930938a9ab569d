package replay

import (
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/raftlog"
)

// apply applies one log entry. It returns "" when the entry's effect was
// reproduced exactly (no effect at all counts), else why not: the entry
// then changed nothing here.
func (s *state) apply(e *raftlog.Entry) string {
	if e.Err != "" {
		return "could not be decoded: " + e.Err
	}
	mt, isCmd := e.MessageType()
	if !isCmd {
		return "" // noop, barrier, configuration: no state-store effect
	}
	if e.Chunk != "" && e.Body() == nil {
		return "" // a part of a chunked request: the last part applies it
	}
	return s.applyRequest(e.Index, mt, e.Body())
}

// applyRequest applies the request body (after the type byte) of message
// type mt at index idx.
func (s *state) applyRequest(idx uint64, mt decode.MessageType, body []byte) string {
	switch mt {
	case decode.TypeKVS:
		v, err := decode.DecodeAll(body)
		if err != nil {
			return err.Error()
		}
		ent, why := dirEntOf(body, "DirEnt")
		if why != "" {
			return why
		}
		return s.kvOp(idx, str(&v, "Op"), ent, false)
	case decode.TypeTombstone:
		v, err := decode.DecodeAll(body)
		if err != nil {
			return err.Error()
		}
		if str(&v, "Op") != "reap" {
			return fmt.Sprintf("tombstone operation %q", str(&v, "Op"))
		}
		ri, ok := v.Get("ReapIndex")
		var n uint64
		if ok {
			n, ok = ri.AsUint()
		}
		if !ok {
			return "tombstone reap without ReapIndex"
		}
		s.reapTombstones(n)
		return ""
	case decode.TypeSession:
		v, err := decode.DecodeAll(body)
		if err != nil {
			return err.Error()
		}
		raw, ok := decode.ValueAt(body, "Session")
		if !ok {
			return "session request without Session"
		}
		d, err := decode.DecodeValueOf(decode.TypeSession, raw)
		if err != nil {
			return err.Error()
		}
		sess, err := session(d.Data.(*decode.Session))
		if err != nil {
			return err.Error()
		}
		switch str(&v, "Op") {
		case "create":
			if err := s.sessionCreate(idx, sess); err != nil {
				s.refused(err) // Consul's error too: nothing changes
			}
		case "destroy":
			if !s.sessionDestroy(idx, sess.ID) {
				return "destroying session " + sess.ID + " deletes prepared queries that were not loaded"
			}
		default:
			return fmt.Sprintf("session operation %q", str(&v, "Op"))
		}
		return ""
	case decode.TypeTxn:
		return s.txn(idx, body)
	case decode.TypeRegister:
		return s.register(idx, body)
	case decode.TypeDeregister:
		return s.deregister(idx, body)
	case decode.TypeCoordinateBatchUpdate:
		return s.coordinateBatchUpdate(idx, body)
	case decode.TypePreparedQuery:
		return s.preparedQuery(idx, body)
	case decode.TypeACLPolicy, decode.TypeACLPolicyDelete, decode.TypeACLToken, decode.TypeACLTokenDelete, decode.TypeACLBootstrap:
		return s.acl(idx, mt, body)
	case decode.TypeConfigEntry:
		return s.configEntry(idx, body)
	case decode.TypeAutopilot, decode.TypeFederationState, decode.TypeSystemMetadata:
		return s.bookkeepingWrite(idx, mt, body)
	case decode.TypeConnectCA:
		return s.connectCA(idx, body)
	case decode.TypeIntention:
		return s.intention(idx, body)
	case decode.TypeConnectCALeaf:
		v, err := decode.DecodeAll(body)
		if err != nil {
			return err.Error()
		}
		if op := str(&v, "Op"); op != "increment-index" {
			s.refused(fmt.Errorf("invalid CA leaf operation %q", op))
			return ""
		}
		// CALeafSetIndex(index, index) updates the connect-ca-leaf-certs row
		// in a transaction it never commits (1.13 and 1.14): no effect, and
		// Consul's snapshots have no such row.
		return ""
	}
	return fmt.Sprintf("%s entries are not replayed", mt)
}

// kvOp applies one KV operation (a KVSRequest, or a transaction's KV op
// when inTxn: then a failed CAS, lock or check fails the transaction).
// It returns "" when done, errTxnFailed text when the transaction must
// roll back, or why the operation is not reproducible.
func (s *state) kvOp(idx uint64, verb string, ent encode.DirEntry, inTxn bool) string {
	ok := true
	var err error
	switch verb {
	case "set":
		s.kvsSet(idx, ent, false)
	case "delete":
		s.kvsDelete(idx, ent.Key)
	case "delete-cas":
		ok = s.kvsDeleteCAS(idx, ent.ModifyIndex, ent.Key)
	case "delete-tree":
		s.kvsDeleteTree(idx, ent.Key)
	case "cas":
		ok = s.kvsSetCAS(idx, ent)
	case "lock":
		ok, err = s.kvsLock(idx, ent)
	case "unlock":
		ok, err = s.kvsUnlock(idx, ent)
	case "get", "get-tree", "check-index", "check-session", "check-not-exists":
		if !inTxn {
			return fmt.Sprintf("KV operation %q outside a transaction", verb)
		}
		ok = s.kvCheck(verb, ent)
	default:
		return fmt.Sprintf("KV operation %q", verb)
	}
	if inTxn && (!ok || err != nil) {
		return txnFailed
	}
	if err != nil {
		s.refused(err) // Consul's error too (an invalid session): nothing changes
	}
	return ""
}

// kvCheck is the read verbs of txnKVS: they fail a transaction when the
// key is missing (get), exists (check-not-exists), or does not match.
func (s *state) kvCheck(verb string, ent encode.DirEntry) bool {
	cur := s.kv[ent.Key]
	switch verb {
	case "get":
		return cur != nil
	case "get-tree":
		return true
	case "check-not-exists":
		return cur == nil
	case "check-index":
		return cur != nil && cur.e.ModifyIndex == ent.ModifyIndex
	case "check-session":
		return cur != nil && cur.e.Session == ent.Session
	}
	return false
}

const txnFailed = "\x00txn failed"

// txn applies a TxnRequest: every operation or none (TxnRW aborts the
// whole memdb transaction on the first error). Operations other than KV
// are not replayed.
func (s *state) txn(idx uint64, body []byte) string {
	v, err := decode.DecodeAll(body)
	if err != nil {
		return err.Error()
	}
	ops, ok := v.Get("Ops")
	if !ok || ops.Kind != decode.Array {
		return "transaction without Ops"
	}
	for i := range ops.Elems {
		op := &ops.Elems[i]
		for _, k := range []string{"Node", "Service", "Check", "Session", "Intention"} {
			if x, ok := op.Get(k); ok && x.Kind != decode.Nil {
				return fmt.Sprintf("transaction operation %d is a %s operation (not replayed)", i, k)
			}
		}
		if x, ok := op.Get("KV"); !ok || x.Kind == decode.Nil {
			return fmt.Sprintf("transaction operation %d is not a KV operation", i)
		}
	}
	s.undo = []func(){}
	defer func() { s.undo = nil }()
	rollback := func() {
		for i := len(s.undo) - 1; i >= 0; i-- {
			s.undo[i]()
		}
	}
	for i := range ops.Elems {
		kv, _ := ops.Elems[i].Get("KV")
		ent, why := dirEntOf(body, "Ops", i, "KV", "DirEnt")
		if why == "" {
			why = s.kvOp(idx, str(kv, "Verb"), ent, true)
		}
		switch why {
		case "":
		case txnFailed:
			rollback() // Consul's FSM aborts the transaction: nothing changes
			return ""
		default:
			rollback()
			return fmt.Sprintf("transaction operation %d: %s", i, why)
		}
	}
	return ""
}

// dirEntOf decodes the DirEntry at path in body.
func dirEntOf(body []byte, path ...any) (encode.DirEntry, string) {
	raw, ok := decode.ValueAt(body, path...)
	if !ok {
		return encode.DirEntry{}, fmt.Sprintf("no %v in the request", path)
	}
	d, err := decode.DecodeValueOf(decode.TypeKVS, raw)
	if err != nil {
		return encode.DirEntry{}, err.Error()
	}
	x := d.Data.(*decode.DirEntry)
	if x.Namespace != "" || x.Partition != "" || len(x.Extra) > 0 {
		return encode.DirEntry{}, "KV entry with Enterprise or unknown fields"
	}
	return dirEntry(x), ""
}

func str(v *decode.Value, key string) string {
	x, ok := v.Get(key)
	if !ok {
		return ""
	}
	return x.String()
}
