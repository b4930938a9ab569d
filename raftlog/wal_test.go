package raftlog_test

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	wal "github.com/hashicorp/raft-wal"

	"github.com/snaptool/snaptool/raftlog"
)

// writeWAL writes the first n scenario logs with raft-wal's own writer
// into dir/raft/wal, in batches of three and with small segments so that
// the log spans several segment files, then truncates the head
// (DeleteRange 1..deleteHead). It runs the writer in a child process:
// raft-wal's Close does not close wal-meta.db, so its exclusive lock would
// last as long as this process.
func writeWAL(t *testing.T, dir string, n int, deleteHead uint64) string {
	t.Helper()
	wdir := filepath.Join(dir, "raft", "wal")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWALWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RAFTLOG_WAL_DIR="+wdir, "RAFTLOG_WAL_N="+strconv.Itoa(n), "RAFTLOG_WAL_DELETE="+strconv.FormatUint(deleteHead, 10))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("WAL writer: %v\n%s", err, out)
	}
	return wdir
}

// TestHelperWALWriter is writeWAL's child process; it does nothing in a
// normal run.
func TestHelperWALWriter(t *testing.T) {
	wdir := os.Getenv("RAFTLOG_WAL_DIR")
	if wdir == "" {
		return
	}
	n, _ := strconv.Atoi(os.Getenv("RAFTLOG_WAL_N"))
	deleteHead, _ := strconv.ParseUint(os.Getenv("RAFTLOG_WAL_DELETE"), 10, 64)
	logs, _ := scenario(t)
	logs = logs[:n]
	if err := os.MkdirAll(wdir, 0o700); err != nil {
		t.Fatal(err)
	}
	w, err := wal.Open(wdir, wal.WithSegmentSize(2048))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range logs {
		l.Index, l.Term = uint64(i+1), 2
		l.AppendedAt = t0.Add(time.Duration(l.Index) * time.Second)
	}
	for i := 0; i < len(logs); i += 3 {
		if err := w.StoreLogs(logs[i:min(i+3, len(logs))]); err != nil {
			t.Fatal(err)
		}
	}
	if deleteHead > 0 {
		if err := w.DeleteRange(1, deleteHead); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.SetUint64([]byte("CurrentTerm"), 2); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func dirHashes(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := e.Info()
		h := sha256.Sum256(append(b, []byte(st.ModTime().String())...))
		out[e.Name()] = h
	}
	return out
}

func TestWAL(t *testing.T) {
	logs, wants := scenario(t)
	dir := t.TempDir()
	wdir := writeWAL(t, dir, len(logs), 2)
	segs, _ := filepath.Glob(filepath.Join(wdir, "*.wal"))
	if len(segs) < 3 {
		t.Fatalf("%d segments; the test wants the log to span several", len(segs))
	}
	before := dirHashes(t, wdir)
	l, err := raftlog.Open(dir, raftlog.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Backend != "wal" {
		t.Fatalf("backend %q", l.Backend)
	}
	first, last, n, err := l.Bounds()
	if err != nil || first != 3 || last != uint64(len(logs)) || n != len(logs)-2 {
		t.Errorf("bounds %d %d %d %v", first, last, n, err)
	}
	if c, err := l.Conf(); err != nil || c.CurrentTerm != 2 {
		t.Errorf("conf %+v %v", c, err)
	}
	s := l.Scan(raftlog.Filter{})
	var got []raftlog.Entry
	for s.Next() {
		got = append(got, *s.Entry())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	wants = wants[2:] // deleted head; the token write at 3 is still there
	if len(got) != len(wants) {
		t.Fatalf("%d entries, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		e := &got[i]
		by := "-"
		if e.Token != nil {
			by = e.Token.Description
		}
		if e.Err != "" || e.Index != w.index || e.MsgType != w.msgType || e.Op != w.op || !reflect.DeepEqual(targetStrings(e), w.targets) ||
			(by != w.by && w.by != "from snapshot") || !e.AppendedAt.Equal(t0.Add(time.Duration(w.index)*time.Second)) {
			t.Errorf("entry %d: %s %s %v by %q err %q; want %+v", e.Index, e.MsgType, e.Op, targetStrings(e), by, e.Err, w)
		}
	}
	if after := dirHashes(t, wdir); !reflect.DeepEqual(before, after) {
		t.Errorf("the WAL directory changed while reading")
	}
}

// TestWALUncommittedTail appends an entry frame without a commit frame (a
// torn write): it is not part of the log.
func TestWALUncommittedTail(t *testing.T) {
	dir := t.TempDir()
	wdir := writeWAL(t, dir, 5, 0)
	segs, _ := filepath.Glob(filepath.Join(wdir, "*.wal"))
	tail := segs[len(segs)-1]
	f, err := os.OpenFile(tail, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Find the end of the written data: raft-wal preallocates, the rest is zeros.
	b, _ := os.ReadFile(tail)
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	end = (end + 7) &^ 7
	var frame [16]byte
	frame[0] = 1 // entry
	binary.LittleEndian.PutUint32(frame[4:], 3)
	copy(frame[8:], []byte{6, 2, 0})
	if _, err := f.WriteAt(frame[:], int64(end)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	l, err := raftlog.Open(dir, raftlog.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := l.Scan(raftlog.Filter{})
	defer s.Close()
	n := 0
	for s.Next() {
		n++
	}
	if s.Err() != nil || n != 5 || s.Uncommitted() != 1 {
		t.Errorf("read %d entries, %d uncommitted, err %v; want 5, 1, nil", n, s.Uncommitted(), s.Err())
	}
}

func TestWALInUse(t *testing.T) {
	dir := t.TempDir()
	wdir := writeWAL(t, dir, 3, 0)
	w, err := wal.Open(wdir) // a running server: holds wal-meta.db's exclusive lock
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = raftlog.Open(dir, raftlog.Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, raftlog.ErrInUse) {
		t.Fatalf("open while raft-wal holds wal-meta.db: %v, want ErrInUse", err)
	}
}
