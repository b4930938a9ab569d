package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayKVEqualsRecorded: for every recorded write at or after the
// data dir's snapshot (index 35), the KV records of DIR@INDEX (dump, so
// with Session, LockIndex, CreateIndex and ModifyIndex) equal the KV store
// the HTTP API returned right after that write (writes.json). Where the
// entries up to the index include ones replay does not reproduce (catalog,
// ACL, config entries, prepared queries), the command refuses with the
// list (exit 2) and --best-effort gives the state.
func TestReplayKVEqualsRecorded(t *testing.T) {
	for _, set := range []string{fixDir, "fixtures/consul-1.14.11"} {
		t.Run(filepath.Base(set), func(t *testing.T) { replayKVEqualsRecorded(t, raftlogFixture(set)) })
	}
}

func replayKVEqualsRecorded(t *testing.T, fixture string) {
	dir := unpackRaftlog(t, fixture, t.TempDir())
	snapIndex := raftlogSnapIndex(t, dir)
	checked, refused := 0, 0
	for _, w := range readWrites(t, fixture) {
		if w.Index < snapIndex {
			continue
		}
		arg := fmt.Sprintf("%s@%d", dir, w.Index)
		out, stderr, code := runCLI(t, "dump", "--type", "KVS", "--no-header", arg)
		if code == 2 && strings.Contains(stderr, "cannot be replayed exactly") {
			refused++
			if !strings.Contains(stderr, "index ") || out != "" {
				t.Errorf("%s: refusal without the list of entries, or with output:\n%s", arg, stderr)
			}
			out, stderr, code = runCLI(t, "dump", "--type", "KVS", "--no-header", "--best-effort", arg)
			if !strings.Contains(stderr, "not replayed: index ") {
				t.Errorf("%s --best-effort does not list what it skipped:\n%s", arg, stderr)
			}
		}
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", arg, code, stderr)
		}
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
		want := map[string]string{}
		for _, k := range w.KV {
			want[k.Key] = fmt.Sprintf("%x flags=%d session=%q lock=%d create=%d modify=%d", k.Value, k.Flags, k.Session, k.LockIndex, k.CreateIndex, k.ModifyIndex)
		}
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
		checked++
	}
	t.Logf("%d indexes checked, %d refused without --best-effort", checked, refused)
	if checked < 15 || refused == 0 || refused == checked {
		t.Errorf("checked %d indexes, %d refused: the fixture should exercise both", checked, refused)
	}
	// Below the oldest snapshot: a clear refusal.
	if _, stderr, code := runCLI(t, "kv", "export", fmt.Sprintf("%s@%d", dir, snapIndex-1)); code != 2 || !strings.Contains(stderr, fmt.Sprintf("oldest snapshot of the data dir is at index %d", snapIndex)) {
		t.Errorf("DIR@20: exit %d: %s", code, stderr)
	}
	// Past the end of the log.
	if _, stderr, code := runCLI(t, "kv", "export", dir+"@9999"); code != 2 || !strings.Contains(stderr, "lacks entry") {
		t.Errorf("DIR@9999: exit %d: %s", code, stderr)
	}
}

// TestReplayAtSnapshotEqualsSavedFile: DIR@INDEX at the index of the
// scripted `consul snapshot save` is the saved halfway.snap to inspect, in
// every format, and the same records to diff.
func TestReplayAtSnapshotEqualsSavedFile(t *testing.T) {
	fixture := raftlogFixture(fixDir)
	dir := unpackRaftlog(t, fixture, t.TempDir())
	var at uint64
	for _, w := range readWrites(t, fixture) {
		if w.MsgType == nil {
			at = w.Index // the snapshot step
		}
	}
	if at == 0 {
		t.Fatal("writes.json has no snapshot step")
	}
	saved := fixture + "/halfway.snap"
	arg := fmt.Sprintf("%s@%d", dir, at)
	for _, format := range []string{"table", "json", "pretty"} {
		a, errA, codeA := runCLI(t, "inspect", "--kv-details", "--format", format, arg)
		b, _, codeB := runCLI(t, "inspect", "--kv-details", "--format", format, saved)
		if codeA != 0 || codeB != 0 || a != b {
			t.Errorf("inspect --format %s: DIR@%d (exit %d, %s) differs from halfway.snap (exit %d):\n%s\n---\n%s", format, at, codeA, errA, codeB, a, b)
		}
	}
	if out, stderr, code := runCLI(t, "diff", "--include-raft-bookkeeping", arg, saved); code != 0 {
		t.Errorf("diff DIR@%d halfway.snap: exit %d\n%s%s", at, code, out, stderr)
	}
	// And a replay past it differs from the saved file in KV only.
	out, _, code := runCLI(t, "diff", "--stat", fmt.Sprintf("%s@%d", dir, at+3), saved)
	if code != 1 || !strings.Contains(out, "KVS") {
		t.Errorf("diff DIR@%d halfway.snap: exit %d\n%s", at+3, code, out)
	}
	if bytes.Contains([]byte(out), []byte("Register")) {
		t.Errorf("replay changed the catalog:\n%s", out)
	}
}
