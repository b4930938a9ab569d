package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

// maxFindingsPerCheck caps the findings one check reports for one file; the
// rest are counted in a last finding.
const maxFindingsPerCheck = 20

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
// size, version.
type VerifyMeta struct {
	ID      string `json:"id"`
	Index   uint64 `json:"index"`
	Term    uint64 `json:"term"`
	Size    int64  `json:"size"`
	Version int    `json:"version"`
}

// VerifyResult is the layered verdict for one input. JSON keys:
//
//	file        the input as given
//	form        "archive", "state.bin" or "data-dir"
//	verdict     "ok", "warnings", "damaged" or "unreadable"
//	pass        true when there is no error (and, with strict, no warning)
//	strict      whether warnings fail
//	integrity   checksum state: "verified", "failed", "unverifiable"
//	meta        meta.json (null when it could not be read)
//	last_index  state.bin header LastIndex
//	records     number of records read
//	state_size  state.bin bytes read
//	errors      number of error findings
//	warnings    number of warning findings
//	layers      [{name, status}] in VerifyLayers order
//	findings    [Finding] in layer order
type VerifyResult struct {
	File      string        `json:"file"`
	Form      string        `json:"form"`
	Verdict   string        `json:"verdict"`
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
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Strict makes warnings fail the verdict.
	Strict bool
	// Options are passed to decode.Open by VerifyFile.
	Decode decode.Options
	// Observe, if set, sees every record Verify reads, in order, so that
	// another check (preflight's) shares the single pass. rec is valid only
	// during the call.
	Observe func(rec *decode.Record)
}

// VerifyFile opens path in any input form, verifies it and closes it. The
// result is always returned. The error is non-nil only when the input could
// not be opened for a reason other than damage (a missing file, a
// permission problem): then the verdict is "unreadable".
func VerifyFile(path string, o VerifyOptions) (*VerifyResult, error) {
	s, err := decode.Open(path, o.Decode)
	if err != nil {
		r := &VerifyResult{File: path, Strict: o.Strict, Findings: []Finding{}}
		if decode.IsDamage(err) {
			r.Findings = append(r.Findings, findingOf(err, SeverityError))
			r.finish(nil)
			return r, nil
		}
		r.Verdict = VerdictUnreadable
		r.Findings = append(r.Findings, Finding{Layer: LayerInput, Severity: SeverityError, Offset: -1, Message: err.Error()})
		r.Errors = 1
		r.Layers = []LayerStatus{}
		return r, err
	}
	defer s.Close()
	return Verify(s, o), nil
}

