package raftlog_test

import (
	"bytes"
	"encoding/json"
	fixturepkg "github.com/snaptool/snaptool/internal/fixture"
	"os"
	"path/filepath"
	"testing"

	"github.com/snaptool/snaptool/raftlog"
)

const fixtureDir = "../fixtures/consul-1.13.9/raftlog"

// untar unpacks the raft.tar.gz at archive into a temporary data dir.
func untar(t *testing.T, archive string) string {
	return fixturepkg.UnpackRaft(t, filepath.Dir(archive), t.TempDir())
}

type fixtureWrite struct {
	N                int     `json:"n"`
	Desc             string  `json:"desc"`
	Token            string  `json:"token"`
	TokenAccessor    string  `json:"token_accessor"`
	TokenDescription string  `json:"token_description"`
	Method           string  `json:"method"`
	Path             string  `json:"path"`
	Index            uint64  `json:"index"`
	MsgType          *string `json:"msg_type"`
}

// TestRealConsulLog reads the raft log of a real Consul 1.13.9 server
// (fixtures/consul-1.13.9/raftlog, made by make fixtures): every scripted
// write is at its recorded index with its message type, and every request
// that carries a token names the writer's token description, resolved
// through the data dir's raft snapshot and the log's own token writes.
func TestRealConsulLog(t *testing.T) {
	var writes []fixtureWrite
	b, err := os.ReadFile(filepath.Join(fixtureDir, "writes.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &writes); err != nil {
		t.Fatal(err)
	}
	dir := untar(t, filepath.Join(fixtureDir, "raft.tar.gz"))
	l, err := raftlog.Open(dir, raftlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.SnapshotPath == "" || l.SnapshotTokens == 0 {
		t.Errorf("data-dir snapshot not used: %v", l.SnapshotErr)
	}
	entries := map[uint64]raftlog.Entry{}
	var out bytes.Buffer
	s := l.Scan(raftlog.Filter{})
	for s.Next() {
		e := *s.Entry()
		raftlog.WriteText(&out, &e)
		raftlog.WriteJSON(&out, &e)
		if e.Err != "" {
			t.Errorf("index %d: %s", e.Index, e.Err)
		}
		entries[e.Index] = e
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	carriesToken := map[string]bool{"KVS": true, "Session": true, "Txn": true, "Register": true, "Deregister": true, "PreparedQuery": true, "ConfigEntry": true}
	checked := 0
	for _, w := range writes {
		if w.MsgType == nil {
			continue // consul snapshot save: no log entry
		}
		e, ok := entries[w.Index]
		if !ok {
			t.Errorf("step %d (%s): no entry at index %d", w.N, w.Desc, w.Index)
			continue
		}
		if e.MsgType != *w.MsgType {
			t.Errorf("step %d (%s): index %d is %s, want %s", w.N, w.Desc, w.Index, e.MsgType, *w.MsgType)
		}
		if len(e.Targets) == 0 {
			t.Errorf("step %d (%s): index %d has no targets", w.N, w.Desc, w.Index)
		}
		if carriesToken[e.MsgType] {
			if e.Token == nil || e.Token.Description != w.TokenDescription || e.Token.Accessor != w.TokenAccessor {
				t.Errorf("step %d (%s): index %d by %+v, want %q (%s)", w.N, w.Desc, w.Index, e.Token, w.TokenDescription, w.TokenAccessor)
			}
		}
		checked++
	}
	// The fixture's SecretIDs (README's table) never appear.
	for _, secret := range []string{"5e1f0c3a-9d2b-4c7e-8a61-0f3b2d4c6e8a", "d0000000-0000-4000-8000-00000000000"} {
		if bytes.Contains(out.Bytes(), []byte(secret)) {
			t.Errorf("secret %s in the output", secret)
		}
	}
	if checked != 62 {
		t.Errorf("checked %d writes, want 62", checked)
	}
}
