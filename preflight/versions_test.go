package preflight

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// sourceBlock is what testdata/extract-consul-source.sh read from one
// Consul module version.
type sourceBlock struct {
	version   Version
	consts    map[string]int
	restorers []string
	switches  []string
	errors    []string
	downgrade bool
	consumes  bool
	raft      string
}

func loadSource(t *testing.T) []sourceBlock {
	t.Helper()
	f, err := os.Open("testdata/consul-source.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sourceBlock
	var b *sourceBlock
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), " ")
		switch key {
		case "version":
			v, err := ParseVersion(val)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sourceBlock{version: v, consts: map[string]int{}})
			b = &out[len(out)-1]
		case "const":
			name, num, _ := strings.Cut(val, " ")
			n, err := strconv.Atoi(num)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			b.consts[name] = n
		case "restorer":
			b.restorers = append(b.restorers, val)
		case "switch":
			b.switches = append(b.switches, val)
		case "error":
			s, err := strconv.Unquote(val)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			b.errors = append(b.errors, s)
		case "downgrade":
			b.downgrade = true
		case "downgrade-consumes":
			b.consumes = true
		case "raft":
			b.raft = val
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("testdata/consul-source.txt holds no version")
	}
	return out
}

// TestTableMatchesConsulSource derives, for every Consul version whose
// source was read, what its Restore does with each of the 256 type bytes
// (from the registerRestorer calls, Restore's own cases and its error
// formats) and compares the table's answer.
func TestTableMatchesConsulSource(t *testing.T) {
	blocks := loadSource(t)
	seen := map[string]bool{}
	for _, b := range blocks {
		seen[b.version.String()] = true
		l, ok := LineOf(b.version)
		if !ok {
			t.Errorf("%s: source read but its line is not in the table", b.version)
			continue
		}
		if !slices.Contains(l.Read, b.version.Patch) {
			t.Errorf("%s: source read but not listed in the line's Read %v", b.version, l.Read)
		}
		if b.version.Patch == l.Newest() && b.raft != l.Raft {
			t.Errorf("%s: go.mod has raft %s, table says %s", b.version, b.raft, l.Raft)
		}
		restorable := map[int]bool{}
		for _, name := range append(slices.Clone(b.restorers), b.switches...) {
			n, ok := b.consts[name]
			if !ok {
				t.Fatalf("%s: %s is not a MessageType constant", b.version, name)
			}
			restorable[n] = true
		}
		entFormat, unknownFormat := "", ""
		for _, e := range b.errors {
			if strings.Contains(e, "Enterprise") {
				entFormat = e
			} else {
				unknownFormat = e
			}
		}
		if unknownFormat != "Unrecognized msg type %d" {
			t.Errorf("%s: Restore's unknown-type error is %q", b.version, unknownFormat)
		}
		for typ := 0; typ < 256; typ++ {
			mt := decode.MessageType(typ)
			for _, env := range []bool{false, true} {
				want := Outcome{Action: ActionFail, Read: true}
				switch {
				case restorable[typ]:
					want = Outcome{Action: ActionRestore, Read: true}
				case env && b.downgrade && typ >= 64 && b.consumes:
					want.Action = ActionSkip
				case env && b.downgrade && typ >= 64:
					want.Action = ActionDesync
				case typ >= 64 && entFormat != "":
					want.Error = fmt.Sprintf(entFormat, typ)
				default:
					want.Error = fmt.Sprintf(unknownFormat, typ)
				}
				got := l.Outcome(b.version.Patch, CE, mt, env)
				if got != want {
					t.Errorf("%s type %d (downgrade env %v): table says %+v, source says %+v", b.version, typ, env, got, want)
				}
			}
		}
		// The table's type names are Consul's constants' numbers.
		for name, n := range b.consts {
			if restorable[n] && !mt(n).Known() {
				t.Errorf("%s: restorable type %s=%d has no display name in decode", b.version, name, n)
			}
		}
	}
	for _, l := range Table {
		for _, p := range l.Read {
			if v := l.Version(p).String(); !seen[v] {
				t.Errorf("table lists %s as read, but testdata/consul-source.txt has no block for it", v)
			}
		}
	}
}

func mt(n int) decode.MessageType { return decode.MessageType(n) }

