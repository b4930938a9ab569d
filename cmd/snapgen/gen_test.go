package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

type summary struct {
	counts  map[string]int
	order   []decode.MessageType // type of each run of records
	keys    map[string]string    // KV key → value
	tombs   map[string]bool
	tokens  map[string]bool // AccessorIDs
	flipped int             // checks with Output "changed"
	last    uint64
	maxIdx  uint64
}

// read decodes a generated archive fully and checks it is valid.
func read(t *testing.T, path string) summary {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sum := summary{counts: map[string]int{}, keys: map[string]string{}, tombs: map[string]bool{}, tokens: map[string]bool{}}
	var prevKey, prevSecret string
	for s.Next() {
		rec := s.Record()
		sum.counts[rec.Name()]++
		if len(sum.order) == 0 || sum.order[len(sum.order)-1] != rec.Type {
			sum.order = append(sum.order, rec.Type)
		}
		d, err := decode.DecodeRecord(rec)
		if err != nil {
			t.Fatalf("record %d: %v", rec.N, err)
		}
		switch v := d.Data.(type) {
		case *decode.DirEntry:
			if rec.Type == decode.TypeKVS {
				if v.Key <= prevKey {
					t.Fatalf("KV %q after %q: not sorted", v.Key, prevKey)
				}
				prevKey = v.Key
				sum.keys[v.Key] = string(v.Value)
			} else {
				sum.tombs[v.Key] = true
			}
			sum.maxIdx = max(sum.maxIdx, v.ModifyIndex)
		case *decode.ACLToken:
			if v.SecretID <= prevSecret {
				t.Fatalf("tokens not sorted by SecretID")
			}
			prevSecret = v.SecretID
			sum.tokens[v.AccessorID] = true
		case *decode.RegisterRequest:
			if v.Check != nil && v.Check.Output == "changed" {
				sum.flipped++
			}
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("generated archive does not decode cleanly: %v", err)
	}
	if s.Integrity() != decode.Verified {
		t.Fatalf("integrity %v", s.Integrity())
	}
	h, _ := s.Header()
	sum.last = h.LastIndex
	if s.Meta().Index != h.LastIndex || s.Meta().Size != s.StateSize() {
		t.Errorf("meta Index %d Size %d; header LastIndex %d, state.bin %d bytes", s.Meta().Index, s.Meta().Size, h.LastIndex, s.StateSize())
	}
	return sum
}

func generateFile(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	var o, e bytes.Buffer
	if code := run(t.Context(), append([]string{"-o", out}, args...), &o, &e); code != 0 {
		t.Fatalf("snapgen %v: exit %d: %s", args, code, e.String())
	}
	return out
}

var small = []string{"--kv", "3000", "--nodes", "20", "--services-per-node", "3", "--checks-per-service", "2",
	"--tokens", "12", "--sessions", "6", "--tombstones", "4", "--value-size", "300"}

func TestGeneratedArchive(t *testing.T) {
	dir := t.TempDir()
	a := read(t, generateFile(t, dir, "a.snap", small...))
	want := map[string]int{"Register": 20 * (1 + 3*(1+2)), "KVS": 3000, "ACLToken": 12, "Session": 6, "Tombstone": 4,
		"Autopilot": 1, "ChunkingState": 1}
	for k, n := range want {
		if a.counts[k] != n {
			t.Errorf("%s: %d records, want %d", k, a.counts[k], n)
		}
	}
	if a.counts["Index"] == 0 {
		t.Errorf("no Index records")
	}
	// Consul's order (docs/FORMAT.md §6.1), each type in one run, ChunkingState last.
	wantOrder := []decode.MessageType{decode.TypeRegister, decode.TypeSession, decode.TypeACLToken, decode.TypeKVS,
		decode.TypeTombstone, decode.TypeAutopilot, decode.TypeIndex, decode.TypeChunkingState}
	if !equalTypes(a.order, wantOrder) {
		t.Errorf("record order %v, want %v", a.order, wantOrder)
	}
	if a.maxIdx > a.last {
		t.Errorf("a record has index %d > LastIndex %d", a.maxIdx, a.last)
	}
	var jsonish int
	for _, v := range a.keys {
		if strings.HasPrefix(v, `{"key":`) && strings.HasSuffix(v, `"}`) {
			jsonish++
		}
	}
	if jsonish != len(a.keys) {
		t.Errorf("%d of %d values are JSON-like", jsonish, len(a.keys))
	}
}

func equalTypes(a, b []decode.MessageType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	read1, _ := os.ReadFile(generateFile(t, dir, "1.snap", small...))
	read2, _ := os.ReadFile(generateFile(t, dir, "2.snap", small...))
	other, _ := os.ReadFile(generateFile(t, dir, "3.snap", append([]string{"--seed", "2"}, small...)...))
	if len(read1) == 0 || !bytes.Equal(read1, read2) {
		t.Errorf("same flags gave different archives")
	}
	if bytes.Equal(read1, other) {
		t.Errorf("--seed 2 gave the same archive as --seed 1")
	}
}

func TestApplyChanges(t *testing.T) {
	dir := t.TempDir()
	a := read(t, generateFile(t, dir, "a.snap", small...))
	b := read(t, generateFile(t, dir, "b.snap", append([]string{"--apply-changes", "7/200"}, small...)...))
	var modified, removed, added int
	for k, v := range a.keys {
		bv, ok := b.keys[k]
		switch {
		case !ok:
			removed++
			if !b.tombs[k] {
				t.Errorf("deleted key %q has no tombstone", k)
			}
		case bv != v:
			modified++
		}
	}
	for k := range b.keys {
		if _, ok := a.keys[k]; !ok {
			added++
		}
	}
	var newTokens int
	for k := range b.tokens {
		if !a.tokens[k] {
			newTokens++
		}
	}
	// 200 changes: 50% modify, 20% delete, 20% add, 5% check flips, rest tokens.
	got := [5]int{modified, removed, added, b.flipped, newTokens}
	if want := [5]int{100, 40, 40, 10, 10}; got != want {
		t.Errorf("changes (modified, removed, added, flipped, tokens) = %v, want %v", got, want)
	}
	if len(b.tombs) != 4+40 || b.last != a.last+200 {
		t.Errorf("B: %d tombstones, LastIndex %d (A %d)", len(b.tombs), b.last, a.last)
	}
	if b.maxIdx > b.last {
		t.Errorf("B has index %d > LastIndex %d", b.maxIdx, b.last)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{}, 2, "-o FILE is required"},
		{[]string{"-o", "x.snap", "--apply-changes", "7"}, 2, "SEED/N"},
		{[]string{"-o", "x.snap", "--kv", "-1"}, 2, "--kv must not be negative"},
		{[]string{"--help"}, 0, ""},
	}
	for _, tt := range tests {
		var o, e bytes.Buffer
		code := run(t.Context(), tt.args, &o, &e)
		if code != tt.code || !strings.Contains(e.String(), tt.msg) {
			t.Errorf("%v: exit %d stderr %q, want %d and %q", tt.args, code, e.String(), tt.code, tt.msg)
		}
	}
}
