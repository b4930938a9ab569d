package decode_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// allocated returns the heap bytes fn allocates (runtime.MemStats.TotalAlloc delta).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLengthFieldsDoNotAllocate: a length field that claims gigabytes must
// not make the scanner allocate more than the bytes that actually arrive.
// The record cap is raised to its maximum so that only the buffer policy
// (grow when full of real data) stands between the claim and the heap.
func TestLengthFieldsDoNotAllocate(t *testing.T) {
	const limit = 4 << 20
	cases := []struct {
		name   string
		rec    []byte
		arrive int // bytes of real data after the length field
	}{
		{"str32 claiming 1 GiB, then EOF", []byte{0x02, 0xdb, 0x40, 0x00, 0x00, 0x00}, 3},
		{"bin32 claiming 2 GiB-16, then EOF", []byte{0x02, 0xc6, 0x7f, 0xff, 0xff, 0xf0}, 3},
		{"str32 claiming 1 GiB, 1 MiB arrives", []byte{0x02, 0xdb, 0x40, 0x00, 0x00, 0x00}, 1 << 20},
		{"map32 claiming 1 Gi pairs, then EOF", []byte{0x02, 0xdf, 0x40, 0x00, 0x00, 0x00}, 3},
		{"array32 claiming 1 Gi elements, then EOF", []byte{0x02, 0xdd, 0x40, 0x00, 0x00, 0x00}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := stateWithRecords(append(c.rec, bytes.Repeat([]byte{0xc0}, c.arrive)...))
			var err error
			n := allocated(func() {
				s := decode.NewStream(bytes.NewReader(in), decode.Options{MaxRecordSize: 1 << 31})
				for s.Next() {
				}
				err = s.Err()
			})
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("want a truncated record (unexpected EOF), got %v", err)
			}
			bound := uint64(limit + 4*len(in))
			if n > bound {
				t.Errorf("allocated %d bytes for %d bytes of input, want at most %d", n, len(in), bound)
			}
			t.Logf("%d bytes of input, %d bytes allocated", len(in), n)
		})
	}
}

// TestArchiveLengthFieldAlloc is the same claim through the whole archive
// path (gzip, tar, hashing), with the default options.
func TestArchiveLengthFieldAlloc(t *testing.T) {
	f := loadFixture(t, fixtureKV)
	st := stateWithRecords([]byte{0x02, 0xdb, 0x03, 0xff, 0xff, 0x00, 'a', 'b', 'c'}) // 64 MiB - 256, under the default cap
	arch := archiveOf(t, f.mtime, metaWith(t, f.meta, map[string]any{"Size": len(st)}), st)
	var r *result
	n := allocated(func() { r = drainArchive(arch, decode.Options{}) })
	if !errors.Is(r.err, io.ErrUnexpectedEOF) {
		t.Errorf("want a truncated record, got %v", r.err)
	}
	if n > 8<<20 {
		t.Errorf("allocated %d bytes reading a %d-byte archive, want under 8 MiB", n, len(arch))
	}
	t.Logf("archive of %d bytes: %d bytes allocated", len(arch), n)
}

