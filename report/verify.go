package report

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// Layer names of a verify verdict, in the order they are checked.
const (
	LayerGzip      = "gzip"          // stream valid and drained
	LayerTar       = "tar"           // exactly the three members, nothing after the end blocks
	LayerChecksums = "checksums"     // SHA-256 both ways (archive) or CRC-64 (data dir)
	LayerMeta      = "meta.json"     // parses; Size equals the state.bin length
	LayerRecords   = "records"       // every record decodes, typed; header LastIndex vs meta.Index
	LayerOrdering  = "ordering"      // ChunkingState last, once; no index beyond meta.Index
	LayerUnknown   = "unknown types" // types a CE restore would not take, with what it would do
	LayerInput     = "input"         // the input could not be opened or read
)

// VerifyLayers lists the layers in the order they are reported.
var VerifyLayers = []string{LayerGzip, LayerTar, LayerChecksums, LayerMeta, LayerRecords, LayerOrdering, LayerUnknown}

// Severities of a Finding.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Layer statuses.
const (
	StatusOK        = "ok"
	StatusError     = "error"
	StatusWarning   = "warning"
	StatusNA        = "n/a"       // the layer does not exist in this input form
	StatusUnchecked = "unchecked" // an earlier failure kept the layer from being checked
)

// Verdicts.
const (
	VerdictOK         = "ok"         // no findings
	VerdictWarnings   = "warnings"   // warnings only
	VerdictDamaged    = "damaged"    // at least one error
	VerdictUnreadable = "unreadable" // the input could not be opened (usage or I/O problem)
	// VerdictNotSnapshot: the input is something else (decode.ErrNotSnapshot); LooksLike says what.
	VerdictNotSnapshot = "not_snapshot"
)

// IntegrityUnchecked is VerifyResult.Integrity when the checksums layer
// was never reached (an earlier layer stopped the read).
const IntegrityUnchecked = "unchecked"

// Finding is one problem, located. JSON keys: layer, severity ("error" or
// "warning"), member (archive member, omitted when none), offset (byte
// offset: in state.bin for records, in the uncompressed tar stream for
// archive layers; -1 when unknown), record (1-based record number, 0 when
// the finding is not about one record), type (record type's display name,
// omitted when none), message.
type Finding struct {
	Layer    string `json:"layer"`
	Severity string `json:"severity"`
	Member   string `json:"member,omitempty"`
	Offset   int64  `json:"offset"`
	Record   int64  `json:"record"`
	Type     string `json:"type,omitempty"`
	Message  string `json:"message"`
}

// LayerStatus is the verdict of one layer. JSON keys: name, status ("ok",
// "error", "warning", "n/a", "unchecked").
type LayerStatus struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// VerifyMeta is meta.json as verify reports it. JSON keys: id, index, term,
// size, version, saved (when the snapshot was taken, from its ID: RFC
// 3339, UTC, milliseconds; left out when the ID carries no time).
type VerifyMeta struct {
	ID      string `json:"id"`
	Index   uint64 `json:"index"`
	Term    uint64 `json:"term"`
	Size    int64  `json:"size"`
	Version int    `json:"version"`
	Saved   string `json:"saved,omitempty"`
}

