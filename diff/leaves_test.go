package diff

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// obj builds a tree object from key/value pairs.
func obj(kv ...any) *decode.Object {
	o := &decode.Object{}
	for i := 0; i < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

func source(name, action string) *decode.Object {
	return obj("Action", action, "Description", "", "LegacyCreateTime", nil, "LegacyID", "", "LegacyMeta", nil,
		"Name", name, "Namespace", "", "Partition", "", "Peer", "", "Precedence", int64(9), "Type", "consul")
}

// fieldLines renders field changes as "path: old -> new" with JSON values.
func fieldLines(fs []FieldChange) []string {
	var out []string
	for _, f := range fs {
		o, n := "(absent)", "(absent)"
		if !f.OldAbsent {
			b, _ := json.Marshal(f.Old)
			o = string(b)
		}
		if !f.NewAbsent {
			b, _ := json.Marshal(f.New)
			n = string(b)
		}
		s := f.Path + ": " + o + " -> " + n
		if f.SchemaOnly {
			s += " (schema)"
		}
		out = append(out, s)
	}
	return out
}

// Changes are reported at their leaves; lists of objects are matched by
// their natural key, so an element inserted in the middle is one change and
// the later elements do not shift; identifying fields come first and
// bookkeeping last; zero leaves of a new element are not listed.
func TestLeafChanges(t *testing.T) {
	tests := []struct {
		name   string
		a, b   any
		want   []string
		schema int
	}{
		{"intention source inserted in the middle",
			obj("Entry", obj("Sources", []any{source("web", "allow"), source("api", "deny")})),
			obj("Entry", obj("Sources", []any{source("web", "allow"), source("db", "allow"), source("api", "deny")})),
			[]string{`Entry.Sources[1].Name: (absent) -> "db"`, `Entry.Sources[1].Action: (absent) -> "allow"`,
				`Entry.Sources[1].Precedence: (absent) -> 9`, `Entry.Sources[1].Type: (absent) -> "consul"`}, 0},
		{"intention source of the same name from a peer is another source",
			obj("Sources", []any{source("web", "allow")}),
			obj("Sources", []any{source("web", "allow"), obj("Name", "web", "Peer", "dc2", "Action", "deny")}),
			[]string{`Sources[1].Name: (absent) -> "web"`, `Sources[1].Peer: (absent) -> "dc2"`, `Sources[1].Action: (absent) -> "deny"`}, 0},
		{"intention source action changed, list reordered",
			obj("Sources", []any{source("web", "allow"), source("api", "allow")}),
			obj("Sources", []any{source("api", "allow"), source("web", "deny")}),
			[]string{`Sources[1].Action: "allow" -> "deny"`}, 0},
		{"checks by CheckID",
			obj("Checks", []any{obj("CheckID", "a", "Status", "passing"), obj("CheckID", "b", "Status", "passing")}),
			obj("Checks", []any{obj("CheckID", "b", "Status", "critical"), obj("CheckID", "a", "Status", "passing")}),
			[]string{`Checks[0].Status: "passing" -> "critical"`}, 0},
		{"upstream removed",
			obj("Upstreams", []any{obj("DestinationName", "db", "LocalBindPort", int64(1)), obj("DestinationName", "cache", "LocalBindPort", int64(2))}),
			obj("Upstreams", []any{obj("DestinationName", "cache", "LocalBindPort", int64(2))}),
			[]string{`Upstreams[0].DestinationName: "db" -> (absent)`, `Upstreams[0].LocalBindPort: 1 -> (absent)`}, 0},
		{"policies by Name: a re-created policy is an ID change",
			obj("Policies", []any{obj("ID", "1", "Name", "p")}),
			obj("Policies", []any{obj("ID", "2", "Name", "p")}),
			[]string{`Policies[0].ID: "1" -> "2"`}, 0},
		{"no unique key: aligned by content",
			obj("L", []any{obj("X", int64(1)), obj("X", int64(1)), obj("X", int64(3))}),
			obj("L", []any{obj("X", int64(1)), obj("X", int64(2)), obj("X", int64(1)), obj("X", int64(3))}),
			[]string{`L[1].X: (absent) -> 2`}, 0},
		{"scalar list insertion",
			obj("Tags", []any{"a", "c"}), obj("Tags", []any{"a", "b", "c"}),
			[]string{`Tags[1]: (absent) -> "b"`}, 0},
		{"element with only zero fields shown whole",
			obj("L", []any{"x"}), obj("L", []any{"x", ""}),
			[]string{`L[1]: (absent) -> ""`}, 0},
		{"important fields first, bookkeeping last",
			obj("Hash", []byte{1}, "LegacyMeta", obj("a", "1"), "Port", int64(1), "Name", "a"),
			obj("Hash", []byte{2}, "LegacyMeta", obj("a", "2"), "Port", int64(2), "Name", "b"),
			[]string{`Name: "a" -> "b"`, `Port: 1 -> 2`, `Hash: "0x01" -> "0x02"`, `LegacyMeta.a: "1" -> "2"`}, 0},
		{"schema-only differences hidden and counted",
			obj("A", "x", "Z", int64(0)),
			obj("A", "y", "N", nil, "S", "", "I", int64(0), "F", false, "L", []any{}, "O", obj(), "Nested", obj("M", nil), "Z", nil),
			[]string{`A: "x" -> "y"`}, 8},
		{"a null object that gains fields: its leaves",
			obj("Proxy", nil),
			obj("Proxy", obj("Mode", "", "Upstreams", []any{obj("DestinationName", "db")})),
			[]string{`Proxy.Upstreams[0].DestinationName: (absent) -> "db"`}, 1},
		{"mixed kinds stay whole",
			obj("V", "x"), obj("V", obj("a", int64(1))),
			[]string{`V: "x" -> {"a":1}`}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, more, schema := compareTrees(tt.a, tt.b, false, &Options{})
			if got := fieldLines(fields); !reflect.DeepEqual(got, tt.want) || more != 0 || schema != tt.schema {
				t.Errorf("got %q (more %d, schema %d)\nwant %q (schema %d)", got, more, schema, tt.want, tt.schema)
			}
		})
	}
}

