package preflight

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// Verdicts.
const (
	VerdictRestore = "would restore"
	VerdictFail    = "would fail"
	VerdictDamaged = "damaged"
)

// Problem kinds.
const (
	KindIntegrity   = "integrity"
	KindMetaVersion = "meta-version"
	KindUnknownType = "unknown-type"
	KindEnterprise  = "enterprise-type"
	KindLegacyACL   = "legacy-acl"
	KindDesync      = "downgrade-desync"
)

// maxIntegrityErrors caps the integrity messages kept in a Result.
const maxIntegrityErrors = 20

// IntegrityVerdict is the integrity input of a check. Pass report.Verify's
// verdict (Verdict "ok", "warnings", "damaged" or "unreadable") in
// Options.Integrity; without one, Check computes a minimal one from decode's
// errors and checksum state (Source "decode").
type IntegrityVerdict struct {
	Verdict string   `json:"verdict"`
	Source  string   `json:"source"`
	Errors  []string `json:"errors,omitempty"`
}

// Damaged reports whether the verdict stops the check (exit 3).
func (v IntegrityVerdict) Damaged() bool { return v.Verdict == "damaged" || v.Verdict == "unreadable" }

// Options tune a check.
type Options struct {
	// Integrity is the caller's verdict (normally report.Verify's); nil
	// computes a minimal one from the decode.Snapshot.
	Integrity *IntegrityVerdict
	// DowngradeEnv: the target runs with CONSUL_ENTERPRISE_DOWNGRADE_TO_CE=true.
	DowngradeEnv bool
	// Out is the OUT path printed in rewrite commands; default: IN's name
	// with ".for-<target>" before ".snap".
	Out string
	// Decode is passed to decode.Open by CheckFile.
	Decode decode.Options
}

// TypeCount is one record type of the input and what the target does with it.
// JSON keys: type (number), name (Consul's display name), count, bytes
// (record sizes as inspect counts them), first_record (1-based),
// first_offset (byte offset in state.bin), action ("restore", "fail",
// "skip", "desync"), error (Consul's text when action is fail), exact
// (false when the action or text was inferred, not read from the target's
// source).
type TypeCount struct {
	Type        uint8  `json:"type"`
	Name        string `json:"name"`
	Count       int64  `json:"count"`
	Bytes       int64  `json:"bytes"`
	FirstRecord int64  `json:"first_record"`
	FirstOffset int64  `json:"first_offset"`
	Action      Action `json:"action"`
	Error       string `json:"error,omitempty"`
	Exact       bool   `json:"exact"`
}

// Problem is one reason the restore would fail. JSON keys: kind (one of the
// Kind constants), message, types (the record types involved; empty for
// integrity and meta-version), records (their total count), consul_error
// (what Consul prints for the first record of this problem), fix (the
// snaptool rewrite command that removes it; empty when no rewrite helps).
type Problem struct {
	Kind        string      `json:"kind"`
	Message     string      `json:"message"`
	Types       []TypeCount `json:"types,omitempty"`
	Records     int64       `json:"records"`
	ConsulError string      `json:"consul_error,omitempty"`
	Fix         string      `json:"fix,omitempty"`
}

// Writer is the oldest Consul that could have written the records. JSON
// keys: at_least (oldest release line of the table that restores every
// record type, "" when any line does), because (the types that set it),
// newer_than_table (a type no line restores: written by a newer Consul),
// enterprise (Enterprise types present), legacy_acl (legacy ACL records,
// written only by servers older than the table), flagged (type bytes >= 128:
// bit 7 is IgnoreUnknownTypeFlag, used only on raft log entries, so no
// Consul writes them into a snapshot).
type Writer struct {
	AtLeast        string   `json:"at_least"`
	Because        []string `json:"because,omitempty"`
	NewerThanTable bool     `json:"newer_than_table"`
	Enterprise     bool     `json:"enterprise"`
	LegacyACL      bool     `json:"legacy_acl"`
	Flagged        bool     `json:"flagged"`
}

