package encode

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/decode"
)

// fixtures are real Consul snapshots; their records are the oracle for the encoder.
var fixtures = []string{
	"../fixtures/consul-1.13.9/before.snap",
	"../fixtures/consul-1.13.9/after.snap",
	"../fixtures/consul-testdata/backupWithKV.snap",
}

// TestReencodeMatchesConsul decodes real records into encode's structs with
// Consul's handle and encodes them again: the bytes must equal what Consul
// wrote. Only map-free records qualify (Go maps have random key order).
func TestReencodeMatchesConsul(t *testing.T) {
	newValue := map[decode.MessageType]func() any{
		decode.TypeKVS:           func() any { return &DirEntry{} },
		decode.TypeTombstone:     func() any { return &DirEntry{} },
		decode.TypeSession:       func() any { return &Session{} },
		decode.TypeAutopilot:     func() any { return &AutopilotConfig{} },
		decode.TypeIndex:         func() any { return &IndexEntry{} },
		decode.TypeChunkingState: func() any { return &ChunkingState{} },
		decode.TypeACLToken:      func() any { return &ACLToken{} },
	}
	for _, path := range fixtures {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("fixture missing: %v", err)
			}
			s, err := decode.Open(path, decode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checked := map[decode.MessageType]int{}
			for s.Next() {
				rec := s.Record()
				mk, ok := newValue[rec.Type]
				if !ok {
					continue
				}
				if rec.Type == decode.TypeACLToken && len(rec.Raw) > 0 && !hasKey(rec, "Rules") {
					continue // pre-1.13 or post-1.14 key set
				}
				v := mk()
				if err := codec.NewDecoderBytes(rec.Value(), NewHandle()).Decode(v); err != nil {
					t.Fatalf("record %d (%s): decoding with Consul's handle: %v", rec.N, rec.Type, err)
				}
				var buf bytes.Buffer
				sw := mustStateWriter(t, &buf)
				buf.Reset() // drop the header: compare the record alone
				if err := sw.WriteRecord(rec.Type, v); err != nil {
					t.Fatal(err)
				}
				if err := sw.Flush(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), rec.Raw) {
					t.Errorf("record %d (%s): re-encoded bytes differ\n got %x\nwant %x", rec.N, rec.Type, buf.Bytes(), rec.Raw)
				}
				checked[rec.Type]++
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if checked[decode.TypeKVS] == 0 || checked[decode.TypeIndex] == 0 || checked[decode.TypeChunkingState] != 1 {
				t.Errorf("too few records compared: %v", checked)
			}
			t.Logf("compared %v", checked)
		})
	}
}

func hasKey(rec *decode.Record, key string) bool {
	v, err := decode.DecodeAll(rec.Value())
	if err != nil {
		return false
	}
	_, ok := v.Get(key)
	return ok
}

