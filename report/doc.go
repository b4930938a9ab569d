// Package report builds the result structs every renderer shares, and the
// renderers themselves: one struct per command result, filled in one
// streaming pass over a decode.Snapshot, rendered as a table, as Consul's
// own text layout or as JSON. It consumes decode's types and never touches
// the command line; cmd/snaptool wires flags to it.
//
// Contract:
//
//   - One pass: inspect, verify and top are accumulators of one shape —
//     NewInspect/NewVerify/NewTop(opts), Add(rec), Finish(snapshot) →
//     result — and Scan(ctx, s, accs...) feeds several of them from one
//     read of s, looking at ctx every 1024 records. Inspect, Verify, Top,
//     Dump, KVExport, KVGet and BuildHTMLReport take ctx and return one
//     error (errors.Join where there are several; per-record errors are
//     *decode.RecordError, capped at 20 and a count).
//   - One printer per format, in the shape of etcdutl's printers:
//     NewPrinter("table"|"text"|"pretty"|"json", w) returns a Printer with
//     a method per result (printer_table.go, printer_pretty.go,
//     printer_json.go). Tables go through tablewriter; the one exception
//     is the "pretty" inspect layout, Consul's own text/tabwriter output
//     reproduced byte for byte. Sizes are ByteSize (Consul's short form)
//     and ExactBytes; counted words are Plural.
//   - Inspect counts records by type (and KV keys by prefix) exactly as
//     `consul snapshot inspect` does (docs/FORMAT.md §11): sizes come from the
//     record scanner, never from re-encoding, and no record is typed-decoded
//     (only the Key of KVS records, and only with KVDetails). InspectResult
//     marshals to a superset of Consul's `-format json` schema, in Consul's
//     key order; FormatPretty reproduces Consul's pretty output byte for byte.
//   - Verify gives a layered verdict (gzip, tar, checksums, meta.json,
//     records, ordering, unknown types). It reads past failures where later
//     layers still tell something, and every Finding carries its place:
//     layer, member, byte offset, record number, type.
//   - Dump streams one JSON line per record (typed data with Consul's field
//     names, secrets masked unless asked) and never holds more than one
//     record.
//   - Top (TopAccumulator) finds what takes the space in one pass: N-sized
//     heaps for the largest records, counters per KV prefix, node and
//     session holder (each capped at 100000 groups, the rest under
//     "(other)"), tombstone build-up. Identities are decode's, so legacy
//     ACL secrets are fingerprinted.
//   - KVExport streams the KV store in the exact bytes `consul kv export`
//     writes (so `consul kv import` reads it back); KVGet returns one raw
//     value. Both read to the end so that checksums are checked.
//   - DiffTextPrinter and DiffJSONPrinter render diff.Run's changes as
//     they are emitted and its Summary at the end: text lines ("+", "-",
//     "M" with changed fields below) and summary tables, or JSON lines
//     ending with {"op":"summary",…} (diff's package doc lists the names).
//     diff computes; it renders nothing.
//   - BuildHTMLReport/WriteHTML render one self-contained HTML file (inline
//     CSS and a few lines of script, nothing fetched; with two snapshots
//     the summary of changes first, ranked by ChangeImportance, then the
//     detail, then each snapshot) from the same
//     structs as the JSON outputs: InspectResult, VerifyResult, TopResult
//     and diff.Summary/diff.Change. Each input is read once: one snapshot
//     through Scan, a pair through diff.Run, whose OnRecord hook feeds each
//     side's accumulators, so "-" works and every section describes the
//     same bytes. Snapshot text is escaped by
//     html/template; secrets are masked by decode and diff.
//
// JSON field names are part of the contract and documented on each struct.
package report
