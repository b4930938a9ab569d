package preflight

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/golden"
)

const (
	fix1139   = "../fixtures/consul-1.13.9/before.snap"
	fixBackup = "../fixtures/consul-testdata/backup.snap"
	fixKV     = "../fixtures/consul-testdata/backupWithKV.snap"
	fixRaw    = "../fixtures/consul-testdata/raw/state.bin"
	fixData   = "../fixtures/consul-1.13.9/datadir/2-109-1795550639209"
)

func mustVersion(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func typeNums(tcs []TypeCount) []int {
	var out []int
	for _, tc := range tcs {
		out = append(out, int(tc.Type))
	}
	return out
}

func problemKinds(r *Result) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Kind)
	}
	return out
}

// TestFixtures checks the real snapshots against targets across the table.
func TestFixtures(t *testing.T) {
	cases := []struct {
		file, target string
		verdict      string
		consulError  string
		failTypes    []int // the types of every record problem, in problem order
		fix          string
		downgrade    bool
		writer       string
	}{
		{fix1139, "1.12.9", VerdictFail, "Unrecognized msg type 35", []int{35, 38, 40},
			"snaptool rewrite --drop-type Peering --drop-type PeeringTrustBundle --drop-type PeeringSecret ../fixtures/consul-1.13.9/before.snap ../fixtures/consul-1.13.9/before.for-1.12.9.snap",
			true, "1.13"},
		{fix1139, "1.11.11", VerdictFail, "Unrecognized msg type 35", []int{35, 38, 40}, "", true, "1.13"},
		{fix1139, "1.10.12", VerdictFail, "Unrecognized msg type 32", []int{32, 33, 35, 38, 40}, "", true, "1.13"},
		{fix1139, "1.13.9", VerdictRestore, "", nil, "", false, "1.13"},
		{fix1139, "1.14.11", VerdictRestore, "", nil, "", false, "1.13"},
		{fix1139, "1.15", VerdictRestore, "", nil, "", false, "1.13"},
		{fix1139, "1.22.3", VerdictRestore, "", nil, "", false, "1.13"},
		{fixData, "1.12.9", VerdictFail, "Unrecognized msg type 35", []int{35, 38, 40}, "", true, "1.13"},
	}
	for _, line := range Table {
		for _, f := range []string{fixBackup, fixKV, fixRaw} {
			cases = append(cases, struct {
				file, target string
				verdict      string
				consulError  string
				failTypes    []int
				fix          string
				downgrade    bool
				writer       string
			}{f, line.Version(-1).String(), VerdictRestore, "", nil, "", false, ""})
		}
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file)+"→"+c.target, func(t *testing.T) {
			r, err := CheckFile(c.file, mustVersion(t, c.target), CE, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != c.verdict || r.WouldRestore != (c.verdict == VerdictRestore) {
				t.Errorf("verdict %q (would_restore %v), want %q; problems %+v", r.Verdict, r.WouldRestore, c.verdict, r.Problems)
			}
			if r.Integrity.Verdict != "ok" && r.Integrity.Verdict != "warnings" {
				t.Errorf("integrity %+v", r.Integrity)
			}
			if r.ConsulError != c.consulError {
				t.Errorf("consul_error %q, want %q", r.ConsulError, c.consulError)
			}
			var got []int
			for _, p := range r.Problems {
				got = append(got, typeNums(p.Types)...)
			}
			if !slices.Equal(got, c.failTypes) {
				t.Errorf("failing types %v, want %v", got, c.failTypes)
			}
			if c.fix != "" && r.Rewrite != c.fix {
				t.Errorf("rewrite\n got %s\nwant %s", r.Rewrite, c.fix)
			}
			if c.verdict == VerdictFail && r.Rewrite == "" {
				t.Error("a failing verdict without a rewrite command")
			}
			if r.Downgrade != c.downgrade || r.Writer.AtLeast != c.writer {
				t.Errorf("downgrade %v writer %+v, want %v %q", r.Downgrade, r.Writer, c.downgrade, c.writer)
			}
			if r.Records == 0 || len(r.Types) == 0 {
				t.Errorf("no records counted: %+v", r)
			}
		})
	}
}

