package diff

import (
	"github.com/snaptool/snaptool/decode"
)

// Op is the kind of a change.
type Op string

// The three kinds of change.
const (
	Added    Op = "added"
	Removed  Op = "removed"
	Modified Op = "modified"
)

// Change is one record that differs between snapshot A and snapshot B.
// JSON names: op, type, id, size_a, size_b, offset_a, offset_b, fields, note.
type Change struct {
	Op Op `json:"op"`
	// Type is Consul's display name of the record type (KVS, Register, …).
	Type string `json:"type"`
	// ID is the record's identity (decode.Identity).
	ID string `json:"id"`
	// SizeA and SizeB are the record's size in A and B as `consul snapshot
	// inspect` counts it (0 on the side where the record does not exist).
	SizeA int64 `json:"size_a"`
	SizeB int64 `json:"size_b"`
	// OffsetA and OffsetB are the record's byte offset in each state.bin
	// (omitted on the side where it does not exist).
	OffsetA int64 `json:"offset_a,omitempty"`
	OffsetB int64 `json:"offset_b,omitempty"`
	// Fields lists the changed field paths of a modified record ([] for
	// added and removed records).
	Fields []FieldChange `json:"fields"`
	// Note explains a modified record without field detail (see Options.RawBudget).
	Note string `json:"note,omitempty"`

	// MessageType is the type number.
	MessageType decode.MessageType `json:"-"`

	key string // merge key, for ordering within a type
}

// FieldChange is one changed field of a modified record. Path uses Consul's
// field names, dots for nesting and [i] for array elements
// (Service.Tags[1], Check.Status, Value, Rules, Entry.Sources). Old and New
// are JSON renderings of the values (byte strings as JSON strings when they
// are text, 0x-hex otherwise), truncated to Options.MaxValueLen with the
// full length noted; Absent ("(absent)") when the field exists on one side
// only. Diff is a unified diff of a KVS Value that is text on both sides,
// with Options.Values.
type FieldChange struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`
	Diff string `json:"diff,omitempty"`
}

// Options tune a diff. The zero value compares every record type except

// Absent is the Old or New text of a field that exists on one side only.
const Absent = "(absent)"

// Index, ignores raft bookkeeping and masks secrets.
type Options struct {
	// Types restricts the diff to these record types (empty: all).
	Types []decode.MessageType
	// IgnoreTypes skips these record types.
	IgnoreTypes []decode.MessageType
	// KVPrefix restricts KVS and Tombstone records to keys with this prefix.
	KVPrefix string
	// KVDepth groups KV keys for the per-prefix summary (0: DefaultKVDepth).
	KVDepth int
	// IncludeRaftBookkeeping compares CreateIndex/ModifyIndex fields and
	// the Index table, which are otherwise ignored.
	IncludeRaftBookkeeping bool
	// ShowSecrets compares and shows secrets in clear instead of fingerprints.
	ShowSecrets bool
	// Values adds a unified diff of KVS values that are text on both sides.
	Values bool
	// MaxValueLen truncates Old/New renderings (0: DefaultMaxValueLen).
	MaxValueLen int
	// RawBudget caps the bytes of records held while waiting for their
	// partner (records added or removed, or out of Consul's order);
	// 0: DefaultRawBudget. Beyond it only a content digest is kept, and a
	// late match that differs is reported modified without field detail.
	RawBudget int64
	// MaxHeld is how many changes and waiting records of one type are held
	// before the part of them that Consul's order makes final is emitted
	// early (0: DefaultMaxHeld); see the package doc.
	MaxHeld int
	// MaxOutOfOrder caps the records held because an input is not in
	// Consul's order: records waiting for their partner, plus the changes
	// of a type that can no longer be emitted early (0:
	// DefaultMaxOutOfOrder). Past it Run stops with ErrOrder (or
	// ErrHoldLimit), a damage error: Consul always writes its order.
	MaxOutOfOrder int
	// OnRecord, if set, sees every record of both inputs as it is read
	// (side 0 is A, 1 is B), filtered or not, including the records read
	// after the comparison stopped early: a caller builds other results
	// (inspect, verify, top) in the same pass. The record is valid only
	// during the call.
	OnRecord func(side int, rec *decode.Record)
}

// Defaults for Options.
const (
	DefaultKVDepth     = 2
	DefaultMaxValueLen = 120
	DefaultRawBudget   = 8 << 20
	DefaultMaxHeld     = 1000
	// DefaultMaxOutOfOrder: at a few hundred bytes per waiting record
	// (identity, key, 32-byte digest, maps), about 40 MiB at most.
	DefaultMaxOutOfOrder = 100_000
)

func (o *Options) maxValueLen() int {
	if o.MaxValueLen <= 0 {
		return DefaultMaxValueLen
	}
	return o.MaxValueLen
}

// Summary is the result of a diff besides the changes.
// JSON names: identical, changes, types, kv_depth, kv_prefixes, meta_a, meta_b, warnings.
type Summary struct {
	Identical bool          `json:"identical"`
	Changes   int           `json:"changes"`
	Types     []TypeSummary `json:"types"`
	KVDepth   int           `json:"kv_depth"`
	// KVPrefixes groups KVS records (tombstones excluded, as Consul's
	// inspect does) by prefix at KVDepth.
	KVPrefixes []PrefixSummary `json:"kv_prefixes"`
	MetaA      *MetaSummary    `json:"meta_a"`
	MetaB      *MetaSummary    `json:"meta_b"`
	// Warnings are notes about the inputs' record order (see the package doc).
	Warnings []string `json:"warnings"`
}

// TypeSummary counts one record type. Bytes are sizes as `consul snapshot
// inspect` counts them; Delta = BytesB − BytesA. Types are sorted by Delta,
// largest growth first, then by name.
// JSON names: name, added, removed, modified, unchanged, count_a, count_b, bytes_a, bytes_b, delta.
type TypeSummary struct {
	Name      string `json:"name"`
	Added     int    `json:"added"`
	Removed   int    `json:"removed"`
	Modified  int    `json:"modified"`
	Unchanged int    `json:"unchanged"`
	CountA    int    `json:"count_a"`
	CountB    int    `json:"count_b"`
	BytesA    int64  `json:"bytes_a"`
	BytesB    int64  `json:"bytes_b"`
	Delta     int64  `json:"delta"`
}

