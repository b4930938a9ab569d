// Package decode reads HashiCorp Consul snapshots in one streaming pass
// with bounded memory. It is the foundation of snaptool and imports nothing
// of ours. The format is specified in docs/FORMAT.md §2 (the archive) and
// docs/FORMAT.md §4 (state.bin); a summary:
//
//	archive   = gzip( tar( meta.json, state.bin, SHA256SUMS ) )
//	state.bin = header record*        header = msgpack {"LastIndex": uint}
//	record    = type:u8 value:msgpack  exactly one msgpack object, no length prefix
//
// Contract:
//
//   - Inputs: Open accepts an archive (sniffed by its gzip magic), a raw
//     state.bin (meta.json read from the same directory), a raft data-dir
//     snapshot directory (CRC-64 of state.bin checked against meta.json),
//     a data dir or raft/snapshots dir (newest snapshot), or "-" (an archive
//     on stdin). NewArchive, NewStateBin and NewStream take an io.Reader.
//   - Streaming: Snapshot.Next yields one Record at a time: type, byte
//     offset in state.bin, size as `consul snapshot inspect` counts it, and
//     the raw bytes (type byte + value), which alias an internal buffer and
//     are valid until the next call. The header's raw bytes plus every
//     record's raw bytes reproduce state.bin byte for byte. Memory is
//     bounded by the largest record (capped by Options.MaxRecordSize); no
//     input is buffered whole or spooled to disk.
//   - Integrity: SHA256SUMS follows state.bin in the archive, so records are
//     handed out before the checksum is known: Integrity is Pending until
//     Next returns false. Then every check has run — gzip drained to EOF,
//     exact member set, no bytes after the tar end, SHA-256 both ways,
//     meta.json parsed and its Size equal to the state.bin length, CRC-64
//     for data-dir snapshots — and Err reports everything found, located by
//     layer, member, byte offset and record number (ArchiveError,
//     RecordError). A checksum failure says the records already delivered
//     are unverified. After a record fails to decode, the rest of state.bin
//     is still read and hashed so the checksum verdict is still given.
//   - Typed records: DecodeRecord turns a record into Go structs with
//     Consul's wire names (records.go) for every snapshot type, including
//     both time.Time encodings, ConfigEntry's wrapped forms and the protobuf
//     payloads of peering and resource records. Keys a struct does not know
//     are kept in its Extra map; unknown types decode generically. Nothing
//     read is dropped.
//   - One msgpack reader: mpdesc.go classifies every descriptor byte; the
//     scanner, the checker (CheckRecord), the generic decoder (DecodeValue),
//     the field readers (fields.go) and the index reader all build on it,
//     and no other package reads msgpack bytes.
//   - Keys gives each record's identity (the name dump prints and diff
//     matches on), its order key in Consul's write order and a KV record's
//     key, in one pass over the bytes (keys.go; Identity is its first
//     part, Rank the type's position). KVFields reads a KV record's fields
//     without allocating. A field repeated in a map counts once, the last
//     time, as in Consul's decoder, everywhere in this package. Record
//     failures are *RecordError (record number, offset, type). Tree gives an ordered,
//     JSON-ready view of a typed record. View is a record's content as
//     every output shows it; Mask (secrets.go, the one secrets policy)
//     replaces secrets with a Fingerprint. Label (label.go) is a record's
//     human name read from its View (a token's description, a policy's
//     name, a session's Name@Node, …), shown beside the identity, which
//     stays the matching contract. Meta.SavedTime reads when a snapshot
//     was taken from its ID.
//     RedactRecord (redact.go) asks
//     the same policy which values are secret and overwrites each in the
//     record's bytes with a same-length stand-in (NewStandIn: HMAC under a
//     per-run key; UUIDs stay UUIDs, PEM keys stay PEM blocks).
//   - Hostile input: no panic, no allocation driven by a length field beyond
//     the bytes that actually arrived, no recursion deeper than MaxDepth.
//     Inputs are never seeked (pipes, FIFOs, /dev/fd work). Only regular tar
//     members are read; a meta.json Version raft does not support is an
//     error; after the tar's end at most MaxTrailing bytes are read.
//   - Terminal safety: SafeText is the one escaper of input strings for
//     text output and error messages (ArchiveError and RecordError use it);
//     AppendJSONString, AppendJSON, EscapeJSON and SafeJSONWriter write
//     JSON with the same characters \u-escaped.
package decode
