// Package encode writes Consul snapshots: the state.bin record stream
// (docs/FORMAT.md §4) and the gzip(tar(meta.json, state.bin, SHA256SUMS))
// archive around it (docs/FORMAT.md §2.6), byte for byte the way Consul's own
// writer lays them out, so that `consul snapshot restore` accepts the result.
//
// Contract:
//
//   - StateWriter encodes the FSM header and then one record at a time with
//     go-msgpack v0.5.5 and a handle configured like Consul's
//     structs.MsgpackHandle: struct fields come out as maps sorted by key,
//     []byte and strings in the str family (never bin or str8), time.Time
//     through MarshalBinary (the 15-byte form). WriteRaw copies a record that
//     is already encoded (type byte + value), for rewriters that keep bytes.
//   - ArchiveWriter streams: the tar header of state.bin must carry its
//     size before the content, so the caller states the size up front in
//     meta.Size; state.bin bytes are then written straight through gzip while
//     they are hashed, and Close appends SHA256SUMS. Nothing is buffered or
//     spooled. A caller that does not know the size either generates twice
//     (a deterministic generator counts with a StateWriter over io.Discard
//     first, as cmd/snapgen does) or writes state.bin to a temporary file and
//     hands it to WriteArchive.
//   - Tar is Go's archive/tar (USTAR, mode 0600, no record padding), members
//     in Consul's order, SHA256SUMS lines "%x  name\n"; gzip is written once
//     with nothing after its trailer. ArchiveOptions.Parallel compresses on
//     several cores with klauspost/pgzip: still one gzip member, read by any
//     gzip reader.
//
// encode imports decode for MessageType and member names; decode never
// imports encode: reading must not depend on writing.
package encode