// Verify reads s once and gives the layered verdict. It keeps reading past
// failures where later layers still tell something: every record is
// checked against its type even when the checksum will not match, and the
// checksum is still computed after a record fails (decode.Snapshot drains
// the stream). The per-record checks walk the bytes without building
// values (decode.CheckRecord gives DecodeRecord's exact verdict and error,
// decode.RaftIndexes the indexes), so verify runs at scanning speed and its
// memory does not grow with the snapshot.
func Verify(s *decode.Snapshot, o VerifyOptions) *VerifyResult {
	r := &VerifyResult{File: s.Name, Form: s.Form.String(), Strict: o.Strict, Findings: []Finding{}}
	v := verifier{r: r, capped: map[string]int{}}

	var (
		lastType             decode.MessageType
		chunkCount           int64
		chunkFirstN          int64
		chunkFirstOff        int64
		unknown              = map[decode.MessageType]*unknownSeen{}
		unknownOrder         []decode.MessageType
		maxIdx               idxSeen // highest index seen, for when meta.json follows state.bin
		indexBeyondMetaFound bool
		rec                  *decode.Record
	)
	// onIndex sees each raft index of the current record (decode.RaftIndexes
	// walks the bytes; one closure for the whole scan, so nothing is
	// allocated per record).
	onIndex := func(field string, value uint64) {
		if m := s.Meta(); m != nil {
			if value > m.Index {
				indexBeyondMetaFound = true
				v.add("index", Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState,
					Offset: rec.Offset, Record: rec.N, Type: rec.Type.String(),
					Message: fmt.Sprintf("record %d (%s) at offset %d has %s %d, beyond meta.json Index %d: the snapshot claims to cover less than it holds", rec.N, rec.Type, rec.Offset, field, value, m.Index)})
			}
		} else if value > maxIdx.value {
			maxIdx = idxSeen{value: value, field: field, n: rec.N, off: rec.Offset, t: rec.Type}
		}
	}
	for s.Next() {
		rec = s.Record()
		if o.Observe != nil {
			o.Observe(rec)
		}
		r.Records++
		lastType = rec.Type
		t := rec.Type
		if t == decode.TypeChunkingState {
			chunkCount++
			if chunkCount == 1 {
				chunkFirstN, chunkFirstOff = rec.N, rec.Offset
			}
		}
		if !t.InSnapshots() || t == decode.TypeACL || t == decode.TypeACLBootstrap {
			u := unknown[t]
			if u == nil {
				u = &unknownSeen{n: rec.N, off: rec.Offset}
				unknown[t] = u
				unknownOrder = append(unknownOrder, t)
			}
			u.count++
		}
		// CheckRecord gives DecodeRecord's exact verdict and error without
		// building the typed value in the common case.
		if err := decode.CheckRecord(rec); err != nil {
			v.add("typed", Finding{Layer: LayerRecords, Severity: SeverityError, Member: decode.MemberState,
				Offset: rec.Offset, Record: rec.N, Type: t.String(),
				Message: err.Error()}) // a *decode.RecordError: "state.bin record N (type) at offset O: …"
			continue
		}
		decode.RaftIndexes(rec, onIndex)
	}
	v.flushCaps()

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
		r.Meta = &VerifyMeta{ID: m.ID, Index: m.Index, Term: m.Term, Size: m.Size, Version: int(m.Version)}
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
	if m != nil && maxIdx.value > m.Index && !indexBeyondMetaFound {
		r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState,
			Offset: maxIdx.off, Record: maxIdx.n, Type: maxIdx.t.String(),
			Message: fmt.Sprintf("record %d (%s) at offset %d has %s %d, beyond meta.json Index %d (meta.json follows state.bin, so only the highest index is reported)", maxIdx.n, maxIdx.t, maxIdx.off, maxIdx.field, maxIdx.value, m.Index)})
	}
	if streamClean {
		switch {
		case chunkCount == 0 && r.Records > 0:
			r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityWarning, Member: decode.MemberState, Offset: st.Consumed(),
				Message: "no ChunkingState record: Consul ≥1.7 always writes one last, so the stream was cut at a record boundary or written by an older Consul"})
		case chunkCount > 1:
			r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState, Offset: chunkFirstOff, Record: chunkFirstN, Type: decode.TypeChunkingState.String(),
				Message: fmt.Sprintf("%d ChunkingState records (first is record %d): Consul writes exactly one, last", chunkCount, chunkFirstN)})
		case chunkCount == 1 && lastType != decode.TypeChunkingState:
			r.Findings = append(r.Findings, Finding{Layer: LayerOrdering, Severity: SeverityError, Member: decode.MemberState, Offset: chunkFirstOff, Record: chunkFirstN, Type: decode.TypeChunkingState.String(),
				Message: fmt.Sprintf("ChunkingState is record %d of %d: Consul writes it last; records after it were appended", chunkFirstN, r.Records)})
		}
	}
	for _, t := range unknownOrder {
		u := unknown[t]
		r.Findings = append(r.Findings, Finding{Layer: LayerUnknown, Severity: SeverityWarning, Member: decode.MemberState, Offset: u.off, Record: u.n, Type: t.String(),
			Message: fmt.Sprintf("%d record(s) of type %d (%s), first at record %d: %s", u.count, int(t), t, u.n, t.RestoreVerdict())})
	}
	if in := s.Integrity(); in != decode.Pending {
		r.Integrity = in.String()
	}
	r.finish(s)
	return r
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

// verifier caps repeated findings of one check.
type verifier struct {
	r      *VerifyResult
	capped map[string]int
	order  []string
	last   map[string]Finding
}

