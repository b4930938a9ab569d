package decode

import (
	"io"
	"sync"
)

// Read-ahead pipeline. Inflating gzip is the most expensive layer of an
// archive; hashing and scanning the records is the second. readAhead runs
// the source reader (the decompressor, or a data-dir file with its CRC) in
// its own goroutine, filling a small ring of reusable buffers, while the
// caller's goroutine hashes and scans what has already arrived. On a
// machine with two cores the total time is then that of the slower stage,
// not the sum. Memory is fixed: at most aheadBuffers × aheadBufferSize.
// Buffers start at aheadFirstSize and grow with what has been read, so a
// small input (a tiny archive, a fuzzer's input) does not pay for
// zeroing a megabyte it never uses; past the first few hundred KiB every
// buffer is full size.
const (
	aheadBuffers    = 4
	aheadBufferSize = 256 << 10
	aheadFirstSize  = 4 << 10
)

type aheadChunk struct {
	b   []byte
	n   int
	err error
}

// readAhead is an io.Reader over src that reads ahead in a goroutine. Errors
// from src are returned unchanged, in order, after the bytes that preceded
// them. Close stops the goroutine; it must be called when the reader is
// abandoned before EOF.
type readAhead struct {
	full chan *aheadChunk
	free chan *aheadChunk
	stop chan struct{}
	once sync.Once

	cur *aheadChunk
	off int
	err error
}

func newReadAhead(src io.Reader) *readAhead {
	ra := &readAhead{
		full: make(chan *aheadChunk, aheadBuffers),
		free: make(chan *aheadChunk, aheadBuffers),
		stop: make(chan struct{}),
	}
	for i := 0; i < aheadBuffers; i++ {
		ra.free <- &aheadChunk{}
	}
	go ra.fill(src)
	return ra
}

// aheadEarly is how much of the start is handed off read by read: Open
// reads an archive up to its state.bin member before the first record (to
// tell a snapshot from something else), and on a slow pipe that must not
// wait for half a buffer.
const aheadEarly = 256 << 10

// fill runs in its own goroutine: it takes a free buffer, fills it (at
// least half, to keep hand-offs few, once past the first aheadEarly
// bytes) and passes it on.
func (ra *readAhead) fill(src io.Reader) {
	var sent int
	for {
		var c *aheadChunk
		select {
		case c = <-ra.free:
		case <-ra.stop:
			return
		}
		c.n, c.err = 0, nil
		if size := aheadSize(sent); len(c.b) < size {
			c.b = make([]byte, size)
		}
		want := len(c.b) / 2
		if sent < aheadEarly {
			want = 1
		}
		for c.n < want && c.err == nil {
			var n int
			n, c.err = src.Read(c.b[c.n:])
			c.n += n
		}
		sent += c.n
		select {
		case ra.full <- c:
		case <-ra.stop:
			return
		}
		if c.err != nil {
			return
		}
	}
}

// aheadSize is the buffer size once sent bytes have been handed off: twice
// what was read so far, from aheadFirstSize up to aheadBufferSize.
func aheadSize(sent int) int {
	size := aheadFirstSize
	for size < aheadBufferSize && size < 2*sent {
		size *= 2
	}
	return size
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for {
		if ra.cur != nil {
			if ra.off < ra.cur.n {
				n := copy(p, ra.cur.b[ra.off:ra.cur.n])
				ra.off += n
				return n, nil
			}
			if ra.cur.err != nil {
				ra.err = ra.cur.err
				ra.cur = nil
				return 0, ra.err
			}
			ra.free <- ra.cur
			ra.cur = nil
		}
		if ra.err != nil {
			return 0, ra.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		ra.cur, ra.off = <-ra.full, 0
	}
}

// WriteTo hands whole buffers to w, sparing a copy (io.Copy uses it).
func (ra *readAhead) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if ra.cur != nil {
			if ra.off < ra.cur.n {
				n, err := w.Write(ra.cur.b[ra.off:ra.cur.n])
				ra.off += n
				total += int64(n)
				if err != nil {
					return total, err
				}
				continue
			}
			if ra.cur.err != nil {
				ra.err = ra.cur.err
				ra.cur = nil
				if ra.err == io.EOF {
					return total, nil
				}
				return total, ra.err
			}
			ra.free <- ra.cur
			ra.cur = nil
		}
		if ra.err != nil {
			if ra.err == io.EOF {
				return total, nil
			}
			return total, ra.err
		}
		ra.cur, ra.off = <-ra.full, 0
	}
}

// Close tells the read-ahead goroutine to stop. It does not wait: the
// goroutine may be inside a Read of its source (stdin, say), and returns
// when that Read does. Reading after Close is not allowed.
func (ra *readAhead) Close() error {
	ra.once.Do(func() { close(ra.stop) })
	return nil
}
