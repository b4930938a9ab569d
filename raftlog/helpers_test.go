package raftlog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// Consul 1.13's request wrappers (agent/structs), with their Go field names.
// Records inside them are encode's mirrors of Consul's structs.

type WriteRequest struct{ Token string }

type KVSRequest struct {
	Datacenter string
	Op         string
	DirEnt     encode.DirEntry
	WriteRequest
}

type DeregisterRequest struct {
	Datacenter string
	Node       string
	ServiceID  string
	CheckID    string
	WriteRequest
}

type SessionRequest struct {
	Datacenter string
	Op         string
	Session    encode.Session
	WriteRequest
}

type TxnKVOp struct {
	Verb   string
	DirEnt encode.DirEntry
}

type Node struct {
	ID      string
	Node    string
	Address string
}

type TxnNodeOp struct {
	Verb string
	Node Node
}

type TxnServiceOp struct {
	Verb    string
	Node    string
	Service encode.NodeService
}

type TxnOp struct {
	KV      *TxnKVOp
	Node    *TxnNodeOp
	Service *TxnServiceOp
	Check   *struct{}
	Session *struct{}
}

type TxnRequest struct {
	Datacenter string
	Ops        []TxnOp
	WriteRequest
}

type ACLTokenBatchSetRequest struct {
	Tokens               []*encode.ACLToken
	CAS                  bool
	AllowMissingLinks    bool
	ProhibitUnprivileged bool
	FromReplication      bool
}

type ACLPolicy struct {
	ID          string
	Name        string
	Description string
	Rules       string
	Hash        []byte
	CreateIndex uint64
	ModifyIndex uint64
}

type ACLPolicyBatchSetRequest struct{ Policies []*ACLPolicy }

type PreparedQuery struct {
	ID      string
	Name    string
	Service struct{ Service string }
	Token   string // the query's stored token: a secret too
}

type PreparedQueryRequest struct {
	Datacenter string
	Op         string
	Query      *PreparedQuery
	WriteRequest
}

type CARoot struct {
	ID         string
	Name       string
	RootCert   string
	SigningKey string
	Active     bool
}

type CARequest struct {
	Op         string
	Datacenter string
	Index      uint64
	Roots      []*CARoot
	Config     map[string]any
	WriteRequest
}

// configEntryRequest encodes as Consul's ConfigEntryRequest.MarshalBinary:
// the kind, then the request, both msgpack, carried as one str.
func configEntryRequest(t *testing.T, kind, op string, entry map[string]any, token string) []byte {
	t.Helper()
	var inner bytes.Buffer
	enc := codec.NewEncoder(&inner, encode.NewHandle())
	if err := enc.Encode(kind); err != nil {
		t.Fatal(err)
	}
	req := struct {
		Op         string
		Datacenter string
		Entry      map[string]any
		WriteRequest
	}{op, "dc1", entry, WriteRequest{token}}
	if err := enc.Encode(req); err != nil {
		t.Fatal(err)
	}
	return cmd(t, decode.TypeConfigEntry, inner.Bytes())
}

// cmd encodes a Consul command entry: the type byte, then the request as
// Consul's structs.Encode writes it.
func cmd(t testing.TB, mt decode.MessageType, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte(byte(mt))
	if err := codec.NewEncoder(&b, encode.NewHandle()).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// writeDB writes logs with raft-boltdb v2's own writer (the store Consul
// 1.13/1.14 use) into dir/raft/raft.db and returns the data dir.
func writeDB(t testing.TB, dir string, logs []*raft.Log) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "raft"), 0o700); err != nil {
		t.Fatal(err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft", "raft.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i, l := range logs {
		if l.Index == 0 {
			l.Index = uint64(i + 1)
		}
		if l.Term == 0 {
			l.Term = 2
		}
		if l.AppendedAt.IsZero() {
			l.AppendedAt = t0.Add(time.Duration(l.Index) * time.Second)
		}
	}
	if err := store.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := store.SetUint64([]byte("CurrentTerm"), 2); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeDataDirSnapshot writes raft/snapshots/<term>-<index>-<ms>/ holding
// the given ACL tokens.
func writeDataDirSnapshot(t *testing.T, dir string, index uint64, tokens ...encode.ACLToken) {
	t.Helper()
	var state bytes.Buffer
	w, err := encode.NewStateWriter(&state, index)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tokens {
		if err := w.WriteRecord(decode.TypeACLToken, &tokens[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	sdir := filepath.Join(dir, "raft", "snapshots", "2-"+itoa(index)+"-1000")
	if err := os.MkdirAll(sdir, 0o700); err != nil {
		t.Fatal(err)
	}
	meta, err := encode.MetaJSON(raft.SnapshotMeta{Version: 1, ID: "2-" + itoa(index) + "-1000", Index: index, Term: 2, Size: int64(state.Len())})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sdir, "meta.json"), meta, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sdir, "state.bin"), state.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func itoa(u uint64) string { return strconv.FormatUint(u, 10) }
