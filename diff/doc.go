// Package diff compares two Consul snapshots record by record: what was
// added, removed and modified between snapshot A and snapshot B, with
// field-level changes and per-type and per-KV-prefix summaries. It
// consumes decode's record streams, imports nothing of ours but decode,
// never touches the command line and renders nothing: its results are the
// structs of types.go, which report's printers render (report.DiffTextPrinter,
// report.DiffJSONPrinter, the HTML report).
//
// Files:
//
//   - types.go: the contract: Change, FieldChange, TombstoneLink, Op,
//     Options and its defaults, Summary, TypeSummary, PrefixSummary,
//     MetaSummary, Incomplete, InputError.
//   - merge.go: Run and the merge loop: the engine, both inputs' current
//     records (side, item), advancing, filtering, order checks, matching
//     two live records and the error wrapping.
//   - fastpath.go: byte-identical pairs matched without building items
//     (advanceBoth, kvPair).
//   - pending.go: the waiting records: one pending struct holds every
//     record waiting for its partner (per type, per input, by identity) and
//     the bytes they keep within Options.RawBudget; take and matchPending
//     use it, waitingChange turns one into a change (label, --values).
//   - emit.go: per-type state and emission in Consul's order: flushing a
//     type both inputs have passed, early emission beyond Options.MaxHeld,
//     the bound on the values held changes keep, and the link between a
//     removed KVS record and its tombstone.
//   - summary.go: counting into the summaries, warnings, and Summary.
//   - compare.go: content (typed decode, masking, bookkeeping stripped,
//     label) and leaf-level comparison: natural keys of lists, key order,
//     schema-only differences; udiff.go: the line diff behind
//     FieldChange.Diff and array alignment.
//   - keys.go: Consul's type order and per-type sort keys.
//
// Contract:
//
//   - Matching: records are matched on (type, identity), the identity of
//     decode.Identity. A record present in B only is added, in A only
//     removed. Types are never matched across (a KV key that becomes a
//     tombstone is a removed KVS and an added Tombstone; config entries of
//     two kinds never match). Unknown types have content-addressed
//     identities, so a changed unknown record shows as removed + added.
//   - Modified means the content differs: if the raw bytes are equal the
//     records are equal without decoding; otherwise both go through
//     decode.View (typed decode, then decode.Tree: map keys sorted, so Go's
//     random map order is not a change; secrets masked by decode.Mask
//     unless ShowSecrets) and are compared. CreateIndex and ModifyIndex
//     at any depth, and the Index table, are raft bookkeeping and ignored
//     unless IncludeRaftBookkeeping. A rotated secret shows as a modified
//     field with two different fingerprints.
//   - Labels: Change.Label is decode.Label of B's copy (else A's): a
//     human name beside the identity, never used for matching.
//   - Field changes are leaves. Paths use Consul's names: dots for
//     nesting, [i] for array elements (Service.Tags[1], Check.Status,
//     Entry.Sources[1].Name, Value). A value on one side only (or null on
//     one side, a non-empty object or list on the other) is reported at
//     its leaves; an array element on one side only is reported at its
//     non-zero leaves (whole when it has none). Lists of objects are matched
//     by their natural key (intention Sources by Name+Peer+Namespace+
//     Partition+SamenessGroup, Checks by CheckID, Upstreams by destination,
//     others by Name, else ID, when every element of both lists has a unique
//     one), so an insertion is one change wherever it is; other arrays of
//     equal length compare element by element, else are aligned by a
//     longest common subsequence. Within an object identifying and decisive
//     fields come first (Kind, Name, ID, …, Action, Status, Value, Rules,
//     Description), then the rest, then bookkeeping (Legacy*, Hash, raft
//     indexes). Old and New are the values whole (byte strings as text or
//     0x-hex); renderers elide. Values adds a unified diff of KVS values
//     that are text on both sides, and lists the content of added and
//     removed records as fields.
//   - Schema-only differences: a leaf absent on one side and zero-valued
//     (null, "", 0, false, [], {}) on the other, or zero-valued on both,
//     is hidden and counted (Summary.SchemaOnly) unless
//     IncludeSchemaChanges (then marked FieldChange.SchemaOnly); a record
//     whose only differences are schema-only is unchanged
//     (Summary.SchemaOnlyRecords).
//   - Deleted KV keys: a removed KVS record and the Tombstone B holds for
//     its key stay two changes (one per record, the identity contract),
//     linked: the removal carries Tombstone (index, offset, size), the
//     tombstone Deletes "KVS"; Summary.KVDeleted counts them. The two
//     types' changes are held together (at most MaxHeld) to link them.
//   - Streaming: Run advances both inputs in lockstep, a merge-join on a
//     per-type sort key that reproduces Consul's write order (docs/FORMAT.md
//     §6, verified on the 1.13.9 fixtures): types in persistOSS order;
//     Register by peer, node (lower-cased, as memdb indexes it), then the
//     node's own record, its services by ID, its checks by CheckID;
//     ACLToken by SecretID (the token table's id index), not AccessorID;
//     Peering by name; KV, Index and the rest by identity. A record with no
//     partner at the other input's current position waits in a per-type
//     table keyed by identity until both inputs have left its type, so a
//     later record of the other input with the same identity still matches
//     it (a rotated SecretID moves a token in the stream; an input out of
//     order still matches correctly). Only records that end up added or
//     removed, or arrive out of order, wait. Their bytes are kept up to
//     Options.RawBudget (8 MiB, so peak RSS stays near 32 MiB); beyond it only a SHA-256 of the content
//     is kept, and a late match that differs is reported modified without
//     field detail (Change.Note). Changes of a type are held until the type
//     ends, but at most Options.MaxHeld (1000) of them while both inputs
//     are in Consul's order: beyond that, everything below both inputs'
//     current keys is final under that order and is emitted early. So
//     memory is bounded by the largest record, the budget and MaxHeld, and
//     does not grow with the snapshots. Where an input leaves Consul's
//     order (a key decreases within a type, or a type reappears after a
//     later one) that type stops being emitted early, and Summary.Warnings
//     says so (and says if changes were already emitted under the
//     assumption of order). Measured (snaptool's GC settings): 22-23 MiB
//     peak RSS for two 136 MB state.bins and for two 1.37 GB ones, also
//     with 2.2 million changes.
//     The hold itself is capped: Consul writes every type in its order,
//     so records that wait because an input left it (a decreasing key, a
//     type that comes back, an identity repeated) may number at most
//     Options.MaxOutOfOrder (100,000, with their identities at most 32 MiB);
//     past it Run stops with ErrOrder ("input B is not in Consul's order"),
//     a *decode.RecordError naming the record, so the CLI exits 3, instead
//     of growing. (ErrHoldLimit is the same stop for an input in order
//     whose ACLToken or Peering records wait unmatched beyond the cap.)
//     The per-KV-prefix summary counts at most MaxPrefixes (10,000)
//     prefixes one by one, the rest together as OtherPrefixes: a snapshot
//     of keys all distinct at KVDepth cost a summary entry per key (the
//     memory of the reverse-order case, 716 MiB for 1 M records).
//     MaxHeld is kept small on purpose: held changes carry their field
//     renderings, and a live heap that nears the command's soft memory
//     limit makes the collector run continuously (with 10000 it ran
//     about 1100 times for the 1.37 GB bench pair against 44 for the
//     136 MB one: the super-linear part of the time; now 58 and 6).
//     Held changes keep their values whole within 4 × RawBudget bytes
//     (32 MiB by default, counted by their records' sizes; a type whose
//     held changes pass RawBudget is emitted early like one beyond
//     MaxHeld); beyond it, which only happens when Consul's order cannot
//     release them, string values over 4 KiB are cut and Change.Note says
//     so.
//   - Fast path: while the next records of both inputs are byte-for-byte
//     equal (most of two snapshots of one cluster), each pair is matched
//     and counted unchanged with one identity and sort key, computed from
//     A's copy (for a flat KV record straight from the bytes, without
//     allocating), and nothing is held. Sort keys are read straight from
//     the msgpack bytes for the common types (KV, Register, ACLToken, and
//     those keyed by identity); only rare types take the generic decode.
//     Identical records that cannot be read still stop the diff with an
//     error for each input. Time is linear in size (CPU 0.88 s and 8.8 s
//     for the 136 MB and 1.37 GB bench pairs).
//   - Output order: changes are emitted per type in Consul's type order
//     and within a type in Consul's record order (for one key: removed,
//     modified, added).
//   - Damage: when an input's record stream is cut or a record cannot be
//     decoded, Run stops (the rest of the other input is not reported as
//     added or removed), emits nothing more than what both inputs had
//     passed, sets Summary.Incomplete (which input, at which record and
//     offset, why; Before when it failed before its first record, and then
//     no change at all was emitted) and returns the error. An archive-level failure
//     found after every record was read (SHA-256 or CRC mismatch, size
//     mismatch, bytes after the tar) does not stop the comparison, but is
//     returned too (several are joined with errors.Join). Each error of an
//     input is wrapped once, in an *InputError naming the input (A or B)
//     and its name; inside is decode's error, and a failure about one
//     record is a *decode.RecordError (record number, offset, type), found
//     with errors.As whether decode or diff detected it. decode.IsDamage
//     tells damage from I/O errors. Changes emitted before an error came
//     from unverified data. emit's error is returned as is.
//   - Summary: per type added, removed, modified, unchanged, counts, bytes
//     (sizes as `consul snapshot inspect` counts them, so the per-type
//     bytes equal inspect's) and the delta; per KV prefix at KVDepth
//     (tombstones excluded, as inspect does). Both lists are sorted by
//     growth (Delta, largest first), so what grew comes first.
//
// JSON names (every renderer renders the same structs): a
// change is {"op","type","id","label","size_a","size_b","offset_a",
// "offset_b","fields":[{"path","old","new","schema_only","diff"}],"note",
// "tombstone":{"index","offset_b","size_b"},"deletes"} (old and new are
// JSON values, the absent one left out); the summary is
// {"op":"summary","identical","changes","schema_only_hidden",
// "schema_only_records","kv_deleted","types":[{"name","added","removed",
// "modified","unchanged","count_a","count_b","bytes_a","bytes_b","delta"}],
// "kv_depth","kv_prefixes":[{"prefix",…same counts…}],"meta_a","meta_b":
// {"name","form","id","index","term","version","size","saved","records",
// "integrity"},"warnings"}; a comparison that stopped early ends with
// {"op":"incomplete","input","name","record","offset","layer","error",
// "before_first_record"} instead.
package diff
