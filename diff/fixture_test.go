package diff

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

const fx = "../fixtures/consul-1.13.9"

func openFixture(t *testing.T, path string) *decode.Snapshot {
	t.Helper()
	s := openFixtureB(t, path)
	t.Cleanup(func() { s.Close() })
	return s
}

func openFixtureB(t testing.TB, path string) *decode.Snapshot {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func diffFiles(t *testing.T, a, b string, o Options) ([]*Change, *Summary) {
	t.Helper()
	var got []*Change
	sum, err := Run(context.Background(), openFixture(t, a), openFixture(t, b), o, func(c *Change) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatalf("diff %s %s: %v", a, b, err)
	}
	return got, sum
}

type listed struct{ Op, Type, ID string }

// consulOwn reads the table "What Consul changed on its own" of CHANGES.md
// and the field table "Field-level detail of the listed changes".
func readChangesMD(t *testing.T) (own []listed, fields map[listed][]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fx, "CHANGES.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| (added|removed|modified) \\| (\\w+) \\| `([^`]*)` \\|")
	fieldRow := regexp.MustCompile("^\\| (\\w+) \\| `([^`]*)` \\| (.*) \\|$")
	fields = map[listed][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## What Consul changed on its own"):
			section = "own"
		case strings.HasPrefix(line, "Field-level detail"):
			section = "fields"
		}
		if m := row.FindStringSubmatch(line); m != nil && section == "own" {
			own = append(own, listed{m[1], m[2], m[3]})
		}
		if m := fieldRow.FindStringSubmatch(line); m != nil && section == "fields" {
			var fs []string
			for _, f := range strings.Split(m[3], ",") {
				fs = append(fs, strings.Trim(strings.TrimSpace(f), "`"))
			}
			fields[listed{"modified", m[1], m[2]}] = fs
		}
	}
	if len(own) == 0 || len(fields) == 0 {
		t.Fatalf("CHANGES.md: no rows parsed (own %d, fields %d)", len(own), len(fields))
	}
	return own, fields
}