// Result is the preflight verdict for one input. JSON keys:
//
//	file          the input as given
//	target        the target version ("1.12.9"; a bare line resolves to its newest read patch)
//	edition       "ce" or "enterprise"
//	downgrade_env CONSUL_ENTERPRISE_DOWNGRADE_TO_CE=true assumed on the target
//	sources       the patches of the target's line whose source the table was read from
//	verdict       "would restore", "would fail" or "damaged"
//	would_restore true only for "would restore"
//	exact         every outcome and error text was read from the source of the target's line
//	integrity     IntegrityVerdict
//	meta_version  meta.json Version (null when meta.json was not read)
//	records       records read
//	types         [TypeCount] in type order
//	writer        Writer
//	downgrade     the records need a newer Consul than the target
//	consul_error  the error the restore would stop with (first failing record, or raft's meta check);
//	              empty when the outcome cannot be predicted (the 1.18.0/1.18.1 downgrade desync)
//	consul_error_record  that record's number (0 for meta.json)
//	problems      [Problem]: integrity, meta-version, then record problems in order of first record
//	rewrite       one snaptool rewrite command that removes every record problem
//	notes         other facts worth knowing (skipped records, inferred behaviour)
type Result struct {
	File              string           `json:"file"`
	Target            string           `json:"target"`
	Edition           Edition          `json:"edition"`
	DowngradeEnv      bool             `json:"downgrade_env"`
	Sources           []string         `json:"sources"`
	Verdict           string           `json:"verdict"`
	WouldRestore      bool             `json:"would_restore"`
	Exact             bool             `json:"exact"`
	Integrity         IntegrityVerdict `json:"integrity"`
	MetaVersion       *int             `json:"meta_version"`
	Records           int64            `json:"records"`
	Types             []TypeCount      `json:"types"`
	Writer            Writer           `json:"writer"`
	Downgrade         bool             `json:"downgrade"`
	ConsulError       string           `json:"consul_error,omitempty"`
	ConsulErrorRecord int64            `json:"consul_error_record"`
	Problems          []Problem        `json:"problems"`
	Rewrite           string           `json:"rewrite,omitempty"`
	Notes             []string         `json:"notes,omitempty"`
}

// ErrUnknownTarget: the target's release line is not in the table.
var ErrUnknownTarget = errors.New("target release line is not in the version table")

// Resolve finds the target's row and fills in a missing patch.
func Resolve(target Version) (*Line, Version, error) {
	l, ok := LineOf(target)
	if !ok {
		first, last := Table[0].Version(-1).LineString(), NewestLine().Version(-1).LineString()
		return nil, target, fmt.Errorf("%w: %s (the table covers %s to %s)", ErrUnknownTarget, target, first, last)
	}
	if target.Patch < 0 {
		target.Patch = l.Newest()
	}
	return l, target, nil
}

type typeStat struct {
	count, bytes     int64
	firstN, firstOff int64
}

// Checker accumulates records for one input; memory is fixed (one counter
// set per type byte). Use it to check records read by another loop; Check
// and CheckFile drive it themselves.
type Checker struct {
	line    *Line
	target  Version
	edition Edition
	opts    Options
	stats   [256]typeStat
	records int64
}

// NewChecker returns a Checker for target (a bare line means its newest
// read patch) and edition.
func NewChecker(target Version, ed Edition, opts Options) (*Checker, error) {
	l, v, err := Resolve(target)
	if err != nil {
		return nil, err
	}
	if ed == "" {
		ed = CE
	}
	return &Checker{line: l, target: v, edition: ed, opts: opts}, nil
}

// Add counts one record (a report.Accumulator, so a caller can feed it
// from the same pass as verify).
func (c *Checker) Add(r *decode.Record) {
	st := &c.stats[r.Type]
	if st.count == 0 {
		st.firstN, st.firstOff = r.N, r.Offset
	}
	st.count++
	st.bytes += r.Size
	c.records++
}

// Check drains s (it must not have been read yet) and checks it against
// target. The error is non-nil only for a target outside the table.
func Check(s *decode.Snapshot, target Version, ed Edition, opts Options) (*Result, error) {
	c, err := NewChecker(target, ed, opts)
	if err != nil {
		return nil, err
	}
	for s.Next() {
		c.Add(s.Record())
	}
	return c.Finish(s.Name, s.Meta(), minimalIntegrity(s)), nil
}

