package preflight

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// Version is a Consul release. Patch is -1 when only the release line was
// given ("1.12"); the line's newest patch in the table is then assumed.
type Version struct {
	Major, Minor, Patch int
}

// ParseVersion accepts "1.12", "1.12.9" and a leading "v".
func ParseVersion(s string) (Version, error) {
	in := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q: want MAJOR.MINOR or MAJOR.MINOR.PATCH", in)
	}
	var n [3]int
	n[2] = -1
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 9999 || p == "" || (len(p) > 1 && p[0] == '0') {
			return Version{}, fmt.Errorf("version %q: %q is not a number", in, p)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, nil
}

// String is "1.12.9", or "1.12" when Patch is -1.
func (v Version) String() string {
	if v.Patch < 0 {
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// LineString is "1.12".
func (v Version) LineString() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Compare orders versions; a line without patch sorts before its patches.
func (v Version) Compare(w Version) int {
	if c := v.Major - w.Major; c != 0 {
		return c
	}
	if c := v.Minor - w.Minor; c != 0 {
		return c
	}
	return v.Patch - w.Patch
}

// Edition is the target's edition.
type Edition string

const (
	CE         Edition = "ce"
	Enterprise Edition = "enterprise"
)

// ParseEdition accepts ce (also oss) and enterprise (also ent).
func ParseEdition(s string) (Edition, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ce", "oss", "":
		return CE, nil
	case "enterprise", "ent":
		return Enterprise, nil
	}
	return "", fmt.Errorf("edition %q: want ce or enterprise", s)
}

// Change records where, inside one release line, a behaviour of Restore
// appears. From is the first patch with it (-1: no patch of the line has it;
// 0: every patch). LastWithout and FirstWith are the patches actually read
// on each side (-1: none read); a patch strictly between them is an
// inference, not a reading.
type Change struct {
	From        int
	LastWithout int
	FirstWith   int
}

func always() Change { return Change{From: 0, LastWithout: -1, FirstWith: 0} }
func never(newestRead int) Change {
	return Change{From: -1, LastWithout: newestRead, FirstWith: -1}
}

// At reports whether patch has the behaviour and whether that was read
// (rather than inferred) from the source of a patch on the same side.
func (c Change) At(patch int) (has, read bool) {
	has = c.From >= 0 && patch >= c.From
	if has {
		return true, c.FirstWith >= 0 && patch >= c.FirstWith
	}
	return false, patch <= c.LastWithout
}

// Line is one CE release line as its source reads. The comment above each
// row of Table names the module versions (from the Go module proxy) and
// the files and functions read.
type Line struct {
	Major, Minor int
	// Read lists the patches whose source was read; the newest is the
	// default when a target gives only the line.
	Read []int
	// Raft is the hashicorp/raft version in the newest read patch's go.mod.
	Raft string
	// Restores lists the types Restore accepts: the registerRestorer
	// calls of snapshot_oss.go/snapshot_ce.go init(), plus ChunkingState
	// (29) and, from 1.16, Resource (42), which fsm.go's Restore handles in
	// its own switch.
	Restores []decode.MessageType
	// EntCheck: Restore gives msg >= 64 its own error ("msg type <N> is a
	// Consul Enterprise log entry. ..."); without it every unknown type is
	// "Unrecognized msg type N".
	EntCheck Change
	// CEWord: that error says "Consul CE" (earlier patches: "Consul OSS").
	CEWord Change
	// Downgrade: Restore honours CONSUL_ENTERPRISE_DOWNGRADE_TO_CE=true
	// (structs.CEDowngrade) and skips msg >= 64 with a warning.
	Downgrade Change
	// DowngradeConsumes: the skip decodes and discards the record's value
	// (GH-20977). Before it, the skip returned without reading the value,
	// so the next "type byte" is read from inside the skipped value.
	DowngradeConsumes Change
}

// Newest is the newest patch read.
func (l *Line) Newest() int { return l.Read[len(l.Read)-1] }

// Version returns the line as a Version with patch p (-1: the newest read).
func (l *Line) Version(p int) Version {
	if p < 0 {
		p = l.Newest()
	}
	return Version{l.Major, l.Minor, p}
}

// RestoresType reports whether the line's Restore accepts t.
func (l *Line) RestoresType(t decode.MessageType) bool { return slices.Contains(l.Restores, t) }

// LegacyACL reports whether the line still restores legacy ACL (4) and
// ACLBootstrap (11) records (as tokens and as the acl-token-bootstrap index).
func (l *Line) LegacyACL() bool { return l.RestoresType(decode.TypeACL) }

// Type sets, built up the way Consul added them.
var (
	// v1.10.12 agent/consul/fsm/snapshot_oss.go init(): 22 registerRestorer
	// calls; fsm.go Restore: ChunkingState.
	restores110 = []decode.MessageType{
		decode.TypeRegister, decode.TypeKVS, decode.TypeSession, decode.TypeACL, decode.TypeTombstone,
		decode.TypeCoordinateBatchUpdate, decode.TypePreparedQuery, decode.TypeAutopilot,
		decode.TypeACLBootstrap, decode.TypeIntention, decode.TypeConnectCA,
		decode.TypeConnectCAProviderState, decode.TypeConnectCAConfig, decode.TypeIndex,
		decode.TypeACLToken, decode.TypeACLPolicy, decode.TypeConfigEntry, decode.TypeACLRole,
		decode.TypeACLBindingRule, decode.TypeACLAuthMethod, decode.TypeChunkingState,
		decode.TypeFederationState, decode.TypeSystemMetadata,
	}
	// v1.11.0: + ServiceVirtualIPRequestType, FreeVirtualIPRequestType.
	restores111 = with(restores110, decode.TypeServiceVirtualIP, decode.TypeFreeVirtualIP)
	// v1.13.0: + PeeringWriteType, PeeringTrustBundleWriteType, PeeringSecretsWriteType.
	restores113 = with(restores111, decode.TypePeering, decode.TypePeeringTrustBundle, decode.TypePeeringSecret)
	// v1.15.0: restoreACL (DeprecatedACLRequestType) and restoreACLBootstrap removed.
	restores115 = without(restores113, decode.TypeACL, decode.TypeACLBootstrap)
	// v1.16.0: fsm.go Restore: case msg == structs.ResourceOperationType.
	restores116 = with(restores115, decode.TypeResource)
)

func with(base []decode.MessageType, add ...decode.MessageType) []decode.MessageType {
	out := append(slices.Clone(base), add...)
	slices.Sort(out)
	return out
}

func without(base []decode.MessageType, drop ...decode.MessageType) []decode.MessageType {
	return slices.DeleteFunc(slices.Clone(base), func(t decode.MessageType) bool { return slices.Contains(drop, t) })
}

func init() {
	slices.Sort(restores110)
	for i := range Table {
		if !slices.IsSorted(Table[i].Read) || len(Table[i].Read) == 0 {
			panic("preflight: Table row " + Table[i].Version(-1).String() + ": Read must be sorted and non-empty")
		}
	}
}

// Table is the version table, oldest line first. Sources: the module zip
// of github.com/hashicorp/consul@vX.Y.Z from the Go module proxy, files
// agent/consul/fsm/fsm.go (func (c *FSM) Restore and func ReadSnapshot,
// identical in every version read), agent/consul/fsm/snapshot_oss.go or
// snapshot_ce.go (func init: registerRestorer), agent/structs/structs.go
// (MessageType constants), go.mod (hashicorp/raft).
var Table = []Line{
	// 1.10: consul@v1.10.0, v1.10.12. snapshot_oss.go init() registers
	// ACLRequestType (4) and ACLBootstrapRequestType (11). fsm.go Restore
	// default: `fmt.Errorf("Unrecognized msg type %d", msg)` for every
	// unknown type, Enterprise ones included. raft v1.3.6.
	{Major: 1, Minor: 10, Read: []int{0, 12}, Raft: "v1.3.6", Restores: restores110,
		EntCheck: never(12), CEWord: never(12), Downgrade: never(12), DowngradeConsumes: never(12)},
	// 1.11: consul@v1.11.0, v1.11.11. + ServiceVirtualIP (32), FreeVirtualIP
	// (33); legacy ACL now DeprecatedACLRequestType (still 4), restored into
	// a token by LegacyACL.Convert. The Enterprise-check backport (#15118)
	// came after the last 1.11 release. raft v1.3.6.
	{Major: 1, Minor: 11, Read: []int{0, 11}, Raft: "v1.3.6", Restores: restores111,
		EntCheck: never(11), CEWord: never(11), Downgrade: never(11), DowngradeConsumes: never(11)},
	// 1.12: consul@v1.12.0, v1.12.9. v1.12.0 Restore has no Enterprise check;
	// v1.12.9 has `msg type <%d> is a Consul Enterprise log entry. Consul
	// OSS cannot restore it`. Inferred boundary 1.12.7: backport #15119 of
	// #15066 merged 2022-10-24, 1.12.6 was 2022-10-19 and 1.12.7 2022-11-30.
	{Major: 1, Minor: 12, Read: []int{0, 9}, Raft: "v1.3.6", Restores: restores111,
		EntCheck: Change{From: 7, LastWithout: 0, FirstWith: 9}, CEWord: never(9),
		Downgrade: never(9), DowngradeConsumes: never(9)},
	// 1.13: consul@v1.13.0, v1.13.3, v1.13.9. + Peering (35),
	// PeeringTrustBundle (38), PeeringSecret (40). Enterprise check absent in
	// 1.13.3, present ("Consul OSS") in 1.13.9; 1.13.4 (2022-11-30, the
	// release after #15066) assumed first.
	{Major: 1, Minor: 13, Read: []int{0, 3, 9}, Raft: "v1.3.11", Restores: restores113,
		EntCheck: Change{From: 4, LastWithout: 3, FirstWith: 9}, CEWord: never(9),
		Downgrade: never(9), DowngradeConsumes: never(9)},
	// 1.14: consul@v1.14.0, v1.14.1, v1.14.8, v1.14.11; snapshot_oss.go up to
	// 1.14.8, snapshot_ce.go in 1.14.11. Enterprise check from 1.14.0;
	// "Consul OSS" in 1.14.8, "Consul CE" in 1.14.11; 1.14.10 (2023-09-19,
	// the day 1.15.6 and 1.16.2 switched to "CE") assumed first. Legacy ACL
	// (4, 11) still restored. raft v1.3.11.
	{Major: 1, Minor: 14, Read: []int{0, 1, 8, 11}, Raft: "v1.3.11", Restores: restores113,
		EntCheck: always(), CEWord: Change{From: 10, LastWithout: 8, FirstWith: 11},
		Downgrade: never(11), DowngradeConsumes: never(11)},
	// 1.15: consul@v1.15.0, v1.15.4, v1.15.6, v1.15.7, v1.15.10.
	// restoreACL/restoreACLBootstrap gone: 4 and 11 are "Unrecognized msg
	// type 4"/"11". "Consul OSS" in 1.15.4, "Consul CE" in 1.15.6 (1.15.5,
	// 2023-08-08 with the still-"OSS" 1.16.1, assumed "OSS"). raft v1.5.0.
	{Major: 1, Minor: 15, Read: []int{0, 4, 6, 7, 10}, Raft: "v1.5.0", Restores: restores115,
		EntCheck: always(), CEWord: Change{From: 6, LastWithout: 4, FirstWith: 6},
		Downgrade: never(10), DowngradeConsumes: never(10)},
	// 1.16: consul@v1.16.0, v1.16.1, v1.16.2, v1.16.3, v1.16.6. fsm.go Restore
	// gains `case msg == structs.ResourceOperationType` (42, into the
	// storage backend). "Consul OSS" in 1.16.0/1.16.1, "Consul CE" from
	// 1.16.2. raft v1.5.0.
	{Major: 1, Minor: 16, Read: []int{0, 1, 2, 3, 6}, Raft: "v1.5.0", Restores: restores116,
		EntCheck: always(), CEWord: Change{From: 2, LastWithout: 1, FirstWith: 2},
		Downgrade: never(6), DowngradeConsumes: never(6)},
	// 1.17: consul@v1.17.0, v1.17.3, v1.17.4. Same as 1.16.2+. raft v1.5.0.
	{Major: 1, Minor: 17, Read: []int{0, 3, 4}, Raft: "v1.5.0", Restores: restores116,
		EntCheck: always(), CEWord: always(), Downgrade: never(4), DowngradeConsumes: never(4)},
	// 1.18: consul@v1.18.0, v1.18.1, v1.18.2. structs.CEDowngrade =
	// os.Getenv("CONSUL_ENTERPRISE_DOWNGRADE_TO_CE") == "true"; Restore:
	// `if structs.CEDowngrade && msg >= 64` logs and, in 1.18.0/1.18.1,
	// `return nil` without decoding the value; from 1.18.2 (GH-20977)
	// `var ignore interface{}; return dec.Decode(&ignore)`. raft v1.5.0.
	{Major: 1, Minor: 18, Read: []int{0, 1, 2}, Raft: "v1.5.0", Restores: restores116,
		EntCheck: always(), CEWord: always(), Downgrade: always(),
		DowngradeConsumes: Change{From: 2, LastWithout: 1, FirstWith: 2}},
	// 1.19: consul@v1.19.2. Same Restore as 1.18.2. raft v1.5.0.
	{Major: 1, Minor: 19, Read: []int{2}, Raft: "v1.5.0", Restores: restores116,
		EntCheck: always(), CEWord: always(), Downgrade: always(), DowngradeConsumes: always()},
	// 1.20: consul@v1.20.6. Same. raft v1.7.0.
	{Major: 1, Minor: 20, Read: []int{6}, Raft: "v1.7.0", Restores: restores116,
		EntCheck: always(), CEWord: always(), Downgrade: always(), DowngradeConsumes: always()},
	// 1.21: consul@v1.21.5. Same. raft v1.7.3.
	{Major: 1, Minor: 21, Read: []int{5}, Raft: "v1.7.3", Restores: restores116,
		EntCheck: always(), CEWord: always(), Downgrade: always(), DowngradeConsumes: always()},
	// 1.22: consul@v1.22.0, v1.22.2, v1.22.3. structs.go adds
	// CensusRequestType = 44 ("Census"), a log-only command with no restorer:
	// a 44 record is "Unrecognized msg type 44". No FeatureGate (45): that is
	// in main (2.1.0-dev, unreleased), not in any tag readable here.
	// raft v1.7.3.
	{Major: 1, Minor: 22, Read: []int{0, 2, 3}, Raft: "v1.7.3", Restores: restores116,
		EntCheck: always(), CEWord: always(), Downgrade: always(), DowngradeConsumes: always()},
}

// Raft's accepted meta.json Version range: hashicorp/raft config.go
// SnapshotVersionMin = 0, SnapshotVersionMax = 1 (v1.3.11 and v1.7.3 read;
// unchanged since raft 1.0). restoreUserSnapshot refuses anything else with
// `unsupported snapshot version %d` before the FSM sees a byte.
const (
	SnapshotVersionMin = 0
	SnapshotVersionMax = 1
)

// LineOf returns the table row of v's release line.
func LineOf(v Version) (*Line, bool) {
	for i := range Table {
		if Table[i].Major == v.Major && Table[i].Minor == v.Minor {
			return &Table[i], true
		}
	}
	return nil, false
}

// Action is what a target's Restore does with one record.
type Action string

const (
	// ActionRestore: a restorer (or Restore itself) takes the record.
	ActionRestore Action = "restore"
	// ActionFail: Restore returns Error and the restore aborts.
	ActionFail Action = "fail"
	// ActionSkip: the CE downgrade mode decodes the value and drops it.
	ActionSkip Action = "skip"
	// ActionDesync: the 1.18.0/1.18.1 downgrade mode returns without
	// reading the value, so the value's bytes are read as further records.
	ActionDesync Action = "desync"
)

// Outcome is a target's handling of one record type.
type Outcome struct {
	Action Action
	// Error is Consul's error text, word for word, when Action is fail.
	Error string
	// Read is false when the behaviour at this patch was inferred (a patch
	// between two read ones across a change, or outside the read range),
	// or when it concerns Enterprise restorers, which are not public.
	Read bool
}

// Outcome says what line l at patch (-1: newest read) does with a record of
// type t. downgradeEnv is CONSUL_ENTERPRISE_DOWNGRADE_TO_CE=true in the
// server's environment.
func (l *Line) Outcome(patch int, ed Edition, t decode.MessageType, downgradeEnv bool) Outcome {
	if patch < 0 {
		patch = l.Newest()
	}
	inRange := patch >= l.Read[0] && patch <= l.Newest()
	if l.RestoresType(t) {
		return Outcome{Action: ActionRestore, Read: inRange}
	}
	if ed == Enterprise && t >= 64 && t < 128 {
		return Outcome{Action: ActionRestore, Read: false}
	}
	ent, entRead := l.EntCheck.At(patch)
	if t >= 64 && downgradeEnv {
		if dg, dgRead := l.Downgrade.At(patch); dg {
			consumes, cRead := l.DowngradeConsumes.At(patch)
			read := inRange && dgRead && cRead
			if consumes {
				return Outcome{Action: ActionSkip, Read: read}
			}
			return Outcome{Action: ActionDesync, Read: read}
		}
	}
	if t >= 64 && ent {
		ce, ceRead := l.CEWord.At(patch)
		word := "OSS"
		if ce {
			word = "CE"
		}
		return Outcome{Action: ActionFail, Read: inRange && entRead && ceRead,
			Error: fmt.Sprintf("msg type <%d> is a Consul Enterprise log entry. Consul %s cannot restore it", int(t), word)}
	}
	read := inRange
	if t >= 64 {
		read = read && entRead
	}
	return Outcome{Action: ActionFail, Read: read, Error: fmt.Sprintf("Unrecognized msg type %d", int(t))}
}

// FirstRestoring returns the oldest line in the table that restores t, or
// false when none does.
func FirstRestoring(t decode.MessageType) (*Line, bool) {
	for i := range Table {
		if Table[i].RestoresType(t) {
			return &Table[i], true
		}
	}
	return nil, false
}

// NewestLine is the newest row of the table.
func NewestLine() *Line { return &Table[len(Table)-1] }
