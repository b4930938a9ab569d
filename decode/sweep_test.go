package decode_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/snaptool/snaptool/decode"
)

// sweepFull runs every bit of every byte and every truncation offset
// instead of a sample: go test ./decode -run TestSweep -sweep.full
var sweepFull = flag.Bool("sweep.full", false, "run the exhaustive hostile-input sweep (minutes)")

// TestSweep damages real fixtures deterministically in three ways and
// checks every case against an oracle that does not use the code under
// test:
//
//   - bit flips in the compressed file and truncations of it: the oracle
//     is Go's compress/gzip; the content is intact exactly when it
//     decompresses without error to the original tar bytes. Intact → the
//     snapshot must verify; damaged → it must fail.
//   - state.bin damaged in place (bit flips, deleted, inserted and
//     duplicated bytes, truncation) and re-packed with recomputed SHA256SUMS
//     and meta.Size, so that only decoding can tell: the oracle is an
//     independent recursive msgpack parser. Structurally broken → a
//     RecordError; structurally valid → the scanner accepts it and the
//     records it hands out reproduce state.bin byte for byte. Every other
//     damage is also packed under the original SHA256SUMS: it must fail
//     with ErrChecksumMismatch, however valid its msgpack is.
//   - re-packs that leave the content intact (other gzip levels, header
//     fields, tar mtimes): must verify.
//
// Every case runs under a hang guard and turns a panic into a failure.
func TestSweep(t *testing.T) {
	if testing.Short() && !*sweepFull {
		t.Skip("the damage sweep (tens of seconds) runs in make test, without -short")
	}
	paths := []string{fixtureKV}
	if fixtureExists(fixture113) {
		paths = append(paths, fixture113)
	}
	total := 0
	defer checkGoroutines(t, runtime.NumGoroutine())
	for _, p := range paths {
		t.Run(p[len("../fixtures/"):], func(t *testing.T) {
			f := loadFixture(t, p)
			st := &sweepStats{}
			sweepCompressed(t, f, st)
			sweepState(t, f, st)
			sweepIntactRepacks(t, f, st)
			t.Logf("%s: %d cases: %d compressed-file flips/truncations (%d intact and verified), %d state.bin mutations (%d structurally broken → RecordError, %d caught by typed decode, %d undetectable by decoding: valid msgpack with different content), %d under stale checksums (all caught), %d intact re-packs",
				p, st.cases, st.compressed, st.intact, st.state, st.broken, st.typed, st.undetectable, st.stale, st.repacks)
			if st.intact < 8*5 {
				t.Errorf("only %d intact flips verified; the gzip MTIME and OS bytes alone give 40", st.intact)
			}
			total += st.cases
		})
	}
	t.Logf("sweep: %d cases in total (full=%v)", total, *sweepFull)
}

type sweepStats struct {
	cases, compressed, intact, state, broken, typed, undetectable, repacks, stale int
}

// gunzipOracle decompresses with the standard library.
func gunzipOracle(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// compressedMutations yields bit flips and truncations of an archive,
// one at a time (the full sweep has ~10^5 of them: never hold them all).
func compressedMutations(raw []byte) iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		n := len(raw)
		ok := true
		flip := func(pos int, bit uint) {
			ok = ok && yield(fmt.Sprintf("flip byte %d bit %d", pos, bit), flipped(raw, pos, 1<<bit))
		}
		cut := func(at int) { ok = ok && yield(fmt.Sprintf("truncate at %d", at), raw[:at:at]) }
		if *sweepFull {
			for pos := 0; pos < n && ok; pos++ {
				for bit := uint(0); bit < 8; bit++ {
					flip(pos, bit)
				}
				cut(pos)
			}
			return
		}
		// Every bit of the gzip header (10 bytes + the first deflate bytes)
		// and of the trailer (CRC-32, ISIZE); about 250 flips and 80 cuts
		// spread over the deflate data in between.
		fstep, cstep := max(1, n/250), max(1, n/80)
		for pos := 0; pos < n && ok; pos++ {
			switch {
			case pos < 24 || pos >= n-12:
				for bit := uint(0); bit < 8; bit++ {
					flip(pos, bit)
				}
				cut(pos)
			case pos%fstep == 0:
				flip(pos, uint(pos/fstep)%8)
			case pos%cstep == 0:
				cut(pos)
			}
		}
	}
}

