package decode_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// corruptCase is one damaged (or oddly shaped but valid) input.
type corruptCase struct {
	name  string
	input []byte
	// open opens input; nil means decode.NewArchive.
	open func(t *testing.T, b []byte) *decode.Snapshot
	// ok: the input must decode cleanly, every checksum verified.
	ok bool
	// wantIs: every sentinel must match the snapshot's error (errors.Is).
	// A case whose wantIs holds ErrNotSnapshot is not damage: IsDamage
	// must then be false.
	wantIs []error
	// check runs extra assertions (positions, typed-decode failures).
	check func(t *testing.T, r *result)
	// wantMsg must appear in the error's text.
	wantMsg string
}

// TestCorruptArchives is Consul's corrupt-archive table (docs/FORMAT.md §2.4),
// extended with truncations, trailing bytes, hostile lengths, deep nesting,
// unknown types and a record cut at a boundary. Every archive is built here
// from the real backupWithKV.snap members with archive/tar and
// compress/gzip exactly as Consul writes them, then damaged in one place.
func TestCorruptArchives(t *testing.T) {
	f := loadFixture(t, fixtureKV)
	mt := f.mtime
	meta, state := f.meta, f.state
	sums := sumsOf(meta, state)
	good := func(ms ...member) []byte { return gz(t, tarOf(t, mt, ms...)) }
	mMeta := member{name: decode.MemberMeta, data: meta}
	mState := member{name: decode.MemberState, data: state}
	mSums := member{name: decode.MemberSums, data: sums}
	withSums := func(s string) []byte {
		return good(mMeta, mState, member{name: decode.MemberSums, data: []byte(s)})
	}
	hm := fmt.Sprintf("%x", sha256.Sum256(meta))
	hs := fmt.Sprintf("%x", sha256.Sum256(state))

	cases := []corruptCase{
		// The untouched re-pack is the control: if it failed, every other case would pass vacuously.
		{name: "control: Consul-style re-pack", input: good(mMeta, mState, mSums), ok: true},
		{name: "control: fixture as stored", input: f.raw, ok: true},
		{name: "members in another order", input: good(mSums, mState, mMeta), ok: true},

		// Consul's own set.
		// Not a snapshot at all: not damage (exit 2), and the error says what it is.
		{name: "empty file", input: nil, wantIs: []error{decode.ErrNotSnapshot}, wantMsg: "an empty file"},
		{name: "not gzip", input: []byte("this is not a snapshot\n"), wantIs: []error{decode.ErrNotSnapshot}, wantMsg: `text (it starts "this is not a snapshot")`},
		{name: "JSON", input: []byte(`{"Meta": {"ID": "2-162-1795548439390"}}`), wantIs: []error{decode.ErrNotSnapshot}, wantMsg: "JSON text"},
		{name: "tar without gzip", input: f.tar, wantIs: []error{decode.ErrNotSnapshot}, wantMsg: "an uncompressed tar archive"},
		{name: "zip", input: []byte("PK\x03\x04\x14\x00\x00\x00"), wantIs: []error{decode.ErrNotSnapshot}, wantMsg: "a zip archive"},
		{name: "raw state.bin as an archive", input: state, wantIs: []error{decode.ErrNotSnapshot}, wantMsg: "a raw state.bin without its meta.json"},
		{name: "gzip'd JSON", input: gz(t, []byte(`{"a": 1}`)), wantIs: []error{decode.ErrNotSnapshot}, wantMsg: `gzip-compressed JSON text (it starts "{\"a\": 1}")`},
		{name: "empty gzip stream", input: gz(t, nil), wantIs: []error{decode.ErrNotSnapshot}, wantMsg: "an empty gzip stream"},
		{name: "gzip'd tar of other files", input: good(member{name: "notes.txt", data: []byte("hello\x00")}), wantIs: []error{decode.ErrNotSnapshot}, wantMsg: `a gzip'd tar archive of other files ("notes.txt")`},
		// A damaged gzip magic is damage, not something else.
		{name: "gzip magic: first byte flipped", input: append([]byte{0x1e}, f.raw[1:]...), wantIs: []error{decode.ErrNotGzip}},
		{name: "gzip magic: second byte flipped", input: append([]byte{0x1f, 0x0b}, f.raw[2:]...), wantIs: []error{decode.ErrNotGzip}},
		{name: "missing meta.json", input: good(mState, mSums), wantIs: []error{decode.ErrMissingMember}},
		{name: "missing state.bin", input: good(mMeta, mSums), wantIs: []error{decode.ErrMissingMember}},
		{name: "missing SHA256SUMS", input: good(mMeta, mState), wantIs: []error{decode.ErrMissingMember}},
		{name: "empty SHA256SUMS", input: withSums(""), wantIs: []error{decode.ErrMissingHash}},
		{name: "extra member ./meta.json", input: good(mMeta, mState, mSums, member{name: "./meta.json", data: meta}), wantIs: []error{decode.ErrUnexpectedMember}},
		{name: "extra member SHA256SUMS.sealed", input: good(mMeta, mState, mSums, member{name: "SHA256SUMS.sealed", data: sums}), wantIs: []error{decode.ErrUnexpectedMember}},
		{name: "directory member", input: good(member{name: "snap/", typeflag: '5'}, mMeta, mState, mSums), wantIs: []error{decode.ErrMemberType}},
		{name: "duplicate meta.json", input: good(mMeta, mState, mSums, mMeta), wantIs: []error{decode.ErrDuplicateMember}},
		{name: "duplicate state.bin", input: good(mMeta, mState, mState, mSums), wantIs: []error{decode.ErrDuplicateMember}},
		{name: "state.bin digest mismatch", input: withSums(hm + "  meta.json\n" + strings.Repeat("ab", 32) + "  state.bin\n"), wantIs: []error{decode.ErrChecksumMismatch}},
		{name: "meta.json digest mismatch", input: withSums(strings.Repeat("cd", 32) + "  meta.json\n" + hs + "  state.bin\n"), wantIs: []error{decode.ErrChecksumMismatch}},
		{name: "sums: blank line", input: withSums(string(sums) + "\n"), wantIs: []error{decode.ErrChecksumList}},
		{name: "sums: hash without name", input: withSums(string(sums) + hs + "\n"), wantIs: []error{decode.ErrChecksumList}},
		{name: "sums: non-hex", input: withSums(strings.Repeat("zz", 32) + "  meta.json\n" + hs + "  state.bin\n"), wantIs: []error{decode.ErrChecksumList}},
		{name: "sums: short digest", input: withSums(hm[:62] + "  meta.json\n" + hs + "  state.bin\n"), wantIs: []error{decode.ErrChecksumList}},
		{name: "sums: extra file listed", input: withSums(string(sums) + hs + "  other.bin\n"), wantIs: []error{decode.ErrUnlistedHash}},
		{name: "sums: binary-mode *meta.json", input: withSums(hm + " *meta.json\n" + hs + "  state.bin\n"), wantIs: []error{decode.ErrMissingHash, decode.ErrUnlistedHash}},
		{name: "sums: state.bin not listed", input: withSums(hm + "  meta.json\n"), wantIs: []error{decode.ErrMissingHash}},
		{name: "sums: conflicting duplicate lines", input: withSums(string(sums) + strings.Repeat("ab", 32) + "  state.bin\n"), wantIs: []error{decode.ErrChecksumList}},
		// Variants Consul's scanner accepts ("hex, white space, token").
		{name: "sums: one space", input: withSums(hm + " meta.json\n" + hs + " state.bin\n"), ok: true},
		{name: "sums: tab", input: withSums(hm + "\tmeta.json\n" + hs + "\tstate.bin\n"), ok: true},
		{name: "sums: CRLF", input: withSums(hm + "  meta.json\r\n" + hs + "  state.bin\r\n"), ok: true},
		{name: "sums: uppercase hex", input: withSums(strings.ToUpper(hm) + "  meta.json\n" + strings.ToUpper(hs) + "  state.bin\n"), ok: true},
		{name: "sums: no final newline", input: withSums(hm + "  meta.json\n" + hs + "  state.bin"), ok: true},
		{name: "sums: duplicate identical lines", input: withSums(string(sums) + string(sums)), ok: true},
		{name: "sums: other line order", input: withSums(hs + "  state.bin\n" + hm + "  meta.json\n"), ok: true},
		func() corruptCase {
			bad := []byte(`{"Version":1,"ID":`)
			return corruptCase{name: "corrupt meta.json", input: archiveOf(t, mt, bad, state), wantIs: []error{decode.ErrMeta}}
		}(),
		func() corruptCase {
			m := metaWith(t, meta, map[string]any{"Size": len(state) + 1})
			return corruptCase{name: "meta.Size mismatch", input: archiveOf(t, mt, m, state), wantIs: []error{decode.ErrSizeMismatch}}
		}(),

		// A damaged first tar header with megabytes behind it: reading stops
		// early, and the reader must not be left running (goroutine check below).
		{name: "tar header damaged, 4 MiB behind it", input: gz(t, append(bytes.Repeat([]byte("x"), 512), make([]byte, 4<<20)...)), wantIs: []error{decode.ErrTar}},

		// Members that would make the reader buffer too much: meta.json and
		// SHA256SUMS are read whole, so they are capped.
		{name: "meta.json of 2 MiB", input: good(member{name: decode.MemberMeta, data: append(bytes.Repeat([]byte(" "), 2<<20), meta...)}, mState, mSums), wantIs: []error{decode.ErrTooLarge}},
		{name: "SHA256SUMS of 2 MiB", input: good(mMeta, mState, member{name: decode.MemberSums, data: append(append([]byte(nil), sums...), bytes.Repeat([]byte("\n"), 2<<20)...)}), wantIs: []error{decode.ErrTooLarge}},

		// Trailing bytes.
		func() corruptCase {
			tb := f.tar
			if pad := len(tb) % 10240; pad != 0 {
				tb = append(append([]byte(nil), tb...), make([]byte, 10240-pad)...)
			}
			return corruptCase{name: "GNU tar 10240-byte record padding", input: gz(t, tb), wantIs: []error{decode.ErrTrailingData}}
		}(),
		{name: "garbage after the tar end", input: gz(t, append(append([]byte(nil), f.tar...), "hello"...)), wantIs: []error{decode.ErrTrailingData}},
		{name: "one zero byte after the tar end", input: gz(t, append(append([]byte(nil), f.tar...), 0)), wantIs: []error{decode.ErrTrailingData}},
		{name: "garbage after the gzip stream", input: append(append([]byte(nil), f.raw...), "trailing garbage"...), wantIs: []error{decode.ErrTrailingGarbage},
			wantMsg: fmt.Sprintf("gzip at byte %d of the file: trailing garbage: 16 bytes after the end of the gzip stream", len(f.raw))},
		{name: "8 bytes after the gzip stream", input: append(append([]byte(nil), f.raw...), "12345678"...), wantIs: []error{decode.ErrTrailingGarbage}, wantMsg: "8 bytes after the end of the gzip stream"},
		{name: "zero bytes after the gzip stream", input: append(append([]byte(nil), f.raw...), make([]byte, 512)...), wantIs: []error{decode.ErrTrailingGarbage}},
		{name: "second gzip member", input: append(append([]byte(nil), f.raw...), gz(t, nil)...), ok: true},
		{name: "second gzip member carrying data", input: append(append([]byte(nil), f.raw...), gz(t, []byte("more"))...), wantIs: []error{decode.ErrTrailingData}},
		// Multi-member gzip is valid gzip and Consul accepts it.
		{name: "second empty gzip member", input: append(append([]byte(nil), f.raw...), gz(t, nil)...), ok: true},

		// A record cut exactly at a boundary: only meta.Size and the checksums can tell.
		func() corruptCase {
			cut := state[:len(state)-12] // drop ChunkingState (12 bytes, the last record)
			return corruptCase{name: "cut at a record boundary, old meta and sums", input: good(mMeta, member{name: decode.MemberState, data: cut}, mSums),
				wantIs: []error{decode.ErrSizeMismatch, decode.ErrChecksumMismatch}}
		}(),
		func() corruptCase {
			cut := state[:len(state)-12]
			return corruptCase{name: "cut at a record boundary, sums recomputed", input: archiveOf(t, mt, meta, cut), wantIs: []error{decode.ErrSizeMismatch},
				check: func(t *testing.T, r *result) {
					if errors.Is(r.err, decode.ErrChecksumMismatch) {
						t.Errorf("checksums were recomputed, want no checksum error, got %v", r.err)
					}
				}}
		}(),
		func() corruptCase {
			cut := state[:len(state)-12]
			m := metaWith(t, meta, map[string]any{"Size": len(cut)})
			// Size and sums both rewritten: nothing in the file can tell (docs/FORMAT.md §4.3).
			return corruptCase{name: "cut at a record boundary, meta and sums rewritten", input: archiveOf(t, mt, m, cut), ok: true,
				check: func(t *testing.T, r *result) {
					if r.records != 49 {
						t.Errorf("records: got %d, want 49", r.records)
					}
				}}
		}(),
		func() corruptCase {
			cut := state[:len(state)-5] // inside ChunkingState's value
			return corruptCase{name: "cut inside the last record, sums recomputed", input: archiveOf(t, mt, metaWith(t, meta, map[string]any{"Size": len(cut)}), cut),
				wantIs: []error{io.ErrUnexpectedEOF},
				check: func(t *testing.T, r *result) {
					wantRecordError(t, r.err, 50, int64(len(state)-12), decode.TypeChunkingState)
				}}
		}(),
	}

	// Truncation of the tar stream at every member boundary and inside each
	// member, re-gzipped so that only the tar layer is short.
	layout, trailer := tarLayout(t, f.tar)
	for i, m := range layout {
		missing := len(layout) - i
		cases = append(cases,
			corruptCase{name: fmt.Sprintf("tar cut before %s header (%d members missing)", m.name, missing), input: gz(t, f.tar[:m.hdr]), wantIs: []error{missingOrEmpty(m.hdr)}},
			corruptCase{name: fmt.Sprintf("tar cut inside %s header", m.name), input: gz(t, f.tar[:m.hdr+100]), wantIs: []error{decode.ErrTar, io.ErrUnexpectedEOF}},
			corruptCase{name: fmt.Sprintf("tar cut after %s header", m.name), input: gz(t, f.tar[:m.data]), wantIs: []error{decode.ErrTar, io.ErrUnexpectedEOF}},
			corruptCase{name: fmt.Sprintf("tar cut inside %s data", m.name), input: gz(t, f.tar[:m.data+(m.dataEnd-m.data)/2]), wantIs: []error{decode.ErrTar, io.ErrUnexpectedEOF}},
			corruptCase{name: fmt.Sprintf("tar cut one byte short of %s data end", m.name), input: gz(t, f.tar[:m.dataEnd-1]), wantIs: []error{decode.ErrTar, io.ErrUnexpectedEOF}},
		)
		// Cut in the zero padding after the data: Go's tar reader (Consul's
		// too) reads a short padding as a clean end, so this is a member
		// boundary: the members after it are missing, the last one is complete.
		for _, cut := range []int{m.dataEnd, (m.dataEnd + m.paddedTo) / 2} {
			c := corruptCase{name: fmt.Sprintf("tar cut in %s padding at +%d", m.name, cut-m.dataEnd), input: gz(t, f.tar[:cut]), wantIs: []error{decode.ErrMissingMember}}
			if i == len(layout)-1 {
				c.wantIs, c.ok = nil, true
			}
			cases = append(cases, c)
		}
	}
	// Without the end-of-archive blocks Go's tar reader (and so Consul's)
	// sees a clean end: every member is complete and verified.
	cases = append(cases,
		corruptCase{name: "tar cut before the end-of-archive blocks", input: gz(t, f.tar[:trailer]), ok: true},
		corruptCase{name: "tar cut between the end-of-archive blocks", input: gz(t, f.tar[:trailer+512]), ok: true},
	)
	// Truncation of the compressed file itself.
	for _, n := range []int{1, 2, 5, 9} {
		cases = append(cases, corruptCase{name: fmt.Sprintf("gzip cut inside its header at %d", n), input: f.raw[:n], wantIs: []error{decode.ErrNotGzip}})
	}
	for _, n := range []int{10, 11, len(f.raw) / 3, len(f.raw) / 2, len(f.raw) - 8, len(f.raw) - 4, len(f.raw) - 1} {
		cases = append(cases, corruptCase{name: fmt.Sprintf("gzip cut at %d of %d", n, len(f.raw)), input: f.raw[:n], wantIs: []error{io.ErrUnexpectedEOF}})
	}

	// Hostile msgpack lengths: valid archive, valid checksums, a record
	// whose length field claims far more than arrives.
	hostile := []struct {
		name string
		rec  []byte
		want error
	}{
		{"str32 claiming 4 GiB", []byte{0x02, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b'}, decode.ErrRecordTooLarge},
		{"str32 claiming 1 GiB", []byte{0x02, 0xdb, 0x40, 0x00, 0x00, 0x00, 'a'}, decode.ErrRecordTooLarge},
		{"str32 claiming 60 MiB (under the cap)", []byte{0x02, 0xdb, 0x03, 0xc0, 0x00, 0x00, 'a'}, io.ErrUnexpectedEOF},
		{"bin32 claiming 4 GiB", []byte{0x02, 0xc6, 0xff, 0xff, 0xff, 0xff}, decode.ErrRecordTooLarge},
		{"ext32 claiming 4 GiB", []byte{0x02, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, decode.ErrRecordTooLarge},
		{"map32 claiming 4 Gi pairs", []byte{0x02, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'k'}, decode.ErrRecordTooLarge},
		{"array32 claiming 4 Gi elements", []byte{0x02, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}, decode.ErrRecordTooLarge},
		{"array32 claiming 1 Mi elements", []byte{0x02, 0xdd, 0x00, 0x10, 0x00, 0x00, 0xc0, 0xc0}, io.ErrUnexpectedEOF},
		{"KV Value str32 claiming 2 GiB", append([]byte{0x02, 0x82, 0xa3, 'K', 'e', 'y', 0xa1, 'k', 0xa5, 'V', 'a', 'l', 'u', 'e', 0xdb, 0x80, 0, 0, 0}, "xyz"...), decode.ErrRecordTooLarge},
		{"invalid descriptor 0xc1", []byte{0x02, 0x81, 0xa1, 'k', 0xc1}, decode.ErrInvalidDescriptor},
	}
	for _, h := range hostile {
		st := stateWithRecords(h.rec)
		cases = append(cases, corruptCase{
			name:   "hostile: " + h.name,
			input:  archiveOf(t, mt, metaWith(t, meta, map[string]any{"Size": len(st)}), st),
			wantIs: []error{h.want},
			check: func(t *testing.T, r *result) {
				wantRecordError(t, r.err, 1, headerLen, decode.MessageType(h.rec[0]))
				if r.integrity != decode.Verified {
					t.Errorf("integrity: got %v, want verified (the bytes are intact, the content is hostile)", r.integrity)
				}
			},
		})
	}

	// Deep nesting: the scanner is iterative, so the record scans; the
	// generic decoder stops at decode.MaxDepth.
	nest := func(depth int) []byte { return append(bytes.Repeat([]byte{0x91}, depth), 0xc0) }
	nestMaps := func(depth int) []byte {
		return append(bytes.Repeat([]byte{0x81, 0xa1, 'k'}, depth), 0xc0)
	}
	for _, d := range []struct {
		name  string
		rec   []byte
		tooDp bool
	}{
		{"KVS nested 100000 arrays deep", append([]byte{0x02}, nest(100000)...), true},
		{"KVS nested 100000 maps deep", append([]byte{0x02}, nestMaps(100000)...), true},
		{"unknown type 200 nested MaxDepth+1", append([]byte{200}, nest(decode.MaxDepth+1)...), true},
		{"unknown type 200 nested exactly MaxDepth", append([]byte{200}, nest(decode.MaxDepth)...), false},
	} {
		st := stateWithRecords(d.rec, []byte{0x1d, 0x81, 0xa8, 'C', 'h', 'u', 'n', 'k', 'M', 'a', 'p', 0x80})
		cases = append(cases, corruptCase{
			name:  "deep: " + d.name,
			input: archiveOf(t, mt, metaWith(t, meta, map[string]any{"Size": len(st)}), st),
			check: func(t *testing.T, r *result) {
				if r.err != nil {
					t.Fatalf("the scanner must walk any nesting iteratively, got %v", r.err)
				}
				if r.records != 2 {
					t.Fatalf("records: got %d, want 2", r.records)
				}
				if !d.tooDp {
					if len(r.typedErrs) != 0 {
						t.Fatalf("nesting of exactly MaxDepth must decode, got %v", r.typedErrs)
					}
					return
				}
				if len(r.typedErrs) == 0 {
					t.Fatal("typed decode accepted nesting deeper than MaxDepth")
				}
				for _, e := range r.typedErrs {
					if !errors.Is(e, decode.ErrTooDeep) || !errors.Is(e, decode.ErrTypedDecode) {
						t.Errorf("got %v, want ErrTooDeep wrapped in ErrTypedDecode", e)
					}
				}
			},
		})
	}

	// Unknown type bytes scan, decode generically and get a content-addressed identity.
	{
		v1 := []byte{0x81, 0xa3, 'F', 'o', 'o', 0xa3, 'b', 'a', 'r'}
		v2 := []byte{0x81, 0xa3, 'F', 'o', 'o', 0xa3, 'b', 'a', 'z'}
		st := stateWithRecords(append([]byte{77}, v1...), append([]byte{200}, v1...), append([]byte{77}, v2...), append([]byte{44}, 0xc0))
		cases = append(cases, corruptCase{
			name:  "unknown types 77, 200, 44",
			input: archiveOf(t, mt, metaWith(t, meta, map[string]any{"Size": len(st)}), st),
			ok:    true,
			check: func(t *testing.T, r *result) {
				if r.records != 4 {
					t.Fatalf("records: got %d, want 4", r.records)
				}
				for i, d := range r.decoded {
					if _, ok := d.Data.(*decode.Unknown); !ok {
						t.Errorf("record %d: got %T, want *decode.Unknown", i+1, d.Data)
					}
				}
				h := sha256.Sum256(v1)
				want := "sha256:" + hex.EncodeToString(h[:8])
				if r.ids[0] != want || r.ids[1] != want {
					t.Errorf("identity of equal values: got %q and %q, want %q", r.ids[0], r.ids[1], want)
				}
				if r.ids[2] == r.ids[0] {
					t.Errorf("different values got the same identity %q", r.ids[2])
				}
				if got := r.types[1].String(); got != "Unknown(200)" {
					t.Errorf("name: got %q, want Unknown(200)", got)
				}
			},
		})
	}

	// Raw state.bin and data-dir forms.
	crc := crc64.Checksum(state, crc64.MakeTable(crc64.ECMA))
	var crcb [8]byte
	binary.BigEndian.PutUint64(crcb[:], crc)
	dataDirMeta := metaWith(t, meta, map[string]any{"CRC": base64.StdEncoding.EncodeToString(crcb[:])})
	raw := func(metaJSON []byte) func(t *testing.T, b []byte) *decode.Snapshot {
		return func(t *testing.T, b []byte) *decode.Snapshot {
			s, err := decode.NewStateBin(bytes.NewReader(b), metaJSON, decode.Options{})
			if err != nil {
				t.Fatalf("NewStateBin: %v", err)
			}
			return s
		}
	}
	cases = append(cases,
		corruptCase{name: "data dir: control", input: state, open: raw(dataDirMeta), ok: true},
		corruptCase{name: "data dir: cut at a record boundary", input: state[:len(state)-12], open: raw(dataDirMeta), wantIs: []error{decode.ErrCRCMismatch, decode.ErrSizeMismatch}},
		corruptCase{name: "data dir: one byte changed", input: flipped(state, len(state)/2, 0x01), open: raw(dataDirMeta), wantIs: []error{decode.ErrCRCMismatch}},
		corruptCase{name: "data dir: empty state.bin", input: nil, open: raw(dataDirMeta), wantIs: []error{io.EOF}, check: func(t *testing.T, r *result) {
			wantRecordError(t, r.err, 0, 0, 0)
		}},
		corruptCase{name: "raw: header is not a map", input: append([]byte{0x93, 1, 2, 3}, state[14:]...), open: raw(meta), check: func(t *testing.T, r *result) {
			wantRecordError(t, r.err, 0, 0, 0)
		}},
		corruptCase{name: "raw: partial record after the last one", input: append(append([]byte(nil), state...), 0x02, 0x82), open: raw(meta), wantIs: []error{io.ErrUnexpectedEOF}, check: func(t *testing.T, r *result) {
			wantRecordError(t, r.err, 51, int64(len(state)), decode.TypeKVS)
		}},
	)

	defer checkGoroutines(t, runtime.NumGoroutine())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s *decode.Snapshot
			if c.open != nil {
				s = c.open(t, c.input)
			} else {
				s = decode.NewArchive(bytes.NewReader(c.input), decode.Options{})
			}
			r := runGuarded(t, c.name, func() *result { return drain(s) })
			t.Logf("err: %v; typed: %v", r.err, r.typedErrs)
			if c.ok {
				if r.err != nil {
					t.Fatalf("want a clean snapshot, got:\n%v", r.err)
				}
				if len(r.typedErrs) != 0 {
					t.Fatalf("typed decode failed: %v", r.typedErrs)
				}
				if c.open == nil && r.integrity != decode.Verified {
					t.Errorf("integrity: got %v, want verified", r.integrity)
				}
			} else if c.check == nil || len(c.wantIs) > 0 {
				if r.err == nil {
					t.Fatalf("damage not detected (want %v)", c.wantIs)
				}
				notSnap := errors.Is(r.err, decode.ErrNotSnapshot)
				if decode.IsDamage(r.err) == notSnap {
					t.Errorf("IsDamage is %v for %v", !notSnap, r.err)
				}
			}
			if r.err != nil && !strings.Contains(r.err.Error(), c.wantMsg) {
				t.Errorf("error %q does not say %q", r.err, c.wantMsg)
			}
			for _, w := range c.wantIs {
				if !errors.Is(r.err, w) {
					t.Errorf("want errors.Is(err, %q); got:\n%v", w, r.err)
				}
			}
			if r.err != nil && c.open == nil && r.integrity == decode.Pending {
				t.Errorf("integrity still pending after the end")
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

// wantRecordError asserts that err holds a RecordError at record n (0 = the
// header) and offset off, with type typ when n > 0.
func wantRecordError(t *testing.T, err error, n, off int64, typ decode.MessageType) {
	t.Helper()
	var re *decode.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("want a *decode.RecordError, got %v", err)
	}
	if re.N != n || re.Offset != off || re.Member != decode.MemberState {
		t.Errorf("RecordError at %s record %d offset %d, want state.bin record %d offset %d (%v)", re.Member, re.N, re.Offset, n, off, re)
	}
	if n > 0 && (!re.TypeKnown || re.Type != typ) {
		t.Errorf("RecordError type %v (known %v), want %v", re.Type, re.TypeKnown, typ)
	}
}

func flipped(b []byte, pos int, mask byte) []byte {
	c := append([]byte(nil), b...)
	c[pos] ^= mask
	return c
}

// TestGzipEdgeLayers: reserved gzip flag bits are accepted with a warning,
// as Consul's reader accepts them; a cut compressed stream is reported in
// the gzip layer.
func TestGzipEdgeLayers(t *testing.T) {
	raw, err := os.ReadFile("../fixtures/consul-testdata/backup.snap")
	if err != nil {
		t.Fatal(err)
	}
	flagged := append([]byte(nil), raw...)
	flagged[3] |= 0xe0
	s := decode.NewArchive(bytes.NewReader(flagged), decode.Options{})
	for s.Next() {
	}
	if err := s.Err(); err != nil || s.Integrity() != decode.Verified {
		t.Errorf("reserved flag bits: %v, integrity %v; want accepted like Consul", err, s.Integrity())
	}
	if len(s.Warnings()) == 0 {
		t.Error("reserved flag bits: no warning")
	}

	s = decode.NewArchive(bytes.NewReader(raw[:len(raw)/2]), decode.Options{})
	for s.Next() {
	}
	var ae *decode.ArchiveError
	if err := s.Err(); !errors.Is(err, decode.ErrGzip) || !errors.As(err, &ae) || ae.Layer != "gzip" {
		t.Errorf("truncated archive: %v; want a gzip-layer ErrGzip", err)
	}
}

// missingOrEmpty is what a tar cut at byte n (at a member boundary) is: an
// empty gzip stream, not a snapshot, when nothing is left; otherwise a
// snapshot with members missing.
func missingOrEmpty(n int) error {
	if n == 0 {
		return decode.ErrNotSnapshot
	}
	return decode.ErrMissingMember
}
