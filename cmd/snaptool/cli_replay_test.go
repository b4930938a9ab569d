package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/encode"
	fixturepkg "github.com/snaptool/snaptool/internal/fixture"
)

// TestReplayKVEqualsRecorded: for every recorded write at or after the
// data dir's oldest snapshot (the halfway one), the KV records of
// DIR@INDEX (dump, so with Session, LockIndex, CreateIndex and
// ModifyIndex) equal the KV store the HTTP API returned right after that
// write (writes.json), including the writes where a catalog entry changed
// the KV store itself (Consul destroying a session and its locks); every
// entry of the fixture's log replays exactly (KV, sessions, catalog, ACL,
// config entries, prepared queries), so no index needs --best-effort, and
// the replayed state verifies strictly. TestReplayRefusal covers an entry
// replay cannot reproduce.
func TestReplayKVEqualsRecorded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the quick loop; make test runs it")
	}
	for _, set := range []string{fixDir, "fixtures/consul-1.14.11"} {
		t.Run(filepath.Base(set), func(t *testing.T) { replayKVEqualsRecorded(t, raftlogFixture(set)) })
	}
}

func replayKVEqualsRecorded(t *testing.T, fixture string) {
	dir := unpackRaftlog(t, fixture, t.TempDir())
	snapIndex := raftlogSnapIndex(t, dir)
	writes := readWrites(t, fixture)
	catalogKV := catalogKVWrites(writes)
	if len(catalogKV) == 0 {
		t.Errorf("the fixture has no catalog write that changes the KV store")
	}
	checked := 0
	for _, w := range writes {
		if w.Index < snapIndex {
			continue
		}
		arg := fmt.Sprintf("%s@%d", dir, w.Index)
		out, stderr, code := runCLI(t, "dump", "--type", "KVS", "--no-header", arg)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", arg, code, stderr)
		}
		// The replayed state verifies strictly: checksums, record order.
		if _, vstderr, vcode := runCLI(t, "verify", "--strict", arg); vcode != 0 {
			t.Errorf("verify --strict %s: exit %d: %s", arg, vcode, vstderr)
		}
		checked++
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var r struct {
				Data struct {
					Key                                        string
					Value                                      []byte
					Flags, LockIndex, CreateIndex, ModifyIndex uint64
					Session                                    string
				} `json:"data"`
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			d := r.Data
			got[d.Key] = fmt.Sprintf("%x flags=%d session=%q lock=%d create=%d modify=%d", d.Value, d.Flags, d.Session, d.LockIndex, d.CreateIndex, d.ModifyIndex)
		}
		want := recordedKV(w)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("step %d (%s) %s: %s\n  replayed %s\n  recorded %s", w.N, w.Desc, arg, k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("step %d (%s) %s: replay has %s, the recorded store does not", w.N, w.Desc, arg, k)
			}
		}
	}
	t.Logf("%d indexes checked", checked)
	if checked < 30 {
		t.Errorf("only %d indexes checked", checked)
	}
	// Below the oldest snapshot: a clear refusal.
	if _, stderr, code := runCLI(t, "kv", "export", fmt.Sprintf("%s@%d", dir, snapIndex-1)); code != 2 || !strings.Contains(stderr, fmt.Sprintf("oldest snapshot of the data dir is at index %d", snapIndex)) {
		t.Errorf("DIR@%d: exit %d: %s", snapIndex-1, code, stderr)
	}
	// Past the end of the log.
	if _, stderr, code := runCLI(t, "kv", "export", dir+"@9999"); code != 2 || !strings.Contains(stderr, "lacks entry") {
		t.Errorf("DIR@9999: exit %d: %s", code, stderr)
	}
}

