package decode_test

import (
	"archive/tar"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/hostile"
)

// rawHeader is internal/hostile's hand-made tar header (the sparse-member
// class writes the same bytes).
var rawHeader = hostile.RawTarHeader

const (
	magicUSTAR = "ustar\x0000"
	magicGNU   = "ustar  \x00"
)

// pad rounds data up to whole 512-byte blocks.
func pad(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// paxRecords encodes PAX extended header records ("%d key=value\n", the
// length counting itself).
func paxRecords(kv ...string) []byte {
	var out []byte
	for i := 0; i+1 < len(kv); i += 2 {
		rec := " " + kv[i] + "=" + kv[i+1] + "\n"
		n := len(rec) + 1
		for len(fmt.Sprint(n))+len(rec) != n {
			n++
		}
		out = append(out, fmt.Sprintf("%d%s", n, rec)...)
	}
	return out
}

// hole is the size a sparse state.bin claims: 1.1 TB of zeros, stored in
// a few hundred bytes. Expanding it would take hours.
const hole = 1_100_000_000_000

// oldGNUSparse is a GNU 'S' member whose one 512-byte data chunk sits at
// the end of a 1.1 TB hole.
func oldGNUSparse(name string) []byte {
	h := rawHeader(name, tar.TypeGNUSparse, 512, magicGNU, func(b []byte) {
		base256(b[386:398], hole-512)                   // sparse[0].offset
		copy(b[398:410], fmt.Sprintf("%011o\x00", 512)) // sparse[0].numbytes
		base256(b[483:495], hole)                       // realsize
	})
	return append(h, make([]byte, 512)...)
}

// base256 stores v in a numeric field too small for its octal form (GNU's
// binary encoding: 0x80, then big-endian).
func base256(field []byte, v int64) {
	for i := len(field) - 1; i > 0; i-- {
		field[i] = byte(v)
		v >>= 8
	}
	field[0] = 0x80
}

// paxSparse10 is a PAX 1.0 sparse member (GNU tar --sparse --format=pax):
// GNU.sparse.* records, then a member whose data starts with the map.
func paxSparse10(name string) []byte {
	recs := paxRecords("GNU.sparse.major", "1", "GNU.sparse.minor", "0",
		"GNU.sparse.name", name, "GNU.sparse.realsize", fmt.Sprint(hole))
	out := rawHeader("./PaxHeaders/"+name, tar.TypeXHeader, int64(len(recs)), magicUSTAR, nil)
	out = append(out, pad(recs)...)
	data := pad([]byte(fmt.Sprintf("1\n%d\n512\n", hole-512)))
	data = append(data, make([]byte, 512)...)
	out = append(out, rawHeader("./GNUSparseFile.0/"+name, tar.TypeReg, int64(len(data)), magicUSTAR, nil)...)
	return append(out, data...)
}

// paxSparse01 is a PAX 0.1 sparse member: the map is a PAX record.
func paxSparse01(name string) []byte {
	recs := paxRecords("GNU.sparse.numblocks", "1", "GNU.sparse.map", fmt.Sprintf("%d,512", hole-512),
		"GNU.sparse.name", name, "GNU.sparse.size", fmt.Sprint(hole))
	out := rawHeader("./PaxHeaders/"+name, tar.TypeXHeader, int64(len(recs)), magicUSTAR, nil)
	out = append(out, pad(recs)...)
	out = append(out, rawHeader("./GNUSparseFile.0/"+name, tar.TypeReg, 512, magicUSTAR, nil)...)
	return append(out, make([]byte, 512)...)
}

// regular is a plain member as the raw writer makes it (the control case).
func regular(name string, data []byte) []byte {
	return append(rawHeader(name, tar.TypeReg, int64(len(data)), magicUSTAR, nil), pad(data)...)
}

// TestNonRegularMembers: only regular members are accepted. A sparse,
// link, device, FIFO or directory member is an error naming the member,
// decided on its header: a 1.1 TB hole is never expanded.
func TestNonRegularMembers(t *testing.T) {
	f := loadFixture(t, fixtureBasic)
	eoa := make([]byte, 1024)
	archive := func(stateMember []byte) []byte {
		var tb []byte
		tb = append(tb, regular(decode.MemberMeta, f.meta)...)
		tb = append(tb, stateMember...)
		tb = append(tb, regular(decode.MemberSums, f.sums)...)
		return gz(t, append(tb, eoa...))
	}
	header := func(tf byte, link string) []byte {
		return rawHeader(decode.MemberState, tf, 0, magicUSTAR, func(b []byte) { copy(b[157:257], link) })
	}
	cases := []struct {
		name   string
		member []byte
		what   string
	}{
		{"GNU sparse", oldGNUSparse(decode.MemberState), "sparse file"},
		{"PAX 1.0 sparse", paxSparse10(decode.MemberState), "sparse file (PAX record GNU.sparse.major)"},
		{"PAX 0.1 sparse", paxSparse01(decode.MemberState), "sparse file (PAX record GNU.sparse.map)"},
		{"hard link", header(tar.TypeLink, "meta.json"), "hard link"},
		{"symlink", header(tar.TypeSymlink, "/etc/passwd"), "symlink"},
		{"character device", header(tar.TypeChar, ""), "character device"},
		{"block device", header(tar.TypeBlock, ""), "block device"},
		{"FIFO", header(tar.TypeFifo, ""), "FIFO"},
		{"directory", header(tar.TypeDir, ""), "directory"},
		{"contiguous file", header(tar.TypeCont, ""), "tar type '7'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := archive(c.member)
			r := runGuarded(t, c.name, func() *result { return drainArchive(b, decode.Options{}) })
			var ae *decode.ArchiveError
			found := false
			for _, e := range joined(r.err) {
				if errors.Is(e, decode.ErrMemberType) && errors.As(e, &ae) {
					found = true
					if ae.Member != decode.MemberState || ae.Layer != "tar" {
						t.Errorf("error at layer %q member %q, want tar state.bin", ae.Layer, ae.Member)
					}
					if !strings.Contains(e.Error(), `"state.bin" is a `+c.what) && !strings.Contains(e.Error(), `"state.bin" is of `+c.what) {
						t.Errorf("error %q does not say state.bin is %s", e, c.what)
					}
				}
			}
			if !found {
				t.Fatalf("no ErrMemberType; errors: %v", r.err)
			}
			if !errors.Is(r.err, decode.ErrMissingMember) {
				t.Errorf("a refused state.bin is not also reported missing: %v", r.err)
			}
			if r.records != 0 {
				t.Errorf("%d records read from a refused member", r.records)
			}
		})
	}
	// The raw writer itself makes archives that pass: the refusals above
	// come from the member type, nothing else.
	t.Run("control: regular member", func(t *testing.T) {
		r := drainArchive(archive(regular(decode.MemberState, f.state)), decode.Options{})
		if r.err != nil {
			t.Fatalf("a regular state.bin fails: %v", r.err)
		}
	})
}

