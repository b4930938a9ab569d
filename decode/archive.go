package decode

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// Form is the shape of an input.
type Form int

const (
	// FormArchive is a `consul snapshot save` archive: gzip(tar(meta.json, state.bin, SHA256SUMS)).
	FormArchive Form = iota
	// FormStateBin is a raw state.bin with meta.json beside it.
	FormStateBin
	// FormDataDir is a raft data-dir snapshot directory (state.bin + meta.json with CRC).
	FormDataDir
)

func (f Form) String() string {
	switch f {
	case FormArchive:
		return "archive"
	case FormStateBin:
		return "state.bin"
	case FormDataDir:
		return "data-dir"
	}
	return "form(" + strconv.Itoa(int(f)) + ")"
}

// Meta is raft's SnapshotMeta as stored in meta.json. CRC is only present in
// the data-dir form (docs/FORMAT.md §3.2).
type Meta struct {
	raft.SnapshotMeta
	CRC []byte `json:",omitempty"`
}

// Integrity is the checksum state of a snapshot.
type Integrity int

const (
	// Pending: the checksums are not known or not yet checked. Every record
	// handed out while the state is Pending is unverified.
	Pending Integrity = iota
	// Verified: every checksum the input carries matched.
	Verified
	// Failed: a checksum did not match or could not be checked.
	Failed
	// Unverifiable: the input carries no checksum (a raw state.bin whose meta.json has no CRC).
	Unverifiable
)

func (i Integrity) String() string {
	return [...]string{"pending", "verified", "failed", "unverifiable"}[i]
}

const (
	maxMetaSize = 1 << 20
	maxSumsSize = 1 << 20
)

// Snapshot reads one input in a single streaming pass: archive layers,
// then the state.bin records, then whatever follows them. Records are
// handed out before the checksums can be checked (SHA256SUMS is the last
// member), so they are unverified until Next returns false; then Integrity
// and Err tell the verdict.
type Snapshot struct {
	Form Form
	Name string // path or "-" as given

	opts   Options
	closer io.Closer

	// archive state
	ahead    *readAhead // inflates in its own goroutine (pipeline.go)
	gzTail   *truncationReader
	tarCount *countReader
	tr       *tar.Reader
	seen     map[string]int
	sumsRaw  []byte
	metaSum  []byte

	// raw/data-dir state
	crc hash.Hash64

	meta      *Meta
	stream    *Stream
	stateHash hash.Hash
	stateLen  *countReader

	errs      Capped[error] // the first MaxFindings, then a count
	lastErr   error         // the last error counted, for the count's layer
	warnings  []error
	integrity Integrity
	finished  bool
	fatal     bool

	// gzIn is the compressed input, bounded by MaxTrailing without output;
	// gzBuf reads it for the decompressor (gzIn.n - gzBuf.Buffered() is
	// the decompressor's position in the file once it has stopped).
	gzIn  *gapReader
	gzBuf *bufio.Reader
}

