package report

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// Real snapshots from any Consul pass.
func TestVerifyRealFixtures(t *testing.T) {
	for _, in := range []string{
		filepath.Join(consulTestdata, "backup.snap"),
		filepath.Join(consulTestdata, "backupWithKV.snap"),
		filepath.Join(consulTestdata, "raw", "state.bin"),
		filepath.Join(consul1139, "before.snap"),
		filepath.Join(consul1139, "after.snap"),
		filepath.Join(consul1139, "datadir"),
	} {
		r, err := VerifyFile(context.Background(), in, VerifyOptions{})
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !r.Pass || r.Errors != 0 {
			var b bytes.Buffer
			_ = (&tablePrinter{w: &b}).VerifyFile(r)
			t.Errorf("%s does not pass:\n%s", in, b.String())
		}
		if r.Records == 0 || r.Meta == nil || r.LastIndex == 0 || r.LastIndex > r.Meta.Index {
			t.Errorf("%s: records %d meta %v last index %d", in, r.Records, r.Meta, r.LastIndex)
		}
		for _, l := range r.Layers {
			if l.Status == StatusError || l.Status == StatusUnchecked {
				t.Errorf("%s: layer %s is %s", in, l.Name, l.Status)
			}
		}
	}
	// raw state.bin without CRC: a warning (unverifiable), which --strict fails.
	r, _ := VerifyFile(context.Background(), filepath.Join(consulTestdata, "raw", "state.bin"), VerifyOptions{Strict: true})
	if r.Pass || r.Verdict != VerdictWarnings || r.Integrity != "unverifiable" {
		t.Errorf("raw state.bin --strict: pass %v verdict %s integrity %s", r.Pass, r.Verdict, r.Integrity)
	}
}

// ---- building damaged archives ----

type tarMember struct {
	name string
	data []byte
}

type rawFixture struct {
	meta  []byte
	state []byte
}

func loadBackup(t *testing.T) rawFixture {
	t.Helper()
	return rawFixture{
		meta:  []byte(readText(t, filepath.Join(consulTestdata, "raw", "meta.json"))),
		state: []byte(readText(t, filepath.Join(consulTestdata, "raw", "state.bin"))),
	}
}

func sumsOf(members ...tarMember) []byte {
	var b bytes.Buffer
	for _, m := range members {
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(m.data), m.name)
	}
	return b.Bytes()
}

func tarOf(t *testing.T, members []tarMember) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o600, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// archive builds a Consul-style archive with consistent checksums.
func buildArchive(t *testing.T, meta, state []byte) []byte {
	mm, sm := tarMember{"meta.json", meta}, tarMember{"state.bin", state}
	return gzipBytes(t, tarOf(t, []tarMember{mm, sm, {"SHA256SUMS", sumsOf(mm, sm)}}))
}

