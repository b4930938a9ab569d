// Package raftlog reads a Consul server's raft log offline: the BoltDB
// file raft/raft.db that hashicorp/raft-boltdb writes (v2, on go.etcd.io/bbolt,
// as Consul 1.13 and 1.14 use; v1 files share the layout), or the segment
// files of hashicorp/raft-wal in raft/wal/ (Consul ≥ 1.15 with the WAL
// backend; wal.go). It imports only decode among our packages.
//
// Contract:
//
//   - Input: Open takes a Consul data dir, its raft/ dir, a raft.db file or
//     a wal dir. raft.db is opened with bbolt's ReadOnly option (O_RDONLY, a
//     shared flock, a PROT_READ memory map) and a 1 s lock timeout: bbolt
//     never writes in that mode, so the file's bytes, size and mtime stay as
//     they were (tested, also on a 0400 file). A running server holds an
//     exclusive flock; Open then fails with an error wrapping ErrInUse. An
//     empty or non-BoltDB file is refused before bbolt could try to
//     initialise it. WAL segments are read O_RDONLY without raft-wal's Open
//     (which locks wal-meta.db exclusively and may write).
//   - Layout (raft-boltdb): bucket "logs" maps the big-endian uint64 index to
//     a raft.Log encoded by go-msgpack's MsgpackHandle as a map {Index, Term,
//     Type, Data, Extensions, AppendedAt}; bucket "conf" holds CurrentTerm,
//     LastVoteTerm and LastVoteCand. Consul's command entries carry the
//     message type in Data[0] (bit 7 is the ignore-unknown flag) and the
//     request as msgpack after it, or as protobuf for the peering types.
//     Requests over 512 KiB are split by go-raftchunking (chunks.go).
//   - Streaming: Scanner walks the log in index order and decodes one entry
//     at a time. Memory is bounded by the largest entry, the token table and
//     the pages mapped: a raft.db scan remaps the file every 16 MiB of
//     entries, so the mapped pages stay bounded whatever the file's size. A
//     damaged entry is reported on the Entry (Err) with its index; the scan
//     goes on. One scan at a time per Log; Close ends it.
//   - Entries: Index, Term, raft log type, AppendedAt, the message type,
//     and the operation with the identities it touches (Targets), using the
//     identity strings of decode.Identity (KV key; node:/service:/check:;
//     session, policy, role, prepared query, intention, CA root, peering ID;
//     token AccessorID; config entry Kind/Name). A transaction lists each
//     operation. The mapping is one table, requests.go.
//   - Who: a request's Token is the caller's secret. It is never output:
//     Who carries decode.Fingerprint of it, and the AccessorID and
//     Description found in the ACLToken records of a snapshot and in the
//     token writes of the log itself (in log order). An empty Token is the
//     anonymous token (Consul's servers also write their own entries with
//     none). Request types without a Token field (ACL writes, raft's own
//     entries) have no Who.
//   - Secrets: decode's one policy, decode.Mask: the request wrapper is
//     masked as a generic tree (the caller's Token and every secret-named key
//     at any depth), records inside it (a DirEntry, an ACLToken, a CA root)
//     as dump shows them; peering secrets are fingerprinted whole. Nothing
//     is masked with ShowSecrets.
//   - Filters (Filter) select entries by index or time range, message type,
//     KV prefix or key, node, service and token; Summary counts what was
//     selected per type, operation and token.
package raftlog