// Open opens path in whichever form it is: a gzip archive (sniffed by
// magic), a raw state.bin (meta.json read from the same directory), or a
// directory holding a data-dir snapshot (state.bin + meta.json), or a data
// dir / raft/snapshots dir, in which case the newest snapshot is used.
// "-" reads an archive from standard input.
func Open(path string, opts Options) (*Snapshot, error) {
	if path == "-" {
		src := bufio.NewReaderSize(os.Stdin, 1<<16)
		if head, _ := src.Peek(sniffLen); !isGzipStart(head) {
			return nil, &NotSnapshotError{Looks: describe(head)}
		}
		s := NewArchive(src, opts)
		s.Name = "-"
		return s.notSnapshotEarly()
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		dir, err := findSnapshotDir(path)
		if err != nil {
			return nil, err
		}
		return openStateBin(filepath.Join(dir, MemberState), path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	// Sniff the first bytes without seeking: pipes, FIFOs and process
	// substitution (/dev/fd/N) cannot seek, so the sniffed bytes stay in
	// the buffer in front of the rest. What is neither gzip nor state.bin
	// is not a snapshot, decided before the first record.
	src := bufio.NewReaderSize(withProgress(f, opts), 1<<16)
	head, _ := src.Peek(sniffLen)
	if !isGzipStart(head) {
		named := strings.EqualFold(filepath.Base(path), MemberState)
		if named || isStateBinStart(head) && fileExists(filepath.Join(filepath.Dir(path), MemberMeta)) {
			return newStateBinFile(f, src, path, path, opts)
		}
		f.Close()
		return nil, &NotSnapshotError{Looks: describe(head)}
	}
	s := NewArchive(src, opts)
	s.Name = path
	s.closer = f
	return s.notSnapshotEarly()
}

// notSnapshotEarly reads an archive up to its state.bin member, before
// any record, and returns the error when the gzip stream turns out to hold
// something else (text, nothing, a tar of other files): a command then
// prints nothing but the error. Damage stays in the snapshot, for the
// command to report as it reads.
func (s *Snapshot) notSnapshotEarly() (*Snapshot, error) {
	err := s.reachState()
	if err == nil && s.stream == nil && !s.fatal {
		s.finish() // no state.bin: the whole archive has been read
		err = s.Err()
	}
	if errors.Is(err, ErrNotSnapshot) {
		s.Close()
		return nil, err
	}
	return s, nil
}

// findSnapshotDir resolves a directory to one snapshot directory.
func findSnapshotDir(dir string) (string, error) {
	if fileExists(filepath.Join(dir, MemberState)) {
		return dir, nil
	}
	for _, sub := range []string{filepath.Join("raft", "snapshots"), "snapshots", ""} {
		base := filepath.Join(dir, sub)
		entries, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		type cand struct {
			name              string
			term, index, time uint64
		}
		var cands []cand
		for _, e := range entries {
			if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
				continue
			}
			parts := strings.Split(e.Name(), "-")
			if len(parts) != 3 || !fileExists(filepath.Join(base, e.Name(), MemberState)) {
				continue
			}
			var c cand
			c.name = e.Name()
			c.term, _ = strconv.ParseUint(parts[0], 10, 64)
			c.index, _ = strconv.ParseUint(parts[1], 10, 64)
			c.time, _ = strconv.ParseUint(parts[2], 10, 64)
			cands = append(cands, c)
		}
		if len(cands) == 0 {
			continue
		}
		// Newest first, as raft's FileSnapshotStore orders them.
		sort.Slice(cands, func(i, j int) bool {
			a, b := cands[i], cands[j]
			if a.term != b.term {
				return a.term > b.term
			}
			if a.index != b.index {
				return a.index > b.index
			}
			return a.time > b.time
		})
		return filepath.Join(base, cands[0].name), nil
	}
	return "", &NotSnapshotError{Looks: "a directory with no state.bin and no raft snapshot directory"}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func openStateBin(statePath, name string, opts Options) (*Snapshot, error) {
	f, err := os.Open(statePath)
	if err != nil {
		return nil, err
	}
	return newStateBinFile(f, withProgress(f, opts), statePath, name, opts)
}

// newStateBinFile reads a raw state.bin from src, which reads the open file
// f; meta.json, and SHA256SUMS when there is one (an extracted archive),
// are read from statePath's directory. f is closed on error.
func newStateBinFile(f *os.File, src io.Reader, statePath, name string, opts Options) (*Snapshot, error) {
	dir := filepath.Dir(statePath)
	metaRaw, err := os.ReadFile(filepath.Join(dir, MemberMeta))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading meta.json beside state.bin: %w", err)
	}
	var sums []byte
	if sf, err := os.Open(filepath.Join(dir, MemberSums)); err == nil {
		sums, err = readLimited(sf, maxSumsSize)
		sf.Close()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("reading SHA256SUMS beside state.bin: %w", err)
		}
		if sums == nil {
			sums = []byte{} // present but empty: checked (and fails)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		f.Close()
		return nil, fmt.Errorf("reading SHA256SUMS beside state.bin: %w", err)
	}
	s, err := newStateBin(src, metaRaw, sums, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.Name = name
	s.closer = f
	return s, nil
}

// NewStateBin reads a raw state.bin from r, with the bytes of the meta.json
// that belongs to it. If that meta.json carries a CRC (data-dir form), the
// CRC-64 of state.bin is checked at the end. When r is an io.Closer, Close
// closes it (a producer writing state.bin into a pipe then stops).
func NewStateBin(r io.Reader, metaJSON []byte, opts Options) (*Snapshot, error) {
	return newStateBin(r, metaJSON, nil, opts)
}

// newStateBin is NewStateBin with the SHA256SUMS found beside state.bin
// (nil when there is none): state.bin and meta.json are then checked
// against it as in an archive, both ways (docs/FORMAT.md §2).
func newStateBin(r io.Reader, metaJSON, sums []byte, opts Options) (*Snapshot, error) {
	s := &Snapshot{Form: FormStateBin, opts: opts}
	if c, ok := r.(io.Closer); ok {
		s.closer = c
	}
	var m Meta
	if err := json.Unmarshal(metaJSON, &m); err != nil {
		return nil, &ArchiveError{Layer: "meta.json", Member: MemberMeta, Offset: -1, Err: fmt.Errorf("%w: %s", ErrMeta, SafeText(err.Error()))}
	}
	s.meta = &m
	s.checkMetaVersion()
	var w io.Writer = io.Discard
	if len(m.CRC) > 0 {
		s.Form = FormDataDir
		s.crc = crc64.New(crc64.MakeTable(crc64.ECMA))
		w = s.crc
	}
	if sums != nil && s.crc == nil {
		ms := sha256.Sum256(metaJSON)
		s.metaSum, s.sumsRaw = ms[:], sums
		s.seen = map[string]int{MemberMeta: 1, MemberState: 1, MemberSums: 1}
		s.stateHash = sha256.New()
		w = s.stateHash
	}
	s.stateLen = &countReader{r: r}
	var src io.Reader = io.TeeReader(s.stateLen, w)
	if s.crc != nil {
		// Read and CRC in their own goroutine while records are scanned (pipeline.go).
		s.ahead = newReadAhead(src)
		src = s.ahead
	}
	s.stream = NewStream(src, opts)
	return s, nil
}

// NewArchive reads a gzip archive from r.
func NewArchive(r io.Reader, opts Options) *Snapshot {
	return &Snapshot{Form: FormArchive, opts: opts, seen: map[string]int{}, closer: nil, tr: nil,
		stateHash: nil, tarCount: &countReader{r: bufio.NewReaderSize(r, 1<<16)}}
}

// Close releases the input file, if Open opened one.
func (s *Snapshot) Close() error {
	if s.ahead != nil {
		s.ahead.Close()
	}
	if s.closer != nil {
		err := s.closer.Close()
		s.closer = nil
		return err
	}
	return nil
}

// Meta returns the snapshot metadata, or nil if it has not been read yet
// (meta.json may follow state.bin in an archive) or could not be read.
func (s *Snapshot) Meta() *Meta { return s.meta }

// Stream returns the state.bin stream, or nil before it is reached.
func (s *Snapshot) Stream() *Stream { return s.stream }

// Header reads up to the state.bin header and returns it.
func (s *Snapshot) Header() (Header, error) {
	if err := s.reachState(); err != nil {
		return Header{}, err
	}
	if s.stream == nil {
		return Header{}, s.Err()
	}
	return s.stream.Header()
}

// Record returns the current record; valid until the next call to Next.
func (s *Snapshot) Record() *Record { return s.stream.Record() }

// Integrity returns the checksum state. It is Pending until Next has returned false.
func (s *Snapshot) Integrity() Integrity { return s.integrity }

// Errors returns the errors found so far, in the order found: the first
// MaxFindings, then one more that says how many were only counted (an
// *ArchiveError in the layer of the last of them).
func (s *Snapshot) Errors() []error {
	kept := s.errs.Kept()
	if more := s.errs.More(); more > 0 {
		layer := "tar"
		var ae *ArchiveError
		if errors.As(s.lastErr, &ae) {
			layer = ae.Layer
		}
		kept = append(kept[:len(kept):len(kept)], &ArchiveError{Layer: layer, Offset: -1, Err: fmt.Errorf("and %d more errors of this kind (the last: %w)", more, s.lastErr)})
	}
	return kept
}

// Warnings returns findings that do not make the snapshot damaged.
func (s *Snapshot) Warnings() []error { return s.warnings }

// Err returns all errors found (joined), or nil. Call it after Next returns false.
func (s *Snapshot) Err() error { return errors.Join(s.Errors()...) }

// StateSize returns the number of state.bin bytes read so far.
func (s *Snapshot) StateSize() int64 {
	if s.stateLen == nil {
		return 0
	}
	return s.stateLen.n
}

func (s *Snapshot) addErr(err error) {
	s.errs.Add(err)
	s.lastErr = err
}

// Next advances to the next state.bin record. When it returns false the
// whole input has been read and checked; see Err and Integrity.
func (s *Snapshot) Next() bool {
	if s.stream != nil && !s.finished { // inlined: the per-record path
		if s.stream.Next() {
			return true
		}
		s.finish()
		return false
	}
	return s.next()
}

func (s *Snapshot) next() bool {
	if s.finished {
		return false
	}
	if err := s.reachState(); err != nil || s.stream == nil {
		s.finish()
		return false
	}
	if s.stream.Next() {
		return true
	}
	s.finish()
	return false
}

// reachState advances the archive to the state.bin member.
func (s *Snapshot) reachState() error {
	if s.stream != nil || s.fatal || s.finished {
		return nil
	}
	if s.Form != FormArchive {
		return nil
	}
	if s.tr == nil {
		if br, ok := s.tarCount.r.(*bufio.Reader); ok {
			if head, _ := br.Peek(sniffLen); !isGzipStart(head) {
				// Not a damaged archive but something else (Open decides
				// this for files; here for readers given to NewArchive).
				err := &NotSnapshotError{Looks: describe(head)}
				s.addErr(err)
				s.fatal = true
				return err
			}
		}
		src := s.clearReservedGzipFlags(s.tarCount.r)
		s.gzIn = &gapReader{r: src}
		// gzip reads this bufio.Reader directly (it is a flate.Reader), so
		// the bytes it has consumed are known exactly: gzIn.n - Buffered.
		gzBuf := bufio.NewReader(s.gzIn)
		s.gzBuf = gzBuf
		gz, err := gzip.NewReader(gzBuf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: %v", ErrNotGzip, err)
			}
			s.addErr(&ArchiveError{Layer: "gzip", Offset: 0, InFile: true, Err: err})
			s.fatal = true
			return err
		}
		gz.Multistream(false)
		s.gzTail = &truncationReader{r: &gzipMembers{z: gz, br: gzBuf, in: s.gzIn}}
		s.gzTail.in = s.gzIn
		s.ahead = newReadAhead(s.gzTail)
		// A gzip stream of text or of nothing is not a damaged archive:
		// a tar header always holds NUL bytes. Decided before the first
		// member, from the first inflated bytes (kept in the buffer).
		inflated := bufio.NewReaderSize(s.ahead, sniffLen)
		if head, err := inflated.Peek(sniffLen); len(head) > 0 || err == io.EOF {
			if looks := describeInflated(head); looks != "" {
				e := &NotSnapshotError{Looks: looks}
				s.addErr(e)
				s.fatal = true
				return e
			}
		}
		s.tarCount = &countReader{r: inflated}
		s.tr = tar.NewReader(s.tarCount)
	}
	return s.readMembers(true)
}

// readMembers walks tar members; with stopAtState it returns when the
// state.bin member is reached (its stream is set up).
func (s *Snapshot) readMembers(stopAtState bool) error {
	for {
		hdr, err := s.tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			e := s.layerErr(err, "tar")
			s.addErr(e)
			s.fatal = true
			return e
		}
		off := s.tarCount.n
		if err := memberTypeErr(hdr); err != nil {
			// Refused on its header alone: Next skips only the bytes the
			// member stores, so a sparse hole is never expanded. Not
			// counted as seen, so a refused state.bin is also missing.
			s.addErr(&ArchiveError{Layer: "tar", Member: hdr.Name, Offset: off, Err: err})
			continue
		}
		s.seen[hdr.Name]++
		if s.seen[hdr.Name] > 1 {
			s.addErr(&ArchiveError{Layer: "tar", Member: hdr.Name, Offset: off, Err: fmt.Errorf("%w: %q appears %d times", ErrDuplicateMember, hdr.Name, s.seen[hdr.Name])})
		}
		switch hdr.Name {
		case MemberMeta:
			h := sha256.New()
			b, err := readLimited(io.TeeReader(s.tr, h), maxMetaSize)
			if err != nil {
				return s.memberReadErr(hdr.Name, err)
			}
			s.metaSum = h.Sum(nil)
			var m Meta
			if err := json.Unmarshal(b, &m); err != nil {
				s.addErr(&ArchiveError{Layer: "meta.json", Member: MemberMeta, Offset: -1, Err: fmt.Errorf("%w: %s", ErrMeta, SafeText(err.Error()))})
			} else {
				s.meta = &m
				s.checkMetaVersion()
			}
		case MemberSums:
			b, err := readLimited(s.tr, maxSumsSize)
			if err != nil {
				return s.memberReadErr(hdr.Name, err)
			}
			s.sumsRaw = b
		case MemberState:
			if s.seen[hdr.Name] > 1 {
				// A second state.bin: hash it into nothing, it is already an error.
				if _, err := io.Copy(io.Discard, s.tr); err != nil {
					return s.memberReadErr(hdr.Name, err)
				}
				continue
			}
			s.stateHash = sha256.New()
			s.stateLen = &countReader{r: s.tr}
			s.stream = NewStream(io.TeeReader(s.stateLen, s.stateHash), s.opts)
			if stopAtState {
				return nil
			}
		default:
			s.addErr(&ArchiveError{Layer: "tar", Member: hdr.Name, Offset: off, Err: fmt.Errorf("%w: %q", ErrUnexpectedMember, hdr.Name)})
			if _, err := io.Copy(io.Discard, s.tr); err != nil {
				return s.memberReadErr(hdr.Name, err)
			}
		}
	}
}

