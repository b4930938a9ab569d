package rewrite

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/preflight"
)

const (
	fixBefore = "../fixtures/consul-1.13.9/before.snap"
	fixAfter  = "../fixtures/consul-1.13.9/after.snap"
	fixData   = "../fixtures/consul-1.13.9/datadir/2-109-1795550639209"
	fixBackup = "../fixtures/consul-testdata/backup.snap"
	fixKV     = "../fixtures/consul-testdata/backupWithKV.snap"
	fixRaw    = "../fixtures/consul-testdata/raw/state.bin"
)

var allFixtures = []string{fixBefore, fixAfter, fixData, fixBackup, fixKV, fixRaw}

// rec is a copied record.
type rec struct {
	t   decode.MessageType
	raw []byte
}

// readAll decodes a snapshot (any form, or archive bytes) and returns its
// header, records, meta.json bytes, state.bin hash and integrity.
type snap struct {
	header    []byte
	recs      []rec
	metaRaw   []byte
	meta      raft.SnapshotMeta
	stateSum  [32]byte
	stateLen  int64
	integrity decode.Integrity
}

func readSnap(t *testing.T, s *decode.Snapshot) snap {
	t.Helper()
	defer s.Close()
	h, err := s.Header()
	if err != nil {
		t.Fatal(err)
	}
	out := snap{header: bytes.Clone(h.Raw)}
	hs := sha256.New()
	hs.Write(h.Raw)
	for s.Next() {
		r := s.Record()
		out.recs = append(out.recs, rec{r.Type, bytes.Clone(r.Raw)})
		hs.Write(r.Raw)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	copy(out.stateSum[:], hs.Sum(nil))
	out.stateLen = s.StateSize()
	out.meta = s.Meta().SnapshotMeta
	out.integrity = s.Integrity()
	return out
}

func openSnap(t *testing.T, path string) snap {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := readSnap(t, s)
	out.metaRaw = metaJSON(t, path)
	return out
}

// metaJSON returns the meta.json bytes of the snapshot at path as stored:
// the archive's member, or the file beside a data-dir state.bin.
func metaJSON(t *testing.T, path string) []byte {
	t.Helper()
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		b, err := os.ReadFile(filepath.Join(path, decode.MemberMeta))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if filepath.Base(path) == decode.MemberState {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), decode.MemberMeta))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return archiveMeta(t, b)
}

// archiveMeta returns the meta.json member of an archive.
func archiveMeta(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no meta.json member: %v", err)
		}
		if h.Name == decode.MemberMeta {
			m, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
}

func archiveSnap(t *testing.T, b []byte) snap {
	t.Helper()
	out := readSnap(t, decode.NewArchive(bytes.NewReader(b), decode.Options{}))
	out.metaRaw = archiveMeta(t, b)
	return out
}

func run(t *testing.T, in string, opts Options) ([]byte, Stats) {
	t.Helper()
	var out bytes.Buffer
	st, err := Run(context.Background(), in, &out, opts)
	if err != nil {
		t.Fatalf("Run(%s): %v", in, err)
	}
	if int64(out.Len()) != st.ArchiveSize || !st.Verified {
		t.Fatalf("ArchiveSize %d, wrote %d, Verified %v", st.ArchiveSize, out.Len(), st.Verified)
	}
	return out.Bytes(), st
}

// TestRoundTrip: a rewrite with no selection gives a state.bin identical to
// the input's, byte for byte, for every fixture and input form, with the
// single-threaded and the parallel gzip writer.
func TestRoundTrip(t *testing.T) {
	for _, path := range allFixtures {
		for _, par := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/parallel=%d", strings.TrimPrefix(path, "../fixtures/"), par), func(t *testing.T) {
				in := openSnap(t, path)
				b, st := run(t, path, Options{Archive: encode.ArchiveOptions{Parallel: par}})
				out := archiveSnap(t, b)
				if out.stateSum != in.stateSum || out.stateLen != in.stateLen || !bytes.Equal(out.header, in.header) {
					t.Fatalf("state.bin differs: %d bytes sha256 %x, input %d bytes %x", out.stateLen, out.stateSum, in.stateLen, in.stateSum)
				}
				if out.integrity != decode.Verified {
					t.Errorf("output integrity %v", out.integrity)
				}
				if !metaEqual(in.meta, out.meta) {
					t.Errorf("meta differs:\n got %+v\nwant %+v", out.meta, in.meta)
				}
				if path == fixBefore || path == fixAfter || path == fixBackup || path == fixKV {
					if !bytes.Equal(out.metaRaw, in.metaRaw) {
						t.Errorf("meta.json differs:\n got %s\nwant %s", out.metaRaw, in.metaRaw)
					}
				}
				if st.Records != int64(len(in.recs)) || st.InRecords != st.Records || st.Dropped != 0 || st.Size != in.stateLen || st.InSize != in.stateLen {
					t.Errorf("stats %+v, input has %d records, %d bytes", st, len(in.recs), in.stateLen)
				}
				if st.LastIndex == 0 || st.Meta.Size != in.stateLen {
					t.Errorf("LastIndex %d, meta.Size %d", st.LastIndex, st.Meta.Size)
				}
			})
		}
	}
}