// TestGenericDecodeAlloc: the generic decoder sizes containers by the bytes
// left, not by the claimed count.
func TestGenericDecodeAlloc(t *testing.T) {
	for _, b := range [][]byte{
		{0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'k', 0xc0},
		{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0},
		{0xdb, 0xff, 0xff, 0xff, 0xff, 'x'},
		{0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'},
	} {
		var err error
		n := allocated(func() { _, err = decode.DecodeAll(b) })
		if !errors.Is(err, decode.ErrTruncated) {
			t.Errorf("% x: want ErrTruncated, got %v", b, err)
		}
		if n > 64<<10 {
			t.Errorf("% x: allocated %d bytes for %d bytes of input", b, n, len(b))
		}
		var typedErr error
		n = allocated(func() { _, typedErr = decode.DecodeValueOf(decode.TypeKVS, b) })
		if !errors.Is(typedErr, decode.ErrTypedDecode) || n > 64<<10 {
			t.Errorf("% x: typed decode: %v, %d bytes allocated", b, typedErr, n)
		}
	}
}

// TestMaxRecordSize: the cap is configurable, a record of exactly the cap
// passes, one byte over fails at that record, and the default is
// DefaultMaxRecordSize.
func TestMaxRecordSize(t *testing.T) {
	f := loadFixture(t, fixtureKV)
	largest, largestN := 0, int64(0)
	s := decode.NewStream(bytes.NewReader(f.state), decode.Options{})
	for s.Next() {
		if r := s.Record(); len(r.Raw) > largest {
			largest, largestN = len(r.Raw), r.N
		}
	}
	if s.Err() != nil || largest == 0 {
		t.Fatalf("scanning the fixture: %v", s.Err())
	}
	scan := func(max int64) error {
		s := decode.NewStream(bytes.NewReader(f.state), decode.Options{MaxRecordSize: max})
		for s.Next() {
		}
		return s.Err()
	}
	if err := scan(int64(largest)); err != nil {
		t.Errorf("MaxRecordSize = largest record (%d): %v", largest, err)
	}
	err := scan(int64(largest - 1))
	var re *decode.RecordError
	if !errors.Is(err, decode.ErrRecordTooLarge) || !errors.As(err, &re) || re.N != largestN {
		t.Errorf("MaxRecordSize = largest-1: want ErrRecordTooLarge at record %d, got %v", largestN, err)
	}
	// Archive path honours the option too.
	r := drainArchive(f.raw, decode.Options{MaxRecordSize: int64(largest - 1)})
	if !errors.Is(r.err, decode.ErrRecordTooLarge) {
		t.Errorf("archive with MaxRecordSize = largest-1: got %v", r.err)
	}
	// The default, checked with claims rather than real bytes.
	claim := func(n int) []byte {
		return stateWithRecords([]byte{0x02, 0xdb, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 'x'})
	}
	for _, c := range []struct {
		valueLen int
		want     error
	}{
		{decode.DefaultMaxRecordSize - 6, io.ErrUnexpectedEOF}, // 1 + 5 + len = exactly the cap
		{decode.DefaultMaxRecordSize - 5, decode.ErrRecordTooLarge},
	} {
		s := decode.NewStream(bytes.NewReader(claim(c.valueLen)), decode.Options{})
		for s.Next() {
		}
		if !errors.Is(s.Err(), c.want) {
			t.Errorf("default cap, str32 of %d: want %v, got %v", c.valueLen, c.want, s.Err())
		}
	}
}

// TestNestingDepthCap: the generic decoder accepts MaxDepth levels and
// refuses one more; a million levels neither overflow the stack nor
// allocate per level beyond the input.
func TestNestingDepthCap(t *testing.T) {
	nest := func(d int, open byte) []byte { return append(bytes.Repeat([]byte{open}, d), 0xc0) }
	for _, open := range []byte{0x91, 0xdc} {
		mk := func(d int) []byte {
			if open == 0xdc {
				return append(bytes.Repeat([]byte{0xdc, 0x00, 0x01}, d), 0xc0)
			}
			return nest(d, open)
		}
		if _, err := decode.DecodeAll(mk(decode.MaxDepth)); err != nil {
			t.Errorf("%#x: depth MaxDepth: %v", open, err)
		}
		if _, err := decode.DecodeAll(mk(decode.MaxDepth + 1)); !errors.Is(err, decode.ErrTooDeep) {
			t.Errorf("%#x: depth MaxDepth+1: want ErrTooDeep, got %v", open, err)
		}
		deep := mk(1 << 20)
		if _, err := decode.DecodeAll(deep); !errors.Is(err, decode.ErrTooDeep) {
			t.Errorf("%#x: depth 1Mi: want ErrTooDeep, got %v", open, err)
		}
		// The scanner walks it iteratively.
		s := decode.NewStream(bytes.NewReader(stateWithRecords(append([]byte{200}, deep...))), decode.Options{})
		n := 0
		for s.Next() {
			n++
		}
		if s.Err() != nil || n != 1 {
			t.Errorf("%#x: scanner on 1Mi levels: %d records, %v", open, n, s.Err())
		}
	}
}

// BenchmarkSweepPeakHeap reports the peak heap seen while the default sweep
// runs (scripts/sweep-mem.sh reports the process's peak RSS as well).
func BenchmarkSweepPeakHeap(b *testing.B) {
	f := loadFixture(b, fixtureKV)
	var peak uint64
	var ms runtime.MemStats
	cases := 0
	for i := 0; i < b.N; i++ {
		cases = 0
		for _, state := range stateMutations(f.state) {
			meta := metaWith(b, f.meta, map[string]any{"Size": len(state)})
			_ = drainArchive(archiveOf(b, f.mtime, meta, state), decode.Options{})
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			cases++
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(cases), "cases")
}

// TestSmallArchiveAlloc: the read-ahead's buffers grow with the input, so
// reading a tiny archive does not allocate (and zero) the full ring of
// aheadBuffers × 256 KiB. The fuzzers open thousands of tiny archives a
// second; a fixed megabyte each made FuzzArchive crawl.
func TestSmallArchiveAlloc(t *testing.T) {
	const limit = 512 << 10
	in := hostileArchiveSeeds(t)[0] // a few hundred bytes
	n := allocated(func() {
		s := decode.NewArchive(bytes.NewReader(in), decode.Options{})
		for s.Next() {
		}
		s.Close()
	})
	if n > limit {
		t.Errorf("reading a %d-byte archive allocated %d bytes, want at most %d", len(in), n, limit)
	}
	t.Logf("%d bytes of archive, %d bytes allocated", len(in), n)
}