func sweepCompressed(t *testing.T, f *fixture, st *sweepStats) {
	type mut struct {
		name string
		b    []byte
	}
	for name, b := range compressedMutations(f.raw) {
		m := mut{name, b}
		out, oerr := gunzipOracle(m.b)
		// Reserved FLG bits: RFC 1952 says to reject them, but Go's
		// compress/gzip — and so Consul — ignores them, and snaptool accepts
		// what Consul accepts (with a warning). The oracle is Go's reader, so
		// such a file counts as intact when it inflates to the original tar.
		intact := oerr == nil && bytes.Equal(out, f.tar)
		r := runGuarded(t, m.name, func() *result { return drainArchive(m.b, decode.Options{}) })
		st.cases++
		st.compressed++
		switch {
		case intact && (r.failed() || r.integrity != decode.Verified):
			t.Errorf("%s: content intact (gunzip gives the original tar) but verify fails: %v %v", m.name, r.err, r.typedErrs)
		case intact:
			st.intact++
		case !r.failed():
			t.Errorf("%s: content damaged (oracle: %v) but verify passes", m.name, oerr)
		case len(m.b) == 0:
			if !errors.Is(r.err, decode.ErrNotSnapshot) || decode.IsDamage(r.err) {
				t.Errorf("%s: an empty file is not a snapshot (not damage), got %v", m.name, r.err)
			}
		case !decode.IsDamage(r.err):
			t.Errorf("%s: error not classified as damage: %v", m.name, r.err)
		}
	}
}

// stateMutations yields deterministic damages of a state.bin, one at a
// time (never all at once: the full sweep makes ~10^5 copies).
func stateMutations(state []byte) iter.Seq2[string, []byte] {
	return func(yield func(string, []byte) bool) {
		rng := rand.New(rand.NewPCG(5, 5))
		n := len(state)
		ok := true
		emit := func(name string, b []byte) { ok = ok && yield(name, b) }
		// About 120 positions by default (plus every byte of the header and the
		// first record), about 5000 with -sweep.full (every bit of each).
		step := max(1, n/120)
		if *sweepFull {
			step = max(1, n/5000)
		}
		del := func(pos, k int) {
			if pos+k > n {
				return
			}
			emit(fmt.Sprintf("delete %d bytes at %d", k, pos), append(append([]byte(nil), state[:pos]...), state[pos+k:]...))
		}
		ins := func(pos int, x []byte) {
			emit(fmt.Sprintf("insert % x at %d", x, pos), append(append(append([]byte(nil), state[:pos]...), x...), state[pos:]...))
		}
		for pos := 0; pos < n && ok; pos++ {
			if pos%step != 0 && pos >= 48 {
				continue
			}
			if *sweepFull {
				for bit := uint(0); bit < 8; bit++ {
					emit(fmt.Sprintf("flip byte %d bit %d", pos, bit), flipped(state, pos, 1<<bit))
				}
			} else {
				bit := uint(pos/step) % 8
				emit(fmt.Sprintf("flip byte %d bit %d", pos, bit), flipped(state, pos, 1<<bit))
			}
			emit(fmt.Sprintf("truncate at %d", pos), state[:pos:pos])
			if pos%(3*step) == 0 {
				del(pos, 1)
				del(pos, 1+rng.IntN(16))
				ins(pos, []byte{byte(rng.UintN(256))})
				ins(pos, []byte{0xdb, 0xff, 0xff, 0xff, 0xf0}) // a str32 claiming 4 GiB
				ins(pos, []byte{0xdf, 0x7f, 0xff, 0xff, 0xff}) // a map32 claiming 2 Gi pairs
			}
			if pos%(5*step) == 0 && pos+40 <= n {
				ins(pos, state[pos:pos+1+rng.IntN(40)])
			}
		}
	}
}