// metaEqual compares everything of meta.json (Size included).
func metaEqual(a, b raft.SnapshotMeta) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestDropPeeringFor112: the command preflight prints for 1.13.9's
// before.snap against 1.12 gives a file preflight says 1.12 restores, whose
// records are exactly the input's others, byte for byte, in order.
func TestDropPeeringFor112(t *testing.T) {
	target, _ := preflight.ParseVersion("1.12")
	res, err := preflight.CheckFile(fixBefore, target, preflight.CE, preflight.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.WouldRestore || res.Rewrite == "" {
		t.Fatalf("before.snap on 1.12: %s, rewrite %q; the fixture no longer tests a downgrade", res.Verdict, res.Rewrite)
	}
	// Parse the flags of the printed command (the CLI parses the same flags).
	var drop []decode.MessageType
	f := strings.Fields(res.Rewrite)
	for i := 0; i < len(f); i++ {
		if f[i] == "--drop-type" {
			ty, ok := decode.ParseType(f[i+1])
			if !ok {
				t.Fatalf("preflight printed an unknown type %q", f[i+1])
			}
			drop = append(drop, ty)
			i++
		}
	}
	if len(drop) == 0 {
		t.Fatalf("no --drop-type in %q", res.Rewrite)
	}
	dropped := map[decode.MessageType]bool{}
	for _, d := range drop {
		dropped[d] = true
	}
	b, st := run(t, fixBefore, Options{DropTypes: drop, Archive: encode.ArchiveOptions{Parallel: 2}})
	dir := t.TempDir()
	outPath := filepath.Join(dir, "out.snap")
	if err := os.WriteFile(outPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res2, err := preflight.CheckFile(outPath, target, preflight.CE, preflight.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res2.WouldRestore {
		t.Fatalf("rewritten file on 1.12: %s %+v", res2.Verdict, res2.Problems)
	}
	in := openSnap(t, fixBefore)
	out := archiveSnap(t, b)
	var want []rec
	var ndropped int64
	for _, r := range in.recs {
		if dropped[r.t] {
			ndropped++
			continue
		}
		want = append(want, r)
	}
	if ndropped == 0 {
		t.Fatal("nothing dropped")
	}
	if len(out.recs) != len(want) || st.Dropped != ndropped || st.Records != int64(len(want)) {
		t.Fatalf("%d records (stats %d kept, %d dropped), want %d kept, %d dropped", len(out.recs), st.Records, st.Dropped, len(want), ndropped)
	}
	for i := range want {
		if out.recs[i].t != want[i].t || !bytes.Equal(out.recs[i].raw, want[i].raw) {
			t.Fatalf("record %d differs: %s vs %s", i+1, out.recs[i].t, want[i].t)
		}
	}
	if !bytes.Equal(out.header, in.header) {
		t.Errorf("header differs")
	}
	// Index rows stay (see the package doc), including the dropped tables'.
	if n := countType(out.recs, decode.TypeIndex); n != countType(in.recs, decode.TypeIndex) {
		t.Errorf("%d Index rows, input has %d", n, countType(in.recs, decode.TypeIndex))
	}
	wantMeta := in.meta
	wantMeta.Size = out.stateLen
	if !metaEqual(out.meta, wantMeta) || out.meta.Size != st.Size {
		t.Errorf("meta %+v, want %+v", out.meta, wantMeta)
	}
}

func countType(rs []rec, ty decode.MessageType) int {
	n := 0
	for _, r := range rs {
		if r.t == ty {
			n++
		}
	}
	return n
}

func kvKey(t *testing.T, r rec) string {
	t.Helper()
	k, err := decode.Keys(&decode.Record{Type: r.t, Raw: r.raw})
	if err != nil {
		t.Fatalf("no key in a %s record: %v", r.t, err)
	}
	return k.KV
}

// TestSelection: every selection rule, checked record by record against
// the input.
func TestSelection(t *testing.T) {
	isKV := func(r rec) bool { return r.t == decode.TypeKVS || r.t == decode.TypeTombstone }
	tests := []struct {
		name string
		opts Options
		keep func(t *testing.T, r rec) bool
	}{
		{"kv-prefix app/", Options{KVPrefixes: []string{"app/"}}, func(t *testing.T, r rec) bool {
			return !isKV(r) || strings.HasPrefix(kvKey(t, r), "app/")
		}},
		{"kv-prefix app/config/ and tmp/ (tombstones)", Options{KVPrefixes: []string{"app/config/", "tmp/"}}, func(t *testing.T, r rec) bool {
			return !isKV(r) || strings.HasPrefix(kvKey(t, r), "app/config/") || strings.HasPrefix(kvKey(t, r), "tmp/")
		}},
		{"drop-kv-prefix app/", Options{DropKVPrefixes: []string{"app/"}}, func(t *testing.T, r rec) bool {
			return !isKV(r) || !strings.HasPrefix(kvKey(t, r), "app/")
		}},
		{"kv-prefix app/ minus app/blob/", Options{KVPrefixes: []string{"app/"}, DropKVPrefixes: []string{"app/blob/"}}, func(t *testing.T, r rec) bool {
			return !isKV(r) || strings.HasPrefix(kvKey(t, r), "app/") && !strings.HasPrefix(kvKey(t, r), "app/blob/")
		}},
		{"keep-type KVS Index", Options{KeepTypes: []decode.MessageType{decode.TypeKVS, decode.TypeIndex}}, func(t *testing.T, r rec) bool {
			return r.t == decode.TypeKVS || r.t == decode.TypeIndex
		}},
		{"drop-type Register Session", Options{DropTypes: []decode.MessageType{decode.TypeRegister, decode.TypeSession}}, func(t *testing.T, r rec) bool {
			return r.t != decode.TypeRegister && r.t != decode.TypeSession
		}},
		{"drop everything", Options{KeepTypes: []decode.MessageType{200}}, func(t *testing.T, r rec) bool { return false }},
		{"transform drops tombstones", Options{Transform: func(r *decode.Record) ([]byte, bool, error) {
			return nil, r.Type != decode.TypeTombstone, nil
		}}, func(t *testing.T, r rec) bool { return r.t != decode.TypeTombstone }},
	}
	in := openSnap(t, fixBefore)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, st := run(t, fixBefore, tt.opts)
			out := archiveSnap(t, b)
			var want []rec
			for _, r := range in.recs {
				if tt.keep(t, r) {
					want = append(want, r)
				}
			}
			if len(want) == len(in.recs) && tt.name != "transform drops tombstones" {
				t.Fatal("the selection keeps everything: the case tests nothing")
			}
			if len(out.recs) != len(want) || st.Records != int64(len(want)) || st.Dropped != int64(len(in.recs)-len(want)) {
				t.Fatalf("%d records (stats %+v), want %d", len(out.recs), st, len(want))
			}
			size := int64(len(in.header))
			for i := range want {
				if out.recs[i].t != want[i].t || !bytes.Equal(out.recs[i].raw, want[i].raw) {
					t.Fatalf("record %d: %s, want %s", i+1, out.recs[i].t, want[i].t)
				}
				size += int64(len(want[i].raw))
			}
			if out.stateLen != size || st.Size != size || out.meta.Size != size {
				t.Errorf("state.bin %d bytes (stats %d, meta %d), want %d", out.stateLen, st.Size, out.meta.Size, size)
			}
			var kept, dropped int64
			for _, ts := range st.Types {
				kept += ts.Kept
				dropped += ts.Dropped
			}
			if kept != st.Records || dropped != st.Dropped {
				t.Errorf("per-type counts %d/%d, totals %d/%d", kept, dropped, st.Records, st.Dropped)
			}
		})
	}
}