// TestLineFacts asserts the key facts of every release line, including the
// patches whose behaviour is inferred.
func TestLineFacts(t *testing.T) {
	const oss = "msg type <%d> is a Consul Enterprise log entry. Consul OSS cannot restore it"
	const ce = "msg type <%d> is a Consul Enterprise log entry. Consul CE cannot restore it"
	unrec := func(n int) string { return fmt.Sprintf("Unrecognized msg type %d", n) }
	type fact struct {
		target  string
		ed      Edition
		env     bool
		typ     int
		action  Action
		err     string // fmt with the type number when it has %d
		read    bool
		comment string
	}
	facts := []fact{
		{"1.10.12", CE, false, 4, ActionRestore, "", true, "legacy ACL restored as a token"},
		{"1.10.12", CE, false, 11, ActionRestore, "", true, "ACLBootstrap restored into the index table"},
		{"1.10.12", CE, false, 32, ActionFail, unrec(32), true, "virtual IPs arrive in 1.11"},
		{"1.10.12", CE, false, 65, ActionFail, unrec(65), true, "no Enterprise check in 1.10"},
		{"1.10.12", CE, false, 29, ActionRestore, "", true, "ChunkingState is Restore's own case"},
		{"1.11.11", CE, false, 33, ActionRestore, "", true, "FreeVirtualIP"},
		{"1.11.11", CE, false, 35, ActionFail, unrec(35), true, "no peering"},
		{"1.11.11", CE, false, 69, ActionFail, unrec(69), true, "Enterprise-check backport came too late"},
		{"1.12.9", CE, false, 35, ActionFail, unrec(35), true, "1.12 lacks Peering"},
		{"1.12.9", CE, false, 36, ActionFail, unrec(36), true, "1.12 lacks PeeringDelete"},
		{"1.12.9", CE, false, 37, ActionFail, unrec(37), true, "1.12 lacks PeeringTerminateByID"},
		{"1.12.9", CE, false, 38, ActionFail, unrec(38), true, "1.12 lacks PeeringTrustBundle"},
		{"1.12.9", CE, false, 65, ActionFail, oss, true, "measured on a real 1.12.9"},
		{"1.12.0", CE, false, 65, ActionFail, unrec(65), true, "before the backport"},
		{"1.12.7", CE, false, 65, ActionFail, oss, false, "inferred boundary"},
		{"1.12", CE, false, 65, ActionFail, oss, true, "a bare line is its newest read patch"},
		{"1.13.9", CE, false, 35, ActionRestore, "", true, "Peering from 1.13"},
		{"1.13.9", CE, false, 40, ActionRestore, "", true, "PeeringSecret from 1.13"},
		{"1.13.9", CE, false, 36, ActionFail, unrec(36), true, "log-only type"},
		{"1.13.9", CE, false, 42, ActionFail, unrec(42), true, "Resource arrives in 1.16"},
		{"1.13.3", CE, false, 65, ActionFail, unrec(65), true, "read: no check yet"},
		{"1.13.5", CE, false, 65, ActionFail, oss, false, "between 1.13.3 and 1.13.9"},
		{"1.14.0", CE, false, 65, ActionFail, oss, true, "check from 1.14.0"},
		{"1.14.8", CE, false, 65, ActionFail, oss, true, ""},
		{"1.14.10", CE, false, 65, ActionFail, ce, false, "inferred CE rename"},
		{"1.14.11", CE, false, 65, ActionFail, ce, true, ""},
		{"1.14.11", CE, false, 4, ActionRestore, "", true, "last line with legacy ACL"},
		{"1.14.11", CE, false, 200, ActionFail, ce, true, "any byte >= 64 gets the Enterprise text"},
		{"1.15.0", CE, false, 4, ActionFail, unrec(4), true, "legacy ACL refused"},
		{"1.15.10", CE, false, 11, ActionFail, unrec(11), true, "ACLBootstrap refused"},
		{"1.15.4", CE, false, 65, ActionFail, oss, true, ""},
		{"1.15.5", CE, false, 65, ActionFail, oss, false, "not readable, assumed OSS"},
		{"1.15.6", CE, false, 65, ActionFail, ce, true, ""},
		{"1.15.10", CE, false, 42, ActionFail, unrec(42), true, "no Resource before 1.16"},
		{"1.16.0", CE, false, 42, ActionRestore, "", true, "Resource from 1.16"},
		{"1.16.1", CE, false, 65, ActionFail, oss, true, ""},
		{"1.16.2", CE, false, 65, ActionFail, ce, true, ""},
		{"1.16.6", CE, false, 43, ActionFail, unrec(43), true, "log-only UpdateVirtualIP"},
		{"1.17.4", CE, false, 4, ActionFail, unrec(4), true, ""},
		{"1.17.4", CE, true, 65, ActionFail, ce, true, "no downgrade mode before 1.18"},
		{"1.18.0", CE, true, 65, ActionDesync, "", true, "skips without reading the value"},
		{"1.18.1", CE, false, 65, ActionFail, ce, true, "downgrade mode needs the env var"},
		{"1.18.2", CE, true, 65, ActionSkip, "", true, "GH-20977"},
		{"1.18.2", CE, true, 35, ActionRestore, "", true, ""},
		{"1.19.2", CE, true, 44, ActionFail, unrec(44), true, "< 64 is never skipped"},
		{"1.20.6", CE, false, 42, ActionRestore, "", true, ""},
		{"1.21.5", CE, false, 65, ActionFail, ce, true, ""},
		{"1.22.3", CE, false, 44, ActionFail, unrec(44), true, "Census is log-only"},
		{"1.22.3", CE, false, 45, ActionFail, unrec(45), true, "FeatureGate is not in 1.22"},
		{"1.22.3", Enterprise, false, 65, ActionRestore, "", false, "Enterprise restorers not public"},
		{"1.22.3", Enterprise, false, 45, ActionFail, unrec(45), true, "Enterprise shares fsm.go"},
		{"1.22.9", CE, false, 65, ActionFail, ce, false, "patch newer than any read"},
	}
	lines := map[string]bool{}
	for _, f := range facts {
		t.Run(fmt.Sprintf("%s/%s/%d/env=%v", f.target, f.ed, f.typ, f.env), func(t *testing.T) {
			v, err := ParseVersion(f.target)
			if err != nil {
				t.Fatal(err)
			}
			l, v, err := Resolve(v)
			if err != nil {
				t.Fatal(err)
			}
			lines[v.LineString()] = true
			want := Outcome{Action: f.action, Read: f.read}
			if f.err != "" {
				want.Error = f.err
				if strings.Contains(f.err, "%d") {
					want.Error = fmt.Sprintf(f.err, f.typ)
				}
			}
			if got := l.Outcome(v.Patch, f.ed, decode.MessageType(f.typ), f.env); got != want {
				t.Errorf("%s: got %+v, want %+v", f.comment, got, want)
			}
		})
	}
	for _, l := range Table {
		if !lines[l.Version(-1).LineString()] {
			t.Errorf("line %s has no fact in TestLineFacts", l.Version(-1).LineString())
		}
	}
	// Sizes of the restorable sets.
	sizes := map[string]int{"1.10": 23, "1.11": 25, "1.12": 25, "1.13": 28, "1.14": 28, "1.15": 26,
		"1.16": 27, "1.17": 27, "1.18": 27, "1.19": 27, "1.20": 27, "1.21": 27, "1.22": 27}
	for _, l := range Table {
		if got, want := len(l.Restores), sizes[l.Version(-1).LineString()]; got != want {
			t.Errorf("%s restores %d types, want %d", l.Version(-1).LineString(), got, want)
		}
	}
}

