// Package raftlog reads a Consul server's raft log offline: the BoltDB
// file raft/raft.db that hashicorp/raft-boltdb writes (v2, on go.etcd.io/bbolt,
// as Consul 1.13 and 1.14 use; v1 files share the layout). It imports only
// decode among our packages.
//
// Contract:
//
//   - Input: Open takes a Consul data dir, its raft/ dir, or a raft.db file.
//     The file is opened with bbolt's ReadOnly option (O_RDONLY, a shared
//     flock, a PROT_READ memory map) and a 1 s lock timeout: bbolt never
//     writes in that mode, so the file's bytes, size and mtime stay as they
//     were (tested). A running server holds an exclusive flock; Open then
//     fails with an error wrapping ErrInUse. An empty or non-BoltDB file is
//     refused before bbolt could try to initialise it.
//   - Layout (raft-boltdb): bucket "logs" maps the big-endian uint64 index to
//     a raft.Log encoded by go-msgpack's MsgpackHandle as a map {Index, Term,
//     Type, Data, Extensions, AppendedAt}; bucket "conf" holds CurrentTerm,
//     LastVoteTerm and LastVoteCand. Consul's command entries carry the
//     message type in Data[0] (bit 7 is the ignore-unknown flag) and the
//     request as msgpack after it, or as protobuf for the peering types.
//   - Streaming: Scanner walks the logs bucket in index order inside one
//     read transaction and decodes one entry at a time; memory is bounded
//     by the largest entry plus the token table. A damaged entry is
//     reported on the Entry (Err) with its index; the scan goes on.
//   - Entries: Index, Term, raft log type, AppendedAt, the message type,
//     and the operation with the identities it touches (Targets), using the
//     identity strings of decode.Identity (KV key; node:/service:/check:;
//     session, policy, role, prepared query, intention, CA root, peering ID;
//     token AccessorID; config entry Kind/Name). A transaction lists each
//     operation. The mapping is one table, requests.go.
//   - Who: a request's Token is the caller's secret. It is never output:
//     Who carries decode.Fingerprint of it, and the AccessorID and
//     Description found in the ACLToken records of a snapshot and in the
//     token writes of the log itself (in log order). No token is the
//     anonymous token.
//   - Secrets: the request tree is masked with decode.MaskSecrets (every
//     secret-looking key at any depth: Token, SecretID, private and signing
//     keys) and peering secrets are fingerprinted, unless ShowSecrets.
//   - Filters (Filter) select entries by index or time range, message type,
//     KV prefix or key, node, service and token; Summary counts what was
//     selected per type, operation and token.
package raftlog