// withSize rewrites meta.json's Size.
func withMeta(t *testing.T, meta []byte, key string, v any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatal(err)
	}
	m[key] = v
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// splitState returns the header bytes and each record's raw bytes.
func splitState(t *testing.T, state []byte) ([]byte, [][]byte) {
	t.Helper()
	st := decode.NewStream(bytes.NewReader(state), decode.Options{})
	var recs [][]byte
	for st.Next() {
		recs = append(recs, append([]byte(nil), st.Record().Raw...))
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	h, _ := st.Header()
	return h.Raw, recs
}

func joinState(header []byte, recs ...[]byte) []byte {
	out := append([]byte(nil), header...)
	for _, r := range recs {
		out = append(out, r...)
	}
	return out
}

// fixed archive: meta.Size set to the state length.
func consistent(t *testing.T, f rawFixture, state []byte) []byte {
	return buildArchive(t, withMeta(t, f.meta, "Size", len(state)), state)
}

type damageCase struct {
	name   string
	input  []byte // archive bytes; or nil when dir is used
	dir    func(t *testing.T, dir string) string
	strict bool     // only --strict fails it
	layers []string // layers that must have an error (or a warning, with strict)
	anyOf  bool     // one of layers is enough
}

func damageCases(t *testing.T) []damageCase {
	f := loadBackup(t)
	good := buildArchive(t, f.meta, f.state)
	header, recs := splitState(t, f.state)
	last := len(recs) - 1 // ChunkingState
	mm, sm := tarMember{"meta.json", f.meta}, tarMember{"state.bin", f.state}
	sumsOK := tarMember{"SHA256SUMS", sumsOf(mm, sm)}

	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0xff
	stateFlip := append([]byte(nil), f.state...)
	stateFlip[len(stateFlip)-40] ^= 0x01 // inside a record's string payload
	// A KVS record whose Key is an integer: scans as msgpack, fails typed decode.
	badKV := []byte("\x02\x87\xabCreateIndex\x01\xa5Flags\x00\xa3Key\x05\xa9LockIndex\x00\xabModifyIndex\x01\xa7Session\xa0\xa5Value\xc0")
	unknownRec := []byte{100, 0x81, 0xa1, 'x', 0x01}

	return []damageCase{
		{name: "gzip magic damaged", input: append([]byte{0x1f, 0x0b}, good[2:]...), layers: []string{LayerGzip}},
		{name: "gzip cut inside its header", input: good[:5], layers: []string{LayerGzip}},
		// A cut archive ends the compressed stream mid-member: reported as gzip
		// (the decompressor saw the end) or as a short tar member.
		{name: "truncated archive", input: good[:len(good)/2], layers: []string{LayerGzip, LayerTar}, anyOf: true},
		// deflate may decode the flipped byte into garbage: the tar reader then
		// fails before the gzip CRC at the end is reached.
		{name: "flipped compressed byte", input: flipped, layers: []string{LayerGzip, LayerTar}, anyOf: true},
		{name: "garbage after gzip", input: append(append([]byte(nil), good...), "garbage"...), layers: []string{LayerGzip}},
		{name: "tar record padding", input: gzipBytes(t, append(tarOf(t, []tarMember{mm, sm, sumsOK}), make([]byte, 8192)...)), layers: []string{LayerTar}},
		{name: "unexpected member", input: gzipBytes(t, tarOf(t, []tarMember{mm, sm, sumsOK, {"extra.txt", []byte("x")}})), layers: []string{LayerTar}},
		{name: "SHA256SUMS missing", input: gzipBytes(t, tarOf(t, []tarMember{mm, sm})), layers: []string{LayerTar}},
		{name: "duplicate state.bin", input: gzipBytes(t, tarOf(t, []tarMember{mm, sm, sm, sumsOK})), layers: []string{LayerTar}},
		{name: "state.bin byte flipped", input: gzipBytes(t, tarOf(t, []tarMember{mm, {"state.bin", stateFlip}, sumsOK})), layers: []string{LayerChecksums}},
		{name: "SHA256SUMS blank line", input: gzipBytes(t, tarOf(t, []tarMember{mm, sm, {"SHA256SUMS", append(sumsOf(mm, sm), '\n')}})), layers: []string{LayerChecksums}},
		{name: "meta.json not JSON", input: buildArchive(t, []byte("{not json"), f.state), layers: []string{LayerMeta}},
		{name: "meta.json Size wrong", input: buildArchive(t, withMeta(t, f.meta, "Size", 5000), f.state), layers: []string{LayerMeta}},
		{name: "record truncated", input: consistent(t, f, f.state[:len(f.state)-5]), layers: []string{LayerRecords}},
		{name: "empty state.bin", input: consistent(t, f, nil), layers: []string{LayerRecords}},
		{name: "typed decode fails", input: consistent(t, f, joinState(header, append(recs[:last:last], badKV, recs[last])...)), layers: []string{LayerRecords}},
		{name: "ChunkingState not last", input: consistent(t, f, joinState(header, append(append([][]byte{}, recs...), recs[3])...)), layers: []string{LayerOrdering}},
		{name: "two ChunkingStates", input: consistent(t, f, joinState(header, append(append([][]byte{}, recs...), recs[last])...)), layers: []string{LayerOrdering}},
		{name: "index beyond meta Index", input: buildArchive(t, withMeta(t, f.meta, "Index", 5), f.state), layers: []string{LayerRecords, LayerOrdering}},
		{name: "cut at a record boundary", input: consistent(t, f, joinState(header, recs[:last]...)), strict: true, layers: []string{LayerOrdering}},
		{name: "unknown type", input: consistent(t, f, joinState(header, append(append(append([][]byte{}, recs[:last]...), unknownRec), recs[last])...)), strict: true, layers: []string{LayerUnknown}},
		{name: "data-dir CRC mismatch", dir: func(t *testing.T, dir string) string {
			snap := filepath.Join(dir, "raft", "snapshots", "2-13-1")
			if err := os.MkdirAll(snap, 0o755); err != nil {
				t.Fatal(err)
			}
			meta := withMeta(t, f.meta, "CRC", []byte{1, 2, 3, 4, 5, 6, 7, 8})
			noErr(t, os.WriteFile(filepath.Join(snap, "meta.json"), meta, 0o600))
			noErr(t, os.WriteFile(filepath.Join(snap, "state.bin"), f.state, 0o600))
			return dir
		}, layers: []string{LayerChecksums}},
		{name: "raw meta.json unparsable", dir: func(t *testing.T, dir string) string {
			noErr(t, os.WriteFile(filepath.Join(dir, "meta.json"), []byte("{"), 0o600))
			noErr(t, os.WriteFile(filepath.Join(dir, "state.bin"), f.state, 0o600))
			return filepath.Join(dir, "state.bin")
		}, layers: []string{LayerMeta}},
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A damaged snapshot never passes, and the failure is in the right layer.
func TestVerifyDamaged(t *testing.T) {
	for _, tc := range damageCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.snap")
			if tc.dir != nil {
				path = tc.dir(t, dir)
			} else {
				noErr(t, os.WriteFile(path, tc.input, 0o600))
			}
			r, err := VerifyFile(context.Background(), path, VerifyOptions{})
			if err != nil {
				t.Fatalf("VerifyFile: %v", err)
			}
			var text bytes.Buffer
			noErr(t, (&tablePrinter{w: &text}).VerifyFile(r))
			if tc.strict {
				if !r.Pass || r.Errors != 0 || r.Warnings == 0 {
					t.Errorf("want a warning-only pass without --strict:\n%s", text.String())
				}
				rs, _ := VerifyFile(context.Background(), path, VerifyOptions{Strict: true})
				if rs.Pass {
					t.Errorf("--strict passes:\n%s", text.String())
				}
			} else if r.Pass || r.Verdict != VerdictDamaged || r.Errors == 0 {
				t.Errorf("damaged input passes:\n%s", text.String())
			}
			hits := 0
			for _, layer := range tc.layers {
				found := false
				for _, f := range r.Findings {
					if f.Layer == layer && (f.Severity == SeverityError || tc.strict) {
						found = true
					}
				}
				if found {
					hits++
				} else if !tc.anyOf {
					t.Errorf("no finding in layer %q:\n%s", layer, text.String())
				}
			}
			if tc.anyOf && hits == 0 {
				t.Errorf("no finding in any of the layers %q:\n%s", tc.layers, text.String())
			}
			for _, f := range r.Findings {
				if f.Message == "" || f.Layer == "" {
					t.Errorf("finding without message or layer: %+v", f)
				}
			}
		})
	}
}