// PrefixSummary counts the KVS records under one key prefix, sorted like TypeSummary.
// JSON names: prefix, added, removed, modified, count_a, count_b, bytes_a, bytes_b, delta.
type PrefixSummary struct {
	Prefix   string `json:"prefix"`
	Added    int    `json:"added"`
	Removed  int    `json:"removed"`
	Modified int    `json:"modified"`
	CountA   int    `json:"count_a"`
	CountB   int    `json:"count_b"`
	BytesA   int64  `json:"bytes_a"`
	BytesB   int64  `json:"bytes_b"`
	Delta    int64  `json:"delta"`
}

// MetaSummary describes one input.
// JSON names: name, form, id, index, term, version, size, integrity.
type MetaSummary struct {
	Name      string `json:"name"`
	Form      string `json:"form"`
	ID        string `json:"id"`
	Index     uint64 `json:"index"`
	Term      uint64 `json:"term"`
	Version   int    `json:"version"`
	Size      int64  `json:"size"`
	Integrity string `json:"integrity"`
}

// InputError says which input of a diff an error came from: "A" or "B"
// and the snapshot's name (its path or label). Run wraps every error of an
// input once with it; the error inside is decode's, so errors.As still
// finds a *decode.RecordError (record number, offset, type) or a
// *decode.ArchiveError, and decode.IsDamage still classifies it.
type InputError struct {
	Input string // "A" or "B"
	Name  string // decode.Snapshot.Name
	Err   error
}

func (e *InputError) Error() string { return e.Input + " (" + e.Name + "): " + e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }
