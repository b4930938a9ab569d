package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	if n := strings.Count(html, `<tr class="change `); n != 3 {
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
// diff gives them (largest growth first), the same order as diff --stat.
func TestGrowthOrder(t *testing.T) {
	a, b := filepath.Join(consul1139, "before.snap"), filepath.Join(consul1139, "after.snap")
	html := renderHTML(t, []string{a, b}, HTMLOptions{})
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
	table := html[strings.Index(html, `<table class="diff-types">`):]
	table = table[:strings.Index(table, "</table>")]
	var got, want []string
	for _, part := range strings.Split(table, `<tr data-type="`)[1:] {
		got = append(got, part[:strings.Index(part, `"`)])
	}
	for _, ts := range sum.Types {
		want = append(want, ts.Name)
	}
	if len(want) < 2 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("report types %v, diff order %v", got, want)
	}
	if sum.Types[0].Delta < sum.Types[len(sum.Types)-1].Delta {
		t.Errorf("diff summary not largest growth first: %+v", sum.Types)
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
