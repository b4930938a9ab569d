package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

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
// JSON names: op, type, id, label, size_a, size_b, offset_a, offset_b,
// fields, note, tombstone, deletes.
type Change struct {
	Op Op `json:"op"`
	// Type is Consul's display name of the record type (KVS, Register, …).
	Type string `json:"type"`
	// ID is the record's identity (decode.Identity): the matching contract.
	ID string `json:"id"`
	// Label is the record's human name (decode.Label), from B's copy when
	// it has one, else A's; "" when the type has none or the record's
	// content was not kept (see Options.RawBudget).
	Label string `json:"label,omitempty"`
	// SizeA and SizeB are the record's size in A and B as `consul snapshot
	// inspect` counts it (0 on the side where the record does not exist).
	SizeA int64 `json:"size_a"`
	SizeB int64 `json:"size_b"`
	// OffsetA and OffsetB are the record's byte offset in each state.bin
	// (omitted on the side where it does not exist).
	OffsetA int64 `json:"offset_a,omitempty"`
	OffsetB int64 `json:"offset_b,omitempty"`
	// Fields lists the changed leaf paths of a modified record; for an
	// added or removed record, with Options.Values, its content as leaves
	// (absent on the other side); [] otherwise.
	Fields []FieldChange `json:"fields"`
	// Note explains a modified record without field detail (see Options.RawBudget).
	Note string `json:"note,omitempty"`
	// Tombstone links a removed KVS record to the Tombstone record B holds
	// for the same key: the key was deleted. That Tombstone's own change
	// (added) follows with Deletes set. Both stay separate changes (one
	// per record); text renders the pair as one line.
	Tombstone *TombstoneLink `json:"tombstone,omitempty"`
	// Deletes is "KVS" on an added Tombstone whose key is a KVS record
	// reported removed just before (the other end of Tombstone).
	Deletes string `json:"deletes,omitempty"`

	// Blame is set by diff --log: the raft log entry that last touched the
	// record between A and B (Index 0 when none in that range names it).
	Blame *Blame `json:"blame,omitempty"`

	// MessageType is the type number.
	MessageType decode.MessageType `json:"-"`

	key string // merge key, for ordering within a type
	// ModifyIndex is the largest ModifyIndex of the record's B copy (A's
	// for a removed record), 0 when it has none or its content was not
	// read: the raft index of the write that last changed it (a
	// Tombstone's is the deletion). diff --log blames that entry.
	ModifyIndex uint64 `json:"-"`
	held        int64  // value bytes accounted while held (holdValues)
}

// TombstoneLink is the Tombstone record of a deleted KV key.
// JSON names: index, offset_b, size_b.
type TombstoneLink struct {
	// Index is the raft index of the deletion (the tombstone's ModifyIndex).
	Index   uint64 `json:"index"`
	OffsetB int64  `json:"offset_b"`
	SizeB   int64  `json:"size_b"`
}

// FieldChange is one changed leaf of a record. Path uses Consul's field
// names, dots for nesting and [i] for array elements (Service.Tags[1],
// Check.Status, Entry.Sources[1].Name; the index is B's, A's for an
// element only A has). Old and New are the values, whole, as trees of
// *decode.Object, []any, string, numbers, bool and nil, byte strings as
// strings when they are text and 0x-hex otherwise; OldAbsent/NewAbsent say
// the field exists on one side only. JSON carries old and new as JSON
// values and leaves out the absent one. SchemaOnly marks a difference that
// is only schema: absent or zero on one side, zero on the other
// (Options.IncludeSchemaChanges). Diff is a unified diff of a KVS Value
// that is text on both sides, with Options.Values.
type FieldChange struct {
	Path       string
	Old, New   any
	OldAbsent  bool
	NewAbsent  bool
	SchemaOnly bool
	Diff       string
}

