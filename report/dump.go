package report

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

// DumpOptions select and shape dump's records. The zero value dumps every
// record with secrets masked.
type DumpOptions struct {
	// Types keeps only records of these types (empty keeps all).
	Types []decode.MessageType
	// KVPrefix, when set, keeps only KVS and Tombstone records whose Key
	// starts with it.
	KVPrefix string
	// IDGlob, when set, keeps only records whose identity matches it: "*"
	// matches any run of characters (including "/"), "?" any one character,
	// everything else itself.
	IDGlob string
	// ShowSecrets turns masking off.
	ShowSecrets bool
	// NoHeader leaves out the first SnapshotHeader line.
	NoHeader bool
}

// DumpStats counts what Dump did.
type DumpStats struct {
	Records      int64 // records read
	Written      int64 // record lines written
	DecodeErrors int64 // records written with an "error" field
}

// ErrDumpDecode is wrapped by Dump's error when some records could not be
// typed-decoded (they were still written, with an "error" field). It wraps
// decode.ErrTypedDecode, so decode.IsDamage reports it as damage.
var ErrDumpDecode = fmt.Errorf("some records could not be decoded: %w", decode.ErrTypedDecode)

// DumpLine is one line of dump's output. JSON keys:
//
//	n       1-based record number
//	offset  byte offset of the record's type byte in state.bin
//	size    the record's encoded length: type byte + value (the header is
//	        not counted, unlike inspect's first record), so offset+size is
//	        the next record's offset
//	type    Consul's display name of the type, Unknown(N) when it has none
//	id      the record's identity (decode.Identity), "" when it cannot be read
//	label   the record's human name (decode.Label: a token's description,
//	        a policy's name, a session's Name@Node, …), left out when it has
//	        none (KV records never have one)
//	data    the typed record with Consul's field names (decode.Tree), fields
//	        the decoder did not know included; []byte as standard base64;
//	        times RFC 3339 with nanoseconds; secrets masked unless asked.
//	        KVS and Tombstone records get "ValueText" after "Value" when the
//	        value is valid UTF-8.
//	error   present when the record could not be typed-decoded; data is
//	        then the generic msgpack value (decode.View: a config entry's
//	        wrapper opened, secrets masked by the same policy, an unopened
//	        wrapped payload masked whole), null when not even that decodes.
//	        The record's bytes are never written as they are.
//
// The first line describes the snapshot: {"type":"SnapshotHeader",
// "form", "size" (header bytes), "data":{"LastIndex", "Meta"}}, Meta being
// meta.json (raft's SnapshotMeta; null when meta.json follows state.bin or
// could not be read).
type DumpLine struct {
	N      int64  `json:"n"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	Label  string `json:"label,omitempty"`
	Data   any    `json:"data"`
	Error  string `json:"error,omitempty"`
}

type dumpHeader struct {
	Type string         `json:"type"`
	Form string         `json:"form"`
	Size int64          `json:"size"`
	Data dumpHeaderData `json:"data"`
}

type dumpHeaderData struct {
	LastIndex uint64
	Meta      *decode.Meta
}

// Dump writes s as JSON lines to w, one record at a time. It returns the
// stream's errors (joined) and ErrDumpDecode when some records could not
// be typed-decoded; a write error stops it at once, and so does ctx's
// cancellation (checked every ctxCheckEvery records; its error is returned).
//
// The scan (and the --type and --kv-prefix filters) runs in the caller's
// goroutine; typed decode, identity, masking and JSON rendering run in a
// few worker goroutines on batches of copied records, and the lines are
// written in record order. Memory is bounded: at most dumpInFlight batches
// of about dumpBatchBytes of records each (a single larger record makes a
// batch of its own) and their rendered lines.
func Dump(ctx context.Context, s *decode.Snapshot, w io.Writer, o DumpOptions) (DumpStats, error) {
	var st DumpStats
	bw := bufio.NewWriterSize(w, 64<<10)

	var types [256]bool
	for _, t := range o.Types {
		types[t] = true
	}
	if !o.NoHeader {
		if h, err := s.Header(); err == nil {
			var size int64
			if sm := s.Stream(); sm != nil {
				size = sm.HeaderLen()
			}
			enc := json.NewEncoder(decode.SafeJSONWriter(bw)) // meta.json's strings come from the input
			enc.SetEscapeHTML(false)
			if err := enc.Encode(dumpHeader{Type: "SnapshotHeader", Form: s.Form.String(), Size: size,
				Data: dumpHeaderData{LastIndex: h.LastIndex, Meta: s.Meta()}}); err != nil {
				return st, fmt.Errorf("writing: %w", err)
			}
		}
	}

	p := newDumpPipeline(bw, o)
	cur := p.get()
	for p.err == nil && s.Next() {
		rec := s.Record()
		if st.Records++; st.Records%ctxCheckEvery == 0 && ctx.Err() != nil {
			break
		}
		if len(o.Types) > 0 && !types[rec.Type] {
			continue
		}
		if o.KVPrefix != "" {
			if rec.Type != decode.TypeKVS && rec.Type != decode.TypeTombstone {
				continue
			}
			if key, ok := kvKey(rec); !ok || !strings.HasPrefix(string(key), o.KVPrefix) {
				continue
			}
		}
		if len(rec.Raw) > dumpMaxInFlightBytes {
			// A large record is rendered here, alone and without a copy:
			// what is batched is written first, to keep the order.
			if len(cur.recs) > 0 {
				p.submit(cur)
				cur = p.get()
			}
			p.renderNow(rec, &o)
			continue
		}
		cur.add(rec)
		if cur.full() {
			p.submit(cur)
			cur = p.get()
		}
	}
	if len(cur.recs) > 0 {
		p.submit(cur)
	}
	p.finish()
	st.Written, st.DecodeErrors = p.written, p.decodeErrors
	if p.err != nil {
		return st, p.err
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("writing: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	var errs []error
	errs = append(errs, s.Errors()...)
	if st.DecodeErrors > 0 {
		errs = append(errs, fmt.Errorf("%d record(s): %w", st.DecodeErrors, ErrDumpDecode))
	}
	return st, errors.Join(errs...)
}

// Bounds of dump's pipeline.
const (
	dumpBatchBytes   = 128 << 10 // record bytes per batch
	dumpBatchRecords = 512       // records per batch
	dumpInFlight     = 6         // batches being rendered or waiting to be written
	dumpMaxWorkers   = 4
	dumpKeepBytes    = 4 * dumpBatchBytes // larger buffers are dropped after use
	// dumpMaxInFlightBytes bounds the record bytes of the batches being
	// rendered or waiting at once: a batch that holds a record near the
	// 64 MiB cap is rendered alone (its JSON, base64 and ValueText, is
	// several times its size), so memory follows one large record, not
	// dumpInFlight of them.
	dumpMaxInFlightBytes = 8 << 20
)

// dumpBatch is a run of records copied out of the scanner, and their lines
// once a worker has rendered them.
type dumpBatch struct {
	raw  []byte          // the records' Raw, back to back
	ends []int           // end of each record's Raw in raw
	recs []decode.Record // Raw nil until sealed (raw may move while it grows)

	out          []byte // rendered lines
	written      int64
	decodeErrors int64
	err          error // a line could not be rendered; out holds the lines before it
	done         chan struct{}
}

func (b *dumpBatch) add(rec *decode.Record) {
	b.raw = append(b.raw, rec.Raw...)
	b.ends = append(b.ends, len(b.raw))
	b.recs = append(b.recs, decode.Record{N: rec.N, Type: rec.Type, Offset: rec.Offset, Size: rec.Size})
}

func (b *dumpBatch) full() bool {
	return len(b.raw) >= dumpBatchBytes || len(b.recs) >= dumpBatchRecords
}

func (b *dumpBatch) seal() {
	start := 0
	for i, end := range b.ends {
		b.recs[i].Raw = b.raw[start:end:end]
		start = end
	}
}

func (b *dumpBatch) reset() {
	b.raw, b.ends, b.recs, b.out = b.raw[:0], b.ends[:0], b.recs[:0], b.out[:0]
	if cap(b.raw) > dumpKeepBytes || cap(b.out) > 4*dumpKeepBytes {
		b.raw, b.out = nil, nil // a batch that held a huge record does not keep its buffers
	}
	b.written, b.decodeErrors, b.err = 0, 0, nil
}

// render writes the lines of the batch's records into out.
func (b *dumpBatch) render(o *DumpOptions) {
	// One allocation of about the lines' size (a KV line is its value in
	// base64 plus ValueText, about 3× the record), so that a large record's
	// line does not grow by doubling, which holds the old and the new
	// buffer at once.
	b.out = slices.Grow(b.out[:0], 3*len(b.raw)+256*len(b.recs))
	for i := range b.recs {
		start := len(b.out)
		var (
			kept, failed bool
			err          error
		)
		b.out, kept, failed, err = appendDumpLine(b.out, &b.recs[i], o)
		if err != nil {
			b.out = b.out[:start]
			b.err = err
			return
		}
		if kept {
			b.written++
		}
		if failed {
			b.decodeErrors++
		}
	}
}

// dumpPipeline hands batches to the workers and writes their lines in
// submission order. Only the caller's goroutine touches it; workers only
// touch the batch they were given.
type dumpPipeline struct {
	w       io.Writer
	jobs    chan *dumpBatch
	pending []*dumpBatch // submitted, oldest first
	free    []*dumpBatch
	made    int
	// inFlight is the record bytes of the pending batches.
	inFlight int

	written, decodeErrors int64
	err                   error // first write or render error: stops the dump
}

func newDumpPipeline(w io.Writer, o DumpOptions) *dumpPipeline {
	p := &dumpPipeline{w: w, jobs: make(chan *dumpBatch, dumpInFlight)}
	workers := min(max(runtime.GOMAXPROCS(0), 1), dumpMaxWorkers)
	for i := 0; i < workers; i++ {
		go func() {
			for b := range p.jobs {
				b.render(&o)
				b.done <- struct{}{}
			}
		}()
	}
	return p
}

// get returns an empty batch, writing out the oldest pending one first
// when all dumpInFlight batches are in use.
func (p *dumpPipeline) get() *dumpBatch {
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	if p.made < dumpInFlight {
		p.made++
		return &dumpBatch{done: make(chan struct{}, 1)}
	}
	b := p.writeOldest()
	b.reset()
	return b
}

func (p *dumpPipeline) submit(b *dumpBatch) {
	b.seal()
	for len(p.pending) > 0 && p.inFlight+len(b.raw) > dumpMaxInFlightBytes {
		old := p.writeOldest()
		old.reset()
		p.free = append(p.free, old)
	}
	p.inFlight += len(b.raw)
	p.pending = append(p.pending, b)
	p.jobs <- b
}

// writeOldest waits for the oldest pending batch, writes its lines (unless
// an error already stopped the dump) and returns it for reuse.
func (p *dumpPipeline) writeOldest() *dumpBatch {
	b := p.pending[0]
	p.pending = p.pending[1:]
	p.inFlight -= len(b.raw)
	<-b.done
	if p.err == nil {
		if _, err := p.w.Write(b.out); err != nil {
			p.err = fmt.Errorf("writing: %w", err)
		} else if b.err != nil {
			p.err = fmt.Errorf("writing: %w", b.err)
		}
		p.written += b.written
		p.decodeErrors += b.decodeErrors
	}
	return b
}

// renderNow writes every pending batch, then rec's line straight from the
// stream's buffer (rec is valid only until the next record): memory follows
// one large record, not a copy of it plus dumpInFlight batches.
func (p *dumpPipeline) renderNow(rec *decode.Record, o *DumpOptions) {
	for len(p.pending) > 0 {
		old := p.writeOldest()
		old.reset()
		p.free = append(p.free, old)
	}
	if p.err != nil {
		return
	}
	b := &dumpBatch{recs: []decode.Record{*rec}, raw: rec.Raw}
	b.render(o)
	if _, err := p.w.Write(b.out); err != nil {
		p.err = fmt.Errorf("writing: %w", err)
	} else if b.err != nil {
		p.err = fmt.Errorf("writing: %w", b.err)
	}
	p.written += b.written
	p.decodeErrors += b.decodeErrors
}

// finish writes every pending batch and stops the workers.
func (p *dumpPipeline) finish() {
	for len(p.pending) > 0 {
		p.writeOldest()
	}
	close(p.jobs)
}

// appendDumpLine appends rec's JSON line (DumpLine, newline included) to b,
// byte for byte what encoding/json with SetEscapeHTML(false) writes for it.
// kept is false when the --id filter drops the record; failed when it could
// not be typed-decoded.
func appendDumpLine(b []byte, rec *decode.Record, o *DumpOptions) (out []byte, kept, failed bool, err error) {
	if e, ok := decode.KVFields(rec); ok && e.Plain {
		var buf [128]byte
		id := string(e.AppendIdentity(buf[:0])) // decode.Identity's answer, from the same fields
		if o.IDGlob != "" && !globMatch(o.IDGlob, id) {
			return b, false, false, nil
		}
		return appendKVLine(b, rec, id, &e), true, false, nil
	}
	id, idErr := decode.Identity(rec)
	if o.IDGlob != "" && (idErr != nil || !globMatch(o.IDGlob, id)) {
		return b, false, false, nil
	}
	return appendDumpLineTyped(b, rec, id, o)
}

// appendDumpLineTyped renders any record through decode.View (the typed
// record as a tree, or the generic value when the typed decode fails,
// secrets masked by decode's one policy): the reference path, which the KV
// fast path must match.
func appendDumpLineTyped(b []byte, rec *decode.Record, id string, o *DumpOptions) (out []byte, kept, failed bool, err error) {
	var errMsg string
	data, derr := decode.View(rec.Type, rec.Value(), o.ShowSecrets)
	if derr != nil {
		failed = true
		errMsg = derr.Error()
	} else if rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone {
		addValueText(data)
	}
	b = appendLineHead(b, rec)
	b = append(b, `,"id":`...)
	b, _ = decode.AppendJSON(b, id)
	if label := decode.Label(rec.Type, data); label != "" && derr == nil {
		b = append(b, `,"label":`...)
		b, _ = decode.AppendJSON(b, label)
	}
	b = append(b, `,"data":`...)
	if out, jerr := decode.AppendJSON(b, data); jerr == nil {
		b = out
	} else { // AppendJSON returns nil on error: keep the line, the record summarised
		b = append(b, "null"...)
		failed = true
		errMsg = decode.SafeText("rendering data: " + jerr.Error())
	}
	if errMsg != "" {
		b = append(b, `,"error":`...)
		b, _ = decode.AppendJSON(b, errMsg)
	}
	b = append(b, "}\n"...)
	return b, true, failed, nil
}

// addValueText puts a "ValueText" string after "Value" when the value is valid UTF-8.
func addValueText(data any) {
	o, ok := data.(*decode.Object)
	if !ok {
		return
	}
	for i, k := range o.Keys {
		if k != "Value" {
			continue
		}
		b, ok := o.Values[i].([]byte)
		if !ok || b == nil || !utf8.Valid(b) {
			return
		}
		o.Keys = append(o.Keys[:i+1], append([]string{"ValueText"}, o.Keys[i+1:]...)...)
		o.Values = append(o.Values[:i+1], append([]any{string(b)}, o.Values[i+1:]...)...)
		return
	}
}

// globMatch reports whether s matches pattern: "*" matches any run of
// characters including "/", "?" exactly one character (rune).
func globMatch(pattern, s string) bool {
	// Iterative matcher with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	pr, sr := []rune(pattern), []rune(s)
	for i < len(sr) {
		switch {
		case p < len(pr) && (pr[p] == '?' || pr[p] == sr[i]) && pr[p] != '*':
			p++
			i++
		case p < len(pr) && pr[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pr) && pr[p] == '*' {
		p++
	}
	return p == len(pr)
}

// The KV fast path: KVS and Tombstone records make up most snapshots, and
// decode.KVFields reads their fields straight from the bytes. It is taken
// only for the plain shape Consul writes (KVEntry.Plain), for which
// DecodeRecord certainly succeeds and decode.Tree gives exactly the fields
// appendKVLine writes; anything else takes the typed path.
// TestDumpKVFastPathMatchesTyped holds the two equal.

// appendLineHead opens a record's line: {"n", "offset", "size", "type" —
// the same on the typed path and the KV fast path.
func appendLineHead(b []byte, rec *decode.Record) []byte {
	b = append(b, `{"n":`...)
	b = strconv.AppendInt(b, rec.N, 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, rec.Offset, 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(len(rec.Raw)), 10)
	b = append(b, `,"type":`...)
	b, _ = decode.AppendJSON(b, rec.Type.String())
	return b
}

// appendKVLine writes the record's line as appendDumpLineTyped would: the
// fields in DirEntry order, Namespace and Partition only when set,
// ValueText after Value when the value is valid UTF-8.
func appendKVLine(b []byte, rec *decode.Record, id string, e *decode.KVEntry) []byte {
	b = appendLineHead(b, rec)
	b = append(b, `,"id":`...)
	b, _ = decode.AppendJSON(b, id)
	b = append(b, `,"data":{"CreateIndex":`...)
	b = strconv.AppendUint(b, e.CreateIndex, 10)
	b = append(b, `,"Flags":`...)
	b = strconv.AppendUint(b, e.Flags, 10)
	b = append(b, `,"Key":`...)
	b = decode.AppendJSONString(b, e.Key)
	b = append(b, `,"LockIndex":`...)
	b = strconv.AppendUint(b, e.LockIndex, 10)
	b = append(b, `,"ModifyIndex":`...)
	b = strconv.AppendUint(b, e.ModifyIndex, 10)
	b = append(b, `,"Session":`...)
	b = decode.AppendJSONString(b, e.Session)
	b = append(b, `,"Value":`...)
	if !e.ValueSet {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, e.Value)
		b = append(b, '"')
		if utf8.Valid(e.Value) {
			b = append(b, `,"ValueText":`...)
			b = decode.AppendJSONString(b, e.Value)
		}
	}
	if len(e.Namespace) > 0 {
		b = append(b, `,"Namespace":`...)
		b = decode.AppendJSONString(b, e.Namespace)
	}
	if len(e.Partition) > 0 {
		b = append(b, `,"Partition":`...)
		b = decode.AppendJSONString(b, e.Partition)
	}
	return append(b, "}}\n"...)
}
