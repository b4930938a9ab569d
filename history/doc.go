// Package history follows a series of Consul snapshots over time: per
// snapshot its saved time, Index, integrity verdict, records and sizes per
// type and per KV prefix; between consecutive snapshots the growth per
// type and per prefix and the records added, removed and modified per
// type; over the whole series which types, KV prefixes, nodes and services
// grew most. It reads each snapshot once, streaming, and imports decode
// only; report renders its Result (table, JSON, CSV, Prometheus, HTML).
//
// Contract:
//
//   - Order: snapshots are ordered by meta.json's Index, then by the time
//     in their ID (term-index-milliseconds, as raft names snapshots), then
//     by path. Inputs whose meta.json cannot be read go last, by path: a
//     file that cannot even be opened is most likely the newest, cut off
//     while it was written. Finding the order reads only meta.json (the
//     archive's first member).
//   - One pass per file: files are read by a pool of Options.Workers
//     goroutines (2 by default), each file once, record by record; results
//     are consumed in series order, so the output does not depend on
//     scheduling.
//   - Damage: a damaged file stays in the series with Verdict "damaged"
//     and the counts of what could be read; the steps into and out of it
//     are marked Partial. A file that cannot be opened at all is
//     "unreadable". Neither stops the series.
//   - Verdict: Options.Verifier reads each file in the same single pass
//     and judges it; report.HistoryVerifier is verify's layered verdict
//     (report.VerifyAccumulator next to history's accumulator in one
//     report.Scan), so a file's verdict here is `snaptool verify`'s: gzip,
//     tar, checksums, meta.json, every record's typed check, ordering and
//     unknown types. An older damaged file only warns; the cron check
//     looks at the newest.
//   - Record changes come from a digest, not from diff's field-level
//     engine (which would read every inner snapshot twice). Each record
//     contributes one 16-byte entry: a 64-bit key (the record type in the
//     top 8 bits, 56 bits of a hash of its identity, decode.Keys; for KV
//     records the same identity from decode.KVFields, which also gives the
//     key) and decode.ContentHash of the record (map entries count
//     regardless of their order, everything else byte for byte; nothing is
//     re-encoded). The entries are sorted once the file is read and the
//     digests of two consecutive snapshots are merge-joined: a key only in
//     the newer one is added, only in the older one removed, in both with
//     different content hashes modified. Memory is 16 bytes per record
//     (up to 20 while the slice grows); at most three digests are alive:
//     the previous snapshot's, and one per worker (Workers = 2).
//   - Bounded memory on hostile input: a digest holds at most
//     Options.MaxDigest records (2 Mi, 32 MiB); a snapshot with more is
//     still counted but the steps next to it compare no records
//     (Step.Compared false). KV prefixes, nodes and services are counted
//     by name up to MaxNames (131072) per snapshot, the rest under
//     "(other)".
//   - Modified means the content differs, raft bookkeeping included: a
//     record rewritten with a new ModifyIndex is modified, and Index table
//     entries change whenever their table was written. The counts
//     therefore equal `snaptool diff --include-raft-bookkeeping` (tested
//     on the fixture series), not diff's default, which ignores
//     CreateIndex, ModifyIndex and the Index table. A Go map that Consul
//     wrote in another order is not a change (diff agrees). Collisions:
//     two identities of one type share a key with probability about
//     n²/2⁵⁷ (n records of the type); a modification is missed with
//     probability 2⁻⁶⁴.
//   - Attribution: the net growth from the first to the last intact
//     snapshot per type, KV prefix (at Options.KVDepth), node (the bytes
//     of its Register records: node, services, checks) and service name
//     (the bytes of its service registrations on every node), ranked by
//     growth, largest first, Options.TopN of each. Only the first and the
//     current snapshot's node and service tables are kept.
package history
