// Package preflight answers, before a restore, whether a given Consul server
// would accept a snapshot, and if not, what it would say and which records to
// drop. It imports only decode.
//
// Contract:
//
//   - The version table (versions.go) is read from Consul's own source, one
//     row per CE release line from 1.10 to 1.22: the message types whose
//     restore its FSM accepts (agent/consul/fsm/snapshot_oss.go or
//     snapshot_ce.go registerRestorer calls, plus the types fsm.go's Restore
//     handles itself), and what Restore does with every other type, with
//     Consul's error text word for word and the patch releases where that
//     text changed. Every row names the module versions it was read from.
//     Behaviour at a patch no source was read for is interpolated between
//     read patches and marked unverified.
//   - Check (and the streaming Checker it wraps) reads every record once,
//     keeps only per-type counters (memory does not grow with the input),
//     and returns a Result: integrity first (a verdict supplied by the
//     caller, normally report.Verify's, or a minimal one computed from
//     decode's errors), then meta.json's Version against raft's accepted
//     range, then every record type against the target: unknown to the
//     target, Enterprise types (>= 64) into CE, legacy ACL (4) and
//     ACLBootstrap (11) on targets that no longer restore them. Each problem
//     carries its record types, counts, first record, Consul's error text and
//     the `snaptool rewrite` command that removes it. The Result also infers
//     the oldest Consul that could have written the file from its records, so
//     a downgrade is named as one.
//   - Consul aborts a restore at the first record it cannot restore, so
//     Result.ConsulError is the error of the first such record in stream
//     order; raft then wraps it ("failed to restore snapshot <id>: ...") and
//     the server panics ("failed to restore snapshot: failed to restore
//     snapshot <id>: ..."). The snapshot ID is the one raft creates during the
//     restore, so it cannot be predicted here.
//   - Not checked: the contents of records of types the target knows (for
//     example a config entry kind newer than the target, which
//     MakeConfigEntry refuses). Enterprise targets: Consul Enterprise's
//     restorers are not public; Enterprise types (64..127) are assumed
//     restorable and flagged as unverified.
package preflight
