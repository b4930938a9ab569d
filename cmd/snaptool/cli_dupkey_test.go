package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// writeKVSnap writes a snapshot archive holding the given raw KVS values
// (msgpack maps) and returns its path.
func writeKVSnap(t *testing.T, dir, name string, values ...[]byte) string {
	t.Helper()
	var state bytes.Buffer
	sw, err := encode.NewStateWriter(&state, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := sw.WriteRaw(append([]byte{byte(decode.TypeKVS)}, v...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var arch bytes.Buffer
	meta := raft.SnapshotMeta{Version: 1, ID: "2-100-1", Index: 100, Term: 2, Size: int64(state.Len())}
	if err := encode.WriteArchive(&arch, meta, bytes.NewReader(state.Bytes()), encode.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, arch.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDuplicateKeyCLI: a KVS record with two Key fields is, as for
// Consul's decoder, the last one, in every command: dump's id, kv get,
// inspect --kv-filter and diff agree (before, dump and diff read the first).
func TestDuplicateKeyCLI(t *testing.T) {
	dir := t.TempDir()
	mpStr := func(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }
	dup := bytes.Join([][]byte{{0x83}, mpStr("Key"), mpStr("mp/first"), mpStr("Value"), {0xc4, 2}, []byte("v1"), mpStr("Key"), mpStr("mp/last")}, nil)
	plain := bytes.Join([][]byte{{0x82}, mpStr("Key"), mpStr("mp/last"), mpStr("Value"), {0xc4, 2}, []byte("v1")}, nil)
	a := writeKVSnap(t, dir, "a.snap", dup)
	b := writeKVSnap(t, dir, "b.snap", plain)

	out, stderr, code := runCLI(t, "dump", "--no-header", a)
	if code != 0 || !strings.Contains(out, `"id":"mp/last"`) || strings.Contains(out, `"id":"mp/first"`) {
		t.Errorf("dump: exit %d, %s %s", code, out, stderr)
	}
	if out, _, code := runCLI(t, "dump", "--no-header", "--id", "mp/last", a); code != 0 || !strings.Contains(out, "mp/last") {
		t.Errorf("dump --id mp/last: exit %d, %q", code, out)
	}
	if out, stderr, code := runCLI(t, "kv", "get", a, "mp/last"); code != 0 || out != "v1" {
		t.Errorf("kv get mp/last: exit %d, %q %s", code, out, stderr)
	}
	if _, _, code := runCLI(t, "kv", "get", a, "mp/first"); code == 0 {
		t.Errorf("kv get mp/first: found a key the record does not have")
	}
	out, stderr, code = runCLI(t, "inspect", "--kv-details", "--kv-filter", "mp/l", "--format", "json", a)
	if code != 0 || !strings.Contains(out, `"mp/last"`) {
		t.Errorf("inspect --kv-filter mp/l: exit %d, %s %s", code, out, stderr)
	}
	out, stderr, code = runCLI(t, "diff", a, b)
	if code != 0 || out != "" {
		t.Errorf("diff of the duplicate-key record with its last key alone: exit %d, %q %s", code, out, stderr)
	}
}