// VerifyResult is the layered verdict for one input. JSON keys:
//
//	file        the input as given
//	form        "archive", "state.bin" or "data-dir"
//	verdict     "ok", "warnings", "damaged", "unreadable" or "not_snapshot"
//	looks_like  for "not_snapshot": what the input looks like ("JSON text", "an empty file")
//	pass        true when there is no error (and, with strict, no warning)
//	strict      whether warnings fail
//	integrity   checksum state: "verified", "failed", "unverifiable", or
//	            "unchecked" when an earlier layer kept the checksums from being checked
//	meta        meta.json (null when it could not be read)
//	last_index  state.bin header LastIndex
//	records     number of records read
//	state_size  state.bin bytes read
//	errors      number of error findings
//	warnings    number of warning findings
//	layers      [{name, status}] in VerifyLayers order
//	findings    [Finding] in layer order
//	advice      one sentence on what to do: for a damaged file, not to
//	            restore it and which records can still be read, with which
//	            command; empty for a good file
type VerifyResult struct {
	File      string        `json:"file"`
	Form      string        `json:"form"`
	Verdict   string        `json:"verdict"`
	LooksLike string        `json:"looks_like,omitempty"`
	Pass      bool          `json:"pass"`
	Strict    bool          `json:"strict"`
	Integrity string        `json:"integrity"`
	Meta      *VerifyMeta   `json:"meta"`
	LastIndex uint64        `json:"last_index"`
	Records   int64         `json:"records"`
	StateSize int64         `json:"state_size"`
	Errors    int           `json:"errors"`
	Warnings  int           `json:"warnings"`
	Layers    []LayerStatus `json:"layers"`
	Findings  []Finding     `json:"findings"`
	Advice    string        `json:"advice,omitempty"`

	readable  readableSpan // how far state.bin could be read, for Advice
	garbageAt int64        // file offset of trailing garbage after the gzip stream, when that is the only error
}

// readableSpan is how much of state.bin could be read: records handed
// out, and where the stream stopped (its end when clean).
type readableSpan struct {
	clean bool  // every record read, the stream ended cleanly
	upTo  int64 // state.bin offset where reading stopped
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Strict makes warnings fail the verdict.
	Strict bool
	// Options are passed to decode.Open by VerifyFile.
	Decode decode.Options
	// Open, when set, opens VerifyFile's path instead of decode.Open (the
	// CLI's openInput, which also takes DATA_DIR@INDEX).
	Open func(path string, opts decode.Options) (*decode.Snapshot, error)
}

// openWith opens path with open, or decode.Open when open is nil.
func openWith(open func(string, decode.Options) (*decode.Snapshot, error), path string, opts decode.Options) (*decode.Snapshot, error) {
	if open != nil {
		return open(path, opts)
	}
	return decode.Open(path, opts)
}

// VerifyFile opens path in any input form, verifies it and closes it. The
// result is always returned. The error is non-nil when the input could not
// be opened for a reason other than damage (a missing file, a permission
// problem): then the verdict is "unreadable"; or when ctx was cancelled.
func VerifyFile(ctx context.Context, path string, o VerifyOptions) (*VerifyResult, error) {
	s, err := openWith(o.Open, path, o.Decode)
	if err != nil {
		r := VerifyOpenError(path, err, o)
		if r.Verdict == VerdictUnreadable {
			return r, err
		}
		return r, nil
	}
	defer s.Close()
	return Verify(ctx, s, o)
}

// VerifyOpenError is the verdict on an input that decode.Open refused:
// "damaged" with the finding when err is damage, "unreadable" otherwise.
// Callers that open the input themselves (the HTML report) use it so that
// the verdict is the same as VerifyFile's.
func VerifyOpenError(path string, err error, o VerifyOptions) *VerifyResult {
	r := &VerifyResult{File: path, Strict: o.Strict, Findings: []Finding{}}
	if errors.Is(err, decode.ErrNotSnapshot) {
		r.notSnapshot(err)
		return r
	}
	if decode.IsDamage(err) {
		r.Findings = append(r.Findings, findingOf(err, SeverityError))
		r.finish(nil)
		return r
	}
	r.Verdict = VerdictUnreadable
	r.Findings = append(r.Findings, Finding{Layer: LayerInput, Severity: SeverityError, Offset: -1, Message: err.Error()})
	r.Errors = 1
	r.Layers = []LayerStatus{}
	return r
}

// Verify reads s once (Scan with a VerifyAccumulator) and gives the
// layered verdict; damage is in the verdict, not in the error, which is
// ctx's when it was cancelled (then there is no result).
func Verify(ctx context.Context, s *decode.Snapshot, o VerifyOptions) (*VerifyResult, error) {
	v := NewVerify(o)
	if err := Scan(ctx, s, v); err != nil {
		return nil, err
	}
	return v.Finish(s), nil
}