// memberTypeErr refuses every member but a plain regular file. Consul
// writes only those; a sparse member would make the tar reader expand its
// holes (a 288 KB archive can claim a 1.1 TB state.bin), and links,
// devices, FIFOs and directories carry no snapshot content.
func memberTypeErr(hdr *tar.Header) error {
	var what string
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		var sparse []string
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				sparse = append(sparse, k)
			}
		}
		if len(sparse) == 0 {
			return nil
		}
		sort.Strings(sparse)
		return fmt.Errorf("%w: %q is a sparse file (PAX record %s)", ErrMemberType, hdr.Name, sparse[0])
	case tar.TypeGNUSparse:
		what = "a sparse file"
	case tar.TypeLink:
		what = "a hard link"
	case tar.TypeSymlink:
		what = "a symlink"
	case tar.TypeChar:
		what = "a character device"
	case tar.TypeBlock:
		what = "a block device"
	case tar.TypeFifo:
		what = "a FIFO"
	case tar.TypeDir:
		what = "a directory"
	default:
		what = fmt.Sprintf("of tar type %q", hdr.Typeflag)
	}
	return fmt.Errorf("%w: %q is %s", ErrMemberType, hdr.Name, what)
}

func (s *Snapshot) memberReadErr(member string, err error) error {
	e := s.layerErr(err, "tar")
	if ae, ok := e.(*ArchiveError); ok {
		ae.Member = member
	}
	s.addErr(e)
	s.fatal = true
	return e
}