// TestReplayAtSnapshotEqualsSavedFile: DIR@INDEX at the index of each
// scripted `consul snapshot save` (halfway, and at the end) is the saved
// archive (halfway.snap, final.snap) to inspect, in every format, and the
// same records to diff. Without the end snapshot in the data dir, DIR@END
// is replayed from the halfway one over every write of the second half
// (KV, sessions, catalog, ACL, config entries, prepared queries): it is
// final.snap, record for record.
func TestReplayAtSnapshotEqualsSavedFile(t *testing.T) {
	fixture := raftlogFixture(fixDir)
	dir := unpackRaftlog(t, fixture, t.TempDir())
	halfway, final := raftlogSaves(t, fixture)
	sameAsSaved := func(dir string, at uint64, name string) (refused bool) {
		t.Helper()
		saved := filepath.Join(fixture, name)
		arg := fmt.Sprintf("%s@%d", dir, at)
		for _, format := range []string{"table", "json", "pretty"} {
			a, errA, codeA := runCLI(t, "inspect", "--kv-details", "--format", format, arg)
			if codeA == 2 && strings.Contains(errA, "cannot be replayed exactly") && strings.Contains(errA, "index ") && a == "" {
				return true
			}
			b, _, codeB := runCLI(t, "inspect", "--kv-details", "--format", format, saved)
			if codeA != 0 || codeB != 0 || a != b {
				t.Errorf("inspect --format %s: DIR@%d (exit %d, %s) differs from %s (exit %d):\n%s\n---\n%s", format, at, codeA, errA, name, codeB, a, b)
			}
		}
		if out, stderr, code := runCLI(t, "diff", "--include-raft-bookkeeping", arg, saved); code != 0 {
			t.Errorf("diff DIR@%d %s: exit %d\n%s%s", at, name, code, out, stderr)
		}
		return false
	}
	if sameAsSaved(dir, halfway.Index, "halfway.snap") || sameAsSaved(dir, final.Index, "final.snap") {
		t.Errorf("DIR@INDEX at a data-dir snapshot refused to replay")
	}
	noEnd := unpackRaftlog(t, fixture, t.TempDir())
	snapDirs, snapIndexes := raftlogSnapshots(t, noEnd)
	if len(snapDirs) != 2 || snapIndexes[0] != halfway.Index || snapIndexes[1] != final.Index {
		t.Fatalf("data-dir snapshots at %v, want the halfway (%d) and the end (%d) save", snapIndexes, halfway.Index, final.Index)
	}
	if err := os.RemoveAll(snapDirs[1]); err != nil {
		t.Fatal(err)
	}
	// Replayed from the halfway snapshot over every write of the second
	// half, it is Consul's end snapshot: every record (diff, raft
	// bookkeeping included) and inspect's figures; only the snapshot's ID
	// (the base's, +log-INDEX) tells them apart.
	arg := fmt.Sprintf("%s@%d", noEnd, final.Index)
	if out, stderr, code := runCLI(t, "diff", "--include-raft-bookkeeping", arg, filepath.Join(fixture, "final.snap")); code != 0 {
		t.Errorf("diff DIR@%d (replayed) final.snap: exit %d\n%s%s", final.Index, code, out, stderr)
	}
	inspectSansID := func(in string) map[string]any {
		out, stderr, code := runCLI(t, "inspect", "--kv-details", "--format", "json", in)
		var m map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
			t.Fatalf("inspect %s: exit %d %s", in, code, stderr)
		}
		delete(m["Meta"].(map[string]any), "ID")
		delete(m, "SavedTime") // from the ID
		return m
	}
	if a, b := inspectSansID(arg), inspectSansID(filepath.Join(fixture, "final.snap")); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("inspect DIR@%d (replayed) differs from final.snap beyond the ID:\n%v\n%v", final.Index, a, b)
	}

	// And a replay past the halfway snapshot differs from it in KV only.
	at, saved := halfway.Index, filepath.Join(fixture, "halfway.snap")
	out, _, code := runCLI(t, "diff", "--stat", fmt.Sprintf("%s@%d", dir, at+3), saved)
	if code != 1 || !strings.Contains(out, "KVS") {
		t.Errorf("diff DIR@%d halfway.snap: exit %d\n%s", at+3, code, out)
	}
	if bytes.Contains([]byte(out), []byte("Register")) {
		t.Errorf("replay changed the catalog:\n%s", out)
	}
	// history takes replayed states beside files, ordered by index.
	hist, stderr, code := runCLI(t, "history", "--format", "json", fmt.Sprintf("%s@%d", dir, at+3), saved)
	var h struct {
		Snapshots []struct {
			Index   uint64 `json:"index"`
			Verdict string `json:"verdict"`
		} `json:"snapshots"`
	}
	if code != 0 || json.Unmarshal([]byte(hist), &h) != nil || len(h.Snapshots) != 2 || h.Snapshots[0].Index != at || h.Snapshots[1].Index != at+3 {
		t.Errorf("history DIR@%d halfway.snap: exit %d %s\n%s", at+3, code, stderr, hist)
	}
}

