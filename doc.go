// Package snaptool is an offline forensics toolkit for HashiCorp Consul
// snapshots: the .snap archives that `consul snapshot save` writes, a raw
// state.bin with its meta.json, and a server's raft data-dir snapshots.
//
// Architecture. Package decode is the foundation and imports nothing of
// ours: it reads any input form in one streaming pass (gzip, tar, SHA-256
// checked both ways, meta.json, CRC-64 for data-dir snapshots), scans
// state.bin into records without building values (type, offset, size as
// Consul counts it, raw bytes), and on demand decodes a record into typed Go
// structs with Consul's wire names, its identity, and an ordered tree for
// output. Package diff consumes decode's record streams of two snapshots and
// merge-joins them on (type, identity) into added, removed and modified
// records with field-level changes. Package history reads a series of
// snapshots (one pass per file, two files at a time) into per-snapshot
// sizes, growth between consecutive ones from a 16-byte-per-record digest,
// and what grew most. Package report turns decode, diff and history
// results into the result structs every renderer shares (inspect
// breakdowns equal to Consul's, verify verdicts, top lists, history
// tables, CSV, Prometheus, HTML) and renders them, the diff's text and JSON
// lines included: diff renders nothing. Package encode writes records and
// archives as Consul does; package preflight holds the table of what each
// Consul release restores and checks a snapshot against a target; package
// rewrite writes a new snapshot with a selection of another's records
// (decode in, encode out). Package raftlog reads a server's raft log
// (raft.db read-only, raft-wal segments) into entries with their
// operation, targets and caller (decode only); package replay gives the
// state at any raft index, DATA_DIR@INDEX, as a decode.Snapshot: a
// data-dir snapshot plus log entries applied as Consul's state store
// applies them (decode, encode and raftlog). Command
// cmd/snaptool only wires pflag flags to these packages and decides exit
// codes. fixtures/ holds real snapshots made by a real Consul 1.13.9 and
// Consul's own test snapshots; fixtures/consul builds that Consul.
package snaptool