func TestFirstRestoring(t *testing.T) {
	for _, c := range []struct {
		typ  decode.MessageType
		want string
	}{
		{decode.TypeKVS, "1.10"}, {decode.TypeServiceVirtualIP, "1.11"}, {decode.TypePeering, "1.13"},
		{decode.TypePeeringSecret, "1.13"}, {decode.TypeResource, "1.16"}, {decode.TypeACL, "1.10"},
		{decode.TypePeeringDelete, ""}, {44, ""}, {45, ""}, {65, ""},
	} {
		l, ok := FirstRestoring(c.typ)
		got := ""
		if ok {
			got = l.Version(-1).LineString()
		}
		if got != c.want {
			t.Errorf("FirstRestoring(%s) = %q, want %q", c.typ, got, c.want)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"1.12.9", "1.12.9", true}, {"v1.13.9", "1.13.9", true}, {"1.16", "1.16", true},
		{"1", "", false}, {"1.12.9.1", "", false}, {"1.x", "", false}, {"1.012", "", false},
		{"", "", false}, {"1.-1", "", false}, {"1..2", "", false},
	} {
		v, err := ParseVersion(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseVersion(%q): err %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && v.String() != c.want {
			t.Errorf("ParseVersion(%q) = %s, want %s", c.in, v, c.want)
		}
	}
	if _, _, err := Resolve(Version{1, 9, 0}); err == nil {
		t.Error("Resolve(1.9.0): want ErrUnknownTarget")
	}
	if _, _, err := Resolve(Version{2, 1, 0}); err == nil {
		t.Error("Resolve(2.1.0): want ErrUnknownTarget")
	}
}