// CheckFile opens path in any input form, checks it and closes it. An
// input that cannot be opened for a reason other than damage is an error.
func CheckFile(path string, target Version, ed Edition, opts Options) (*Result, error) {
	if _, _, err := Resolve(target); err != nil {
		return nil, err
	}
	s, err := decode.Open(path, opts.Decode)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return Check(s, target, ed, opts)
}

// minimalIntegrity is the verdict used when the caller gives none: decode's
// errors make it damaged, its warnings make it "warnings". An unsupported
// meta.json Version is not damage: the meta-version check reports it as a
// restore problem of its own.
func minimalIntegrity(s *decode.Snapshot) IntegrityVerdict {
	v := IntegrityVerdict{Verdict: "ok", Source: "decode"}
	damaged := 0
	for _, e := range s.Errors() {
		if errors.Is(e, decode.ErrMetaVersion) {
			continue
		}
		damaged++
		if len(v.Errors) < maxIntegrityErrors {
			v.Errors = append(v.Errors, e.Error())
		}
	}
	switch {
	case damaged > 0 || (s.Integrity() == decode.Failed && len(s.Errors()) == 0):
		v.Verdict = "damaged"
	case len(s.Warnings()) > 0:
		v.Verdict = "warnings"
	}
	return v
}

// Finish builds the Result. name is the input as given; meta may be nil;
// computed is used when Options.Integrity is nil.
func (c *Checker) Finish(name string, meta *decode.Meta, computed IntegrityVerdict) *Result {
	r := &Result{
		File:         name,
		Target:       c.target.String(),
		Edition:      c.edition,
		DowngradeEnv: c.opts.DowngradeEnv,
		Exact:        true,
		Integrity:    computed,
		Records:      c.records,
		Types:        []TypeCount{},
		Problems:     []Problem{},
	}
	if c.opts.Integrity != nil {
		r.Integrity = *c.opts.Integrity
	}
	for _, p := range c.line.Read {
		r.Sources = append(r.Sources, "consul@v"+c.line.Version(p).String())
	}
	if c.target.Patch < c.line.Read[0] || c.target.Patch > c.line.Newest() {
		r.Notes = append(r.Notes, fmt.Sprintf("no source of %s was read; its behaviour is taken from %s", c.target, strings.Join(r.Sources, ", ")))
	}
	if r.Integrity.Damaged() {
		r.Problems = append(r.Problems, Problem{Kind: KindIntegrity,
			Message: "the snapshot is " + r.Integrity.Verdict + ": Consul checks SHA256SUMS before it restores; repair or replace the file first"})
	}

	if meta != nil {
		v := int(meta.Version)
		r.MetaVersion = &v
		if v < SnapshotVersionMin || v > SnapshotVersionMax {
			msg := fmt.Sprintf("unsupported snapshot version %d", v)
			r.ConsulError, r.ConsulErrorRecord = msg, 0
			r.Problems = append(r.Problems, Problem{Kind: KindMetaVersion, ConsulError: msg,
				Message: fmt.Sprintf("meta.json Version is %d; raft (%s) restores only versions %d to %d and refuses the file before reading state.bin; snaptool rewrite keeps Version, so no rewrite fixes this",
					v, c.line.Raft, SnapshotVersionMin, SnapshotVersionMax)})
		}
	}

	// Per-type outcomes, and the record at which Consul would stop.
	var failFirst int64
	var failErr string
	groups := map[string]*Problem{}
	var order []string
	for t := 0; t < 256; t++ {
		st := c.stats[t]
		if st.count == 0 {
			continue
		}
		mt := decode.MessageType(t)
		o := c.line.Outcome(c.target.Patch, c.edition, mt, c.opts.DowngradeEnv)
		tc := TypeCount{Type: uint8(t), Name: mt.String(), Count: st.count, Bytes: st.bytes,
			FirstRecord: st.firstN, FirstOffset: st.firstOff, Action: o.Action, Error: o.Error, Exact: o.Read}
		r.Types = append(r.Types, tc)
		if !o.Read {
			r.Exact = false
		}
		switch o.Action {
		case ActionRestore:
			if c.edition == Enterprise && t >= 64 {
				r.Notes = append(r.Notes, fmt.Sprintf("%s: Consul Enterprise's restorers are not public; assumed restorable", mt))
			}
			continue
		case ActionSkip:
			r.Notes = append(r.Notes, fmt.Sprintf("%d %s record(s) are dropped by the CE downgrade mode (Consul logs \"ignoring enterprise message as part of downgrade to CE\")", st.count, mt))
			continue
		}
		if failFirst == 0 || st.firstN < failFirst {
			failFirst, failErr = st.firstN, o.Error
		}
		kind := c.kind(mt, o)
		p := groups[kind]
		if p == nil {
			p = &Problem{Kind: kind}
			groups[kind] = p
			order = append(order, kind)
		}
		p.Types = append(p.Types, tc)
		p.Records += st.count
	}
	if r.ConsulError == "" && failFirst > 0 {
		r.ConsulError, r.ConsulErrorRecord = failErr, failFirst
	}
	// Problems in the order Consul would meet them.
	first := func(p *Problem) int64 {
		m := p.Types[0].FirstRecord
		for _, tc := range p.Types {
			m = min(m, tc.FirstRecord)
		}
		return m
	}
	for len(order) > 0 {
		bi := 0
		for i := range order {
			if first(groups[order[i]]) < first(groups[order[bi]]) {
				bi = i
			}
		}
		p := groups[order[bi]]
		order = append(order[:bi], order[bi+1:]...)
		c.describe(p, first(p), name)
		r.Problems = append(r.Problems, *p)
	}

	r.Writer = c.writer()
	if r.Writer.NewerThanTable {
		r.Downgrade = true
	} else if r.Writer.AtLeast != "" {
		w, _ := ParseVersion(r.Writer.AtLeast)
		r.Downgrade = w.Compare(Version{c.target.Major, c.target.Minor, -1}) > 0
	}

	if !r.Exact {
		r.Notes = append(r.Notes, "some outcomes are inferred, not read from the source of "+c.target.String()+" (see types[].exact and the version table)")
	}
	r.Rewrite = c.rewriteAll(name, r.Problems)
	switch {
	case r.Integrity.Damaged():
		r.Verdict = VerdictDamaged
	case len(r.Problems) > 0:
		r.Verdict = VerdictFail
	default:
		r.Verdict, r.WouldRestore = VerdictRestore, true
	}
	return r
}