// VerifyAccumulator gives the layered verdict from records fed one at a
// time. It keeps reading past failures where later layers still tell
// something: every record is checked against its type even when the
// checksum will not match, and the checksum is still computed after a
// record fails (decode.Snapshot drains the stream). The per-record checks
// walk the bytes without building values (decode.CheckRecord gives
// DecodeRecord's exact verdict and error, decode.RaftIndexes the indexes),
// so verify runs at scanning speed and its memory does not grow with the
// snapshot: findings are capped per check, unknown types are one counter
// per type.
//
// Raft indexes are compared with meta.json's Index as soon as meta.json is
// known, which needs the snapshot: Scan binds it before the first record.
// When it is not bound, or meta.json follows state.bin, only the highest
// index is kept and compared in Finish.
type VerifyAccumulator struct {
	o VerifyOptions
	s *decode.Snapshot

	typedCheck, indexCheck *checkFindings
	r                      VerifyResult
	v                      verifier
	rec                    *decode.Record
	onIdx                  func(field string, value uint64)

	lastType             decode.MessageType
	chunkCount           int64
	chunkFirstN          int64
	chunkFirstOff        int64
	unknown              map[decode.MessageType]*unknownSeen
	unknownOrder         []decode.MessageType
	maxIdx               idxSeen // highest index seen, for when meta.json follows state.bin
	indexBeyondMetaFound bool
}

// NewVerify returns an accumulator for o.
func NewVerify(o VerifyOptions) *VerifyAccumulator {
	a := &VerifyAccumulator{o: o, unknown: map[decode.MessageType]*unknownSeen{}}
	a.r.Findings = []Finding{}
	a.v = verifier{r: &a.r}
	a.typedCheck, a.indexCheck = a.v.check("typed"), a.v.check("index") // looked up once, not per record
	// onIdx sees each raft index of the current record (decode.RaftIndexes
	// walks the bytes; one closure for the whole scan, so nothing is
	// allocated per record).
	a.onIdx = func(field string, value uint64) {
		rec := a.rec
		var m *decode.Meta
		if a.s != nil {
			m = a.s.Meta()
		}
		if m != nil {
			if value > m.Index {
				a.indexBeyondMetaFound = true
				if a.indexCheck.note(LayerOrdering, SeverityError, rec) {
					a.indexCheck.Keep(Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState,
						Offset: rec.Offset, Record: rec.N, Type: rec.Type.String(),
						Message: fmt.Sprintf("record %d (%s) at offset %d of state.bin has %s %d, beyond meta.json Index %d: the snapshot claims to cover less than it holds", rec.N, rec.Type, rec.Offset, field, value, m.Index)})
				}
			}
		} else if value > a.maxIdx.value {
			a.maxIdx = idxSeen{value: value, field: field, n: rec.N, off: rec.Offset, t: rec.Type}
		}
	}
	return a
}

func (a *VerifyAccumulator) bind(s *decode.Snapshot) { a.s = s }

// Add checks one record.
func (a *VerifyAccumulator) Add(rec *decode.Record) {
	a.rec = rec
	a.r.Records++
	a.lastType = rec.Type
	t := rec.Type
	if t == decode.TypeChunkingState {
		a.chunkCount++
		if a.chunkCount == 1 {
			a.chunkFirstN, a.chunkFirstOff = rec.N, rec.Offset
		}
	}
	if !t.InSnapshots() || t == decode.TypeACL || t == decode.TypeACLBootstrap {
		u := a.unknown[t]
		if u == nil {
			u = &unknownSeen{n: rec.N, off: rec.Offset}
			a.unknown[t] = u
			a.unknownOrder = append(a.unknownOrder, t)
		}
		u.count++
	}
	// RecordOK gives DecodeRecord's exact verdict without building the
	// typed value in the common case, and without building an error:
	// CheckRecord builds DecodeRecord's only for a finding that is kept.
	if !decode.RecordOK(rec) {
		if a.typedCheck.note(LayerRecords, SeverityError, rec) {
			err := decode.CheckRecord(rec)
			if err == nil { // RecordOK and CheckRecord disagree (FuzzCheckRecord guards this)
				err = fmt.Errorf("%w: %s", decode.ErrTypedDecode, t)
			}
			a.typedCheck.Keep(Finding{Layer: LayerRecords, Severity: SeverityError, Member: decode.MemberState,
				Offset: rec.Offset, Record: rec.N, Type: t.String(),
				Message: recordError(rec, err).Error()})
		}
		a.rec = nil
		return
	}
	decode.RaftIndexes(rec, a.onIdx)
	a.rec = nil
}

