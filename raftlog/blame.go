package raftlog

import (
	"fmt"
	"strings"
	"time"

	"github.com/snaptool/snaptool/decode"
)

// Touch is the log entry that last named a record among its targets.
type Touch struct {
	Index uint64
	Time  time.Time // zero when raft did not record AppendedAt
	// Entry is the message type and operation ("KVS delete-tree",
	// "Txn kv:set").
	Entry string
	// By is the caller's label (Who.Label), "" when the request carries no token.
	By string
}

// Blamer answers which log entry last touched a record, for diff --log.
// Memory: one Touch per distinct identity the scanned entries name, plus
// one per delete-tree prefix.
type Blamer struct {
	// Since and Until are the index range scanned (inclusive).
	Since, Until uint64
	last         map[[2]string]Touch
	trees        []treeTouch
	log          *Log // open, for At
}

type treeTouch struct {
	prefix string
	t      Touch
}

// Blamer scans the entries with index in [since, until] and records, per
// (record type, identity) of decode.Identity, the last entry naming it. A
// session destroy also touches the keys the session held locked (it
// releases or deletes them): the scan follows lock and unlock from the
// start of the log to know them. The Blamer reads the log again for
// Lookup's exact answers: close it (it does not close l).
func (l *Log) Blamer(since, until uint64) (*Blamer, error) {
	b := &Blamer{Since: since, Until: until, last: map[[2]string]Touch{}, log: l}
	holders := map[string]map[string]bool{} // session -> keys it locks
	s := l.Scan(Filter{UntilIndex: until})
	s.Tree = false
	defer s.Close()
	for s.Next() {
		e := s.Entry()
		mt, _ := e.MessageType()
		lockOp := func(op, key string, path ...any) {
			switch op {
			case "lock":
				raw, ok := decode.ValueAt(e.Body(), path...)
				if !ok {
					return
				}
				v, err := decode.DecodeAll(raw)
				if err != nil || v.String() == "" {
					return
				}
				if holders[v.String()] == nil {
					holders[v.String()] = map[string]bool{}
				}
				holders[v.String()][key] = true
			case "unlock":
				for _, keys := range holders {
					delete(keys, key)
				}
			}
		}
		for i, t := range e.Targets {
			switch {
			case mt == decode.TypeKVS:
				lockOp(e.Op, t.ID, "DirEnt", "Session")
			case mt == decode.TypeTxn && t.Type == "KVS":
				lockOp(strings.TrimPrefix(t.Op, "kv:"), t.ID, "Ops", i, "KV", "DirEnt", "Session")
			}
		}
		if e.Index < since {
			continue
		}
		if mt == decode.TypeSession && e.Op == "destroy" {
			for _, t := range e.Targets {
				for key := range holders[t.ID] {
					tc := Touch{Index: e.Index, Time: e.AppendedAt, Entry: "Session destroy " + t.ID + " (held the lock)"}
					if e.Token != nil {
						tc.By = e.Token.Label()
					}
					b.last[[2]string{"KVS", key}] = tc
				}
				delete(holders, t.ID)
			}
		}
		for _, t := range e.Targets {
			tc := touchOf(e, t.Op)
			if t.Type == "KVS" && strings.HasSuffix(tc.Entry, "delete-tree") {
				b.trees = append(b.trees, treeTouch{t.ID, tc})
				continue
			}
			if t.ID != "" {
				b.last[[2]string{t.Type, t.ID}] = tc
			}
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", l.Path, err)
	}
	return b, nil
}

// touchOf is the Touch of entry e, with the operation op when the entry
// has one per target (transactions), else the entry's.
func touchOf(e *Entry, op string) Touch {
	if op == "" {
		op = e.Op
	}
	entry := e.MsgType
	if entry == "" {
		entry = e.LogType
	}
	if op != "" {
		entry += " " + op
	}
	tc := Touch{Index: e.Index, Time: e.AppendedAt, Entry: entry}
	if e.Token != nil {
		tc.By = e.Token.Label()
	}
	return tc
}

// Lookup returns the entry that last changed the record of type typ (the
// decode.MessageType name) and identity id. modifyIndex is the record's
// own ModifyIndex (its largest; a Tombstone's deletion index), 0 when it
// has none: when it lies in the scanned range, the entry at that index is
// the answer, exactly, whatever it names (a catalog write that destroyed a
// session released its locks; a node update rewrote its services' records).
// Otherwise it is the last entry naming the record: a Tombstone is touched
// by the KV operations on its key; a KV key (or its tombstone) also by a
// delete-tree of a prefix of it, whichever is later.
func (b *Blamer) Lookup(typ, id string, modifyIndex uint64) (Touch, bool) {
	if modifyIndex >= b.Since && modifyIndex <= b.Until && modifyIndex != 0 {
		if t, ok := b.at(typ, id, modifyIndex); ok {
			return t, true
		}
	}
	if typ == "Tombstone" {
		typ = "KVS"
	}
	t, ok := b.last[[2]string{typ, id}]
	if typ == "KVS" {
		for _, tt := range b.trees {
			if strings.HasPrefix(id, tt.prefix) && (!ok || tt.t.Index > t.Index) {
				t, ok = tt.t, true
			}
		}
	}
	return t, ok
}

// at reads the entry at index: its Touch, with the operation of the target
// that names the record when one does.
func (b *Blamer) at(typ, id string, index uint64) (Touch, bool) {
	if b.log == nil {
		return Touch{}, false
	}
	sc := b.log.Scan(Filter{SinceIndex: index, UntilIndex: index})
	sc.Tree = false
	defer sc.Close()
	if !sc.Next() || sc.Entry().Index != index {
		return Touch{}, false
	}
	e := sc.Entry()
	if typ == "Tombstone" {
		typ = "KVS"
	}
	for _, t := range e.Targets {
		if t.Type == typ && t.ID == id {
			return touchOf(e, t.Op), true
		}
	}
	return touchOf(e, ""), true
}