func (c *Checker) kind(t decode.MessageType, o Outcome) string {
	switch {
	case o.Action == ActionDesync:
		return KindDesync
	case t >= 64:
		return KindEnterprise
	case t == decode.TypeACL || t == decode.TypeACLBootstrap:
		return KindLegacyACL
	}
	return KindUnknownType
}

// describe fills a record problem's message, Consul error and fix.
func (c *Checker) describe(p *Problem, firstN int64, name string) {
	for _, tc := range p.Types {
		if tc.FirstRecord == firstN {
			p.ConsulError = tc.Error
		}
	}
	names := make([]string, len(p.Types))
	for i, tc := range p.Types {
		names[i] = fmt.Sprintf("%s (%d) ×%d", tc.Name, tc.Type, tc.Count)
	}
	list := strings.Join(names, ", ")
	tgt := "Consul " + c.target.String()
	if c.edition == Enterprise {
		tgt += " Enterprise"
	} else {
		tgt += " CE"
	}
	switch p.Kind {
	case KindEnterprise:
		p.Message = fmt.Sprintf("Enterprise records %s: %s cannot restore them", list, tgt)
		if dg, _ := c.line.Downgrade.At(c.target.Patch); dg && !c.opts.DowngradeEnv {
			p.Message += " (this line drops them when the server runs with CONSUL_ENTERPRISE_DOWNGRADE_TO_CE=true)"
		}
	case KindLegacyACL:
		p.Message = fmt.Sprintf("legacy ACL records %s: %s no longer restores the pre-1.4 ACL system (removed in 1.15); dropping them drops those legacy tokens", list, tgt)
	case KindDesync:
		p.Message = fmt.Sprintf("Enterprise records %s: with CONSUL_ENTERPRISE_DOWNGRADE_TO_CE=true %s skips them without reading their values (fixed in 1.18.2, GH-20977), so it reads their bytes as further records: the outcome is unpredictable", list, tgt)
	default:
		var why []string
		for _, tc := range p.Types {
			if l, ok := FirstRestoring(decode.MessageType(tc.Type)); ok {
				why = append(why, fmt.Sprintf("%s from %s", tc.Name, l.Version(-1).LineString()))
			} else {
				why = append(why, fmt.Sprintf("%s by no release up to %s", tc.Name, NewestLine().Version(-1).LineString()))
			}
		}
		p.Message = fmt.Sprintf("record types unknown to %s: %s; Consul restores %s", tgt, list, strings.Join(why, ", "))
	}
	p.Fix = rewriteCommand(c.dropFlags(p.Types), c.opts.Out, name, c.target)
}

