package rewrite

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// Errors of Run; each is wrapped with the details (errors.Is works).
var (
	// ErrNotReopenable: IN is "-", a pipe or another non-regular file; a
	// rewrite reads IN twice (see the package doc).
	ErrNotReopenable = errors.New("rewrite reads its input twice: give a snapshot file or directory, not - or a pipe")
	// ErrChanged: the second pass saw something else than the first (IN
	// was modified meanwhile, or Transform is not deterministic).
	ErrChanged = errors.New("input changed between the two passes")
	// ErrVerify: reading the written archive back did not give what was written.
	ErrVerify = errors.New("read-back of the written archive failed")
	// ErrOptions: the options contradict each other.
	ErrOptions = errors.New("invalid rewrite options")
	// ErrNoMeta: IN has no meta.json (a raw state.bin without one); its
	// Index and Term cannot be invented.
	ErrNoMeta = errors.New("input has no meta.json")
)

// Transform may replace a kept record (see the package doc). raw is the new
// record, type byte first (nil: unchanged); keep false drops it.
type Transform func(rec *decode.Record) (raw []byte, keep bool, err error)

// Options select the records to keep and tune the output. The zero value
// copies every record.
type Options struct {
	// DropTypes are dropped.
	DropTypes []decode.MessageType
	// KeepTypes, when not empty, are the only types kept. A type may not
	// be in both lists.
	KeepTypes []decode.MessageType
	// DropEnterprise drops types 64 and up (Consul Enterprise's 64..127,
	// and 128..255, which no Consul writes into a snapshot).
	DropEnterprise bool
	// KVPrefixes, when not empty: KVS and Tombstone records are kept only
	// when their key starts with one of them. Other types are untouched.
	KVPrefixes []string
	// DropKVPrefixes: KVS and Tombstone records whose key starts with one
	// of them are dropped.
	DropKVPrefixes []string
	// Transform, if set, is called for every record the selection keeps,
	// in both passes (the redaction hook).
	Transform Transform
	// Archive tunes the written archive (gzip level, tar mtime, parallel
	// compression). The zero value writes what Consul writes, with the tar
	// times at the Unix epoch, single-threaded.
	Archive encode.ArchiveOptions
	// Decode is used for both passes over IN and for the read-back.
	Decode decode.Options
}

// TypeStats counts one record type. Bytes are the records' encodings (type
// byte + value); Kept bytes are those written (after Transform).
type TypeStats struct {
	Type         decode.MessageType
	Kept         int64
	Dropped      int64
	Transformed  int64
	KeptBytes    int64
	DroppedBytes int64
}

// Stats describe a finished rewrite.
type Stats struct {
	// InRecords and InSize are IN's record count and state.bin size.
	InRecords int64
	InSize    int64
	// Records, Dropped and Transformed count OUT's records, the records
	// left out and the kept records Transform replaced.
	Records     int64
	Dropped     int64
	Transformed int64
	// Size is OUT's state.bin size (meta.json Size), header included.
	Size int64
	// ArchiveSize is the number of bytes written to out.
	ArchiveSize int64
	// LastIndex is the FSM header's, kept from IN.
	LastIndex uint64
	// Meta is OUT's meta.json.
	Meta raft.SnapshotMeta
	// Types lists every type IN holds, in type order.
	Types []TypeStats
	// Verified: the read-back had verified checksums and matched (always
	// true when Run returns no error).
	Verified bool
	// Warnings are IN's decode warnings (e.g. a raw state.bin without checksum).
	Warnings []string
}

// selector is the one selection function both passes apply.
type selector struct {
	drop      [256]bool
	kvKeep    []string
	kvDrop    []string
	kvFilter  bool
	transform Transform
}

func newSelector(o Options) (*selector, error) {
	s := &selector{kvKeep: o.KVPrefixes, kvDrop: o.DropKVPrefixes, transform: o.Transform}
	s.kvFilter = len(o.KVPrefixes) > 0 || len(o.DropKVPrefixes) > 0
	var keep [256]bool
	for _, t := range o.KeepTypes {
		keep[t] = true
	}
	if len(o.KeepTypes) > 0 {
		for i := range s.drop {
			s.drop[i] = !keep[i]
		}
	}
	for _, t := range o.DropTypes {
		if keep[t] {
			return nil, fmt.Errorf("%w: type %s is both kept and dropped", ErrOptions, t)
		}
		s.drop[t] = true
	}
	if o.DropEnterprise {
		for i := 64; i < 256; i++ {
			s.drop[i] = true
		}
	}
	return s, nil
}