// Finish gives the verdict, with everything s found (by layer) once its
// records are read. Call it once, after the pass.
func (a *VerifyAccumulator) Finish(s *decode.Snapshot) *VerifyResult {
	r := &a.r
	r.File, r.Form, r.Strict = s.Name, s.Form.String(), a.o.Strict
	a.v.flushCaps()
	if err := s.Err(); errors.Is(err, decode.ErrNotSnapshot) {
		r.Form = ""
		r.notSnapshot(err)
		return r
	}

	// Everything decode found, by layer.
	for _, e := range s.Errors() {
		r.Findings = append(r.Findings, findingOf(e, SeverityError))
	}
	for _, w := range s.Warnings() {
		f := findingOf(w, SeverityWarning)
		if f.Layer == LayerInput && s.Integrity() == decode.Unverifiable {
			f.Layer = LayerChecksums
		}
		r.Findings = append(r.Findings, f)
	}

	m := s.Meta()
	if m != nil {
		r.Meta = &VerifyMeta{ID: m.ID, Index: m.Index, Term: m.Term, Size: m.Size, Version: int(m.Version), Saved: SavedTime(m)}
	}
	st := s.Stream()
	streamClean := st != nil && st.Err() == nil
	if st != nil {
		if h, err := st.Header(); err == nil {
			r.LastIndex = h.LastIndex
			if m != nil && h.LastIndex > m.Index {
				r.Findings = append(r.Findings, Finding{Layer: LayerRecords, Severity: SeverityError, Member: decode.MemberState, Offset: 0,
					Message: fmt.Sprintf("state.bin header LastIndex %d is beyond meta.json Index %d", h.LastIndex, m.Index)})
			}
		}
	}
	r.StateSize = s.StateSize()
	if mi := a.maxIdx; m != nil && mi.value > m.Index && !a.indexBeyondMetaFound {
		r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState,
			Offset: mi.off, Record: mi.n, Type: mi.t.String(),
			Message: fmt.Sprintf("record %d (%s) at offset %d of state.bin has %s %d, beyond meta.json Index %d (meta.json follows state.bin, so only the highest index is reported)", mi.n, mi.t, mi.off, mi.field, mi.value, m.Index)})
	}
	if streamClean {
		switch {
		case a.chunkCount == 0 && r.Records > 0:
			r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityWarning, Member: decode.MemberState, Offset: st.Consumed(),
				Message: "no ChunkingState record: Consul ≥1.7 always writes one last, so the stream was cut at a record boundary or written by an older Consul"})
		case a.chunkCount > 1:
			r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState, Offset: a.chunkFirstOff, Record: a.chunkFirstN, Type: decode.TypeChunkingState.String(),
				Message: fmt.Sprintf("%d ChunkingState records (first is record %d): Consul writes exactly one, last", a.chunkCount, a.chunkFirstN)})
		case a.chunkCount == 1 && a.lastType != decode.TypeChunkingState:
			r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState, Offset: a.chunkFirstOff, Record: a.chunkFirstN, Type: decode.TypeChunkingState.String(),
				Message: fmt.Sprintf("ChunkingState is record %d of %d: Consul writes it last; records after it were appended", a.chunkFirstN, r.Records)})
		}
	}
	for _, t := range a.unknownOrder {
		u := a.unknown[t]
		r.Findings = append(r.Findings, Finding{Layer: LayerUnknown, Severity: SeverityWarning, Member: decode.MemberState, Offset: u.off, Record: u.n, Type: t.String(),
			Message: fmt.Sprintf("%d record(s) of type %d (%s), first at record %d: %s", u.count, int(t), t, u.n, t.RestoreVerdict())})
	}
	if in := s.Integrity(); in != decode.Pending {
		r.Integrity = in.String()
	}
	if st != nil {
		r.readable = readableSpan{clean: streamClean, upTo: st.Consumed()}
	}
	var ae *decode.ArchiveError
	if errs := s.Errors(); len(errs) == 1 && errors.Is(errs[0], decode.ErrTrailingGarbage) && errors.As(errs[0], &ae) && ae.InFile {
		r.garbageAt = ae.Offset
	}
	r.finish(s)
	return r
}