// joined flattens errors.Join.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// hostileArchiveSeeds are FuzzArchive's seeds for the classes of issue 11
// handled here: sparse and non-regular members, an unsupported meta.json
// Version, and data after the tar's end and after the gzip stream.
func hostileArchiveSeeds(tb testing.TB) [][]byte {
	f := loadFixture(tb, fixtureBasic)
	eoa := make([]byte, 1024)
	withState := func(state []byte) []byte {
		var b []byte
		b = append(b, regular(decode.MemberMeta, f.meta)...)
		b = append(b, state...)
		b = append(b, regular(decode.MemberSums, f.sums)...)
		return gz(tb, append(b, eoa...))
	}
	meta99 := metaWith(tb, f.meta, map[string]any{"Version": 99})
	return [][]byte{
		withState(oldGNUSparse(decode.MemberState)),
		withState(paxSparse10(decode.MemberState)),
		withState(paxSparse01(decode.MemberState)),
		withState(rawHeader(decode.MemberState, tar.TypeSymlink, 0, magicUSTAR, func(b []byte) { copy(b[157:], "/etc/passwd") })),
		withState(rawHeader(decode.MemberState, tar.TypeLink, 0, magicUSTAR, func(b []byte) { copy(b[157:], decode.MemberMeta) })),
		withState(rawHeader(decode.MemberState, tar.TypeChar, 0, magicUSTAR, nil)),
		withState(rawHeader(decode.MemberState, tar.TypeBlock, 0, magicUSTAR, nil)),
		withState(rawHeader(decode.MemberState, tar.TypeFifo, 0, magicUSTAR, nil)),
		withState(rawHeader(decode.MemberState+"/", tar.TypeDir, 0, magicUSTAR, nil)),
		archiveOf(tb, f.mtime, meta99, f.state),
		gz(tb, append(append([]byte(nil), f.tar...), make([]byte, 4096)...)),
		append(append(append([]byte(nil), f.raw...), gz(tb, nil)...), gz(tb, nil)...),
	}
}