func hasPrefix(key []byte, prefixes []string) bool {
	for _, p := range prefixes {
		if len(key) >= len(p) && string(key[:len(p)]) == p {
			return true
		}
	}
	return false
}

// decide returns the bytes to write for rec, or nil to drop it.
func (s *selector) decide(rec *decode.Record) (raw []byte, transformed bool, err error) {
	if s.drop[rec.Type] {
		return nil, false, nil
	}
	if s.kvFilter && (rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone) {
		k, err := decode.Keys(rec) // a *decode.RecordError on failure
		if err != nil {
			return nil, false, fmt.Errorf("no Key to select on: %w", err)
		}
		key := []byte(k.KV)
		if len(s.kvKeep) > 0 && !hasPrefix(key, s.kvKeep) || hasPrefix(key, s.kvDrop) {
			return nil, false, nil
		}
	}
	if s.transform == nil {
		return rec.Raw, false, nil
	}
	out, keep, err := s.transform(rec)
	switch {
	case err != nil:
		return nil, false, recordErr(rec, fmt.Errorf("transform: %w", err))
	case !keep:
		return nil, false, nil
	case out == nil:
		return rec.Raw, false, nil
	case len(out) < 2 || out[0] != byte(rec.Type) || decode.ValueEnd(out, 1) != len(out):
		return nil, false, recordErr(rec, fmt.Errorf("transform: %w (the type must stay %d)", encode.ErrBadRecord, int(rec.Type)))
	}
	return out, true, nil
}

// recordErr places err at rec, as decode does.
func recordErr(rec *decode.Record, err error) error {
	return &decode.RecordError{Member: decode.MemberState, Offset: rec.Offset, N: rec.N, Type: rec.Type, TypeKnown: rec.Type.Known(), Err: err}
}

// tally is what one pass saw.
type tally struct {
	meta              raft.SnapshotMeta
	header            []byte
	lastIndex         uint64
	inRecords, inSize int64
	records, size     int64
	transformed       int64
	types             [256]TypeStats
	warnings          []string
}

// Run rewrites the snapshot at in (any input form decode.Open reads, but
// not "-": it is read twice) into an archive written to out, and verifies
// it. out is written in pass 2 only, after pass 1 succeeded; on error it
// holds a partial archive the caller must discard (safefile.Write does).
func Run(ctx context.Context, in string, out io.Writer, opts Options) (Stats, error) {
	if err := reopenable(in); err != nil {
		return Stats{}, err
	}
	sel, err := newSelector(opts)
	if err != nil {
		return Stats{}, err
	}
	p1, err := runPass(ctx, in, sel, opts.Decode, nil, nil)
	if err != nil {
		return Stats{}, err
	}
	return write(ctx, in, out, sel, opts, p1)
}

// reopenable refuses inputs that cannot be read twice.
func reopenable(in string) error {
	if in == "-" {
		return ErrNotReopenable
	}
	st, err := os.Stat(in)
	if err != nil {
		return fmt.Errorf("opening %s: %w", in, err)
	}
	if !st.Mode().IsRegular() && !st.IsDir() {
		return fmt.Errorf("%w: %s is a %s", ErrNotReopenable, in, kind(st.Mode()))
	}
	return nil
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "non-regular file"
}