// notSnapshot makes r the verdict on an input that is not a snapshot.
func (r *VerifyResult) notSnapshot(err error) {
	var ns *decode.NotSnapshotError
	if errors.As(err, &ns) {
		r.LooksLike = ns.Looks
	}
	r.Verdict = VerdictNotSnapshot
	r.Findings = []Finding{{Layer: LayerInput, Severity: SeverityError, Offset: -1, Message: err.Error()}}
	r.Errors, r.Warnings, r.Records = 1, 0, 0
	r.Integrity, r.Meta = "", nil
	r.Layers = []LayerStatus{}
}

type unknownSeen struct {
	n, off, count int64
}

type idxSeen struct {
	value  uint64
	field  string
	n, off int64
	t      decode.MessageType
}

// verifier caps the findings of each check with decode.Capped, the one
// findings cap: the first decode.MaxFindings are kept, the rest only
// counted, with where the last of them was. A check asks note before it
// builds a finding, so that past the cap a finding costs a count.
// Checks are listed in the order they were made (a few: a slice).
type verifier struct {
	r      *VerifyResult
	checks []*checkFindings // in the order first seen; a few, so a slice
}

type checkFindings struct {
	name string
	decode.Capped[Finding]
	// where the last finding past the cap was (its message is not built)
	lastLayer, lastSeverity string
	lastN, lastOff          int64
	lastType                decode.MessageType
}

func (v *verifier) check(name string) *checkFindings {
	for _, c := range v.checks {
		if c.name == name {
			return c
		}
	}
	c := &checkFindings{name: name}
	v.checks = append(v.checks, c)
	return c
}

// note counts one finding at rec and reports whether it is kept (then
// build it and Keep it).
func (c *checkFindings) note(layer, severity string, rec *decode.Record) bool {
	if c.Note() {
		return true
	}
	c.lastLayer, c.lastSeverity, c.lastN, c.lastOff, c.lastType = layer, severity, rec.N, rec.Offset, rec.Type
	return false
}

// flushCaps moves the kept findings to the result, each check's followed
// by how many more there were.
func (v *verifier) flushCaps() {
	for _, c := range v.checks {
		v.r.Findings = append(v.r.Findings, c.Kept()...)
		if n := c.More(); n > 0 {
			v.r.Findings = append(v.r.Findings, Finding{Layer: c.lastLayer, Severity: c.lastSeverity, Member: decode.MemberState, Offset: -1,
				Message: fmt.Sprintf("and %d more findings of this kind (the last: record %d (%s) at offset %d)", n, c.lastN, c.lastType, c.lastOff)})
		}
	}
}

// findingOf places an error found by decode in its layer.
func findingOf(err error, severity string) Finding {
	var re *decode.RecordError
	var ae *decode.ArchiveError
	switch {
	case errors.As(err, &re):
		f := Finding{Layer: LayerRecords, Severity: severity, Member: re.Member, Offset: re.Offset, Record: re.N, Message: err.Error()}
		if re.TypeKnown {
			f.Type = re.Type.String()
		}
		return f
	case errors.As(err, &ae):
		layer := ae.Layer
		switch layer {
		case "crc":
			layer = LayerChecksums
		case LayerGzip, LayerTar, LayerChecksums, LayerMeta:
		default:
			layer = LayerInput
		}
		return Finding{Layer: layer, Severity: severity, Member: ae.Member, Offset: ae.Offset, Message: err.Error()}
	case errors.Is(err, decode.ErrTypedDecode):
		return Finding{Layer: LayerRecords, Severity: severity, Offset: -1, Message: err.Error()}
	}
	return Finding{Layer: LayerInput, Severity: severity, Offset: -1, Message: err.Error()}
}