func mustStateWriter(t *testing.T, w io.Writer) *StateWriter {
	t.Helper()
	sw, err := NewStateWriter(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	return sw
}

// TestStateWriterHeaderAndRecords checks exact bytes for the header and for
// the records whose encoding docs/FORMAT.md §4.1, §4.2 and §8.6 spell out.
func TestStateWriterHeaderAndRecords(t *testing.T) {
	tests := []struct {
		name string
		typ  decode.MessageType
		v    any
		want []byte
	}{
		{"chunking state", decode.TypeChunkingState, &ChunkingState{ChunkMap: map[uint64][]ChunkInfo{}},
			append([]byte{0x1d, 0x81, 0xa8}, append([]byte("ChunkMap"), 0x80)...)},
		{"index", decode.TypeIndex, &IndexEntry{Key: "checks", Value: 11},
			append(append(append([]byte{0x10, 0x82, 0xa3}, "Key"...), append([]byte{0xa6}, "checks"...)...), append(append([]byte{0xa5}, "Value"...), 0x0b)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			sw, err := NewStateWriter(&buf, 13)
			if err != nil {
				t.Fatal(err)
			}
			if err := sw.WriteRecord(tt.typ, tt.v); err != nil {
				t.Fatal(err)
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
			header := append(append([]byte{0x81, 0xa9}, "LastIndex"...), 0x0d)
			want := append(header, tt.want...)
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("got %x\nwant %x", buf.Bytes(), want)
			}
			if sw.Size() != int64(len(want)) || sw.Count() != 1 {
				t.Errorf("Size %d Count %d, want %d and 1", sw.Size(), sw.Count(), len(want))
			}
		})
	}
}

func TestTimeAndBytesEncoding(t *testing.T) {
	var buf bytes.Buffer
	sw, err := NewStateWriter(&buf, 1)
	if err != nil {
		t.Fatal(err)
	}
	hash := bytes.Repeat([]byte{0xab}, 32)
	tok := &ACLToken{CreateTime: time.Date(2030, 10, 9, 5, 45, 26, 0, time.UTC), Hash: hash}
	if err := sw.WriteRecord(decode.TypeACLToken, tok); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	// time.Time → 15-byte MarshalBinary form in a fixstr; 32-byte []byte → str16 (never bin or str8).
	wantTime := []byte{0xaf, 0x01, 0x00, 0x00, 0x00, 0x0e, 0xe9, 0xe0, 0x95, 0xf6, 0, 0, 0, 0, 0xff, 0xff}
	if !bytes.Contains(buf.Bytes(), append([]byte("CreateTime"), wantTime...)) {
		t.Errorf("CreateTime not in Consul's form: %x", buf.Bytes())
	}
	if !bytes.Contains(buf.Bytes(), append([]byte("Hash\xda\x00\x20"), hash...)) {
		t.Errorf("Hash not written as str16: %x", buf.Bytes())
	}
	s := decode.NewStream(bytes.NewReader(buf.Bytes()), decode.Options{})
	if !s.Next() {
		t.Fatalf("decode: %v", s.Err())
	}
	d, err := decode.DecodeRecord(s.Record())
	if err != nil {
		t.Fatal(err)
	}
	got, ok := d.Data.(*decode.ACLToken)
	if !ok || !bytes.Equal(got.Hash, hash) {
		t.Fatalf("decoded %T %+v", d.Data, d.Data)
	}
}

func TestWriteRaw(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		wantErr bool
	}{
		{"one record", []byte{0x10, 0x80}, false},
		{"type byte only", []byte{0x10}, true},
		{"two values", []byte{0x10, 0x80, 0x80}, true},
		{"truncated value", []byte{0x10, 0x81, 0xa1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			sw, _ := NewStateWriter(&buf, 0)
			err := sw.WriteRaw(tt.raw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadRecord) {
				t.Errorf("error %v does not wrap ErrBadRecord", err)
			}
			if err == nil && sw.Count() != 1 {
				t.Errorf("Count = %d", sw.Count())
			}
		})
	}
}

// archiveMember returns the bytes of member name in the archive at path.
func archiveMember(t *testing.T, path, name string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no %s (%v)", path, name, err)
		}
		if hdr.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// TestCopyFixtureByteExact rewrites a real archive's state.bin record by
// record with WriteRaw and checks state.bin and meta.json come out identical
// and the archive is accepted by decode with verified checksums.
func TestCopyFixtureByteExact(t *testing.T) {
	for _, path := range fixtures {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := decode.Open(path, decode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			h, err := s.Header()
			if err != nil {
				t.Fatal(err)
			}
			var state bytes.Buffer
			sw, err := NewStateWriter(&state, h.LastIndex)
			if err != nil {
				t.Fatal(err)
			}
			orig := sha256.New()
			orig.Write(h.Raw)
			for s.Next() {
				orig.Write(s.Record().Raw)
				if err := sw.WriteRaw(s.Record().Raw); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := sha256.Sum256(state.Bytes()); !bytes.Equal(got[:], orig.Sum(nil)) {
				t.Fatalf("state.bin differs from the original")
			}
			meta := s.Meta().SnapshotMeta
			var arch bytes.Buffer
			if err := WriteArchive(&arch, meta, bytes.NewReader(state.Bytes()), ArchiveOptions{ModTime: time.Unix(1700000000, 0)}); err != nil {
				t.Fatal(err)
			}
			mj, _ := MetaJSON(meta)
			if want := archiveMember(t, path, decode.MemberMeta); !bytes.Equal(mj, want) {
				t.Errorf("meta.json differs:\n got %s\nwant %s", mj, want)
			}
			checkArchive(t, arch.Bytes(), state.Len(), time.Unix(1700000000, 0))
		})
	}
}