// --include-schema-changes lists the schema-only differences, marked.
func TestSchemaChangesShown(t *testing.T) {
	a := obj("A", "x")
	b := obj("A", "x", "N", nil, "L", []any{})
	fields, _, schema := compareTrees(a, b, false, &Options{IncludeSchemaChanges: true})
	want := []string{`N: (absent) -> null (schema)`, `L: (absent) -> [] (schema)`}
	if got := fieldLines(fields); !reflect.DeepEqual(got, want) || schema != 0 {
		t.Errorf("got %q, schema %d; want %q", got, schema, want)
	}
	if fields, _, schema := compareTrees(a, b, false, &Options{}); len(fields) != 0 || schema != 2 {
		t.Errorf("hidden: %q, %d", fieldLines(fields), schema)
	}
}

// Through Run: a record whose only differences are schema-only is
// unchanged (and counted), an intention insertion is one change at its
// leaves with the entry's label, JSON carries values whole, and a deleted
// KV key links its removal to its tombstone.
func TestRunLeavesSchemaAndDeletes(t *testing.T) {
	srcs := func(names ...string) om {
		var l []any
		for _, n := range names {
			l = append(l, om{{"Action", "allow"}, {"Name", n}, {"Precedence", 9}})
		}
		return om{{"Sources", l}}
	}
	a := stateBin(kvRec("app/gone", "v", 1), kvRec("app/keep", "v", 1),
		configEntryRec("service-intentions", "web", srcs("api", "web")),
		configEntryRec("service-defaults", "web", om{{"Protocol", "http"}}), chunking())
	b := stateBin(kvRec("app/keep", "v", 1), tombRec("app/gone", 42),
		configEntryRec("service-intentions", "web", srcs("api", "db", "web")),
		configEntryRec("service-defaults", "web", om{{"Protocol", "http"}, {"Meta", nil}, {"Mode", ""}}), chunking())
	got, sum, err := runDiff(t, a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"removed KVS app/gone",
		"added Tombstone app/gone",
		"modified ConfigEntry service-intentions/web | Entry.Sources[1].Name | Entry.Sources[1].Action | Entry.Sources[1].Precedence",
	}
	if g := brief(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("got %q\nwant %q", g, want)
	}
	if l := got[0].Tombstone; l == nil || l.Index != 42 || got[1].Deletes != "KVS" || got[1].OffsetB != l.OffsetB || sum.KVDeleted != 1 {
		t.Errorf("deletion not linked: %+v / %+v, kv_deleted %d", got[0].Tombstone, got[1], sum.KVDeleted)
	}
	if got[2].Label != "service-intentions/web" {
		t.Errorf("label %q", got[2].Label)
	}
	if sum.SchemaOnly != 2 || sum.SchemaOnlyRecords != 1 {
		t.Errorf("schema-only %d in %d records, want 2 in 1", sum.SchemaOnly, sum.SchemaOnlyRecords)
	}
	j := jsonString(got[2].Fields[0])
	if j != `{"path":"Entry.Sources[1].Name","new":"db"}` {
		t.Errorf("JSON field %s", j)
	}
	got, sum, err = runDiff(t, a, b, Options{IncludeSchemaChanges: true, Values: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[2].ID != "service-defaults/web" || sum.SchemaOnly != 0 || !got[2].Fields[0].SchemaOnly {
		t.Errorf("with schema changes: %q, schema %d", brief(got), sum.SchemaOnly)
	}
	// --values: a removed record shows its content.
	if g := fieldLines(got[0].Fields); !reflect.DeepEqual(g, []string{`Key: "app/gone" -> (absent)`, `Value: "v" -> (absent)`}) {
		t.Errorf("removed KVS content: %q", g)
	}
}

// An input that fails before its first record: no change at all, and
// Summary.Incomplete says so; part-way: only what both inputs passed.
func TestIncompleteBeforeFirstRecord(t *testing.T) {
	good := stateBin(kvRec("a", "1", 1), kvRec("b", "2", 1), chunking())
	for _, tc := range []struct {
		name   string
		b      []byte
		before bool
		record int64
	}{
		{"header cut", good[:5], true, 0},
		{"first record cut", good[:20], true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, swap := range []bool{false, true} {
				a, b, input := good, tc.b, "B"
				if swap {
					a, b, input = tc.b, good, "A"
				}
				got, sum, err := runDiff(t, a, b, Options{})
				if err == nil || len(got) != 0 {
					t.Fatalf("err %v, %d changes: %q", err, len(got), brief(got))
				}
				in := sum.Incomplete
				if in == nil || in.Input != input || in.Before != tc.before || in.Record != tc.record || in.Error == "" || sum.Identical {
					t.Errorf("incomplete %+v", in)
				}
			}
		})
	}
	if _, sum, err := runDiff(t, good, good, Options{}); err != nil || sum.Incomplete != nil {
		t.Errorf("intact: %v %+v", err, sum.Incomplete)
	}
	if !strings.Contains(jsonString(&Incomplete{Input: "B"}), `"before_first_record":false`) {
		t.Error("JSON name")
	}
}

// Held changes keep whole values only within their budget (a multiple of
// RawBudget): beyond it, when Consul's order cannot release them, long
// string values are cut and the change says so; memory stays bounded.
func TestHeldValuesBounded(t *testing.T) {
	e := &engine{pend: newPending(10000), types: map[decode.MessageType]*typeState{}}
	big := strings.Repeat("y", 6000)
	var chs []*Change
	for i := 0; i < 8; i++ {
		ch := &Change{Op: Modified, SizeA: 6010, SizeB: 6010, Fields: []FieldChange{{Path: "Value", Old: big, New: big, NewAbsent: false}}}
		e.holdValues(ch)
		chs = append(chs, ch)
	}
	whole, cut := 0, 0
	for _, c := range chs {
		v, _ := c.Fields[0].New.(string)
		switch {
		case v == big && c.Note == "":
			whole++
		case strings.Contains(c.Note, "cut") && strings.HasSuffix(v, "… (6000 bytes)") && len(v) < maxCutValue+32:
			cut++
		default:
			t.Errorf("change neither whole nor cut with a note: %d bytes, note %q", len(v), c.Note)
		}
	}
	if whole != 3 || cut != 5 || e.heldBytes > heldValueBudget*e.pend.budget+2*2*maxCutValue*5 {
		t.Errorf("%d whole, %d cut, %d bytes held", whole, cut, e.heldBytes)
	}
	for _, c := range chs {
		if err := e.emitOne(c); err != nil {
			t.Fatal(err)
		}
	}
	if e.heldBytes != 0 {
		t.Errorf("%d bytes still accounted after emission", e.heldBytes)
	}
}

// Deletions are linked even when KVS changes outnumber MaxHeld (the
// changes wait together for the tombstones, up to linkHold × MaxHeld).
func TestDeletionsLinkedBeyondMaxHeld(t *testing.T) {
	var ra, rb, tombs []rec
	for i := 0; i < 20; i++ {
		k := "k" + itoa(100+i)
		ra = append(ra, kvRec(k, "v", 1))
		if i%2 == 0 {
			rb = append(rb, kvRec(k, "changed", 2))
		} else {
			tombs = append(tombs, tombRec(k, 50+i))
		}
	}
	b := append(append(rb, tombs...), chunking())
	got, sum, err := runDiff(t, stateBin(append(ra, chunking())...), stateBin(b...), Options{MaxHeld: 3})
	if err != nil {
		t.Fatal(err)
	}
	linked := 0
	for _, c := range got {
		if c.Tombstone != nil {
			linked++
		}
	}
	if linked != 10 || sum.KVDeleted != 10 || len(got) != 30 {
		t.Errorf("%d of 10 deletions linked (kv_deleted %d), %d changes", linked, sum.KVDeleted, len(got))
	}
}
