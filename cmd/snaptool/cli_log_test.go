package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	fixturepkg "github.com/snaptool/snaptool/internal/fixture"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// raftlogFixture is the real raft log fixture of set (the 1.13.9 one for
// sets that have none).
func raftlogFixture(set string) string {
	if _, err := os.Stat(repoPath(set, "raftlog", "raft.tar.gz")); err == nil {
		return repoPath(set, "raftlog")
	}
	return repoPath(fixDir, "raftlog")
}

// unpackRaftlog unpacks fixture's raft.tar.gz into dst, a Consul data
// dir, and returns dst.
func unpackRaftlog(t *testing.T, fixture, dst string) string {
	return fixturepkg.UnpackRaft(t, fixture, dst)
}

// raftlogSnapshots are the raft snapshots of an unpacked log fixture
// (the halfway and the end `consul snapshot save`), oldest first: their
// directories and indexes, from the directory names (term-index-time).
func raftlogSnapshots(t *testing.T, dataDir string) (dirs []string, indexes []uint64) {
	t.Helper()
	dirs, _ = filepath.Glob(filepath.Join(dataDir, "raft", "snapshots", "*-*-*"))
	if len(dirs) == 0 {
		t.Fatalf("%s has no raft snapshot", dataDir)
	}
	index := map[string]uint64{}
	for _, d := range dirs {
		n, err := strconv.ParseUint(strings.Split(filepath.Base(d), "-")[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		index[d] = n
	}
	sort.Slice(dirs, func(i, j int) bool { return index[dirs[i]] < index[dirs[j]] })
	for _, d := range dirs {
		indexes = append(indexes, index[d])
	}
	return dirs, indexes
}

// raftlogSnapIndex is the index of the oldest raft snapshot of an unpacked
// log fixture (the halfway one): the first index DIR@INDEX can replay to.
func raftlogSnapIndex(t *testing.T, dataDir string) uint64 {
	t.Helper()
	_, indexes := raftlogSnapshots(t, dataDir)
	return indexes[0]
}

var readmeSecretID = regexp.MustCompile("(?m)^\\| [^|]+ \\| [^|]+ \\| `([0-9a-f-]{36})` \\|")

// raftlogSecrets are the secrets of a raft log fixture: every token
// SecretID of its data-dir snapshot (decoded) and of its README's token
// table (the tokens the log itself writes, which no snapshot holds).
func raftlogSecrets(t *testing.T, fixture, dataDir string) []secret {
	t.Helper()
	out := fixtureSecrets(t, filepath.Join(dataDir, "raft"))
	readme, err := os.ReadFile(filepath.Join(fixture, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ms := readmeSecretID.FindAllSubmatch(readme, -1)
	if len(ms) < 4 {
		t.Fatalf("%s/README.md lists %d token SecretIDs", fixture, len(ms))
	}
	for _, m := range ms {
		out = append(out, secret{"log token SecretID", string(m[1])})
	}
	return out
}

type logWrite struct {
	N                int     `json:"n"`
	Desc             string  `json:"desc"`
	TokenAccessor    string  `json:"token_accessor"`
	TokenDescription string  `json:"token_description"`
	Index            uint64  `json:"index"`
	MsgType          *string `json:"msg_type"`
	KV               []struct {
		Key         string
		Value       []byte
		Flags       uint64
		Session     string
		LockIndex   uint64
		CreateIndex uint64
		ModifyIndex uint64
	} `json:"kv"`
}

func readWrites(t *testing.T, fixture string) []logWrite {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixture, "writes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ws []logWrite
	if err := json.Unmarshal(b, &ws); err != nil {
		t.Fatal(err)
	}
	return ws
}

// raftlogSaves are the two `consul snapshot save` steps of a log fixture
// (msg_type null, no log entry of their own): the halfway one, saved as
// halfway.snap, and the end one after the last write, saved as final.snap.
func raftlogSaves(t *testing.T, fixture string) (halfway, final logWrite) {
	t.Helper()
	var saves []logWrite
	for _, w := range readWrites(t, fixture) {
		if w.MsgType == nil {
			saves = append(saves, w)
		}
	}
	if len(saves) != 2 || !strings.Contains(saves[0].Desc, "halfway") || !strings.Contains(saves[1].Desc, "end") {
		t.Fatalf("%s/writes.json: snapshot steps %+v, want the halfway and the end save", fixture, saves)
	}
	return saves[0], saves[1]
}

// recordedKV is the KV store the HTTP API returned right after a step,
// one comparable line per key.
func recordedKV(w logWrite) map[string]string {
	out := map[string]string{}
	for _, k := range w.KV {
		out[k.Key] = fmt.Sprintf("%x flags=%d session=%q lock=%d create=%d modify=%d", k.Value, k.Flags, k.Session, k.LockIndex, k.CreateIndex, k.ModifyIndex)
	}
	return out
}

// catalogKVWrites are the indexes of the catalog writes (Register,
// Deregister) that changed the KV store: Consul destroyed a session (a
// check gone critical, a node deregistered) and released or deleted its
// locks inside the catalog entry.
func catalogKVWrites(ws []logWrite) map[uint64]bool {
	out := map[uint64]bool{}
	prev := map[string]string{}
	for _, w := range ws {
		cur := recordedKV(w)
		if w.MsgType != nil && (*w.MsgType == "Register" || *w.MsgType == "Deregister") && fmt.Sprint(cur) != fmt.Sprint(prev) {
			out[w.Index] = true
		}
		prev = cur
	}
	return out
}

// carriesToken are the request types whose Token field is the caller's
// (ACL writes carry none: Consul resolves their caller before raft).
var carriesToken = map[string]bool{"KVS": true, "Session": true, "Txn": true, "Register": true, "Deregister": true, "PreparedQuery": true, "ConfigEntry": true}

// TestLogTimeline: the text timeline of the real fixture lists every
// scripted write at its index and message type, with its token's
// description where the request carries the caller's token.
func TestLogTimeline(t *testing.T) {
	for _, set := range []string{fixDir, "fixtures/consul-1.14.11"} {
		fixture := raftlogFixture(set)
		t.Run(filepath.Base(set), func(t *testing.T) {
			dir := unpackRaftlog(t, fixture, t.TempDir())
			out, stderr, code := runCLI(t, "log", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			lines := map[uint64]string{}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				f := strings.SplitN(l, "  ", 2)
				n, err := strconv.ParseUint(f[0], 10, 64)
				if err != nil {
					t.Fatalf("line %q does not start with an index", l)
				}
				lines[n] = l
			}
			checked := 0
			for _, w := range readWrites(t, fixture) {
				if w.MsgType == nil {
					continue // snapshot save: no entry
				}
				l, ok := lines[w.Index]
				if !ok {
					t.Errorf("step %d (%s): no line for index %d", w.N, w.Desc, w.Index)
					continue
				}
				f := strings.Split(l, "  ")
				if len(f) < 6 || f[2] != *w.MsgType {
					t.Errorf("step %d (%s): %q, want type %s", w.N, w.Desc, l, *w.MsgType)
					continue
				}
				if carriesToken[*w.MsgType] && f[5] != w.TokenDescription {
					t.Errorf("step %d (%s): by %q, want %q", w.N, w.Desc, f[5], w.TokenDescription)
				}
				checked++
			}
			if checked < 40 {
				t.Errorf("only %d writes checked", checked)
			}
		})
	}
}

// TestLogFiltersAndFormats runs the filters and formats over the real log.
func TestLogFiltersAndFormats(t *testing.T) {
	fixture := raftlogFixture(fixDir)
	dir := unpackRaftlog(t, fixture, t.TempDir())
	var kvWrites, aliceWrites int
	for _, w := range readWrites(t, fixture) {
		if w.MsgType != nil && *w.MsgType == "KVS" {
			kvWrites++
		}
		if w.MsgType != nil && carriesToken[*w.MsgType] && strings.Contains(w.TokenDescription, "alice") {
			aliceWrites++
		}
	}
	count := func(args ...string) []string {
		t.Helper()
		out, stderr, code := runCLI(t, append([]string{"log"}, append(args, dir)...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	if got := count("--type", "KVS"); len(got) != kvWrites {
		t.Errorf("--type KVS: %d lines, want %d", len(got), kvWrites)
	}
	if got := count("--token", "c0000000-0000-4000-8000-000000000001"); len(got) != aliceWrites {
		t.Errorf("--token alice's accessor: %d lines, want %d", len(got), aliceWrites)
	}
	if got := count("--token", "raftlog: alice, app deployer (KV, sessions, locks, txn)"); len(got) != aliceWrites {
		t.Errorf("--token alice's description: %d lines, want %d", len(got), aliceWrites)
	}
	for _, l := range count("--key", "locks/deploy") {
		if !strings.Contains(l, "locks/deploy") {
			t.Errorf("--key: %q", l)
		}
	}
	for _, l := range count("--kv-prefix", "app/config/") {
		if !strings.Contains(l, "app/config/") {
			t.Errorf("--kv-prefix: %q", l)
		}
	}
	if got := count("--since", "20", "--until", "29"); len(got) != 10 || !strings.HasPrefix(got[0], "20  ") || !strings.HasPrefix(got[9], "29  ") {
		t.Errorf("--since 20 --until 29: %q", got)
	}
	// A time bound: the AppendedAt of entry 20 selects from 20 on.
	f := strings.Split(count("--since", "20", "--until", "20")[0], "  ")
	if got := count("--since", f[1]); !strings.HasPrefix(got[0], "20  ") {
		t.Errorf("--since %s starts with %q", f[1], got[0])
	}
	for _, l := range count("--node", "web-1") {
		if !strings.Contains(l, "web-1") {
			t.Errorf("--node: %q", l)
		}
	}
	// JSON lines: one object per entry with the decoded request.
	lines := count("--format", "jsonl", "--type", "KVS")
	if len(lines) != kvWrites {
		t.Errorf("jsonl: %d lines, want %d", len(lines), kvWrites)
	}
	for _, l := range lines {
		var e struct {
			Index   uint64         `json:"index"`
			Request map[string]any `json:"request"`
			Token   map[string]any `json:"token"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Request["DirEnt"] == nil || e.Token["description"] == "" {
			t.Errorf("jsonl line %q: %v", l, err)
		}
	}
	// Summary: per type, operation and token.
	sum := strings.Join(count("--summary"), "\n")
	for _, want := range []string{"Per type", "Per operation", "Per token", "KVS", "delete-tree", "raftlog: carol"} {
		if !strings.Contains(sum, want) {
			t.Errorf("--summary lacks %q:\n%s", want, sum)
		}
	}
	js := count("--summary", "--format", "json")
	var s struct {
		Entries int64            `json:"entries"`
		ByType  []map[string]any `json:"by_type"`
	}
	if len(js) != 1 || json.Unmarshal([]byte(js[0]), &s) != nil || s.Entries == 0 || len(s.ByType) == 0 {
		t.Errorf("--summary --format json: %q", js)
	}
	// Usage errors.
	for _, args := range [][]string{{"--since", "yesterday", dir}, {"--format", "xml", dir}, {}, {dir, dir}, {"--type", "Nope", dir}} {
		if _, _, code := runCLI(t, append([]string{"log"}, args...)...); code != 2 {
			t.Errorf("log %v: exit %d, want 2", args, code)
		}
	}
}

// TestLogLocked: a raft.db locked by a running server gives the one
// sentence and exit 2; the file is not touched.
func TestLogLocked(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the quick loop; make test runs it")
	}
	dir := unpackRaftlog(t, raftlogFixture(fixDir), t.TempDir())
	db := filepath.Join(dir, "raft", "raft.db")
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, db)
	out, stderr, code := runCLI(t, "log", dir)
	if code != 2 || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	const want = "Error: raft.db is in use by a running Consul server: stop it, or copy the data dir and point snaptool at the copy\n"
	if stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	if fileSum(t, db) != before {
		t.Error("raft.db changed")
	}
}

// TestLogNeverWritten: raft.db keeps its bytes, size and mtime through
// every format, also when the file and its directory are read-only.
func TestLogNeverWritten(t *testing.T) {
	dir := unpackRaftlog(t, raftlogFixture(fixDir), t.TempDir())
	db := filepath.Join(dir, "raft", "raft.db")
	st0, _ := os.Stat(db)
	sum0 := fileSum(t, db)
	for _, mode := range []os.FileMode{0o644, 0o444} {
		os.Chmod(db, mode)
		for _, args := range [][]string{{}, {"--format", "jsonl", "--show-secrets"}, {"--summary"}} {
			if _, stderr, code := runCLI(t, append(append([]string{"log"}, args...), dir)...); code != 0 {
				t.Errorf("%v (mode %v): exit %d: %s", args, mode, code, stderr)
			}
			st, _ := os.Stat(db)
			if fileSum(t, db) != sum0 || st.Size() != st0.Size() || !st.ModTime().Equal(st0.ModTime()) {
				t.Fatalf("%v: raft.db changed", args)
			}
		}
	}
	os.Chmod(db, 0o644)
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, bufio.NewReader(f))
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}
