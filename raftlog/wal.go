package raftlog

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// hashicorp/raft-wal (Consul ≥ 1.15 with raft_logstore backend "wal") keeps
// the log in raft/wal/: wal-meta.db, a BoltDB file whose bucket "wal-meta"
// key "m" is JSON {NextSegmentID, Segments: [{ID, BaseIndex, MinIndex,
// MaxIndex, Codec, IndexStart, …}]} and whose bucket "stable" is raft's
// stable store, and one segment file per SegmentInfo,
// "%020d-%016x.wal" (BaseIndex, ID):
//
//	file header  32 bytes: magic 0x58eb6b0d (LE u32), 3 reserved, version 0,
//	             BaseIndex, SegmentID, Codec (LE u64 each)
//	frame        type u8 (1 entry, 2 index, 3 commit), 3 reserved, LE u32
//	             length (commit: CRC), payload, zero padding to 8 bytes
//
// Entry i of a segment is index BaseIndex+i. A commit frame carries the
// CRC-32C of every byte since the previous commit frame's header (the
// first includes the file header); entries after the last valid commit were
// never acknowledged and are not part of the log. Entries are raft-wal's
// BinaryCodec (codec ID 1): uvarint Index, Term, Type, uvarint-length Data
// and Extensions, then time.MarshalBinary of AppendedAt.
//
// The library's own Open takes wal-meta.db's exclusive lock and may write
// (it creates a missing meta file and recovers the tail). This reader opens
// wal-meta.db with bbolt's ReadOnly (shared flock: a running server still
// shows as ErrInUse) and the segments O_RDONLY, and never writes.

const (
	walMetaFile      = "wal-meta.db"
	walMagic         = 0x58eb6b0d
	walHeaderLen     = 32
	walFrameEntry    = 1
	walFrameIndex    = 2
	walFrameCommit   = 3
	walMaxEntry      = 64 << 20 // raft-wal's MaxEntrySize
	walMaxBatchBytes = 256 << 20
	walCodecBinaryV1 = 1 // wal.CodecBinaryV1 (iota after FirstExternalCodecID)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type walSegment struct {
	ID, BaseIndex, MinIndex, MaxIndex, Codec, IndexStart uint64
}

type walState struct {
	NextSegmentID uint64
	Segments      []walSegment
}

// findWAL returns the wal directory for a data dir, raft/ dir or wal dir.
func findWAL(path string) (string, bool) {
	for _, c := range []string{path, filepath.Join(path, "wal"), filepath.Join(path, "raft", "wal")} {
		if st, err := os.Stat(filepath.Join(c, walMetaFile)); err == nil && st.Mode().IsRegular() {
			return c, true
		}
	}
	return "", false
}

func openWALMeta(dir string, timeout time.Duration) (*bolt.DB, walState, error) {
	var st walState
	p := filepath.Join(dir, walMetaFile)
	if err := sniff(p); err != nil {
		return nil, st, err
	}
	db, err := bolt.Open(p, 0o400, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, st, fmt.Errorf("%s: %w", p, ErrInUse)
		}
		return nil, st, fmt.Errorf("%s: %w", p, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("wal-meta"))
		if b == nil {
			return fmt.Errorf("%s: %w: no wal-meta bucket", p, ErrNotRaftLog)
		}
		raw := b.Get([]byte("m"))
		if raw == nil {
			return nil // initialised, nothing written yet
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("%s: wal-meta state: %w", p, err)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, st, err
	}
	return db, st, nil
}

// walSource yields the committed entries of every segment in order.
type walSource struct {
	dir     string
	segs    []walSegment
	si      int
	f       *os.File
	r       *bufio.Reader
	seg     walSegment
	off     int64
	crc     uint32
	nextIdx uint64 // index of the next entry frame in the segment
	batch   []walPending
	bi      int
	bytes   int
	err     error
	// Uncommitted counts entries after a segment's last commit frame.
	Uncommitted int
}

type walPending struct {
	idx  uint64
	data []byte
}

func (w *walSource) fail(format string, a ...any) {
	w.err = fmt.Errorf("%s: segment %d (%020d-%016x.wal) offset %d: %w", w.dir, w.seg.ID, w.seg.BaseIndex, w.seg.ID, w.off, fmt.Errorf(format, a...))
}

// next returns the next committed entry's index and encoded bytes.
func (w *walSource) next() (uint64, []byte, bool) {
	for w.err == nil {
		if w.bi < len(w.batch) {
			p := w.batch[w.bi]
			w.bi++
			if p.idx < w.seg.MinIndex || (w.seg.MaxIndex != 0 && p.idx > w.seg.MaxIndex) {
				continue // truncated away (DeleteRange) but still in the file
			}
			return p.idx, p.data, true
		}
		w.batch, w.bi, w.bytes = w.batch[:0], 0, 0
		if w.f == nil {
			if w.si >= len(w.segs) {
				return 0, nil, false
			}
			w.openSegment(w.segs[w.si])
			w.si++
			continue
		}
		w.readBatch()
	}
	return 0, nil, false
}