// finish orders the findings by layer, counts them, and sets the layer
// statuses and the verdict. s is nil when the input could not be opened.
func (r *VerifyResult) finish(s *decode.Snapshot) {
	rank := map[string]int{LayerInput: -1}
	for i, l := range VerifyLayers {
		rank[l] = i
	}
	sortStable(r.Findings, func(a, b Finding) bool { return rank[a.Layer] < rank[b.Layer] })
	status := map[string]string{}
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			r.Errors++
			status[f.Layer] = StatusError
		} else {
			r.Warnings++
			if status[f.Layer] == "" {
				status[f.Layer] = StatusWarning
			}
		}
	}
	archive := s != nil && s.Form == decode.FormArchive
	// Trailing garbage after the gzip stream leaves the archive whole.
	gzipBroken := status[LayerGzip] == StatusError && s != nil && s.Integrity() != decode.Verified
	r.Layers = make([]LayerStatus, 0, len(VerifyLayers))
	for _, l := range VerifyLayers {
		st := status[l]
		if st == "" {
			switch l {
			case LayerGzip:
				switch {
				case !archive:
					st = StatusNA
				case status[LayerTar] == StatusError && s.Integrity() != decode.Verified:
					st = StatusUnchecked // the tar reader stopped before the gzip trailer
				default:
					st = StatusOK
				}
			case LayerTar:
				switch {
				case !archive:
					st = StatusNA
				case gzipBroken:
					st = StatusUnchecked
				default:
					st = StatusOK
				}
			case LayerChecksums:
				st = StatusUnchecked
				if s != nil && s.Integrity() == decode.Verified {
					st = StatusOK
				}
			case LayerMeta:
				st = StatusUnchecked
				if s != nil && s.Meta() != nil {
					st = StatusOK
				}
			case LayerOrdering:
				// Checked only on a stream read to its end.
				st = StatusUnchecked
				if s != nil && s.Stream() != nil && s.Stream().Err() == nil {
					st = StatusOK
				}
			default: // records, unknown types
				st = StatusUnchecked
				if s != nil && s.Stream() != nil {
					st = StatusOK
				}
			}
		}
		r.Layers = append(r.Layers, LayerStatus{Name: l, Status: st})
		if l == LayerChecksums && st == StatusUnchecked {
			// decode says "failed" for checksums it could not compute;
			// the verdict says what happened: they were not checked.
			r.Integrity = IntegrityUnchecked
		}
	}
	switch {
	case r.Errors > 0:
		r.Verdict = VerdictDamaged
	case r.Warnings > 0:
		r.Verdict = VerdictWarnings
	default:
		r.Verdict = VerdictOK
	}
	r.Pass = r.Errors == 0 && (!r.Strict || r.Warnings == 0)
	r.Advice = r.advice()
}

// advice is the one sentence on what to do with a file that did not pass:
// not to restore it, and which records can still be read, with which
// command. Empty for a file that passes.
func (r *VerifyResult) advice() string {
	if r.Pass {
		return ""
	}
	if r.Verdict != VerdictDamaged {
		// Warnings only, failed by --strict.
		return "Its warnings fail --strict; look at them before restoring it."
	}
	file := shellQuote(r.File)
	read := fmt.Sprintf("`snaptool dump %s` or `snaptool kv export %s`", file, file)
	switch {
	case r.garbageAt > 0 && r.Errors == 1 && r.Integrity == decode.Verified.String():
		return fmt.Sprintf("Do not restore it as is: Consul refuses the bytes after the gzip stream. The archive before them is whole: `head -c %d %s > fixed.snap` keeps only it (verify that again).", r.garbageAt, file)
	case r.Records == 0:
		return "Do not restore it: no record can be read from it."
	case r.readable.clean:
		how := ""
		switch r.Integrity {
		case decode.Failed.String():
			how = " (unverified: the checksums do not match)"
		case IntegrityUnchecked, decode.Unverifiable.String():
			how = " (unverified)"
		}
		return fmt.Sprintf("Do not restore it. All %s can still be read%s: %s.", Plural(int(r.Records), "record"), how, read)
	}
	return fmt.Sprintf("Do not restore it. The first %s (up to offset %d of state.bin) can still be read: %s.", Plural(int(r.Records), "record"), r.readable.upTo, read)
}