func sweepState(t *testing.T, f *fixture, st *sweepStats) {
	i := -1
	for name, b := range stateMutations(f.state) {
		i++
		m := struct {
			name string
			b    []byte
		}{name, b}
		if i%3 == 0 {
			// The same damage under the original meta.json and SHA256SUMS:
			// whatever decoding makes of it, the checksum must catch it.
			stale := gzLevel(t, tarOf(t, f.mtime,
				member{name: decode.MemberMeta, data: f.meta},
				member{name: decode.MemberState, data: m.b},
				member{name: decode.MemberSums, data: f.sums}), gzip.BestSpeed)
			r := runGuarded(t, m.name, func() *result { return drainArchive(stale, decode.Options{}) })
			st.cases++
			st.stale++
			if !errors.Is(r.err, decode.ErrChecksumMismatch) || r.integrity != decode.Failed {
				t.Errorf("state.bin %s under the original SHA256SUMS: want a checksum mismatch, got integrity %v, %v", m.name, r.integrity, r.err)
			}
		}
		meta := metaWith(t, f.meta, map[string]any{"Size": len(m.b)})
		// Level 1 keeps the sweep fast; the level does not change the content.
		arch := gzLevel(t, tarOf(t, f.mtime,
			member{name: decode.MemberMeta, data: meta},
			member{name: decode.MemberState, data: m.b},
			member{name: decode.MemberSums, data: sumsOf(meta, m.b)}), gzip.BestSpeed)
		valid, nrec := refParseState(m.b)
		r := runGuarded(t, m.name, func() *result { return drainArchive(arch, decode.Options{}) })
		st.cases++
		st.state++
		if r.integrity != decode.Verified {
			t.Errorf("state.bin %s: checksums were recomputed, integrity must be verified, got %v (%v)", m.name, r.integrity, r.err)
			continue
		}
		var re *decode.RecordError
		switch {
		case !valid:
			st.broken++
			if !errors.As(r.err, &re) {
				t.Errorf("state.bin %s: structurally broken (oracle) but no RecordError: %v", m.name, r.err)
			}
		case r.err != nil:
			// The scanner accepts every structurally valid stream; only the
			// header's meaning (a map with an unsigned LastIndex) is checked on top.
			if !errors.As(r.err, &re) || re.N != 0 {
				t.Errorf("state.bin %s: valid msgpack stream rejected: %v", m.name, r.err)
			}
			st.typed++
		default:
			if !bytes.Equal(r.rebuilt, m.b) && r.records > 0 {
				t.Errorf("state.bin %s: header + records do not reproduce state.bin (%d vs %d bytes)", m.name, len(r.rebuilt), len(m.b))
			}
			if r.records != nrec {
				t.Errorf("state.bin %s: %d records, oracle counts %d", m.name, r.records, nrec)
			}
			if len(r.typedErrs) > 0 {
				st.typed++
			} else {
				st.undetectable++
			}
		}
	}
}