func readChangesJSON(t *testing.T) []listed {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fx, "changes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var l []listed
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func sortedSet(l []listed) []string {
	var out []string
	for _, x := range l {
		out = append(out, x.Op+" "+x.Type+" "+x.ID)
	}
	sort.Strings(out)
	return out
}

// changeSet strips the peer qualifier the fixture list leaves out
// (CHANGES.md: no peered record changes, so none may carry one).
func changeSet(t *testing.T, cs []*Change) []listed {
	var out []listed
	for _, c := range cs {
		if strings.Contains(c.ID, "?peer=") {
			t.Errorf("a peered record changed: %s %s %s", c.Op, c.Type, c.ID)
		}
		out = append(out, listed{string(c.Op), c.Type, c.ID})
	}
	return out
}

// fieldNames maps our paths to CHANGES.md's: array indexes dropped
// (Entry.Sources[1] → Entry.Sources); theirs lose the "$request." prefix.
func fieldNames(c *Change) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range c.Fields {
		p := f.Path
		if i := strings.IndexByte(p, '['); i >= 0 {
			p = p[:i]
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func theirFields(fs []string, bookkeeping bool) []string {
	var out []string
	for _, f := range fs {
		f = strings.TrimPrefix(f, "$request.")
		if !bookkeeping && (strings.HasSuffix(f, "ModifyIndex") || strings.HasSuffix(f, "CreateIndex")) {
			continue
		}
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// The fixture pair reports exactly the written-down change list: by
// default the changes of changes.json (Consul's own Index updates are raft
// bookkeeping, and no other record changed on its own); with
// IncludeRaftBookkeeping also every Index row of CHANGES.md's "What Consul
// changed on its own" table. Field lists match CHANGES.md's field table.
func TestFixturePairChangeList(t *testing.T) {
	listedChanges := readChangesJSON(t)
	own, fields := readChangesMD(t)
	for _, bk := range []bool{false, true} {
		got, sum := diffFiles(t, filepath.Join(fx, "before.snap"), filepath.Join(fx, "after.snap"), Options{IncludeRaftBookkeeping: bk})
		want := append([]listed(nil), listedChanges...)
		if bk {
			want = append(want, own...)
		}
		g, w := sortedSet(changeSet(t, got)), sortedSet(want)
		if strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("bookkeeping=%v: change set differs\n got:\n  %s\nwant:\n  %s", bk, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
		}
		for _, c := range got {
			if c.Op != Modified || c.Type == "Index" {
				continue
			}
			their, ok := fields[listed{"modified", c.Type, c.ID}]
			if !ok {
				t.Errorf("no field row in CHANGES.md for %s %s", c.Type, c.ID)
				continue
			}
			if g, w := fieldNames(c), theirFields(their, bk); strings.Join(g, ",") != strings.Join(w, ",") {
				t.Errorf("bookkeeping=%v: %s %s fields %q, CHANGES.md says %q", bk, c.Type, c.ID, g, w)
			}
		}
		if sum.Identical || sum.Changes != len(want) || len(sum.Warnings) != 0 {
			t.Errorf("summary: identical %v, changes %d (want %d), warnings %q", sum.Identical, sum.Changes, len(want), sum.Warnings)
		}
	}
}

// Per-type byte counts equal Consul's own `snapshot inspect` figures.
func TestFixtureBytesMatchInspect(t *testing.T) {
	_, sum := diffFiles(t, filepath.Join(fx, "before.snap"), filepath.Join(fx, "after.snap"), Options{IncludeRaftBookkeeping: true})
	for _, side := range []string{"before", "after"} {
		b, err := os.ReadFile(filepath.Join(fx, side+".inspect.json.golden"))
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			Stats []struct {
				Name       string
				Sum, Count int64
			}
		}
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		if len(in.Stats) != len(sum.Types) {
			t.Errorf("%s: %d types, inspect has %d", side, len(sum.Types), len(in.Stats))
		}
		for _, st := range in.Stats {
			found := false
			for _, ts := range sum.Types {
				if ts.Name != st.Name {
					continue
				}
				found = true
				bytes, count := ts.BytesA, ts.CountA
				if side == "after" {
					bytes, count = ts.BytesB, ts.CountB
				}
				if bytes != st.Sum || int64(count) != st.Count {
					t.Errorf("%s %s: %d records / %d bytes, inspect says %d / %d", side, st.Name, count, bytes, st.Count, st.Sum)
				}
			}
			if !found {
				t.Errorf("%s: type %s missing from the summary", side, st.Name)
			}
		}
	}
}

func fixtureInputs(t *testing.T) []string {
	dirs, _ := filepath.Glob(filepath.Join(fx, "datadir", "*-*-*"))
	if len(dirs) != 1 {
		t.Fatalf("want one data-dir snapshot, found %q", dirs)
	}
	return []string{
		filepath.Join(fx, "before.snap"), filepath.Join(fx, "after.snap"), dirs[0],
		"../fixtures/consul-testdata/backup.snap", "../fixtures/consul-testdata/backupWithKV.snap",
		"../fixtures/consul-testdata/raw/state.bin",
	}
}

// Diffing a snapshot with itself finds nothing, with or without bookkeeping;
// the raw data-dir snapshot equals after.snap (byte-identical state.bin).
func TestFixtureSelfDiff(t *testing.T) {
	inputs := fixtureInputs(t)
	pairs := [][2]string{{inputs[2], inputs[1]}, {inputs[3], inputs[5]}}
	for _, in := range inputs {
		pairs = append(pairs, [2]string{in, in})
	}
	for _, p := range pairs {
		for _, bk := range []bool{false, true} {
			got, sum := diffFiles(t, p[0], p[1], Options{IncludeRaftBookkeeping: bk})
			if len(got) != 0 || !sum.Identical {
				t.Errorf("%s vs %s (bookkeeping %v): %q", p[0], p[1], bk, brief(got))
			}
			if len(sum.Warnings) != 0 {
				t.Errorf("%s: order warnings on Consul's own output: %q", p[0], sum.Warnings)
			}
			for _, ts := range sum.Types {
				if ts.Delta != 0 || ts.CountA != ts.CountB || ts.Unchanged != ts.CountA {
					t.Errorf("%s: %+v", p[0], ts)
				}
			}
		}
	}
}