// TestArchiveMembers reads the output with archive/tar and compress/gzip
// (not decode): meta.json is raft's SnapshotMeta with every field of the
// input's and the new Size, SHA256SUMS holds the members' hashes.
func TestArchiveMembers(t *testing.T) {
	// A data-dir snapshot: its meta.json has a CRC the archive must not carry.
	db, _ := run(t, fixData, Options{})
	if d := archiveSnap(t, db); bytes.Contains(d.metaRaw, []byte(`"CRC"`)) || !bytes.Contains(openSnap(t, fixData).metaRaw, []byte(`"CRC"`)) {
		t.Errorf("archive meta.json from a data-dir snapshot: %s", d.metaRaw)
	}
	b, st := run(t, fixAfter, Options{DropTypes: []decode.MessageType{decode.TypeKVS}, Archive: encode.ArchiveOptions{Parallel: 2, ModTime: time.Unix(1700000000, 0)}})
	in := openSnap(t, fixAfter)
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	members := map[string][]byte{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Unix(1700000000, 0)) || h.Mode != 0o600 {
			t.Errorf("%s: mtime %v mode %o", h.Name, h.ModTime, h.Mode)
		}
		data, _ := io.ReadAll(tr)
		members[h.Name] = data
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "meta.json,state.bin,SHA256SUMS" {
		t.Fatalf("members %v", names)
	}
	var meta map[string]any
	if err := json.Unmarshal(members["meta.json"], &meta); err != nil {
		t.Fatal(err)
	}
	var inMeta map[string]any
	json.Unmarshal(in.metaRaw, &inMeta)
	for k, v := range inMeta {
		if k == "Size" {
			continue
		}
		if fmt.Sprint(meta[k]) != fmt.Sprint(v) {
			t.Errorf("meta.json %s = %v, input %v", k, meta[k], v)
		}
	}
	if len(meta) != len(inMeta) {
		t.Errorf("meta.json keys %d, input %d", len(meta), len(inMeta))
	}
	if int64(meta["Size"].(float64)) != int64(len(members["state.bin"])) || st.Size != int64(len(members["state.bin"])) || st.Size >= in.stateLen {
		t.Errorf("Size %v, state.bin %d bytes, stats %d, input %d", meta["Size"], len(members["state.bin"]), st.Size, in.stateLen)
	}
	wantSums := fmt.Sprintf("%x  meta.json\n%x  state.bin\n", sha256.Sum256(members["meta.json"]), sha256.Sum256(members["state.bin"]))
	if string(members["SHA256SUMS"]) != wantSums {
		t.Errorf("SHA256SUMS\n%s\nwant\n%s", members["SHA256SUMS"], wantSums)
	}
}

