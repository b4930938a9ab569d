// Package rewrite writes a new Consul snapshot archive from an existing one,
// keeping a selection of its records: the engine of `snaptool rewrite`. It
// imports decode (to read) and encode (to write) only.
//
// Contract:
//
//   - Selection is one function of a record, applied identically in both
//     passes: DropTypes, KeepTypes (when set, only these types),
//     DropEnterprise (types 64 and up), KVPrefixes (KVS and Tombstone
//     records are kept only under one of them; other types are untouched)
//     and DropKVPrefixes (KVS and Tombstone records under one of them are
//     dropped). A record is kept when every rule keeps it.
//   - Bytes are truth: a kept record is copied byte for byte
//     (encode.StateWriter.WriteRaw), the FSM header too, so its LastIndex
//     stays, and a rewrite that keeps everything reproduces state.bin
//     exactly. meta.json keeps every field of the input's (ID, Index, Term,
//     Version, Peers, Configuration, ConfigurationIndex) and gets the new
//     Size; SHA256SUMS is recomputed; tar and gzip are written by
//     encode.ArchiveWriter as Consul writes them (Options.Archive.Parallel
//     compresses on several cores with pgzip, still one gzip member).
//   - Index-table rows (type Index, key = a state-store table name) are
//     bookkeeping, not data: each holds the highest raft index that touched
//     its table. They follow the selection of type Index only, never the
//     selection of the types their table holds: dropping Peering records
//     keeps the "peering" row. Reasons, from Consul's restore: the FSM's
//     IndexRestore inserts every row into the index table as is (no check of
//     the table name), so a row of a table the target does not have is
//     inert; restoring a record also raises its table's index to the
//     record's ModifyIndex, so a kept row only keeps the index where the
//     source cluster had it; and dropping it would move a table's index
//     backwards (to 0 for an emptied table), which blocking-query clients
//     watching that table would see as a reset. Every index stays at or
//     below the snapshot's LastIndex, which is kept. `--drop-type Index`
//     (or --keep-type without Index) drops the rows like any other type.
//   - Two passes, no spool: the tar header of state.bin needs its size
//     before its bytes, and nothing is buffered or written to a temporary
//     file. Pass 1 reads IN, selects, and sums the kept bytes; pass 2 reads
//     IN again and writes. IN must therefore be re-openable: a file or
//     directory path, not "-" or a pipe (ErrNotReopenable). Pass 2 must see
//     what pass 1 saw (record counts, kept count and size, meta.json), else
//     ErrChanged. IN is only ever opened for reading.
//   - Integrity first: a damaged IN (any decode error, a checksum mismatch)
//     is refused with decode's error, which decode.IsDamage recognises; no
//     archive is completed from it. An input without checksums (a raw
//     state.bin whose meta.json has no CRC) is rewritten with a warning.
//   - Verified: the archive is decoded again while it is written (the bytes
//     handed to out are teed into decode.NewArchive in a goroutine), and Run
//     fails with ErrVerify unless that read-back has no error, verified
//     checksums, the header, record count and state.bin size of Stats, and
//     meta.json's fields.
//   - Transform is the hook for redaction: called for every record the
//     selection keeps, in both passes, it may replace the record's bytes or
//     drop it. It must give the same decision and the same length for a
//     record in both passes (the size is announced before pass 2); Run
//     checks this and fails with ErrChanged otherwise. Its output is checked
//     to be one record of the same type (encode.ErrBadRecord). Redaction
//     returns the Transform of --redact: decode.RedactRecord with stand-ins
//     from decode.NewStandIn under a per-run random key; the stand-ins
//     keep every length, so the sizes of pass 1 hold in pass 2.
//   - Not checked: references between records. Dropping Session records
//     keeps KV entries whose Session field names them (Consul's restore
//     inserts them as they are, the lock then names a session that does not
//     exist); dropping Register records keeps the sessions and coordinates
//     of their nodes. Select whole features, as preflight's commands do.
//   - Memory: the largest record (decode's buffer) plus the gzip writers'
//     blocks; it does not grow with the input.
package rewrite