func sweepIntactRepacks(t *testing.T, f *fixture, st *sweepStats) {
	type variant struct {
		name string
		b    []byte
	}
	tarB := f.tar
	var vs []variant
	for _, lvl := range []int{gzip.NoCompression, gzip.BestSpeed, 5, gzip.BestCompression, gzip.HuffmanOnly} {
		vs = append(vs, variant{fmt.Sprintf("gzip level %d", lvl), gzLevel(t, tarB, lvl)})
	}
	{
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Name, zw.Comment, zw.ModTime, zw.OS = "backup.tar", "made elsewhere", time.Unix(1700000000, 0), 3
		zw.Extra = []byte("AB\x02\x00hi")
		zw.Write(tarB)
		zw.Close()
		vs = append(vs, variant{"gzip header with name, comment, extra, mtime, OS", buf.Bytes()})
	}
	vs = append(vs, variant{"tar mtime changed", archiveOf(t, time.Unix(1, 0), f.meta, f.state)})
	// Written in small pieces: several gzip members are one valid gzip stream.
	{
		var multi []byte
		for i := 0; i < len(tarB); i += 4096 {
			multi = append(multi, gz(t, tarB[i:min(i+4096, len(tarB))])...)
		}
		vs = append(vs, variant{"multi-member gzip", multi})
	}
	for _, v := range vs {
		r := runGuarded(t, v.name, func() *result { return drainArchive(v.b, decode.Options{}) })
		st.cases++
		st.repacks++
		if r.failed() || r.integrity != decode.Verified {
			t.Errorf("intact re-pack %q: verify fails: %v %v", v.name, r.err, r.typedErrs)
		}
		if !bytes.Equal(r.rebuilt, f.state) {
			t.Errorf("intact re-pack %q: records do not reproduce state.bin", v.name)
		}
	}
}

// refParseState is the oracle for state.bin structure, written
// independently of the scanner: a header object then whole objects, each
// after one type byte, until the input ends exactly at a boundary. It
// reports validity and the number of records.
func refParseState(b []byte) (bool, int) {
	p, ok := refSkip(b, 0)
	if !ok {
		return false, 0
	}
	n := 0
	for p < len(b) {
		p, ok = refSkip(b, p+1)
		if !ok {
			return false, n
		}
		n++
	}
	return true, n
}

// refSkip returns the position after the msgpack object at p.
func refSkip(b []byte, p int) (int, bool) {
	if p >= len(b) {
		return p, false
	}
	c := b[p]
	p++
	be := func(w int) (int, bool) {
		if p+w > len(b) {
			return 0, false
		}
		v := 0
		for _, x := range b[p : p+w] {
			v = v<<8 | int(x)
		}
		p += w
		return v, true
	}
	bytesOf := func(k int) (int, bool) {
		if k < 0 || p+k > len(b) {
			return p, false
		}
		return p + k, true
	}
	objs := func(k int) (int, bool) {
		for i := 0; i < k; i++ {
			var ok bool
			if p, ok = refSkip(b, p); !ok {
				return p, false
			}
		}
		return p, true
	}
	switch {
	case c < 0x80 || c >= 0xe0:
		return p, true
	case c < 0x90:
		return objs(2 * int(c&0xf))
	case c < 0xa0:
		return objs(int(c & 0xf))
	case c < 0xc0:
		return bytesOf(int(c & 0x1f))
	}
	widths := map[byte]int{0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xca: 4, 0xcb: 8,
		0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17}
	if w, ok := widths[c]; ok {
		return bytesOf(w)
	}
	switch c {
	case 0xc0, 0xc2, 0xc3:
		return p, true
	case 0xc4, 0xd9, 0xc5, 0xda, 0xc6, 0xdb:
		w := map[byte]int{0xc4: 1, 0xd9: 1, 0xc5: 2, 0xda: 2, 0xc6: 4, 0xdb: 4}[c]
		k, ok := be(w)
		if !ok {
			return p, false
		}
		return bytesOf(k)
	case 0xc7, 0xc8, 0xc9:
		k, ok := be(map[byte]int{0xc7: 1, 0xc8: 2, 0xc9: 4}[c])
		if !ok {
			return p, false
		}
		return bytesOf(k + 1)
	case 0xdc, 0xdd:
		k, ok := be(2 << (c - 0xdc))
		if !ok {
			return p, false
		}
		return objs(k)
	case 0xde, 0xdf:
		k, ok := be(2 << (c - 0xde))
		if !ok {
			return p, false
		}
		return objs(2 * k)
	}
	return p, false // 0xc1
}