// TestTransform: a transform that rewrites bytes (same length) is applied
// and verified; one whose length changes between passes, one that changes
// the type and one that returns garbage are refused.
func TestTransform(t *testing.T) {
	upper := func(r *decode.Record) ([]byte, bool, error) {
		if r.Type != decode.TypeKVS {
			return nil, true, nil
		}
		return bytes.ReplaceAll(r.Raw, []byte("app/"), []byte("APP/")), true, nil
	}
	b, st := run(t, fixBefore, Options{Transform: upper})
	out := archiveSnap(t, b)
	in := openSnap(t, fixBefore)
	if st.Transformed != int64(countType(in.recs, decode.TypeKVS)) || out.stateLen != in.stateLen {
		t.Errorf("transformed %d, state %d vs %d", st.Transformed, out.stateLen, in.stateLen)
	}
	n := 0
	for _, r := range out.recs {
		if r.t == decode.TypeKVS && strings.HasPrefix(kvKey(t, r), "APP/") {
			n++
		}
	}
	if n == 0 {
		t.Error("no transformed key in the output")
	}

	calls := 0
	growing := func(r *decode.Record) ([]byte, bool, error) {
		if r.Type != decode.TypeIndex {
			return nil, true, nil
		}
		calls++
		if calls < 10 {
			return nil, true, nil
		}
		// Second pass: Index value 0x0b becomes a uint16: longer.
		return append(append([]byte{}, r.Raw[:len(r.Raw)-1]...), 0xcd, 0, 1), true, nil
	}
	errCases := []struct {
		name string
		tf   Transform
		want error
	}{
		{"not deterministic", growing, ErrChanged},
		{"type changed", func(r *decode.Record) ([]byte, bool, error) { return []byte{byte(r.Type) + 1, 0x80}, true, nil }, encode.ErrBadRecord},
		{"two values", func(r *decode.Record) ([]byte, bool, error) { return append(bytes.Clone(r.Raw), 0x80), true, nil }, encode.ErrBadRecord},
		{"error", func(r *decode.Record) ([]byte, bool, error) { return nil, false, io.ErrShortBuffer }, io.ErrShortBuffer},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			calls = 0
			var out bytes.Buffer
			_, err := Run(context.Background(), fixBefore, &out, Options{Transform: c.tf})
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// TestRefusals: inputs that cannot be read twice, damaged inputs and
// contradictory options are refused, and nothing is written for them.
func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(fixAfter)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.snap")
	os.WriteFile(damaged, full[:len(full)*2/3], 0o600)
	flipped := bytes.Clone(full)
	flipped[len(flipped)/2] ^= 0x40
	corrupt := filepath.Join(dir, "corrupt.snap")
	os.WriteFile(corrupt, flipped, 0o600)
	tests := []struct {
		name   string
		in     string
		opts   Options
		want   error
		damage bool
	}{
		{"stdin", "-", Options{}, ErrNotReopenable, false},
		{"fifo", fifo, Options{}, ErrNotReopenable, false},
		{"missing", filepath.Join(dir, "nope.snap"), Options{}, os.ErrNotExist, false},
		{"truncated", damaged, Options{}, nil, true},
		{"bit flip", corrupt, Options{}, nil, true},
		{"kept and dropped", fixBefore, Options{KeepTypes: []decode.MessageType{2}, DropTypes: []decode.MessageType{2}}, ErrOptions, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Run(context.Background(), tt.in, &out, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if tt.damage && !decode.IsDamage(err) {
				t.Errorf("err = %v: decode.IsDamage is false", err)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written for a refused input", out.Len())
			}
		})
	}
}

// TestInputUnchanged: Run never writes IN (content, size, mode, mtime).
func TestInputUnchanged(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(fixBefore)
	in := filepath.Join(dir, "in.snap")
	os.WriteFile(in, src, 0o444)
	st0, _ := os.Stat(in)
	time.Sleep(10 * time.Millisecond)
	run(t, in, Options{DropEnterprise: true, DropTypes: []decode.MessageType{decode.TypePeering}})
	st1, _ := os.Stat(in)
	now, _ := os.ReadFile(in)
	if !bytes.Equal(now, src) || st1.ModTime() != st0.ModTime() || st1.Mode() != st0.Mode() {
		t.Errorf("input changed")
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	// The fixtures are small; the check runs every 4096 records, so build a bigger input.
	path := bigArchive(t, 10000)
	if _, err := Run(ctx, path, &out, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// bigArchive writes an archive of n KV records with encode.
func bigArchive(t testing.TB, n int) string {
	t.Helper()
	var state bytes.Buffer
	sw, err := encode.NewStateWriter(&state, uint64(n))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		e := &encode.DirEntry{Key: fmt.Sprintf("k/%07d", i), Value: []byte(strings.Repeat("v", 100)), CreateIndex: 1, ModifyIndex: uint64(i + 1)}
		if err := sw.WriteRecord(decode.TypeKVS, e); err != nil {
			t.Fatal(err)
		}
	}
	sw.Flush()
	path := filepath.Join(t.TempDir(), "big.snap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta := raft.SnapshotMeta{Version: 1, ID: "2-x", Index: uint64(n), Term: 2, Size: int64(state.Len())}
	if err := encode.WriteArchive(f, meta, &state, encode.ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNoGoroutineLeak: a rewrite that fails in pass 2 (here a Transform
// whose length changes between passes) with the parallel gzip writer
// releases every goroutine: the read-back and pgzip's.
func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		pass := 0
		tf := func(r *decode.Record) ([]byte, bool, error) {
			if r.N == 1 {
				pass++
			}
			if pass == 2 && r.Type == decode.TypeIndex {
				return nil, false, nil // drops in pass 2 only
			}
			return nil, true, nil
		}
		_, err := Run(context.Background(), fixBefore, io.Discard, Options{Transform: tf, Archive: encode.ArchiveOptions{Parallel: 2}})
		if !errors.Is(err, ErrChanged) {
			t.Fatalf("err = %v, want ErrChanged", err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}