func (w *walSource) openSegment(s walSegment) {
	w.seg, w.off, w.nextIdx = s, 0, s.BaseIndex
	if s.Codec != walCodecBinaryV1 {
		w.fail("codec %d: only raft-wal's BinaryCodec (%d) is known", s.Codec, walCodecBinaryV1)
		return
	}
	f, err := os.Open(filepath.Join(w.dir, fmt.Sprintf("%020d-%016x.wal", s.BaseIndex, s.ID)))
	if err != nil {
		w.err = err
		return
	}
	w.f, w.r = f, bufio.NewReaderSize(f, 256<<10)
	var h [walHeaderLen]byte
	if _, err := io.ReadFull(w.r, h[:]); err != nil {
		w.fail("file header: %w", err)
		return
	}
	switch {
	case binary.LittleEndian.Uint32(h[0:]) != walMagic || h[7] != 0:
		w.fail("bad file header magic or version")
	case binary.LittleEndian.Uint64(h[8:]) != s.BaseIndex || binary.LittleEndian.Uint64(h[16:]) != s.ID || binary.LittleEndian.Uint64(h[24:]) != s.Codec:
		w.fail("file header does not match wal-meta.db")
	}
	w.crc = crc32.Checksum(h[:], castagnoli)
	w.off = walHeaderLen
}

// readBatch reads frames up to and including the next commit frame.
func (w *walSource) readBatch() {
	var hdr [8]byte
	for {
		n, err := io.ReadFull(w.r, hdr[:])
		if err == io.EOF || (err == nil && hdr == [8]byte{}) || err == io.ErrUnexpectedEOF && n == 0 {
			w.endSegment()
			return
		}
		if err != nil {
			w.endSegment()
			return // a torn frame header after the last commit: uncommitted
		}
		typ, l := hdr[0], binary.LittleEndian.Uint32(hdr[4:])
		switch typ {
		case walFrameCommit:
			if l != w.crc {
				w.fail("commit frame CRC %08x, computed %08x", l, w.crc)
				w.batch = w.batch[:0]
				return
			}
			w.off += 8
			w.crc = 0
			return
		case walFrameEntry, walFrameIndex:
		default:
			w.fail("frame type %d", typ)
			return
		}
		if l > walMaxEntry || w.bytes+int(l) > walMaxBatchBytes {
			w.fail("frame of %d bytes exceeds raft-wal's limits", l)
			return
		}
		pad := (8 - int(l)%8) & 7
		buf := make([]byte, int(l)+pad)
		if _, err := io.ReadFull(w.r, buf); err != nil {
			w.endSegment() // torn write after the last commit
			return
		}
		w.crc = crc32.Update(w.crc, castagnoli, hdr[:])
		w.crc = crc32.Update(w.crc, castagnoli, buf)
		w.off += 8 + int64(len(buf))
		if typ == walFrameEntry {
			w.batch = append(w.batch, walPending{idx: w.nextIdx, data: buf[:l:l]})
			w.bytes += int(l)
			w.nextIdx++
		}
	}
}

// endSegment drops entries after the last commit and closes the file.
func (w *walSource) endSegment() {
	w.Uncommitted += len(w.batch)
	w.batch = w.batch[:0]
	w.f.Close()
	w.f, w.r = nil, nil
}

func (w *walSource) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// parseWALLog decodes raft-wal's BinaryCodec. Data and Extensions alias b.
func parseWALLog(b []byte) (rawLog, error) {
	var l rawLog
	d := walDecoder{b: b}
	l.Index = d.uvarint("Index")
	l.Term = d.uvarint("Term")
	if t := d.uvarint("Type"); t <= 255 {
		l.Type = LogType(t)
	} else if d.err == nil {
		d.err = fmt.Errorf("log type %d", t)
	}
	l.Data = d.bytes("Data")
	l.Extensions = d.bytes("Extensions")
	if d.err != nil {
		return l, d.err
	}
	if err := l.AppendedAt.UnmarshalBinary(d.b); err != nil {
		return l, fmt.Errorf("AppendedAt: %w", err)
	}
	return l, nil
}

type walDecoder struct {
	b   []byte
	err error
}

func (d *walDecoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("bad varint in %s", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *walDecoder) bytes(what string) []byte {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%s of %d bytes, %d left", what, n, len(d.b))
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}