// layerErr attributes an error from reading the tar stream to gzip when
// it came from the decompressor.
func (s *Snapshot) layerErr(err error, layer string) error {
	var ae *ArchiveError
	if errors.As(err, &ae) {
		return err
	}
	if (errors.Is(err, gzip.ErrChecksum) || isFlateErr(err)) && s.gzBuf != nil {
		// The decompressor has stopped: where it stopped in the file is exact.
		at := s.gzIn.n - int64(s.gzBuf.Buffered())
		return &ArchiveError{Layer: "gzip", Offset: at, InFile: true, Err: fmt.Errorf("%w after %d bytes of gzip output: %v", ErrGzip, s.tarCount.n, err)}
	}
	if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || isFlateErr(err) || errors.Is(err, errNoOutput) {
		return &ArchiveError{Layer: "gzip", Offset: s.tarCount.n, Err: fmt.Errorf("%w: %v", ErrGzip, err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && s.gzTail != nil && s.gzTail.truncated.Load() {
		// The decompressor has stopped, so gzIn is no longer written.
		return &ArchiveError{Layer: "gzip", Offset: s.gzIn.n, InFile: true, Err: fmt.Errorf("%w: compressed stream truncated: the file ends inside the gzip stream, after %d bytes of gzip output: %w", ErrGzip, s.tarCount.n, err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &ArchiveError{Layer: layer, Offset: s.tarCount.n, Err: fmt.Errorf("%w: truncated: %w", ErrTar, err)}
	}
	if errors.Is(err, tar.ErrHeader) || errors.Is(err, ErrTooLarge) {
		return &ArchiveError{Layer: layer, Offset: s.tarCount.n, Err: fmt.Errorf("%w: %w", ErrTar, err)}
	}
	return &ArchiveError{Layer: layer, Offset: s.tarCount.n, Err: err}
}

func isFlateErr(err error) bool {
	var corrupt flate.CorruptInputError
	var internal flate.InternalError
	return errors.As(err, &corrupt) || errors.As(err, &internal)
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// finish reads everything after the last record and checks the whole input.
func (s *Snapshot) finish() {
	if s.finished {
		return
	}
	s.finished = true
	defer func() {
		if s.ahead != nil {
			s.ahead.Close() // everything has been read, or reading stopped for good
		}
		if s.integrity == Pending {
			s.integrity = Failed
		}
	}()
	if s.stream != nil {
		if err := s.stream.Err(); err != nil {
			s.addErr(err)
			// Keep hashing so the checksum still tells whether the bytes are damaged.
			if _, derr := s.stream.Drain(); derr != nil && s.Form == FormArchive {
				s.addErr(s.layerErr(derr, "tar"))
				s.fatal = true
			}
		} else if left, derr := s.stream.Drain(); derr != nil {
			s.addErr(s.layerErr(derr, "tar"))
			s.fatal = true
		} else if left != 0 {
			s.addErr(&RecordError{Member: MemberState, Offset: s.stream.Consumed(), N: s.stream.Count() + 1, Err: fmt.Errorf("%d bytes after the last record", left)})
		}
	}
	switch s.Form {
	case FormArchive:
		s.finishArchive()
	default:
		s.finishRaw()
	}
}

func (s *Snapshot) finishRaw() {
	if s.stream == nil {
		return
	}
	s.checkSize()
	if s.crc == nil && s.stateHash != nil {
		s.checkSums() // SHA256SUMS beside state.bin
		return
	}
	if s.crc == nil {
		s.integrity = Unverifiable
		s.warnings = append(s.warnings, fmt.Errorf("no SHA256SUMS beside state.bin and no CRC in meta.json: state.bin cannot be verified"))
		return
	}
	got := s.crc.Sum(nil)
	if !bytes.Equal(got, s.meta.CRC) {
		s.addErr(&ArchiveError{Layer: "crc", Member: MemberState, Offset: -1, Err: fmt.Errorf("%w: meta.json has %x, state.bin is %x%s", ErrCRCMismatch, s.meta.CRC, got, s.unverifiedNote())})
		s.integrity = Failed
		return
	}
	s.integrity = Verified
}

func (s *Snapshot) unverifiedNote() string {
	if s.stream == nil || s.stream.Count() == 0 {
		return ""
	}
	return fmt.Sprintf("; the %d records already delivered are unverified", s.stream.Count())
}

// checkMetaVersion refuses a meta.json Version outside the range raft
// supports: raft's restore (Raft.Restore, and a follower's InstallSnapshot)
// fails with "unsupported snapshot version", and its FileSnapshotStore
// skips such a snapshot, so the backup cannot be restored.
func (s *Snapshot) checkMetaVersion() {
	v := s.meta.Version
	if v < raft.SnapshotVersionMin || v > raft.SnapshotVersionMax {
		s.addErr(&ArchiveError{Layer: "meta.json", Member: MemberMeta, Offset: -1, Err: fmt.Errorf("%w: Version is %d, raft supports %d to %d: a restore would refuse this snapshot (unsupported snapshot version)",
			ErrMetaVersion, v, raft.SnapshotVersionMin, raft.SnapshotVersionMax)})
	}
}

func (s *Snapshot) checkSize() {
	if s.meta == nil || s.stateLen == nil {
		return
	}
	if s.meta.Size != s.stateLen.n {
		s.addErr(&ArchiveError{Layer: "meta.json", Member: MemberMeta, Offset: -1, Err: fmt.Errorf("%w: Size is %d, state.bin has %d bytes", ErrSizeMismatch, s.meta.Size, s.stateLen.n)})
	}
}

func (s *Snapshot) finishArchive() {
	if s.fatal {
		return
	}
	if err := s.readMembers(false); err != nil {
		return
	}
	// After the end-of-archive blocks the decompressed stream must be
	// exhausted, as Consul's reader requires: it reads gzip to EOF and
	// fails on any uncompressed byte left (so this is an error, not a
	// warning). Consul would read an endless stream forever; we read at
	// most MaxTrailing uncompressed bytes (and gapReader stops compressed
	// input that inflates to nothing), then report what we saw.
	n, err := io.CopyN(io.Discard, s.tarCount, MaxTrailing+1)
	switch {
	case errors.Is(err, errNoOutput):
		s.addErr(&ArchiveError{Layer: "gzip", Offset: s.tarCount.n, Err: fmt.Errorf("%w: after the tar's end, %w", ErrTrailingData, err)})
		return
	case errors.Is(err, ErrTrailingGarbage):
		// The archive itself was read whole: check it as usual.
		s.addErr(err)
	case err != nil && err != io.EOF:
		s.addErr(s.layerErr(err, "gzip"))
		return
	case n > MaxTrailing:
		s.addErr(&ArchiveError{Layer: "tar", Offset: s.tarCount.n - n, Err: fmt.Errorf("%w: more than %d uncompressed bytes after the tar's end; not read further", ErrTrailingData, MaxTrailing)})
	case n > 0:
		s.addErr(&ArchiveError{Layer: "tar", Offset: s.tarCount.n - n, Err: fmt.Errorf("%w: %d unread uncompressed bytes remain", ErrTrailingData, n)})
	}
	if s.seen[MemberMeta]+s.seen[MemberState]+s.seen[MemberSums] == 0 {
		// A gzip'd tar, but of other files: not a damaged snapshot. No
		// record has been handed out (there was no state.bin).
		s.errs = Capped[error]{}
		s.errs.Add(&NotSnapshotError{Looks: "a gzip'd tar archive " + describeMembers(s.seen)})
		return
	}
	for _, m := range []string{MemberMeta, MemberState, MemberSums} {
		if s.seen[m] == 0 {
			s.addErr(&ArchiveError{Layer: "tar", Member: m, Offset: -1, Err: fmt.Errorf("%w: %q", ErrMissingMember, m)})
		}
	}
	s.checkSize()
	s.checkSums()
}

// checkSums checks SHA256SUMS both ways: each listed file is present and
// matches, and each present file is listed.
func (s *Snapshot) checkSums() {
	if s.seen[MemberSums] == 0 {
		return
	}
	sums, err := parseSums(s.sumsRaw)
	if err != nil {
		s.addErr(&ArchiveError{Layer: "checksums", Member: MemberSums, Offset: -1, Err: err})
		s.integrity = Failed
		return
	}
	ok := true
	for name := range sums {
		if name != MemberMeta && name != MemberState {
			s.addErr(&ArchiveError{Layer: "checksums", Member: MemberSums, Offset: -1, Err: fmt.Errorf("%w: %q", ErrUnlistedHash, name)})
			ok = false
		}
	}
	for _, m := range []struct {
		name string
		sum  []byte
	}{{MemberMeta, s.metaSum}, {MemberState, s.stateSumBytes()}} {
		want, listed := sums[m.name]
		switch {
		case !listed:
			s.addErr(&ArchiveError{Layer: "checksums", Member: m.name, Offset: -1, Err: fmt.Errorf("%w: %q", ErrMissingHash, m.name)})
			ok = false
		case s.seen[m.name] == 0:
			ok = false // already reported as a missing member
		case !bytes.Equal(want, m.sum):
			note := ""
			if m.name == MemberState {
				note = s.unverifiedNote()
			}
			s.addErr(&ArchiveError{Layer: "checksums", Member: m.name, Offset: -1, Err: fmt.Errorf("%w for %q: listed %x, computed %x%s", ErrChecksumMismatch, m.name, want, m.sum, note)})
			ok = false
		}
	}
	if ok {
		s.integrity = Verified
	} else {
		s.integrity = Failed
	}
}

// describeMembers lists (at most three of) the members of a tar that has
// none of a snapshot's.
func describeMembers(seen map[string]int) string {
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, strconv.Quote(n))
	}
	if len(names) == 0 {
		return "with no files"
	}
	sort.Strings(names)
	more := ""
	if len(names) > 3 {
		more = fmt.Sprintf(" and %d more", len(names)-3)
		names = names[:3]
	}
	return "of other files (" + strings.Join(names, ", ") + more + "), none of meta.json, state.bin, SHA256SUMS"
}

func (s *Snapshot) stateSumBytes() []byte {
	if s.stateHash == nil {
		return nil
	}
	return s.stateHash.Sum(nil)
}

// parseSums parses SHA256SUMS the way Consul does: each line is hex digest,
// white space, file name. Blank or unparsable lines are errors.
func parseSums(b []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	lines := strings.Split(string(b), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return out, nil
	}
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			return nil, fmt.Errorf("%w: line %d is blank", ErrChecksumList, i+1)
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%w: line %d: want \"<sha256>  <file>\", got %q", ErrChecksumList, i+1, line)
		}
		sum, err := hex.DecodeString(fields[0])
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("%w: line %d: %q is not a SHA-256 hex digest", ErrChecksumList, i+1, fields[0])
		}
		if prev, dup := out[fields[1]]; dup && !bytes.Equal(prev, sum) {
			return nil, fmt.Errorf("%w: line %d: %q listed twice with different digests", ErrChecksumList, i+1, fields[1])
		}
		out[fields[1]] = sum
	}
	return out, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// MaxTrailing bounds what is read of a stream that goes nowhere: at most
// that many uncompressed bytes after an archive's tar end-of-archive
// blocks, and at most that many bytes of compressed input in a row that
// inflate to nothing (a stream of empty gzip members, after the archive or
// inside it). Past either bound reading stops and the input is reported.
const MaxTrailing = 1 << 20

// errNoOutput stops the decompressor when MaxTrailing bytes of compressed
// input have gone by without a byte of output.
var errNoOutput = fmt.Errorf("more than %d bytes of compressed input inflate to nothing (empty gzip members?); not read further", MaxTrailing)

// gapReader is the compressed input. It fails once MaxTrailing bytes have
// been read since the decompressor last produced output (truncationReader,
// above the decompressor, records that). Go's multistream gzip reader
// loops over empty members inside one Read, so the bound must sit below it.
// Both run in the inflating goroutine.
type gapReader struct {
	r          io.Reader
	n, lastOut int64
}

func (g *gapReader) Read(p []byte) (int, error) {
	left := g.lastOut + MaxTrailing - g.n
	if left <= 0 {
		return 0, errNoOutput
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}

// truncationReader remembers whether the decompressor hit the end of the
// compressed input mid-stream, so that a cut archive is reported as a gzip
// problem rather than as a short tar member.
type truncationReader struct {
	r         io.Reader
	truncated atomic.Bool
	in        *gapReader // the compressed input, told when output appears
}

func (t *truncationReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 && t.in != nil {
		t.in.lastOut = t.in.n
	}
	if err == io.ErrUnexpectedEOF {
		t.truncated.Store(true)
	}
	return n, err
}

// gzipMembers reads every gzip member of the input in turn, as Go's
// multistream reader (and so Consul) does, but tells trailing garbage
// after the last member apart from damage: where Go's reader fails with
// "invalid header" or "unexpected EOF", it returns an *ArchiveError
// wrapping ErrTrailingGarbage, located in the file.
type gzipMembers struct {
	z  *gzip.Reader
	br *bufio.Reader // what z reads (directly, as a flate.Reader)
	in *gapReader    // below br: counts the file's bytes
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := g.z.Read(p)
		if err != io.EOF {
			return n, err
		}
		// End of one member: another member, the end, or garbage.
		next, _ := g.br.Peek(2)
		switch {
		case len(next) == 0:
			return n, io.EOF
		case len(next) == 2 && HasGzipMagic(next):
			if rerr := g.z.Reset(g.br); rerr != nil {
				return n, rerr
			}
			g.z.Multistream(false)
			if n > 0 {
				return n, nil
			}
			continue
		}
		off := g.in.n - int64(g.br.Buffered())
		start, _ := g.br.Peek(8)
		start = append([]byte(nil), start...)
		left, cerr := io.Copy(io.Discard, io.LimitReader(g.br, MaxTrailing+1))
		what := fmt.Sprintf("%d bytes", left)
		if cerr != nil || left > MaxTrailing {
			what = fmt.Sprintf("at least %d bytes (not read further)", min(left, MaxTrailing))
		}
		return n, &ArchiveError{Layer: "gzip", Offset: off, InFile: true,
			Err: fmt.Errorf("%w: %s after the end of the gzip stream (they start % x); Consul's reader refuses them", ErrTrailingGarbage, what, start)}
	}
}

// clearReservedGzipFlags presents the gzip header with its reserved FLG
// bits (0xe0) cleared, and records a warning. RFC 1952 says a reader should
// reject them, but Go's compress/gzip — and so Consul — ignores them, and
// the content is intact; klauspost's reader would reject the archive.
func (s *Snapshot) clearReservedGzipFlags(r io.Reader) io.Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		return r
	}
	h, err := br.Peek(4)
	if err != nil || h[0] != 0x1f || h[1] != 0x8b || h[3]&0xe0 == 0 {
		return r
	}
	s.warnings = append(s.warnings, &ArchiveError{Layer: "gzip", Offset: 3, InFile: true, Err: fmt.Errorf("gzip header has reserved flag bits set (FLG 0x%02x); ignored, as Consul's reader does", h[3])})
	fixed := []byte{h[0], h[1], h[2], h[3] &^ 0xe0}
	if _, err := br.Discard(4); err != nil {
		return r
	}
	return io.MultiReader(bytes.NewReader(fixed), br)
}