// runPass reads in once and applies sel to every record. With emit set
// (pass 2), kept records are handed to it and the header must equal
// wantHeader.
func runPass(ctx context.Context, in string, sel *selector, dopts decode.Options, wantHeader []byte, emit func([]byte) error) (*tally, error) {
	s, err := decode.Open(in, dopts)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", in, err)
	}
	defer s.Close()
	h, err := s.Header()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	if emit != nil && !bytes.Equal(h.Raw, wantHeader) {
		return nil, fmt.Errorf("%w: %s: the state.bin header differs", ErrChanged, in)
	}
	t := &tally{header: bytes.Clone(h.Raw), lastIndex: h.LastIndex, size: int64(len(h.Raw))}
	for s.Next() {
		rec := s.Record()
		if rec.N&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		t.inRecords++
		ts := &t.types[rec.Type]
		raw, transformed, err := sel.decide(rec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
		if raw == nil {
			ts.Dropped++
			ts.DroppedBytes += int64(len(rec.Raw))
			continue
		}
		ts.Kept++
		ts.KeptBytes += int64(len(raw))
		if transformed {
			ts.Transformed++
			t.transformed++
		}
		t.records++
		t.size += int64(len(raw))
		if emit != nil {
			if err := emit(raw); err != nil {
				if errors.Is(err, encode.ErrSize) {
					err = fmt.Errorf("%w: %w", ErrChanged, err)
				}
				return nil, fmt.Errorf("writing record %d (%s): %w", rec.N, rec.Type, err)
			}
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	if s.Integrity() == decode.Failed {
		return nil, fmt.Errorf("%s: %w", in, &decode.ArchiveError{Layer: "checksums", Offset: -1, Err: decode.ErrChecksumMismatch})
	}
	m := s.Meta()
	if m == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoMeta, in)
	}
	t.meta = m.SnapshotMeta
	t.inSize = s.StateSize()
	for _, w := range s.Warnings() {
		t.warnings = append(t.warnings, w.Error())
	}
	return t, nil
}

// write is pass 2: the archive to out, teed into a read-back.
func write(ctx context.Context, in string, out io.Writer, sel *selector, opts Options, p1 *tally) (Stats, error) {
	meta := p1.meta
	meta.Size = p1.size
	pr, pw := io.Pipe()
	back := make(chan readBack, 1)
	go func() { back <- readArchive(pr, opts.Decode) }()

	var aw *encode.ArchiveWriter
	p2, err := func() (*tally, error) {
		var err error
		aw, err = encode.NewArchiveWriter(io.MultiWriter(out, pw), meta, opts.Archive)
		if err != nil {
			return nil, err
		}
		sw, err := encode.NewStateWriterRaw(aw, p1.header)
		if err != nil {
			return nil, err
		}
		p2, err := runPass(ctx, in, sel, opts.Decode, p1.header, sw.WriteRaw)
		if err != nil {
			return nil, err
		}
		if err := sameAs(p1, p2); err != nil {
			return nil, fmt.Errorf("%w: %s: %s", ErrChanged, in, err)
		}
		if err := sw.Flush(); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
		return p2, nil
	}()
	if err != nil {
		// Fail the writes first, then release the gzip writer's goroutines.
		pw.CloseWithError(err)
		if aw != nil {
			_ = aw.Close()
		}
		<-back
		return Stats{}, err
	}
	pw.Close()
	rb := <-back

	st := Stats{InRecords: p2.inRecords, InSize: p2.inSize, Records: p2.records, Dropped: p2.inRecords - p2.records,
		Transformed: p2.transformed, Size: p2.size, ArchiveSize: aw.Written(), LastIndex: p2.lastIndex, Meta: meta, Warnings: p1.warnings}
	for i := range p2.types {
		if ts := p2.types[i]; ts.Kept+ts.Dropped > 0 {
			ts.Type = decode.MessageType(i)
			st.Types = append(st.Types, ts)
		}
	}
	if err := rb.check(st); err != nil {
		return Stats{}, fmt.Errorf("%w: %w", ErrVerify, err)
	}
	st.Verified = true
	return st, nil
}

// sameAs compares what the two passes saw.
func sameAs(p1, p2 *tally) error {
	switch {
	case p1.inRecords != p2.inRecords || p1.inSize != p2.inSize:
		return fmt.Errorf("pass 1 read %d records (%d state.bin bytes), pass 2 %d (%d)", p1.inRecords, p1.inSize, p2.inRecords, p2.inSize)
	case p1.records != p2.records || p1.size != p2.size:
		return fmt.Errorf("pass 1 kept %d records (%d bytes), pass 2 %d (%d): is Transform deterministic?", p1.records, p1.size, p2.records, p2.size)
	case p1.types != p2.types:
		return fmt.Errorf("the per-type counts differ between the passes")
	case !sameMeta(p1.meta, p2.meta):
		return fmt.Errorf("meta.json differs between the passes")
	}
	return nil
}