// checkArchive asserts the layers are exactly as Consul writes them and
// that decode reads the archive with verified checksums.
func checkArchive(t *testing.T, b []byte, stateLen int, mtime time.Time) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Header.OS != 255 || zr.Header.Name != "" || zr.Header.Comment != "" || !zr.Header.ModTime.IsZero() {
		t.Errorf("gzip header %+v, want OS 255, no name/comment/mtime", zr.Header)
	}
	zr.Multistream(false)
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	var names []string
	var used int
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		if hdr.Mode != 0o600 || hdr.Typeflag != tar.TypeReg || hdr.Format != tar.FormatUSTAR && hdr.Format != tar.FormatUnknown || !hdr.ModTime.Equal(mtime) {
			t.Errorf("%s: header mode %o type %c format %v mtime %v", hdr.Name, hdr.Mode, hdr.Typeflag, hdr.Format, hdr.ModTime)
		}
		if hdr.Name == decode.MemberState && hdr.Size != int64(stateLen) {
			t.Errorf("state.bin size %d, want %d", hdr.Size, stateLen)
		}
		used += 512 + int((hdr.Size+511)/512*512)
	}
	if want := []string{"meta.json", "state.bin", "SHA256SUMS"}; !reflect.DeepEqual(names, want) {
		t.Errorf("members %v, want %v", names, want)
	}
	if len(raw) != used+1024 {
		t.Errorf("tar is %d bytes, want %d (members + two zero blocks, no padding)", len(raw), used+1024)
	}
	s := decode.NewArchive(bytes.NewReader(b), decode.Options{})
	for s.Next() {
	}
	if err := s.Err(); err != nil || s.Integrity() != decode.Verified {
		t.Errorf("decode: integrity %v, err %v", s.Integrity(), err)
	}
}

func TestArchiveSizeMismatch(t *testing.T) {
	tests := []struct {
		name  string
		size  int64
		state string
	}{
		{"short", 10, "12345"},
		{"long", 3, "12345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteArchive(io.Discard, raft.SnapshotMeta{Version: 1, Size: tt.size}, bytes.NewReader([]byte(tt.state)), ArchiveOptions{})
			if !errors.Is(err, ErrSize) {
				t.Fatalf("err = %v, want ErrSize", err)
			}
		})
	}
}

