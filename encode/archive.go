package encode

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
	"github.com/snaptool/snaptool/decode"
)

// ArchiveOptions tune the archive layers. The zero value writes what Consul
// writes, with the tar times set to the Unix epoch (deterministic output).
type ArchiveOptions struct {
	// ModTime is the tar mtime of all three members (Consul uses the time
	// of the save). Truncated to whole seconds.
	ModTime time.Time
	// Level is the gzip level; 0 means gzip.DefaultCompression (what Consul uses).
	Level int
	// Parallel, when > 0, compresses with klauspost/pgzip on up to Parallel
	// blocks of 1 MiB at once (use runtime.GOMAXPROCS(0) for every core).
	// The output is still one gzip member (one header, one CRC-32/ISIZE
	// trailer) whose deflate stream is a series of blocks, each block
	// primed with the previous block's last 32 KiB and ended by a sync flush:
	// any gzip reader (Go's compress/gzip, Consul's, gunzip) reads it as
	// one stream. The bytes differ from a single-threaded writer's (so does
	// every deflate implementation's from every other); the content does not.
	// 0 keeps the single-threaded klauspost gzip writer.
	Parallel int
}

// ParallelBlockSize is the pgzip block size: 1 MiB, pgzip's default; a
// smaller block compresses measurably worse, a larger one only adds memory.
// (bench/rwfloor uses it to deflate exactly as a rewrite does.)
const ParallelBlockSize = 1 << 20

// gzipWriter is what ArchiveWriter needs of a gzip writer (klauspost's
// gzip.Writer and pgzip.Writer both are).
type gzipWriter interface {
	io.WriteCloser
}

// ErrSize means state.bin did not have the size announced in meta.Size.
var ErrSize = errors.New("state.bin size differs from meta.Size")

// ArchiveWriter writes one archive. Its Write method takes the state.bin
// bytes, exactly meta.Size of them; Close writes SHA256SUMS and ends the tar
// and gzip streams.
type ArchiveWriter struct {
	out     *countWriter // the archive's bytes as written to w
	gz      gzipWriter
	tw      *tar.Writer
	h       hash.Hash
	metaSum []byte
	mtime   time.Time
	want, n int64
	closed  bool
	err     error
}

// Written is the number of archive (compressed) bytes written so far; after
// Close, the archive's size.
func (a *ArchiveWriter) Written() int64 { return a.out.n }

// MetaJSON returns meta.json as Consul writes it: compact JSON of raft's
// SnapshotMeta from a json.Encoder, so with one trailing newline.
func MetaJSON(meta raft.SnapshotMeta) ([]byte, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(&meta); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// NewArchiveWriter starts an archive on w: gzip, tar, the meta.json member
// and the state.bin header with meta.Size as its size.
func NewArchiveWriter(w io.Writer, meta raft.SnapshotMeta, opts ArchiveOptions) (*ArchiveWriter, error) {
	if meta.Size < 0 {
		return nil, fmt.Errorf("encode: meta.Size %d is negative", meta.Size)
	}
	level := opts.Level
	if level == 0 {
		level = gzip.DefaultCompression
	}
	cw := &countWriter{w: w}
	w = cw
	// Consul's gzip header: no name, no comment, MTIME 0, OS 255 (Go's
	// defaults; pgzip's too).
	var gz gzipWriter
	if opts.Parallel > 0 {
		pz, err := pgzip.NewWriterLevel(w, level)
		if err != nil {
			return nil, err
		}
		if err := pz.SetConcurrency(ParallelBlockSize, opts.Parallel); err != nil {
			return nil, err
		}
		// pgzip writes uint32(ModTime.Unix()) even for the zero time (Go's
		// gzip writes 0 then); the Unix epoch gives Consul's MTIME 0.
		pz.ModTime = time.Unix(0, 0)
		gz = pz
	} else {
		kz, err := gzip.NewWriterLevel(w, level)
		if err != nil {
			return nil, err
		}
		gz = kz
	}
	a := &ArchiveWriter{gz: gz, tw: tar.NewWriter(gz), h: sha256.New(), want: meta.Size, mtime: opts.ModTime.Truncate(time.Second), out: cw}
	if opts.ModTime.IsZero() {
		a.mtime = time.Unix(0, 0)
	}
	mj, err := MetaJSON(meta)
	if err != nil {
		return nil, err
	}
	if err := a.member(decode.MemberMeta, int64(len(mj))); err != nil {
		return nil, err
	}
	if _, err := a.tw.Write(mj); err != nil {
		return nil, err
	}
	s := sha256.Sum256(mj)
	a.metaSum = s[:]
	if err := a.member(decode.MemberState, meta.Size); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *ArchiveWriter) member(name string, size int64) error {
	return a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: a.mtime, Typeflag: tar.TypeReg})
}

// Write writes state.bin bytes. Writing more than meta.Size is an error.
func (a *ArchiveWriter) Write(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	if a.closed {
		return 0, errors.New("encode: write after Close")
	}
	if int64(len(p)) > a.want-a.n {
		a.err = fmt.Errorf("encode: %w: more than %d bytes written", ErrSize, a.want)
		return 0, a.err
	}
	n, err := a.tw.Write(p)
	a.h.Write(p[:n])
	a.n += int64(n)
	if err != nil {
		a.err = err
	}
	return n, err
}

// Close checks that state.bin was complete, writes SHA256SUMS and finishes
// the tar and gzip streams. It does not close the underlying writer. On
// every path, errors included, it closes the gzip writer, which releases
// the parallel writer's goroutines (the archive is then incomplete).
func (a *ArchiveWriter) Close() error {
	if a.closed {
		return a.err
	}
	a.closed = true
	if a.err == nil && a.n != a.want {
		a.err = fmt.Errorf("encode: %w: %d bytes written, meta.Size is %d", ErrSize, a.n, a.want)
	}
	if a.err != nil {
		_ = a.gz.Close()
		return a.err
	}
	sums := fmt.Sprintf("%x  %s\n%x  %s\n", a.metaSum, decode.MemberMeta, a.h.Sum(nil), decode.MemberState)
	err := a.member(decode.MemberSums, int64(len(sums)))
	if err == nil {
		_, err = io.WriteString(a.tw, sums)
	}
	if err == nil {
		err = a.tw.Close()
	}
	if err != nil {
		a.err = err
		_ = a.gz.Close()
		return err
	}
	a.err = a.gz.Close()
	return a.err
}

// WriteArchive writes a whole archive to w, reading state.bin from state,
// which must yield exactly meta.Size bytes.
func WriteArchive(w io.Writer, meta raft.SnapshotMeta, state io.Reader, opts ArchiveOptions) error {
	a, err := NewArchiveWriter(w, meta, opts)
	if err != nil {
		return err
	}
	if _, err := io.Copy(a, state); err != nil {
		return err
	}
	return a.Close()
}