func sameMeta(a, b raft.SnapshotMeta) bool {
	ja, err1 := encode.MetaJSON(a)
	jb, err2 := encode.MetaJSON(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// readBack is what decoding the written archive gave.
type readBack struct {
	err       error
	integrity decode.Integrity
	header    uint64
	records   int64
	stateSize int64
	meta      *decode.Meta
}

// readArchive decodes the archive as it is written, then drains r so the
// writer never blocks on a reader that stopped early.
func readArchive(r io.Reader, dopts decode.Options) (rb readBack) {
	defer io.Copy(io.Discard, r)
	s := decode.NewArchive(r, decode.Options{MaxRecordSize: dopts.MaxRecordSize})
	h, err := s.Header()
	if err != nil {
		rb.err = err
		return rb
	}
	rb.header = h.LastIndex
	for s.Next() {
		rb.records++
	}
	rb.err, rb.integrity, rb.stateSize, rb.meta = s.Err(), s.Integrity(), s.StateSize(), s.Meta()
	return rb
}

func (rb readBack) check(st Stats) error {
	var problems []string
	if rb.err != nil {
		return rb.err
	}
	if rb.integrity != decode.Verified {
		problems = append(problems, "checksums "+rb.integrity.String())
	}
	if rb.header != st.LastIndex {
		problems = append(problems, fmt.Sprintf("header LastIndex %d, want %d", rb.header, st.LastIndex))
	}
	if rb.records != st.Records {
		problems = append(problems, fmt.Sprintf("%d records, want %d", rb.records, st.Records))
	}
	if rb.stateSize != st.Size {
		problems = append(problems, fmt.Sprintf("state.bin %d bytes, want %d", rb.stateSize, st.Size))
	}
	if rb.meta == nil || !sameMeta(rb.meta.SnapshotMeta, st.Meta) {
		problems = append(problems, "meta.json differs from the one written")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Summary is a one-line account of the rewrite: records kept and dropped
// per type, sizes.
func (s Stats) Summary() string {
	var kept, dropped []string
	for _, t := range s.Types {
		if t.Kept > 0 {
			kept = append(kept, fmt.Sprintf("%s %d", t.Type, t.Kept))
		}
		if t.Dropped > 0 {
			dropped = append(dropped, fmt.Sprintf("%s %d", t.Type, t.Dropped))
		}
	}
	line := fmt.Sprintf("kept %d of %d records", s.Records, s.InRecords)
	if len(kept) > 0 {
		line += " (" + strings.Join(kept, ", ") + ")"
	}
	line += fmt.Sprintf(", dropped %d", s.Dropped)
	if len(dropped) > 0 {
		line += " (" + strings.Join(dropped, ", ") + ")"
	}
	if s.Transformed > 0 {
		line += fmt.Sprintf(", transformed %d", s.Transformed)
	}
	line += fmt.Sprintf("; state.bin %d -> %d bytes; archive %d bytes", s.InSize, s.Size, s.ArchiveSize)
	if s.Verified {
		line += ", read back and verified"
	}
	return line
}

// Redaction returns the Transform of `snaptool rewrite --redact`: every
// value the secrets policy masks (decode.Mask's rules) is replaced in the
// record's bytes by a stand-in of the same length and shape
// (decode.RedactRecord, decode.NewStandIn), derived from an HMAC of the
// secret under a key drawn here from crypto/rand and never stored: equal
// secrets share a stand-in in this run (and in both passes), the output
// carries no byte of any secret, and two runs give different stand-ins.
// With kvValues, KV values are replaced by decode.KVPlaceholder of the same
// length too. Records without secrets are copied byte for byte.
func Redaction(kvValues bool) (Transform, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("redaction key: %w", err)
	}
	return redaction(decode.NewStandIn(key), kvValues), nil
}

func redaction(si decode.StandIn, kvValues bool) Transform {
	return func(rec *decode.Record) ([]byte, bool, error) {
		raw, changed, err := decode.RedactRecord(rec, si, kvValues)
		if err != nil || !changed {
			return nil, true, err
		}
		return raw, true, nil
	}
}