func (c *Checker) dropFlags(types []TypeCount) []string {
	var flags []string
	ent := false
	for _, tc := range types {
		if tc.Type >= 64 {
			ent = true
			continue
		}
		flags = append(flags, "--drop-type", typeArg(decode.MessageType(tc.Type)))
	}
	if ent {
		flags = append(flags, "--drop-enterprise")
	}
	return flags
}

// typeArg is a type as snaptool rewrite accepts it: the display name when
// Consul has one, else the number.
func typeArg(t decode.MessageType) string {
	if t.Known() {
		return t.String()
	}
	return fmt.Sprint(int(t))
}

// rewriteAll is one command removing every record problem, or "".
func (c *Checker) rewriteAll(name string, problems []Problem) string {
	var types []TypeCount
	for _, p := range problems {
		types = append(types, p.Types...)
	}
	if len(types) == 0 {
		return ""
	}
	return rewriteCommand(c.dropFlags(types), c.opts.Out, name, c.target)
}

// rewriteCommand renders `snaptool rewrite FLAGS IN OUT`; an empty in
// prints the placeholders IN and OUT.
func rewriteCommand(flags []string, out, in string, target Version) string {
	if in == "" {
		in = "IN"
	}
	if out == "" {
		out = defaultOut(in, target)
	}
	parts := append([]string{"snaptool", "rewrite"}, flags...)
	parts = append(parts, shellQuote(in), shellQuote(out))
	return strings.Join(parts, " ")
}

func defaultOut(in string, target Version) string {
	if in == "IN" {
		return "OUT"
	}
	if in == "-" {
		return "restorable.for-" + target.String() + ".snap"
	}
	base := filepath.Base(in)
	dir := filepath.Dir(in)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	if base == "state.bin" || stem == "" {
		stem = "restorable"
	}
	return filepath.Join(dir, stem+".for-"+target.String()+".snap")
}

// shellQuote quotes s for a POSIX shell when it holds anything beyond a
// conservative safe set.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+,@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writer infers the oldest Consul that could have written the records.
func (c *Checker) writer() Writer {
	w := Writer{}
	var at *Line
	var because []string
	for t := 0; t < 256; t++ {
		if c.stats[t].count == 0 {
			continue
		}
		mt := decode.MessageType(t)
		switch {
		case t >= 128:
			w.Flagged = true
			continue
		case t >= 64:
			w.Enterprise = true
			continue
		case mt == decode.TypeACL || mt == decode.TypeACLBootstrap:
			// Restored by 1.10-1.14 but written by none of them
			// (snapshot_oss.go persistACLs writes ACLToken only).
			w.LegacyACL = true
			continue
		}
		l, ok := FirstRestoring(mt)
		if !ok {
			w.NewerThanTable = true
			w.Because = append(w.Because, mt.String())
			continue
		}
		if l == &Table[0] {
			continue
		}
		switch {
		case at == nil || l.Version(-1).Compare(at.Version(-1)) > 0:
			at, because = l, []string{mt.String()}
		case l == at:
			because = append(because, mt.String())
		}
	}
	if at != nil {
		w.AtLeast = at.Version(-1).LineString()
		if !w.NewerThanTable {
			w.Because = because
		}
	}
	if w.NewerThanTable {
		w.AtLeast = ""
	}
	return w
}
