package raftlog_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/snaptool/snaptool/raftlog"
)

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

type fileState struct {
	size  int64
	mtime time.Time
	mode  os.FileMode
	sum   [32]byte
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{st.Size(), st.ModTime(), st.Mode(), sha256.Sum256(b)}
}

// TestNeverWritten reads the whole log (every entry, tokens, bounds, conf)
// and checks that raft.db is byte for byte, size and mtime what it was, also
// when the file is 0400 in a 0500 directory (root bypasses the modes, so
// the hash is the proof; bbolt's ReadOnly opens O_RDONLY and maps PROT_READ).
func TestNeverWritten(t *testing.T) {
	for _, readOnlyFile := range []bool{false, true} {
		logs, _ := scenario(t)
		dir := writeDB(t, t.TempDir(), logs)
		db := filepath.Join(dir, "raft", "raft.db")
		old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := os.Chtimes(db, old, old); err != nil {
			t.Fatal(err)
		}
		if readOnlyFile {
			if err := os.Chmod(db, 0o400); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, "raft"), 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(filepath.Join(dir, "raft"), 0o700) })
		}
		before := stateOf(t, db)
		for round := 0; round < 2; round++ {
			l, err := raftlog.Open(dir, raftlog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			s := l.Scan(raftlog.Filter{})
			n := 0
			for s.Next() {
				n++
			}
			if s.Err() != nil || n != len(logs) {
				t.Fatalf("read %d entries, %v", n, s.Err())
			}
			s.Close()
			l.Bounds()
			l.Conf()
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if after := stateOf(t, db); after != before {
			t.Errorf("read-only file %v: raft.db changed: %+v -> %+v", readOnlyFile, before, after)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, "raft"))
		if len(entries) != 1 {
			t.Errorf("raft/ holds %d entries after reading, want only raft.db", len(entries))
		}
	}
}

// TestInUse holds the lock as a running server does (bbolt read-write,
// exclusive flock) and expects ErrInUse after the lock timeout.
func TestInUse(t *testing.T) {
	logs, _ := scenario(t)
	dir := writeDB(t, t.TempDir(), logs)
	db := filepath.Join(dir, "raft", "raft.db")
	server, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = raftlog.Open(dir, raftlog.Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, raftlog.ErrInUse) {
		t.Fatalf("open of a locked raft.db: %v, want ErrInUse", err)
	}
	const msg = "raft.db is in use by a running Consul server: stop it, or copy the data dir and point snaptool at the copy"
	if got := err.Error(); len(got) < len(msg) || got[len(got)-len(msg):] != msg {
		t.Errorf("message %q", got)
	}
	server.Close()
	l, err := raftlog.Open(dir, raftlog.Options{})
	if err != nil {
		t.Fatalf("after the server stopped: %v", err)
	}
	l.Close()
}

// TestRemap scans with a remap after every few hundred bytes: the same
// entries in the same order, and the file still untouched.
func TestRemap(t *testing.T) {
	l, _ := openScenario(t, raftlog.Options{})
	read := func() []string {
		s := l.Scan(raftlog.Filter{})
		defer s.Close()
		var out []string
		for s.Next() {
			b, _ := json.Marshal(s.Entry())
			out = append(out, string(b))
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		return out
	}
	before := stateOf(t, l.Path)
	want := read()
	old := raftlog.SetMapWindow(300)
	defer raftlog.SetMapWindow(old)
	got := read()
	if !reflect.DeepEqual(got, want) || len(got) != 23 {
		t.Errorf("remapping scan: %d entries, differ from %d", len(got), len(want))
	}
	if after := stateOf(t, l.Path); after != before {
		t.Errorf("raft.db changed")
	}
}

// TestCloseWithOpenScan: closing the Log ends a scan left open (bbolt's
// Close would otherwise wait for its read transaction forever).
func TestCloseWithOpenScan(t *testing.T) {
	logs, _ := scenario(t)
	dir := writeDB(t, t.TempDir(), logs)
	l, err := raftlog.Open(dir, raftlog.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	s := l.Scan(raftlog.Filter{})
	s.Next()
	done := make(chan error, 1)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Log.Close blocked on an open scan")
	}
	if s.Next() {
		t.Errorf("scan goes on after Close")
	}
	if s2 := l.Scan(raftlog.Filter{}); s2.Next() || s2.Err() == nil {
		t.Errorf("scan of a closed log: no error")
	}
}