// TestDiffBlame: diff --log attributes each change between two states of
// the real data dir to the scripted write that made it, with the writer's
// token description.
func TestDiffBlame(t *testing.T) {
	fixture := raftlogFixture(fixDir)
	dir := unpackRaftlog(t, fixture, t.TempDir())
	snap := raftlogSnapIndex(t, dir)
	byIndex := map[uint64]logWrite{}
	for _, w := range readWrites(t, fixture) {
		if w.MsgType != nil {
			byIndex[w.Index] = w
		}
	}
	a, b := snap, snap+6
	out, stderr, code := runCLI(t, "diff", "--log", dir, "--format", "json", fmt.Sprintf("%s@%d", dir, a), fmt.Sprintf("%s@%d", dir, b))
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	blamed := 0
	sessionDestroy := false
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var c struct {
			Op, Type, ID string
			Blame        *struct {
				Index     uint64
				Entry, By string
			}
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		if c.Op == "summary" {
			continue
		}
		if c.Blame == nil || c.Blame.Index <= a || c.Blame.Index > b {
			t.Errorf("%s %s %s: blame %+v, want an entry in (%d, %d]", c.Op, c.Type, c.ID, c.Blame, a, b)
			continue
		}
		w, ok := byIndex[c.Blame.Index]
		if !ok {
			t.Errorf("%s %s: blamed on index %d, which is no scripted write", c.Type, c.ID, c.Blame.Index)
			continue
		}
		if carriesToken[*w.MsgType] && c.Blame.By != w.TokenDescription {
			t.Errorf("%s %s: by %q, want %q", c.Type, c.ID, c.Blame.By, w.TokenDescription)
		}
		sessionDestroy = sessionDestroy || strings.HasPrefix(c.Blame.Entry, "Session destroy") && c.Type == "Tombstone"
		blamed++
	}
	if blamed < 5 || !sessionDestroy {
		t.Errorf("%d changes blamed; a key deleted by its session's destroy blamed on it: %v\n%s", blamed, sessionDestroy, out)
	}
	// Across the catalog writes, between the two snapshots Consul wrote:
	// a change is blamed on the entry at the record's ModifyIndex, whatever
	// that entry names. The lock a critical check's session held is blamed
	// on that registration; the key a node deregistration deleted (through
	// its session) on the deregistration; a service record rewritten by
	// its node's update on the node update.
	halfway, final := raftlogSaves(t, fixture)
	want := map[string]string{ // change -> description of the step it is blamed on
		"KVS locks/web1":                     "goes critical",
		"Tombstone locks/db1":                "deregister node db-1",
		"Register service:web-1/web-1":       "node update",
		"Register node:web-3":                "catalog register node web-3",
		"Register check:web-3/service:web-3": "passing service check",
	}
	byDesc := map[uint64]string{}
	for _, w := range readWrites(t, fixture) {
		if w.MsgType != nil {
			byDesc[w.Index] = w.Desc
		}
	}
	out, stderr, code = runCLI(t, "diff", "--log", dir, "--format", "json", fmt.Sprintf("%s@%d", dir, halfway.Index), fmt.Sprintf("%s@%d", dir, final.Index))
	if code != 1 {
		t.Fatalf("diff --log halfway end: exit %d: %s", code, stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var c struct {
			Type, ID string
			Blame    *struct{ Index uint64 }
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		sub, ok := want[c.Type+" "+c.ID]
		if !ok {
			continue
		}
		delete(want, c.Type+" "+c.ID)
		if c.Blame == nil || !strings.Contains(byDesc[c.Blame.Index], sub) {
			t.Errorf("%s %s: blamed on %+v (%q), want the step %q", c.Type, c.ID, c.Blame, byDesc[c.Blame.Index], sub)
		}
	}
	for k := range want {
		t.Errorf("diff halfway end has no change %s", k)
	}
	// Text: a line under each change.
	txt, _, _ := runCLI(t, "diff", "--log", dir, fmt.Sprintf("%s@%d", dir, a), fmt.Sprintf("%s@%d", dir, b))
	if !strings.Contains(txt, "    last touched: index ") {
		t.Errorf("text output without blame lines:\n%s", txt)
	}
	// A newer than B: usage.
	if _, _, code := runCLI(t, "diff", "--log", dir, fmt.Sprintf("%s@%d", dir, b), fmt.Sprintf("%s@%d", dir, a)); code != 2 {
		t.Errorf("A newer than B: exit %d", code)
	}
}

// TestReplayRefusal: an entry replay cannot reproduce exactly (here a
// service-resolver config entry, appended to a copy of the real log with
// raft-boltdb's own writer) stops every reading command with the list of
// such entries (exit 2, nothing on stdout); --best-effort applies the rest,
// lists it on stderr, and the KV store is the recorded one.
func TestReplayRefusal(t *testing.T) {
	fixture := raftlogFixture(fixDir)
	dir := unpackRaftlog(t, fixture, t.TempDir())
	k, _ := encodeValue(t, "service-resolver")
	m, _ := encodeValue(t, map[string]any{"Op": "upsert", "Datacenter": "dc1", "Token": "",
		"Entry": map[string]any{"Kind": "service-resolver", "Name": "web", "CreateIndex": 0, "ModifyIndex": 0}})
	body, _ := encodeValue(t, string(append(k, m...)))
	n := fixturepkg.AppendCommand(t, dir, 22, body) // ConfigEntry
	arg := fmt.Sprintf("%s@%d", dir, n)
	want := fmt.Sprintf("index %d ConfigEntry upsert: config entries of kind \"service-resolver\"", n)
	for _, cmd := range [][]string{{"kv", "export"}, {"inspect"}, {"dump"}} {
		out, stderr, code := runCLI(t, append(cmd, arg)...)
		if code != 2 || out != "" || !strings.Contains(stderr, "cannot be replayed exactly") || !strings.Contains(stderr, want) {
			t.Errorf("%v %s: exit %d, stdout %d bytes, stderr:\n%s", cmd, arg, code, len(out), stderr)
		}
	}
	// verify reports each input it could not read in its results (stdout)
	// and fails.
	if out, stderr, code := runCLI(t, "verify", arg); code != 2 || !strings.Contains(out, want) || !strings.Contains(stderr, "could not be read") {
		t.Errorf("verify %s: exit %d\n%s%s", arg, code, out, stderr)
	}
	out, stderr, code := runCLI(t, "dump", "--type", "KVS", "--no-header", "--best-effort", arg)
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("not replayed: index %d ", n)) {
		t.Fatalf("--best-effort: exit %d:\n%s", code, stderr)
	}
	writes := readWrites(t, fixture)
	last := writes[len(writes)-1]
	if !strings.Contains(out, "app/done") || strings.Count(out, "\n") != len(recordedKV(last)) {
		t.Errorf("--best-effort KV: %d records, want the %d recorded after the last write:\n%s", strings.Count(out, "\n"), len(recordedKV(last)), out)
	}
}

func encodeValue(t *testing.T, v any) ([]byte, error) {
	t.Helper()
	b, err := encode.Value(v)
	if err != nil {
		t.Fatal(err)
	}
	return b, nil
}