// After a checksum mismatch the records are still read and a bad record is located.
func TestVerifyLocatesDamageBehindChecksum(t *testing.T) {
	f := loadBackup(t)
	header, recs := splitState(t, f.state)
	badKV := []byte("\x02\x81\xa3Key\x05")
	state := joinState(header, append(append([][]byte{}, recs[:5]...), append([][]byte{badKV}, recs[5:]...)...)...)
	mm, sm := tarMember{"meta.json", f.meta}, tarMember{"state.bin", state}
	// SHA256SUMS of the original state.bin: a mismatch.
	in := gzipBytes(t, tarOf(t, []tarMember{mm, sm, {"SHA256SUMS", sumsOf(mm, tarMember{"state.bin", f.state})}}))
	path := filepath.Join(t.TempDir(), "x.snap")
	noErr(t, os.WriteFile(path, in, 0o600))
	r, err := VerifyFile(context.Background(), path, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var sawSum, sawRec bool
	wantOff := int64(len(header))
	for _, rec := range recs[:5] {
		wantOff += int64(len(rec))
	}
	for _, fd := range r.Findings {
		switch fd.Layer {
		case LayerChecksums:
			sawSum = true
		case LayerRecords:
			if fd.Record == 6 && fd.Offset == wantOff && fd.Type == "KVS" && strings.Contains(fd.Message, "record 6 (KVS)") {
				sawRec = true
			}
		}
	}
	if !sawSum || !sawRec || r.Records != int64(len(recs)+1) {
		var b bytes.Buffer
		_ = (&tablePrinter{w: &b}).VerifyFile(r)
		t.Errorf("checksum finding %v, record 6 located at %d %v, records %d:\n%s", sawSum, wantOff, sawRec, r.Records, b.String())
	}
}

func TestVerifyUnreadable(t *testing.T) {
	r, err := VerifyFile(context.Background(), filepath.Join(t.TempDir(), "missing.snap"), VerifyOptions{})
	if err == nil || r.Verdict != VerdictUnreadable || r.Pass {
		t.Fatalf("missing file: err %v verdict %s pass %v", err, r.Verdict, r.Pass)
	}
	sum := Summarize([]*VerifyResult{r})
	if sum.Unreadable != 1 || sum.Passed != 0 || sum.Failed != 0 {
		t.Errorf("summary %+v", sum)
	}
}

func TestVerifyJSON(t *testing.T) {
	good, _ := VerifyFile(context.Background(), filepath.Join(consulTestdata, "backup.snap"), VerifyOptions{})
	f := loadBackup(t)
	path := filepath.Join(t.TempDir(), "bad.snap")
	noErr(t, os.WriteFile(path, buildArchive(t, withMeta(t, f.meta, "Size", 1), f.state), 0o600))
	bad, _ := VerifyFile(context.Background(), path, VerifyOptions{})
	var b bytes.Buffer
	noErr(t, (&jsonPrinter{w: &b}).VerifyDone([]*VerifyResult{good, bad}))
	var doc struct {
		Pass    bool
		Summary VerifySummary
		Files   []struct {
			File     string
			Verdict  string
			Pass     bool
			Layers   []LayerStatus
			Findings []Finding
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	if doc.Pass || doc.Summary != (VerifySummary{Files: 2, Passed: 1, Failed: 1}) || len(doc.Files) != 2 {
		t.Fatalf("document: %s", b.String())
	}
	if doc.Files[0].Verdict != VerdictOK || len(doc.Files[0].Layers) != len(VerifyLayers) || doc.Files[0].Findings == nil {
		t.Errorf("good file: %+v", doc.Files[0])
	}
	if doc.Files[1].Verdict != VerdictDamaged || len(doc.Files[1].Findings) == 0 || doc.Files[1].Findings[0].Layer != LayerMeta {
		t.Errorf("bad file: %+v", doc.Files[1])
	}
}

// An input that is not a snapshot has its own verdict, saying what it
// looks like; it is neither damaged nor passed.
func TestVerifyNotSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name, looks string
		input       []byte
		dir         bool
	}{
		{name: "empty file", input: []byte{}, looks: "an empty file"},
		{name: "text", input: []byte("this is not a snapshot\n"), looks: `text (it starts "this is not a snapshot")`},
		{name: "JSON", input: []byte(`  {"Meta": {}}`), looks: `JSON text (it starts "{\"Meta\": {}}")`},
		{name: "zip", input: []byte("PK\x03\x04rest"), looks: "a zip archive"},
		{name: "directory", dir: true, looks: "a directory with no state.bin and no raft snapshot directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir()
			if !tc.dir {
				path = filepath.Join(path, "x.snap")
				noErr(t, os.WriteFile(path, tc.input, 0o600))
			}
			r, err := VerifyFile(context.Background(), path, VerifyOptions{})
			if err != nil {
				t.Fatalf("VerifyFile: %v", err)
			}
			if r.Verdict != VerdictNotSnapshot || r.Pass || r.LooksLike != tc.looks {
				t.Errorf("verdict %q pass %v looks like %q, want %q, false, %q", r.Verdict, r.Pass, r.LooksLike, VerdictNotSnapshot, tc.looks)
			}
			if want := path + ": NOT A SNAPSHOT: it looks like " + tc.looks; r.Headline() != want {
				t.Errorf("headline %q, want %q", r.Headline(), want)
			}
			if sum := Summarize([]*VerifyResult{r}); sum.NotSnapshot != 1 || sum.Failed != 0 || sum.Passed != 0 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}
