package report

import (
	"strings"
	"testing"
)

func TestWriteSection(t *testing.T) {
	var b strings.Builder
	err := WriteSection(&b, "Per type", []string{"Type", "Entries"}, [][]string{{"KVS", "12"}, {"evil\x1b[2J\u202e", "3"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "Per type\n") || !strings.Contains(out, "KVS") || !strings.Contains(out, "12") {
		t.Errorf("section:\n%s", out)
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("control or bidi characters reached the output:\n%q", out)
	}
	// Right alignment: the count column is padded on the left.
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "KVS") && !strings.Contains(line, " 12 ") {
			t.Errorf("row %q", line)
		}
	}
	b.Reset()
	if err := WriteSection(&b, "Empty", []string{"A"}, nil); err != nil || b.String() != "Empty\n(none)\n" {
		t.Errorf("empty section = %q, %v", b.String(), err)
	}
}