func TestArchiveRoundTrip(t *testing.T) {
	var state bytes.Buffer
	sw, _ := NewStateWriter(&state, 42)
	for i := 0; i < 100; i++ {
		e := &DirEntry{Key: fmt.Sprintf("a/b/%03d", i), Value: bytes.Repeat([]byte{byte(i)}, i*7), CreateIndex: uint64(i + 1), ModifyIndex: uint64(i + 1)}
		if err := sw.WriteRecord(decode.TypeKVS, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.WriteRecord(decode.TypeChunkingState, &ChunkingState{ChunkMap: map[uint64][]ChunkInfo{}}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var arch bytes.Buffer
	meta := raft.SnapshotMeta{Version: 1, ID: "2-42-1", Index: 42, Term: 2, Size: int64(state.Len())}
	if err := WriteArchive(&arch, meta, &state, ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	checkArchive(t, arch.Bytes(), int(meta.Size), time.Unix(0, 0))
	s := decode.NewArchive(bytes.NewReader(arch.Bytes()), decode.Options{})
	n := 0
	for s.Next() {
		rec := s.Record()
		if n < 100 {
			d, err := decode.DecodeRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			e := d.Data.(*decode.DirEntry)
			if e.Key != fmt.Sprintf("a/b/%03d", n) || len(e.Value) != n*7 {
				t.Errorf("record %d: key %q, %d value bytes", n, e.Key, len(e.Value))
			}
		}
		n++
	}
	if n != 101 || s.Err() != nil {
		t.Errorf("%d records, err %v", n, s.Err())
	}
	if h, _ := s.Header(); h.LastIndex != 42 {
		t.Errorf("LastIndex %d", h.LastIndex)
	}
}

// TestStringMap: a StringMap is an ordinary msgpack map on the wire, in
// slice order, and Consul's handle decodes it into a Go map.
func TestStringMap(t *testing.T) {
	tests := []struct {
		name string
		m    StringMap
		want []byte
	}{
		{"two entries in order", StringMap{"zone", "a", "rack", "r1"}, []byte("\x82\xa4zone\xa1a\xa4rack\xa2r1")},
		{"empty", StringMap{}, []byte{0x80}},
		{"nil", nil, []byte{0xc0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			if err := codec.NewEncoderBytes(&b, NewHandle()).Encode(tt.m); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tt.want) {
				t.Fatalf("got % x, want % x", b, tt.want)
			}
			var back map[string]string
			if err := codec.NewDecoderBytes(b, NewHandle()).Decode(&back); err != nil {
				t.Fatal(err)
			}
			if len(back) != len(tt.m)/2 {
				t.Errorf("decoded %v", back)
			}
			for i := 0; i+1 < len(tt.m); i += 2 {
				if back[tt.m[i]] != tt.m[i+1] {
					t.Errorf("decoded %v, want %v", back, tt.m)
				}
			}
		})
	}
}

// TestParallelArchive: with ArchiveOptions.Parallel the archive is written
// by pgzip in 1 MiB blocks. It must still be exactly one gzip member that
// Go's compress/gzip reads (without multistream), with Consul's header,
// holding the same tar as the single-threaded writer, and decode must
// verify it.
func TestParallelArchive(t *testing.T) {
	var state bytes.Buffer
	sw, _ := NewStateWriter(&state, 7)
	for i := 0; i < 6000; i++ { // about 6 MiB: several pgzip blocks
		e := &DirEntry{Key: fmt.Sprintf("p/%05d", i), Value: bytes.Repeat([]byte(fmt.Sprintf("v%d,", i)), 150), CreateIndex: 1, ModifyIndex: 1}
		if err := sw.WriteRecord(decode.TypeKVS, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	meta := raft.SnapshotMeta{Version: 1, ID: "2-7-1", Index: 7, Term: 2, Size: int64(state.Len())}
	inflate := func(b []byte) []byte {
		br := bytes.NewReader(b) // an io.ByteReader: gzip reads no further than the member
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		// Exactly one member: nothing may follow its trailer.
		if br.Len() != 0 {
			t.Fatalf("%d bytes after the first gzip member", br.Len())
		}
		return raw
	}
	var single bytes.Buffer
	if err := WriteArchive(&single, meta, bytes.NewReader(state.Bytes()), ArchiveOptions{}); err != nil {
		t.Fatal(err)
	}
	want := inflate(single.Bytes())
	for _, par := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(par), func(t *testing.T) {
			var arch bytes.Buffer
			if err := WriteArchive(&arch, meta, bytes.NewReader(state.Bytes()), ArchiveOptions{Parallel: par}); err != nil {
				t.Fatal(err)
			}
			checkArchive(t, arch.Bytes(), state.Len(), time.Unix(0, 0))
			// Count members by reading with multistream on: still one tar.
			zr, err := gzip.NewReader(bytes.NewReader(arch.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			all, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if got := inflate(arch.Bytes()); !bytes.Equal(got, want) || !bytes.Equal(all, want) {
				t.Fatalf("parallel archive inflates to %d bytes (%d multistream), want the single-threaded %d", len(got), len(all), len(want))
			}
			if arch.Len() > single.Len()*11/10 {
				t.Errorf("parallel archive %d bytes, single-threaded %d: more than 10%% larger", arch.Len(), single.Len())
			}
		})
	}
}

func TestNewStateWriterRaw(t *testing.T) {
	tests := []struct {
		name    string
		header  []byte
		wantErr bool
	}{
		{"consul's header", append(append([]byte{0x81, 0xa9}, "LastIndex"...), 0x0d), false},
		{"uint64 LastIndex kept as is", append(append([]byte{0x81, 0xa9}, "LastIndex"...), 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x0d), false},
		{"not a map", []byte{0x0d}, true},
		{"trailing byte", []byte{0x80, 0x00}, true},
		{"truncated", []byte{0x81, 0xa9, 'L'}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			sw, err := NewStateWriterRaw(&buf, tt.header)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if err := sw.WriteRaw([]byte{0x10, 0x80}); err != nil {
				t.Fatal(err)
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
			if want := append(append([]byte{}, tt.header...), 0x10, 0x80); !bytes.Equal(buf.Bytes(), want) || sw.Size() != int64(len(want)) {
				t.Errorf("wrote % x (Size %d), want % x", buf.Bytes(), sw.Size(), want)
			}
		})
	}
}

// TestAppendContainersMatchGoMsgpack: the map and array headers
// AppendMap and AppendArray write are go-msgpack's, at every size class.
func TestAppendContainersMatchGoMsgpack(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 65535, 65536} {
		m := map[string]int{}
		var fields []decode.Field
		arr := make([]int, n)
		var elems [][]byte
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("k%d", i)
			m[k] = 0
			kb, _ := Value(k)
			fields = append(fields, decode.Field{Name: k, Key: kb, Val: []byte{0}})
			elems = append(elems, []byte{0})
		}
		wantArr, err := Value(arr)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendArray(nil, elems); !bytes.Equal(got, wantArr) {
			t.Errorf("array of %d: header %x, go-msgpack %x", n, got[:min(5, len(got))], wantArr[:min(5, len(wantArr))])
		}
		wantMap, err := Value(m)
		if err != nil {
			t.Fatal(err)
		}
		got := AppendMap(nil, fields)
		h := 1 // the header's length: Go writes the keys in random order after it
		if n >= 16 {
			h = 3
		}
		if n >= 1<<16 {
			h = 5
		}
		if len(got) != len(wantMap) || !bytes.Equal(got[:h], wantMap[:h]) {
			t.Errorf("map of %d: header %x, go-msgpack %x", n, got[:h], wantMap[:h])
		}
	}
}