// shellQuote quotes a path for a command line a person copies.
func shellQuote(p string) string {
	safe := p != ""
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:@%+=,-", c)) {
			safe = false
			break
		}
	}
	if safe {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

func sortStable(f []Finding, less func(a, b Finding) bool) {
	// insertion sort: findings are few and already almost in order
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && less(f[j], f[j-1]); j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

// VerifySummary counts the verdicts of several files. JSON keys: files,
// passed, failed, unreadable, not_snapshot.
type VerifySummary struct {
	Files       int `json:"files"`
	Passed      int `json:"passed"`
	Failed      int `json:"failed"`
	Unreadable  int `json:"unreadable"`
	NotSnapshot int `json:"not_snapshot"`
}

// Summarize counts results: unreadable inputs and inputs that are not
// snapshots are neither passed nor failed.
func Summarize(results []*VerifyResult) VerifySummary {
	var s VerifySummary
	for _, r := range results {
		s.Files++
		switch {
		case r.Verdict == VerdictUnreadable:
			s.Unreadable++
		case r.Verdict == VerdictNotSnapshot:
			s.NotSnapshot++
		case r.Pass:
			s.Passed++
		default:
			s.Failed++
		}
	}
	return s
}

// Headline is the one-line verdict of a result, e.g.
// "backup.snap: OK (archive, 22 records, Index 13, checksums verified)".
func (r *VerifyResult) Headline() string {
	if r.Verdict == VerdictNotSnapshot {
		return fmt.Sprintf("%s: NOT A SNAPSHOT: it looks like %s", r.File, r.LooksLike)
	}
	var word string
	switch {
	case r.Verdict == VerdictUnreadable:
		word = "UNREADABLE"
	case r.Verdict == VerdictDamaged:
		word = "DAMAGED"
	case !r.Pass:
		word = "FAILED (strict)"
	case r.Verdict == VerdictWarnings:
		word = "OK with warnings"
	default:
		word = "OK"
	}
	var parts []string
	if r.Form != "" {
		parts = append(parts, r.Form)
	}
	if r.Verdict != VerdictUnreadable {
		parts = append(parts, fmt.Sprintf("%d records", r.Records))
		if r.Meta != nil {
			parts = append(parts, fmt.Sprintf("Index %d", r.Meta.Index))
			if r.Meta.Saved != "" {
				parts = append(parts, "saved "+SavedText(r.Meta.Saved))
			}
		}
		switch r.Integrity {
		case "":
		case IntegrityUnchecked:
			parts = append(parts, "checksums not checked")
		default:
			parts = append(parts, "checksums "+r.Integrity)
		}
	}
	switch {
	case r.Verdict == VerdictUnreadable && len(r.Findings) > 0:
		parts = append(parts, r.Findings[0].Message)
	case r.Errors > 0 || r.Warnings > 0:
		parts = append(parts, Plural(r.Errors, "error")+", "+Plural(r.Warnings, "warning"))
	}
	return fmt.Sprintf("%s: %s (%s)", r.File, word, strings.Join(parts, ", "))
}

// SummaryLine is the last line of a multi-file text verdict.
func (s VerifySummary) SummaryLine() string {
	line := fmt.Sprintf("%s verified: %d passed, %d failed", Plural(s.Files, "file"), s.Passed, s.Failed)
	if s.Unreadable > 0 {
		line += fmt.Sprintf(", %d unreadable", s.Unreadable)
	}
	if s.NotSnapshot > 0 {
		line += fmt.Sprintf(", %d not a snapshot", s.NotSnapshot)
	}
	return line
}
