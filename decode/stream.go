package decode

import (
	"errors"
	"fmt"
	"io"
)

// DefaultMaxRecordSize caps the encoded size of one record (type byte plus
// value). Consul's largest records are KV entries, whose values are limited
// to 512 KiB by default (kv_max_value_size); the cap leaves room for clusters
// that raised that limit, while keeping a hostile length field from making
// the decoder buffer an unbounded amount. Override with Options.MaxRecordSize.
const DefaultMaxRecordSize = 64 << 20

const initialBufferSize = 256 << 10

// ErrRecordTooLarge means a record's encoding exceeds the configured maximum.
var ErrRecordTooLarge = errors.New("record exceeds the maximum record size")

// Header is the FSM snapshot header that starts state.bin.
type Header struct {
	LastIndex uint64
	// Raw is the header's msgpack encoding as it appeared in state.bin.
	Raw []byte
}

// Record is one record of state.bin. Raw aliases the stream's buffer and is
// only valid until the next call to Next; copy it to keep it.
type Record struct {
	// N is the 1-based record number (the header is not counted).
	N int64
	// Type is the message type byte.
	Type MessageType
	// Offset is the byte offset of the type byte in state.bin.
	Offset int64
	// Size is the record's size as `consul snapshot inspect` counts it: the
	// type byte plus the encoded value, and for the first record also the
	// header bytes (docs/FORMAT.md §11.1).
	Size int64
	// Raw is the type byte followed by the msgpack value, exactly as stored.
	Raw []byte
}

// Value returns the record's msgpack value bytes (Raw without the type byte).
func (r *Record) Value() []byte { return r.Raw[1:] }

// Name returns Consul's display name of the record's type.
func (r *Record) Name() string { return r.Type.String() }

// Stream scans a state.bin byte stream: the header, then one record at a
// time. It finds each record's end by walking msgpack headers, without
// building values, so memory is bounded by the largest record. Use it like
// bufio.Scanner:
//
//	s := decode.NewStream(r, decode.Options{})
//	for s.Next() {
//		rec := s.Record()
//	}
//	if err := s.Err(); err != nil { … }
type Stream struct {
	r         io.Reader
	member    string
	maxRecord int

	buf        []byte
	start, end int   // buf[start:end] holds bytes read but not yet handed out
	off        int64 // stream offset of buf[start]
	eof        bool
	readErr    error

	headerDone bool
	started    bool // Next has checked the header
	header     Header
	headerLen  int64
	headerErr  error

	rec  Record
	n    int64
	err  error
	done bool
}

// Options tune decoding. The zero value is ready to use.
type Options struct {
	// MaxRecordSize caps one record's encoded size; 0 means DefaultMaxRecordSize.
	MaxRecordSize int64
	// Progress, if set, is called as Open reads its input file, with the
	// bytes read so far and the file's size (the archive's compressed size,
	// or state.bin's size), about every MiB and at the end. It may be called
	// from another goroutine than the one calling Next (reading runs ahead).
	Progress func(read, total int64)
}

func (o Options) maxRecord() int {
	if o.MaxRecordSize <= 0 {
		return DefaultMaxRecordSize
	}
	if o.MaxRecordSize > 1<<31 {
		return 1 << 31
	}
	return int(o.MaxRecordSize)
}

// NewStream returns a Stream reading state.bin bytes from r.
func NewStream(r io.Reader, opts Options) *Stream {
	return &Stream{r: r, member: MemberState, maxRecord: opts.maxRecord()}
}

// Header reads the header if it has not been read yet and returns it.
func (s *Stream) Header() (Header, error) {
	if !s.headerDone {
		s.readHeader()
	}
	return s.header, s.headerErr
}

// Consumed returns the number of state.bin bytes handed out so far (header
// and records).
func (s *Stream) Consumed() int64 { return s.off }

// HeaderLen returns the header's encoded length once it has been read.
func (s *Stream) HeaderLen() int64 { return s.headerLen }

// Count returns the number of records handed out so far.
func (s *Stream) Count() int64 { return s.n }

// Record returns the current record. It is valid until the next call to Next.
func (s *Stream) Record() *Record { return &s.rec }

// Err returns the error that stopped the stream, or nil at a clean end.
func (s *Stream) Err() error { return s.err }

// Next advances to the next record and reports whether there is one.
func (s *Stream) Next() bool {
	if s.done {
		return false
	}
	if !s.started {
		s.started = true
		if !s.headerDone {
			s.readHeader()
		}
		if s.headerErr != nil { // also when Header was called before Next
			s.fail(s.headerErr)
			return false
		}
	}
	// Release the previous record.
	s.start += len(s.rec.Raw)
	s.off += int64(len(s.rec.Raw))
	s.rec.Raw = nil

	if s.end-s.start < 2 { // the type byte and a lead byte
		if err := s.ensure(1); err != nil {
			if err == io.ErrUnexpectedEOF && s.end == s.start {
				s.done = true // clean end at a record boundary
				return false
			}
			s.fail(s.recordError(MessageType(0), false, err))
			return false
		}
	}
	t := MessageType(s.buf[s.start])
	n, err := s.scanValue(1)
	if err != nil {
		s.fail(s.recordError(t, true, err))
		return false
	}
	s.n++
	// Field by field: a composite literal here is a typed copy of the whole
	// struct (a bulk write barrier per record), a third of the cost of
	// scanning a file of tiny records.
	r := &s.rec
	r.N, r.Type, r.Offset, r.Size = s.n, t, s.off, int64(n)
	r.Raw = s.buf[s.start : s.start+n : s.start+n]
	if s.n == 1 {
		r.Size += s.headerLen
	}
	return true
}

func (s *Stream) fail(err error) {
	s.err = err
	s.done = true
	s.rec = Record{}
}

// Drain reads and discards whatever is left of the underlying reader, so
// that a hashing reader below sees every byte. It returns the number of bytes
// that were left unscanned.
func (s *Stream) Drain() (int64, error) {
	left := int64(s.end - s.start - len(s.rec.Raw))
	s.start, s.end = 0, 0
	s.rec.Raw = nil
	if s.readErr != nil || s.eof {
		return left, s.readErr
	}
	n, err := io.Copy(io.Discard, s.r)
	return left + n, err
}

func (s *Stream) recordError(t MessageType, known bool, err error) error {
	if err == io.ErrUnexpectedEOF || err == ErrTruncated {
		err = io.ErrUnexpectedEOF
	}
	return &RecordError{Member: s.member, Offset: s.off, N: s.n + 1, Type: t, TypeKnown: known, Err: err}
}

func (s *Stream) readHeader() {
	s.headerDone = true
	if err := s.ensure(1); err != nil {
		if err == io.ErrUnexpectedEOF && s.end == s.start {
			err = io.EOF // Consul: empty state.bin → EOF
		}
		s.headerErr = &RecordError{Member: s.member, Offset: 0, N: 0, Err: fmt.Errorf("reading header: %w", err)}
		return
	}
	n, err := s.scanValue(0)
	if err != nil {
		s.headerErr = &RecordError{Member: s.member, Offset: 0, N: 0, Err: fmt.Errorf("reading header: %w", err)}
		return
	}
	raw := s.buf[s.start : s.start+n]
	v, err := DecodeAll(raw)
	if err == nil && v.Kind != Map {
		err = fmt.Errorf("header is a msgpack %s, want a map", v.Kind)
	}
	if err == nil {
		if li, ok := v.Get("LastIndex"); ok {
			u, ok := li.AsUint()
			if !ok {
				err = fmt.Errorf("header LastIndex is a msgpack %s, want an unsigned integer", li.Kind)
			}
			s.header.LastIndex = u
		}
	}
	if err != nil {
		s.headerErr = &RecordError{Member: s.member, Offset: 0, N: 0, Err: fmt.Errorf("decoding header: %w", err)}
		return
	}
	s.header.Raw = append([]byte(nil), raw...)
	s.headerLen = int64(n)
	s.start += n
	s.off += int64(n)
}

// ensure makes at least need bytes available at buf[start:], reading and
// growing the buffer as data arrives. The buffer only grows when it is full
// of real data, so a length field never makes it allocate more than twice
// the bytes actually read.
func (s *Stream) ensure(need int) error {
	for s.end-s.start < need {
		if need > s.maxRecord {
			return fmt.Errorf("%w (%d bytes)", ErrRecordTooLarge, s.maxRecord)
		}
		if s.readErr != nil {
			return s.readErr
		}
		if s.eof {
			return io.ErrUnexpectedEOF
		}
		if s.end == len(s.buf) {
			switch {
			case s.start > 0:
				copy(s.buf, s.buf[s.start:s.end])
				s.end -= s.start
				s.start = 0
			default:
				size := 2 * len(s.buf)
				if size < initialBufferSize {
					size = initialBufferSize
				}
				if limit := s.maxRecord + 1; size > limit && len(s.buf) < limit {
					size = limit
				}
				nb := make([]byte, size)
				copy(nb, s.buf[s.start:s.end])
				s.end -= s.start
				s.start = 0
				s.buf = nb
			}
		}
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.readErr = err
		}
	}
	return nil
}

// scanValue walks one msgpack object starting at buf[start+p] and returns
// the position just after it, relative to start. Lead bytes are classified
// by mpdesc.go's table, as everywhere else; this loop only adds the
// refilling. It is iterative: a counter of values still to read replaces
// recursion, so nesting depth costs nothing.
func (s *Stream) scanValue(p int) (int, error) {
	// A value that is one scalar whose size its lead byte gives (fixint,
	// nil, bool, fixstr, float, sized int, fixext), wholly buffered, is
	// measured without the loop: a file of garbage records is mostly these.
	if s.end-s.start > p {
		if d := &descs[s.buf[s.start+p]]; d.lenw == 0 && d.ok && d.kind != Map && d.kind != Array {
			n := p + 1 + int(d.n)
			if d.kind == Ext {
				n++ // the ext type byte
			}
			if n <= s.end-s.start && n <= s.maxRecord {
				return n, nil
			}
		}
	}
	rem := uint64(1)
	for rem > 0 {
		if s.end-s.start <= p {
			if err := s.ensure(p + 1); err != nil {
				return p, err
			}
		}
		c := s.buf[s.start+p]
		d := descs[c]
		if !d.ok {
			return p, fmt.Errorf("%w 0x%02x", ErrInvalidDescriptor, c)
		}
		p++
		rem--
		n := uint64(d.n)
		if d.lenw > 0 {
			w := int(d.lenw)
			if s.end-s.start < p+w {
				if err := s.ensure(p + w); err != nil {
					return p, err
				}
			}
			n = beUint(s.buf[s.start+p : s.start+p+w])
			p += w
		}
		switch d.kind {
		case Map:
			rem += 2 * n
		case Array:
			rem += n
		case Ext:
			n++ // the type byte
			fallthrough
		default:
			if uint64(p)+n > uint64(s.maxRecord) {
				return p, fmt.Errorf("%w (%d bytes)", ErrRecordTooLarge, s.maxRecord)
			}
			p += int(n)
			continue
		}
		if rem > uint64(s.maxRecord) {
			return p, fmt.Errorf("%w (%d bytes)", ErrRecordTooLarge, s.maxRecord)
		}
	}
	if s.end-s.start < p {
		if err := s.ensure(p); err != nil {
			return p, err
		}
	}
	return p, nil
}