// TestFixture1139Counts pins the per-type counts of the failing types
// against `consul snapshot inspect`'s golden (Peering 2, PeeringTrustBundle
// 1, PeeringSecret 2).
func TestFixture1139Counts(t *testing.T) {
	r, err := CheckFile(fix1139, mustVersion(t, "1.12.9"), CE, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 1 || r.Problems[0].Kind != KindUnknownType {
		t.Fatalf("problems %+v", r.Problems)
	}
	p := r.Problems[0]
	want := map[int]int64{35: 2, 38: 1, 40: 2}
	for _, tc := range p.Types {
		if want[int(tc.Type)] != tc.Count {
			t.Errorf("%s: count %d, want %d", tc.Name, tc.Count, want[int(tc.Type)])
		}
		if tc.Action != ActionFail || tc.Error != fmt.Sprintf("Unrecognized msg type %d", tc.Type) || !tc.Exact {
			t.Errorf("%s: %+v", tc.Name, tc)
		}
	}
	if p.Records != 5 || p.ConsulError != "Unrecognized msg type 35" {
		t.Errorf("problem %+v", p)
	}
	for _, s := range []string{"Peering (35) ×2", "Consul restores Peering from 1.13, PeeringTrustBundle from 1.13", "Consul 1.12.9 CE"} {
		if !strings.Contains(p.Message, s) {
			t.Errorf("message %q lacks %q", p.Message, s)
		}
	}
	if !slices.Equal(r.Writer.Because, []string{"Peering", "PeeringTrustBundle", "PeeringSecret"}) {
		t.Errorf("writer %+v", r.Writer)
	}
}

// state builds a state.bin from raw records (type byte + msgpack value).
func state(records ...[]byte) []byte {
	b := []byte{0x81, 0xa9}
	b = append(b, "LastIndex"...)
	b = append(b, 0x05)
	for _, r := range records {
		b = append(b, r...)
	}
	return b
}

// rec is one record whose value is an empty msgpack map.
func rec(t decode.MessageType) []byte { return []byte{byte(t), 0x80} }

func metaFor(st []byte, version int) []byte {
	return fmt.Appendf(nil, `{"Version":%d,"ID":"2-5-1","Index":5,"Term":2,"Peers":null,"Configuration":{"Servers":null},"ConfigurationIndex":1,"Size":%d}`, version, len(st))
}

func checkBytes(t *testing.T, st, meta []byte, target string, ed Edition, opts Options) *Result {
	t.Helper()
	s, err := decode.NewStateBin(bytes.NewReader(st), meta, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Name = "crafted/state.bin"
	defer s.Close()
	r, err := Check(s, mustVersion(t, target), ed, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCrafted checks hand-built record streams.
func TestCrafted(t *testing.T) {
	ossText := "msg type <65> is a Consul Enterprise log entry. Consul OSS cannot restore it"
	ceText := "msg type <65> is a Consul Enterprise log entry. Consul CE cannot restore it"
	cases := []struct {
		name        string
		records     [][]byte
		metaVersion int
		target      string
		ed          Edition
		env         bool
		verdict     string
		consulError string
		errRecord   int64
		kinds       []string
		fix         string // of the first problem
		exact       bool
		downgrade   bool
		writer      Writer
		note        string // a substring of some note
	}{
		{name: "plain CE records", records: [][]byte{rec(decode.TypeKVS), rec(decode.TypeIndex), rec(decode.TypeChunkingState)},
			metaVersion: 1, target: "1.10.0", ed: CE, verdict: VerdictRestore, exact: true, kinds: nil},
		{name: "Enterprise 65 into 1.14.11", records: [][]byte{rec(decode.TypeKVS), rec(65), rec(65)},
			metaVersion: 1, target: "1.14.11", ed: CE, verdict: VerdictFail, consulError: ceText, errRecord: 2,
			kinds: []string{KindEnterprise}, fix: "snaptool rewrite --drop-enterprise crafted/state.bin crafted/restorable.for-1.14.11.snap",
			exact: true, writer: Writer{Enterprise: true}},
		{name: "Enterprise 65 into 1.13.9", records: [][]byte{rec(65)}, metaVersion: 1, target: "1.13.9", ed: CE,
			verdict: VerdictFail, consulError: ossText, errRecord: 1, kinds: []string{KindEnterprise}, exact: true,
			writer: Writer{Enterprise: true}},
		{name: "Enterprise 65 into 1.13.5 is inferred", records: [][]byte{rec(65)}, metaVersion: 1, target: "1.13.5", ed: CE,
			verdict: VerdictFail, consulError: ossText, errRecord: 1, kinds: []string{KindEnterprise}, exact: false,
			writer: Writer{Enterprise: true}},
		{name: "Enterprise into Enterprise", records: [][]byte{rec(65), rec(69)}, metaVersion: 1, target: "1.16.6",
			ed: Enterprise, verdict: VerdictRestore, exact: false, writer: Writer{Enterprise: true}, note: "not public"},
		{name: "inferred outcomes are noted", records: [][]byte{rec(65)}, metaVersion: 1, target: "1.15.5", ed: CE,
			verdict: VerdictFail, consulError: "msg type <65> is a Consul Enterprise log entry. Consul OSS cannot restore it", errRecord: 1,
			kinds: []string{KindEnterprise}, exact: false, writer: Writer{Enterprise: true}, note: "some outcomes are inferred"},
		{name: "legacy ACL into 1.15", records: [][]byte{rec(decode.TypeACL), rec(decode.TypeACLBootstrap), rec(decode.TypeKVS)},
			metaVersion: 1, target: "1.15.10", ed: CE, verdict: VerdictFail, consulError: "Unrecognized msg type 4", errRecord: 1,
			kinds: []string{KindLegacyACL}, fix: "snaptool rewrite --drop-type ACL --drop-type ACLBootstrap crafted/state.bin crafted/restorable.for-1.15.10.snap",
			exact: true, writer: Writer{LegacyACL: true}},
		{name: "legacy ACL into 1.14", records: [][]byte{rec(decode.TypeACL), rec(decode.TypeACLBootstrap)},
			metaVersion: 1, target: "1.14.11", ed: CE, verdict: VerdictRestore, exact: true, writer: Writer{LegacyACL: true}},
		{name: "meta Version 2", records: [][]byte{rec(decode.TypeKVS)}, metaVersion: 2, target: "1.22.3", ed: CE,
			verdict: VerdictFail, consulError: "unsupported snapshot version 2", errRecord: 0, kinds: []string{KindMetaVersion}, exact: true},
		{name: "meta Version 0 is accepted", records: [][]byte{rec(decode.TypeKVS)}, metaVersion: 0, target: "1.22.3", ed: CE,
			verdict: VerdictRestore, exact: true},
		{name: "first failing record decides the error", records: [][]byte{rec(decode.TypeKVS), rec(65), rec(decode.TypePeering)},
			metaVersion: 1, target: "1.12.9", ed: CE, verdict: VerdictFail, consulError: ossText, errRecord: 2,
			kinds: []string{KindEnterprise, KindUnknownType}, fix: "snaptool rewrite --drop-enterprise crafted/state.bin crafted/restorable.for-1.12.9.snap",
			exact: true, downgrade: true, writer: Writer{AtLeast: "1.13", Because: []string{"Peering"}, Enterprise: true}},
		{name: "Resource into 1.15", records: [][]byte{rec(decode.TypeResource), rec(decode.TypeServiceVirtualIP)}, metaVersion: 1, target: "1.15.10", ed: CE,
			verdict: VerdictFail, consulError: "Unrecognized msg type 42", errRecord: 1, kinds: []string{KindUnknownType},
			fix:   "snaptool rewrite --drop-type Resource crafted/state.bin crafted/restorable.for-1.15.10.snap",
			exact: true, downgrade: true, writer: Writer{AtLeast: "1.16", Because: []string{"Resource"}}},
		{name: "Census and FeatureGate are newer than the table", records: [][]byte{rec(44), rec(45)}, metaVersion: 1, target: "1.22.3", ed: CE,
			verdict: VerdictFail, consulError: "Unrecognized msg type 44", errRecord: 1, kinds: []string{KindUnknownType},
			fix:   "snaptool rewrite --drop-type 44 --drop-type 45 crafted/state.bin crafted/restorable.for-1.22.3.snap",
			exact: true, downgrade: true, writer: Writer{NewerThanTable: true, Because: []string{"Unknown(44)", "Unknown(45)"}}},
		{name: "downgrade mode skips Enterprise records", records: [][]byte{rec(65), rec(decode.TypeKVS)}, metaVersion: 1, target: "1.18.2", ed: CE, env: true,
			verdict: VerdictRestore, exact: true, writer: Writer{Enterprise: true}, note: "ignoring enterprise message as part of downgrade to CE"},
		{name: "downgrade mode of 1.18.0 desynchronises", records: [][]byte{rec(65), rec(decode.TypeKVS)}, metaVersion: 1, target: "1.18.0", ed: CE, env: true,
			verdict: VerdictFail, consulError: "", errRecord: 1, kinds: []string{KindDesync},
			fix: "snaptool rewrite --drop-enterprise crafted/state.bin crafted/restorable.for-1.18.0.snap", exact: true, writer: Writer{Enterprise: true}},
		{name: "type byte 200 gets the Enterprise text", records: [][]byte{rec(200)}, metaVersion: 1, target: "1.16.6", ed: CE,
			verdict: VerdictFail, consulError: "msg type <200> is a Consul Enterprise log entry. Consul CE cannot restore it", errRecord: 1,
			kinds: []string{KindEnterprise}, exact: true, writer: Writer{Flagged: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := state(c.records...)
			r := checkBytes(t, st, metaFor(st, c.metaVersion), c.target, c.ed, Options{DowngradeEnv: c.env})
			if r.Verdict != c.verdict {
				t.Errorf("verdict %q, want %q; problems %+v", r.Verdict, c.verdict, r.Problems)
			}
			if r.ConsulError != c.consulError || r.ConsulErrorRecord != c.errRecord {
				t.Errorf("consul_error %q at record %d, want %q at %d", r.ConsulError, r.ConsulErrorRecord, c.consulError, c.errRecord)
			}
			if !slices.Equal(problemKinds(r), c.kinds) {
				t.Errorf("kinds %v, want %v", problemKinds(r), c.kinds)
			}
			if c.fix != "" && (len(r.Problems) == 0 || r.Problems[0].Fix != c.fix) {
				t.Errorf("fix: got %+v\nwant %s", r.Problems, c.fix)
			}
			if r.Exact != c.exact {
				t.Errorf("exact %v, want %v", r.Exact, c.exact)
			}
			if r.Downgrade != c.downgrade {
				t.Errorf("downgrade %v, want %v", r.Downgrade, c.downgrade)
			}
			if fmt.Sprint(r.Writer) != fmt.Sprint(c.writer) {
				t.Errorf("writer %+v, want %+v", r.Writer, c.writer)
			}
			if c.note != "" && !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, c.note) }) {
				t.Errorf("notes %q lack %q", r.Notes, c.note)
			}
			if r.Records != int64(len(c.records)) {
				t.Errorf("records %d, want %d", r.Records, len(c.records))
			}
		})
	}
}

// TestIntegrityFirst: damage wins over every record verdict, whether found
// by decode or supplied by the caller.
func TestIntegrityFirst(t *testing.T) {
	st := state(rec(decode.TypeKVS), rec(decode.TypePeering))
	// Truncate the last value: a map header promising one pair that never comes.
	damaged := append(st[:len(st)-1], 0x81)
	r := checkBytes(t, damaged, metaFor(damaged, 1), "1.12.9", CE, Options{})
	if r.Verdict != VerdictDamaged || r.WouldRestore || r.Integrity.Source != "decode" || len(r.Integrity.Errors) == 0 {
		t.Errorf("decode damage: %+v", r)
	}
	if len(r.Problems) == 0 || r.Problems[0].Kind != KindIntegrity {
		t.Errorf("problems %+v: integrity must come first", r.Problems)
	}

	// Size mismatch between meta.json and state.bin is damage too.
	r = checkBytes(t, st, metaFor(st[:len(st)-2], 1), "1.13.9", CE, Options{})
	if r.Verdict != VerdictDamaged {
		t.Errorf("size mismatch: verdict %q", r.Verdict)
	}

	// A caller's verdict is used as given.
	r = checkBytes(t, st, metaFor(st, 1), "1.13.9", CE, Options{Integrity: &IntegrityVerdict{Verdict: "damaged", Source: "verify", Errors: []string{"sha256 mismatch"}}})
	if r.Verdict != VerdictDamaged || r.Integrity.Source != "verify" {
		t.Errorf("caller verdict: %+v", r)
	}
	r = checkBytes(t, st, metaFor(st, 1), "1.13.9", CE, Options{Integrity: &IntegrityVerdict{Verdict: "ok", Source: "verify"}})
	if r.Verdict != VerdictRestore {
		t.Errorf("caller ok verdict: %+v", r)
	}
}

func TestUnknownTarget(t *testing.T) {
	for _, v := range []string{"1.9.17", "2.1.0", "1.23"} {
		if _, err := CheckFile(fixBackup, mustVersion(t, v), CE, Options{}); err == nil {
			t.Errorf("%s: want ErrUnknownTarget", v)
		}
	}
}

func TestRewriteCommandQuoting(t *testing.T) {
	v := Version{1, 12, 9}
	for _, c := range []struct{ in, want string }{
		{"a.snap", "snaptool rewrite --drop-type Peering a.snap a.for-1.12.9.snap"},
		{"dir/my backup.snap", "snaptool rewrite --drop-type Peering 'dir/my backup.snap' 'dir/my backup.for-1.12.9.snap'"},
		{"it's.snap", `snaptool rewrite --drop-type Peering 'it'\''s.snap' 'it'\''s.for-1.12.9.snap'`},
		{"-", "snaptool rewrite --drop-type Peering - restorable.for-1.12.9.snap"},
	} {
		if got := rewriteCommand([]string{"--drop-type", "Peering"}, "", c.in, v); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	if got := rewriteCommand(nil, "out.snap", "in.snap", v); got != "snaptool rewrite in.snap out.snap" {
		t.Errorf("explicit out: %s", got)
	}
}

// TestResultJSON pins the JSON shape of a failing result.
func TestResultJSON(t *testing.T) {
	r, err := CheckFile(fix1139, mustVersion(t, "1.12"), CE, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "before-1.12.json", append(b, '\n'))
}

// FuzzCheck: any state.bin bytes, any target of the table, never a panic,
// and a verdict that agrees with the problems.
func FuzzCheck(f *testing.F) {
	f.Add(state(rec(decode.TypeKVS), rec(65)), uint8(2), true)
	f.Add(state(rec(decode.TypeACL), rec(decode.TypePeering), rec(200)), uint8(5), false)
	f.Add([]byte{0x81, 0xa9, 'L', 'a', 's', 't', 'I', 'n', 'd', 'e', 'x', 0x01, 0x41, 0xc1}, uint8(8), true)
	f.Fuzz(func(t *testing.T, st []byte, line uint8, env bool) {
		l := &Table[int(line)%len(Table)]
		s, err := decode.NewStateBin(bytes.NewReader(st), metaFor(st, 1), decode.Options{MaxRecordSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		r, err := Check(s, l.Version(-1), CE, Options{DowngradeEnv: env})
		if err != nil {
			t.Fatal(err)
		}
		switch r.Verdict {
		case VerdictRestore:
			if len(r.Problems) != 0 || !r.WouldRestore {
				t.Fatalf("would restore with problems %+v", r.Problems)
			}
		case VerdictFail:
			if len(r.Problems) == 0 || r.WouldRestore {
				t.Fatalf("would fail without problems")
			}
		case VerdictDamaged:
			if r.WouldRestore {
				t.Fatal("damaged but would restore")
			}
		default:
			t.Fatalf("verdict %q", r.Verdict)
		}
	})
}