func (v *verifier) add(check string, f Finding) {
	n := v.capped[check]
	if n == 0 {
		v.order = append(v.order, check)
	}
	v.capped[check] = n + 1
	if n < maxFindingsPerCheck {
		v.r.Findings = append(v.r.Findings, f)
		return
	}
	if v.last == nil {
		v.last = map[string]Finding{}
	}
	v.last[check] = f
}

func (v *verifier) flushCaps() {
	for _, check := range v.order {
		n := v.capped[check]
		if n <= maxFindingsPerCheck {
			continue
		}
		f := v.last[check]
		v.r.Findings = append(v.r.Findings, Finding{Layer: f.Layer, Severity: f.Severity, Member: f.Member, Offset: -1,
			Message: fmt.Sprintf("%d more findings like the above (last: %s)", n-maxFindingsPerCheck, f.Message)})
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
	gzipBroken := status[LayerGzip] == StatusError
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
// passed, failed, unreadable.
type VerifySummary struct {
	Files      int `json:"files"`
	Passed     int `json:"passed"`
	Failed     int `json:"failed"`
	Unreadable int `json:"unreadable"`
}

// Summarize counts results: unreadable inputs are neither passed nor failed.
func Summarize(results []*VerifyResult) VerifySummary {
	var s VerifySummary
	for _, r := range results {
		s.Files++
		switch {
		case r.Verdict == VerdictUnreadable:
			s.Unreadable++
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
		}
		if r.Integrity != "" {
			parts = append(parts, "checksums "+r.Integrity)
		}
	}
	switch {
	case r.Verdict == VerdictUnreadable && len(r.Findings) > 0:
		parts = append(parts, r.Findings[0].Message)
	case r.Errors > 0 || r.Warnings > 0:
		parts = append(parts, nOf(r.Errors, "error")+", "+nOf(r.Warnings, "warning"))
	}
	return fmt.Sprintf("%s: %s (%s)", r.File, word, strings.Join(parts, ", "))
}

func nOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// WriteVerifyText writes one result: its headline and, unless it is a clean
// pass, every layer with its status and findings.
func WriteVerifyText(w io.Writer, r *VerifyResult) error {
	var b strings.Builder
	b.WriteString(r.Headline())
	b.WriteByte('\n')
	if r.Verdict != VerdictOK && r.Verdict != VerdictUnreadable {
		byLayer := map[string][]Finding{}
		for _, f := range r.Findings {
			byLayer[f.Layer] = append(byLayer[f.Layer], f)
		}
		layers := r.Layers
		if fs := byLayer[LayerInput]; len(fs) > 0 {
			layers = append([]LayerStatus{{Name: LayerInput, Status: fs[0].Severity}}, layers...)
		}
		for _, l := range layers {
			fmt.Fprintf(&b, "  %-14s %s\n", l.Name, l.Status)
			for _, f := range byLayer[l.Name] {
				fmt.Fprintf(&b, "    %-8s %s\n", f.Severity+":", f.Message)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SummaryLine is the last line of a multi-file text verdict.
func (s VerifySummary) SummaryLine() string {
	line := fmt.Sprintf("%s verified: %d passed, %d failed", nOf(s.Files, "file"), s.Passed, s.Failed)
	if s.Unreadable > 0 {
		line += fmt.Sprintf(", %d unreadable", s.Unreadable)
	}
	return line
}

// VerifyReport is verify's JSON document. JSON keys: pass (every file
// passed), summary (VerifySummary), files ([VerifyResult]).
type VerifyReport struct {
	Pass    bool            `json:"pass"`
	Summary VerifySummary   `json:"summary"`
	Files   []*VerifyResult `json:"files"`
}

// WriteVerifyJSON writes the JSON verdict of every file, indented, with a final newline.
func WriteVerifyJSON(w io.Writer, results []*VerifyResult) error {
	sum := Summarize(results)
	rep := VerifyReport{Pass: sum.Passed == sum.Files, Summary: sum, Files: results}
	if rep.Files == nil {
		rep.Files = []*VerifyResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}
