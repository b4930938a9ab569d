package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/golden"

	"github.com/snaptool/snaptool/diff"
)

func renderHTML(t *testing.T, paths []string, o HTMLOptions) string {
	t.Helper()
	r, err := BuildHTMLReport(context.Background(), paths, o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestHTMLGolden pins the whole document for Consul's own test snapshots
// (which never change): one snapshot, and the pair.
func TestHTMLGolden(t *testing.T) {
	a, b := "../fixtures/consul-testdata/backup.snap", "../fixtures/consul-testdata/backupWithKV.snap"
	golden.Check(t, "report_one.html", []byte(renderHTML(t, []string{b}, HTMLOptions{})))
	golden.Check(t, "report_pair.html", []byte(renderHTML(t, []string{a, b}, HTMLOptions{})))
}

func TestHTMLStructure(t *testing.T) {
	html := renderHTML(t, []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-1.13.9/after.snap"}, HTMLOptions{MaxChanges: 3})
	if n, m := strings.Count(html, "<details"), strings.Count(html, "</details>"); n == 0 || n != m {
		t.Errorf("%d <details> for %d </details>", n, m)
	}
	list := html[strings.Index(html, `<table class="changes">`):]
	if n := strings.Count(list[:strings.Index(list, "</table>")], `<tr class="change `); n != 3 {
		t.Errorf("%d changes listed with MaxChanges 3", n)
	}
	if !strings.Contains(html, "more changes are not listed") {
		t.Error("no note about the changes left out")
	}
	for _, bad := range []string{"<link", " src=", "http://", "https://", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("external resource reference %q", bad)
		}
	}
	if strings.Count(html, "<script>") != 1 {
		t.Error("want exactly one inline script")
	}
}

// TestHTMLEscapesSnapshotText: keys and identities are data, never markup.
func TestHTMLEscapesSnapshotText(t *testing.T) {
	dir := t.TempDir()
	key := `<script>alert(1)</script>/"><img onerror=x>`
	// state.bin: header {LastIndex: 1}, one KVS record {Key, Value}.
	var st bytes.Buffer
	st.Write([]byte{0x81, 0xa9})
	st.WriteString("LastIndex")
	st.WriteByte(0x01)
	st.Write([]byte{0x02, 0x82, 0xa3})
	st.WriteString("Key")
	st.Write([]byte{0xda, 0, byte(len(key))}) // str16
	st.WriteString(key)
	st.Write([]byte{0xa5})
	st.WriteString("Value")
	st.Write([]byte{0xa2, 'h', 'i'})
	if err := os.WriteFile(filepath.Join(dir, "state.bin"), st.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(map[string]any{"Version": 1, "ID": "1-1-1", "Index": 1, "Term": 1, "Size": st.Len()})
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	html := renderHTML(t, []string{filepath.Join(dir, "state.bin")}, HTMLOptions{})
	if strings.Contains(html, "<script>alert") || strings.Contains(html, "<img") {
		t.Error("a KV key was rendered as markup")
	}
	if !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the escaped key is missing from the report")
	}
}

// TestGrowthOrder: the report lists types and KV prefixes in the order
// diff gives them, which its note states: Δ bytes descending (largest
// growth first, largest shrink last), ties by name; types without a change
// are left out of the summary and counted.
func TestGrowthOrder(t *testing.T) {
	a, b := filepath.Join(consul1139, "before.snap"), filepath.Join(consul1139, "after.snap")
	html := renderHTML(t, []string{a, b}, HTMLOptions{})
	sum := runDiff(t, a, b)
	const typeNote = "Rows are sorted by Δ bytes, largest growth first, so the largest shrink comes last; ties by type name."
	const prefixNote = "Rows are sorted by Δ bytes, largest growth first, so the largest shrink comes last; ties by prefix."
	for _, tc := range []struct {
		table, attr, note string
		want              []string
	}{
		{`<table class="diff-types">`, `data-type="`, typeNote, changedTypeNames(sum)},
		{`<table class="diff-prefixes">`, `data-prefix="`, prefixNote, prefixNames(sum)},
	} {
		i := strings.Index(html, tc.table)
		if i < 0 {
			t.Fatalf("no %s", tc.table)
		}
		if j := strings.LastIndex(html[:i], `<p class="note sort-note">`); j < 0 || !strings.HasPrefix(html[j+len(`<p class="note sort-note">`):], tc.note) && !strings.Contains(html[j:i], tc.note) {
			t.Errorf("%s: the note before it does not say %q", tc.table, tc.note)
		}
		table := html[i:]
		table = table[:strings.Index(table, "</table>")]
		var got []string
		var deltas []int64
		for _, part := range strings.Split(table, `<tr `+tc.attr)[1:] {
			got = append(got, part[:strings.Index(part, `"`)])
			d := part[strings.Index(part, `data-delta="`)+len(`data-delta="`):]
			n, err := strconv.ParseInt(d[:strings.Index(d, `"`)], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			deltas = append(deltas, n)
		}
		if len(tc.want) < 2 || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: report rows %v, diff order %v", tc.table, got, tc.want)
		}
		// What the note says, checked on the rows themselves.
		for k := 1; k < len(deltas); k++ {
			if deltas[k] > deltas[k-1] || deltas[k] == deltas[k-1] && got[k] < got[k-1] {
				t.Errorf("%s: row %d (%s, %d) after (%s, %d): not Δ descending, then name", tc.table, k, got[k], deltas[k], got[k-1], deltas[k-1])
			}
		}
	}
	// The pair's largest absolute change is a shrink (Register, −2,414 B):
	// it comes last, so the order is not by absolute growth.
	types := changedTypeNames(sum)
	var register diff.TypeSummary
	for _, ts := range sum.Types {
		if ts.Name == "Register" {
			register = ts
		}
	}
	if types[len(types)-1] != "Register" || register.Delta >= 0 {
		t.Errorf("want Register's shrink last, got %v (Register Δ %d)", types, register.Delta)
	}
	if n := len(sum.Types) - len(types); !strings.Contains(html, strconv.Itoa(n)+" more types have no change") {
		t.Errorf("no note about the %d unchanged types", n)
	}
	if strings.Contains(html, "absolute growth") {
		t.Error("the report still claims an order by absolute growth")
	}
}

func runDiff(t *testing.T, a, b string) *diff.Summary {
	t.Helper()
	sa, err := decode.Open(a, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := decode.Open(b, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sum, err := diff.Run(context.Background(), sa, sb, diff.Options{}, func(*diff.Change) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func changedTypeNames(s *diff.Summary) []string {
	var out []string
	for _, ts := range s.Types {
		if ts.Added+ts.Removed+ts.Modified > 0 || ts.Delta != 0 {
			out = append(out, ts.Name)
		}
	}
	return out
}

func prefixNames(s *diff.Summary) []string {
	var out []string
	for _, p := range s.KVPrefixes {
		out = append(out, p.Prefix)
	}
	return out
}

// TestSectionOrder: with two snapshots the report tells the diff story
// first: the inputs, the summary of changes, the detail, then each
// snapshot; with one there is no comparison.
func TestSectionOrder(t *testing.T) {
	a, b := filepath.Join(consul1139, "before.snap"), filepath.Join(consul1139, "after.snap")
	html := renderHTML(t, []string{a, b}, HTMLOptions{})
	last := -1
	for _, id := range []string{`<section id="inputs">`, `<section id="summary">`, `<table class="diff-types">`, `<table class="important">`,
		`<section id="details">`, `<table class="diff-prefixes">`, `<table class="changes">`, `<section id="snap-A"`, `<section id="snap-B"`} {
		i := strings.Index(html, id)
		if i <= last {
			t.Errorf("%s at %d, after the section before it (%d)", id, i, last)
		}
		last = i
	}
	one := renderHTML(t, []string{a}, HTMLOptions{})
	for _, id := range []string{`id="inputs"`, `id="summary"`, `id="details"`} {
		if strings.Contains(one, id) {
			t.Errorf("one snapshot: %s present", id)
		}
	}
}

// TestImportantChanges: the summary lists the ten most important of all
// the changes (not only of those listed), ranked by ChangeImportance.
func TestImportantChanges(t *testing.T) {
	a, b := filepath.Join(consul1139, "before.snap"), filepath.Join(consul1139, "after.snap")
	r, err := BuildHTMLReport(context.Background(), []string{a, b}, HTMLOptions{MaxChanges: 2})
	if err != nil {
		t.Fatal(err)
	}
	all, err := BuildHTMLReport(context.Background(), []string{a, b}, HTMLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	imp, changes := r.Compare.Diff.Important, all.Compare.Diff.Changes
	if len(changes) != 13 || len(imp) != MaxImportant || len(r.Compare.Diff.Changes) != 2 {
		t.Fatalf("%d changes, %d important, %d listed", len(changes), len(imp), len(r.Compare.Diff.Changes))
	}
	var got []string
	for _, c := range imp {
		got = append(got, string(c.Op)+" "+c.Type+" "+c.ID)
	}
	want := []string{
		"removed ACLToken a0000000-0000-4000-8000-000000000005",   // security, 418 B
		"modified ACLPolicy fb21739b-8c81-35b4-8dea-ddb41d43882c", // security, 43 B
		"modified ConfigEntry service-intentions/web",             // config
		"removed Register service:ext-node-1/cache-1",             // data, by bytes
		"removed Register check:ext-node-3/service:legacy-1",
		"removed Register service:ext-node-3/legacy-1",
		"removed Register node:ext-node-3",
		"added Session b4e72c9a-7a83-e2f9-57f1-cba54591ef48",
		"removed KVS app/config/to-delete-later",
		"added KVS app/config/new-key",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("important changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Nothing left out outranks the last one listed.
	lastClass, lastBytes := ChangeImportance(imp[len(imp)-1])
	for _, c := range changes {
		cl, by := ChangeImportance(c)
		listed := false
		for _, x := range imp {
			listed = listed || x.Type == c.Type && x.ID == c.ID
		}
		if !listed && (cl < lastClass || cl == lastClass && by > lastBytes) {
			t.Errorf("%s %s (class %d, %d B) left out, outranks the last listed", c.Type, c.ID, cl, by)
		}
	}
	html := renderHTML(t, []string{a, b}, HTMLOptions{})
	tbl := html[strings.Index(html, `<table class="important">`):]
	tbl = tbl[:strings.Index(tbl, "</table>")]
	if n := strings.Count(tbl, `<tr class="change `); n != MaxImportant {
		t.Errorf("%d rows in the table of important changes", n)
	}
	for i, w := range want {
		id := w[strings.LastIndexByte(w, ' ')+1:]
		if !strings.Contains(tbl, `<td class="num hide-narrow">`+strconv.Itoa(i+1)+`</td>`) || !strings.Contains(tbl, `data-id="`+id+`"`) {
			t.Errorf("rank %d (%s) missing from the table", i+1, id)
		}
	}
}

func TestChangeImportanceClasses(t *testing.T) {
	for _, tc := range []struct {
		typ   decode.MessageType
		class int
	}{
		{decode.TypeACLToken, ImportanceSecurity}, {decode.TypeACLBindingRule, ImportanceSecurity}, {decode.TypePeeringSecret, ImportanceSecurity},
		{decode.TypeConnectCA, ImportanceCA}, {decode.TypePeeringTrustBundle, ImportanceCA},
		{decode.TypeConfigEntry, ImportanceConfig}, {decode.TypeIntention, ImportanceConfig},
		{decode.TypeKVS, ImportanceData}, {decode.TypeRegister, ImportanceData}, {decode.MessageType(200), ImportanceData},
		{decode.TypeIndex, ImportanceBookkeeping}, {decode.TypeTombstone, ImportanceBookkeeping}, {decode.TypeCoordinateBatchUpdate, ImportanceBookkeeping},
	} {
		c := &diff.Change{MessageType: tc.typ, SizeA: 100, SizeB: 30}
		if cl, by := ChangeImportance(c); cl != tc.class || by != 70 {
			t.Errorf("type %d: class %d, %d B; want %d, 70 B", tc.typ, cl, by, tc.class)
		}
	}
	// The top list keeps the n most important, in order, ties in diff order.
	top := &topChanges{n: 3}
	for _, c := range []*diff.Change{
		{ID: "kv-small", Op: diff.Added, MessageType: decode.TypeKVS, SizeB: 10},
		{ID: "index", Op: diff.Modified, MessageType: decode.TypeIndex, SizeA: 1, SizeB: 9000},
		{ID: "kv-big", Op: diff.Added, MessageType: decode.TypeKVS, SizeB: 5000},
		{ID: "token", Op: diff.Modified, MessageType: decode.TypeACLToken, SizeA: 10, SizeB: 10},
		{ID: "kv-tie-removed", Op: diff.Removed, MessageType: decode.TypeKVS, SizeA: 10},
	} {
		top.add(c)
	}
	var got []string
	for _, c := range top.changes() {
		got = append(got, c.ID)
	}
	if strings.Join(got, " ") != "token kv-big kv-tie-removed" {
		t.Errorf("top 3: %v", got)
	}
}

func TestWrapType(t *testing.T) {
	for in, want := range map[string]string{
		"ConnectCAProviderState": "Connect<wbr>CA<wbr>Provider<wbr>State",
		"ACLBindingRule":         "ACL<wbr>Binding<wbr>Rule",
		"KVS":                    "KVS",
		"Register":               "Register",
		"Unknown(200)":           "Unknown(200)",
	} {
		if got := string(wrapType(in)); got != want {
			t.Errorf("wrapType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWrapID(t *testing.T) {
	for in, want := range map[string]string{
		"service:ext-node-1/cache-1":                    "service:<wbr>ext-<wbr>node-<wbr>1/<wbr>cache-<wbr>1",
		"app/config.d/x":                                "app/<wbr>config.<wbr>d/<wbr>x",
		"a0000000-0000-4000-8000-000000000005":          "a0000000-<wbr>0000-<wbr>4000-<wbr>8000-<wbr>000000000005",
		"nobreaks":                                      "nobreaks",
		`<script>/"&x`:                                  `&lt;script&gt;/<wbr>&#34;&amp;x`,
		"sha256:0123456789abcdef?peer=remote&namespace": "sha256:<wbr>0123456789abcdef?peer=remote&amp;namespace",
	} {
		if got := string(wrapID(in)); got != want {
			t.Errorf("wrapID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSaved: the report shows decode.Meta.SavedTime of the snapshot ID.
func TestSaved(t *testing.T) {
	for id, want := range map[string]string{
		"2-162-1795548439390": "2026-11-24 19:27:19 UTC",
		"2-13-1":              "", // before 2000: not a time raft wrote
		"":                    "",
		"2-162":               "",
		"1-2-3-4":             "",
	} {
		s := &HTMLSnapshot{Inspect: &InspectResult{Meta: InspectMeta{ID: id}}}
		if got := s.Saved(); got != want {
			t.Errorf("Saved() of ID %q = %q, want %q", id, got, want)
		}
	}
}

// TestTypeCharts: when one type takes more than half the size, a second
// chart draws the others to their own scale; otherwise there is one.
func TestTypeCharts(t *testing.T) {
	dominated := &HTMLSnapshot{Inspect: &InspectResult{TotalSize: 1000, Stats: []Stat{{"KVS", 700, 7}, {"Register", 200, 2}, {"Session", 50, 5}, {"Index", 50, 9}}}}
	charts := dominated.TypeCharts()
	if len(charts) != 2 || charts[1].Class != "others" || len(charts[1].Bars) != 3 {
		t.Fatalf("dominated: %+v", charts)
	}
	if b := charts[0].Bars; b[0].Pct != "100.00" || b[1].Pct != "28.57" || b[0].Share != "70.0%" {
		t.Errorf("all types: %+v", b)
	}
	if b := charts[1].Bars; b[0].Label != "Register" || b[0].Pct != "100.00" || b[1].Pct != "25.00" || b[1].Share != "5.0%" {
		t.Errorf("other types: %+v", b)
	}
	if !strings.Contains(charts[1].Note, "KVS takes 70.0% of the size") {
		t.Errorf("note %q", charts[1].Note)
	}
	even := &HTMLSnapshot{Inspect: &InspectResult{TotalSize: 1000, Stats: []Stat{{"KVS", 500, 7}, {"Register", 300, 2}, {"Session", 200, 5}}}}
	if c := even.TypeCharts(); len(c) != 1 {
		t.Errorf("no dominant type: %d charts", len(c))
	}
}

func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1,000 B", 105989: "105,989 B", 1234567: "1,234,567 B", -2414: "-2,414 B"} {
		if got := ExactBytes(n, false); got != want {
			t.Errorf("ExactBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{-2414: "−2,414 B", 191: "+191 B", 0: "0 B"} {
		if got := ExactBytes(n, true); got != want {
			t.Errorf("ExactBytes(%d, signed) = %q, want %q", n, got, want)
		}
	}
}