// MarshalJSON writes {"path","old","new","schema_only","diff"}: old and new
// as JSON values (left out when absent on that side), schema_only and diff
// only when set.
func (f FieldChange) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"path":`)
	writeJSON(&b, f.Path)
	if !f.OldAbsent {
		b.WriteString(`,"old":`)
		writeJSON(&b, f.Old)
	}
	if !f.NewAbsent {
		b.WriteString(`,"new":`)
		writeJSON(&b, f.New)
	}
	if f.SchemaOnly {
		b.WriteString(`,"schema_only":true`)
	}
	if f.Diff != "" {
		b.WriteString(`,"diff":`)
		writeJSON(&b, f.Diff)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSON appends x as JSON without HTML escaping (masked secrets read
// <masked sha256:…>).
func writeJSON(b *bytes.Buffer, x any) {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	if err := e.Encode(x); err != nil {
		_ = e.Encode(fmt.Sprint(x)) // a string always encodes
	}
	b.Truncate(b.Len() - 1) // Encode's newline
}

// Options tune a diff. The zero value compares every record type except
// Index, ignores raft bookkeeping, hides schema-only differences and masks
// secrets.
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
	// Values adds a unified diff of KVS values that are text on both
	// sides, and the content of added and removed records (as Fields).
	Values bool
	// IncludeSchemaChanges reports schema-only differences (a field absent
	// on one side and zero-valued — null, "", 0, false, [], {} — on the
	// other, or zero-valued on both) as changes. By default they are
	// hidden and counted (Summary.SchemaOnly), and a record whose only
	// differences are schema-only is unchanged.
	IncludeSchemaChanges bool
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
	// Start, when set, is called once before any change, when both inputs
	// have been read up to their first record, with what is known of them
	// then (no record counts): for a header. It is not called when an
	// input fails before its first record. Its error stops the diff.
	Start func(a, b *MetaSummary) error
}

// Defaults for Options.
const (
	DefaultKVDepth   = 2
	DefaultRawBudget = 8 << 20
	DefaultMaxHeld   = 1000
	// DefaultMaxOutOfOrder: at a few hundred bytes per waiting record
	// (identity, key, 32-byte digest, maps), about 40 MiB at most.
	DefaultMaxOutOfOrder = 100_000
)

// Summary is the result of a diff besides the changes.
// JSON names: identical, changes, schema_only_hidden, schema_only_records,
// kv_deleted, types, kv_depth, kv_prefixes, meta_a, meta_b, warnings,
// incomplete.
type Summary struct {
	Identical bool `json:"identical"`
	Changes   int  `json:"changes"`
	// SchemaOnly counts the schema-only differences hidden (0 with
	// Options.IncludeSchemaChanges); SchemaOnlyRecords the records they
	// made differ, counted unchanged.
	SchemaOnly        int `json:"schema_only_hidden"`
	SchemaOnlyRecords int `json:"schema_only_records"`
	// KVDeleted counts KV keys deleted: a removed KVS record linked to an
	// added Tombstone (Change.Tombstone).
	KVDeleted int           `json:"kv_deleted"`
	Types     []TypeSummary `json:"types"`
	KVDepth   int           `json:"kv_depth"`
	// KVPrefixes groups KVS records (tombstones excluded, as Consul's
	// inspect does) by prefix at KVDepth.
	KVPrefixes []PrefixSummary `json:"kv_prefixes"`
	MetaA      *MetaSummary    `json:"meta_a"`
	MetaB      *MetaSummary    `json:"meta_b"`
	// Warnings are notes about the inputs' record order (see the package doc).
	Warnings []string `json:"warnings"`
	// Incomplete is set when an input failed before its last record: the
	// comparison stopped there (see Incomplete).
	Incomplete *Incomplete `json:"incomplete,omitempty"`
}

// Incomplete says how far a comparison got when an input could not be read
// to its end: which input failed, at which of its records (1-based; the
// record that could not be read) and where, and why. Changes were emitted
// only for what both inputs had passed before that point; the counts in the
// summary are partial. Before is true when the input failed before its
// first record (nothing was compared, no change was emitted).
// JSON names: input, name, record, offset, layer, error, before_first_record.
type Incomplete struct {
	Input string `json:"input"`
	Name  string `json:"name"`
	// Record is the 1-based number of the record that could not be read
	// (records before it were read); 0 for the state.bin header.
	Record int64 `json:"record"`
	// Offset is a byte offset in the stream named by Layer: "state.bin" for
	// a record, otherwise the archive layer (gzip, tar, …) of decode's
	// ArchiveError; -1 when unknown.
	Offset int64  `json:"offset"`
	Layer  string `json:"layer"`
	Error  string `json:"error"`
	Before bool   `json:"before_first_record"`
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

// MetaSummary describes one input. Saved is when the snapshot was taken
// (decode.Meta.SavedTime, RFC 3339 UTC; "" when unknown); Records is the
// number of state.bin records read.
// JSON names: name, form, id, index, term, version, size, saved, records, integrity.
// Blame attributes a change to a raft log entry (diff --log DATA_DIR).
type Blame struct {
	// Index is the entry's raft index; 0 when no entry in (A, B] names the record.
	Index uint64 `json:"index"`
	// Time is when the leader appended it (omitted when unknown).
	Time time.Time `json:"time,omitzero"`
	// Entry is its message type and operation ("KVS set", "Txn kv:delete").
	Entry string `json:"entry,omitempty"`
	// By is the caller's token label (its description), "" when the
	// request carries no token.
	By string `json:"by,omitempty"`
}

type MetaSummary struct {
	Name      string `json:"name"`
	Form      string `json:"form"`
	ID        string `json:"id"`
	Index     uint64 `json:"index"`
	Term      uint64 `json:"term"`
	Version   int    `json:"version"`
	Size      int64  `json:"size"`
	Saved     string `json:"saved"`
	Records   int64  `json:"records"`
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
