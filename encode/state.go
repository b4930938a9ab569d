package encode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/hashicorp/go-msgpack/codec"
	"github.com/snaptool/snaptool/decode"
)

// NewHandle returns a msgpack handle configured like Consul's
// structs.MsgpackHandle (docs/FORMAT.md §4.4). The encoder output does not depend
// on the decode options; they are set so that the handle also decodes the way
// Consul does.
func NewHandle() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{RawToString: true}
	h.MapType = reflect.TypeOf(map[string]interface{}{})
	return h
}

// SnapshotHeader is the FSM header at the start of state.bin.
type SnapshotHeader struct {
	LastIndex uint64
}

// StateWriter writes a state.bin stream: the header, then records. It
// buffers internally; call Flush (or Close on the ArchiveWriter below it)
// when done.
type StateWriter struct {
	bw    *bufio.Writer
	cw    *countWriter
	enc   *codec.Encoder
	count int64
	err   error
}

// NewStateWriter writes the header {LastIndex: lastIndex} to w and returns
// a writer for the records.
func NewStateWriter(w io.Writer, lastIndex uint64) (*StateWriter, error) {
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	s := &StateWriter{bw: bw, cw: cw, enc: codec.NewEncoder(bw, NewHandle())}
	if err := s.enc.Encode(&SnapshotHeader{LastIndex: lastIndex}); err != nil {
		return nil, fmt.Errorf("encoding state.bin header: %w", err)
	}
	return s, nil
}

// NewStateWriterRaw is NewStateWriter for a rewriter: header is an FSM
// header exactly as read (decode.Header.Raw), written byte for byte, so a
// rewrite that keeps every record reproduces state.bin exactly. It must be
// one msgpack map.
func NewStateWriterRaw(w io.Writer, header []byte) (*StateWriter, error) {
	if !decode.IsMap(header, 0) || decode.ValueEnd(header, 0) != len(header) {
		return nil, fmt.Errorf("encode: state.bin header: %w", ErrBadRecord)
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	s := &StateWriter{bw: bw, cw: cw, enc: codec.NewEncoder(bw, NewHandle())}
	if _, err := bw.Write(header); err != nil {
		return nil, err
	}
	return s, nil
}

// WriteRecord writes one record: the type byte, then v encoded as one
// msgpack object.
func (s *StateWriter) WriteRecord(t decode.MessageType, v any) error {
	if s.err != nil {
		return s.err
	}
	if err := s.bw.WriteByte(byte(t)); err != nil {
		s.err = err
		return err
	}
	if err := s.enc.Encode(v); err != nil {
		s.err = fmt.Errorf("encoding record %d (%s): %w", s.count+1, t, err)
		return s.err
	}
	s.count++
	return nil
}

// ErrBadRecord means WriteRaw was given bytes that are not exactly one record.
var ErrBadRecord = errors.New("not exactly one record (type byte + one msgpack value)")

// WriteRaw writes a record that is already encoded: the type byte followed
// by exactly one msgpack value, e.g. decode.Record.Raw. The bytes are
// checked to hold exactly one value (by walking its msgpack headers, without
// building it), so a rewriter can never desynchronise the stream.
func (s *StateWriter) WriteRaw(raw []byte) error {
	if s.err != nil {
		return s.err
	}
	if len(raw) < 2 {
		return fmt.Errorf("encode: record %d: %w", s.count+1, ErrBadRecord)
	}
	if end := decode.ValueEnd(raw, 1); end != len(raw) {
		if end < 0 {
			return fmt.Errorf("encode: record %d: %w: malformed or truncated msgpack value", s.count+1, ErrBadRecord)
		}
		return fmt.Errorf("encode: record %d: %w: %d bytes after the value", s.count+1, ErrBadRecord, len(raw)-end)
	}
	if _, err := s.bw.Write(raw); err != nil {
		s.err = err
		return err
	}
	s.count++
	return nil
}

// Count returns the number of records written.
func (s *StateWriter) Count() int64 { return s.count }

// Size returns the number of state.bin bytes written so far, header included
// (buffered bytes count).
func (s *StateWriter) Size() int64 { return s.cw.n + int64(s.bw.Buffered()) }

// Flush writes buffered bytes to the underlying writer.
func (s *StateWriter) Flush() error {
	if s.err != nil {
		return s.err
	}
	if err := s.bw.Flush(); err != nil {
		s.err = err
	}
	return s.err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
