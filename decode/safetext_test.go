package decode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

// hostile strings as they come from a crafted snapshot, with what
// SafeText makes of them.
var hostileText = []struct {
	name, in, text string
}{
	{"clear screen", "a\x1b[2Jb", `a\x1b[2Jb`},
	{"OSC title set", "\x1b]0;pwned\x07x", `\x1b]0;pwned\ax`},
	{"CSI as C1", "x\u009b2Jy", `x\u009b2Jy`},
	{"OSC as C1", "\u009d0;t\u009c", `\u009d0;t\u009c`},
	{"right-to-left override", "abc\u202egnp.exe", `abc\u202egnp.exe`},
	{"isolates and marks", "\u2066a\u2069\u2067\u2068\u200e\u200f\u061c\u202a\u202b\u202c\u202d", `\u2066a\u2069\u2067\u2068\u200e\u200f\u061c\u202a\u202b\u202c\u202d`},
	{"line separators", "a\u2028b\u2029", `a\u2028b\u2029`},
	{"newline spoofing a line", "k\nsnaptool: OK", `k\nsnaptool: OK`},
	{"tab CR NUL DEL", "\t\r\x00\x7f", `\t\r\x00\x7f`},
	{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
	{"C1 bytes alone (invalid UTF-8)", "\x9b\x9d", `\x9b\x9d`},
	{"plain text is kept", "héllo 世界 🎉 <a> \\x1b", "héllo 世界 🎉 <a> \\x1b"},
	{"empty", "", ""},
}

// terminalSafe reports whether s holds nothing a terminal acts on.
func terminalSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x061c || r == 0x200e || r == 0x200f ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func TestSafeText(t *testing.T) {
	for _, c := range hostileText {
		got := decode.SafeText(c.in)
		if got != c.text {
			t.Errorf("%s: SafeText(%q) = %q, want %q", c.name, c.in, got, c.text)
		}
		if !terminalSafe(got) {
			t.Errorf("%s: %q is not terminal-safe", c.name, got)
		}
		if again := decode.SafeText(got); again != got {
			t.Errorf("%s: not idempotent: %q → %q", c.name, got, again)
		}
		if app := decode.AppendSafeText([]byte("pre:"), c.in); string(app) != "pre:"+c.text {
			t.Errorf("%s: AppendSafeText = %q", c.name, app)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = decode.SafeText("service:web-1/redis 世界") }); n != 0 {
		t.Errorf("SafeText allocates %.0f times on a safe string", n)
	}
}

// TestJSONEscapesHostile: every JSON writer of the tool escapes the same
// characters, and the value read back is the original string.
func TestJSONEscapesHostile(t *testing.T) {
	for _, c := range hostileText {
		if !utf8.ValidString(c.in) {
			continue // JSON carries valid UTF-8 only (invalid bytes become U+FFFD)
		}
		var viaEncoder bytes.Buffer
		enc := json.NewEncoder(decode.SafeJSONWriter(&viaEncoder))
		enc.SetIndent("", "\t")
		if err := enc.Encode(map[string]any{"k": c.in, "nested": []string{c.in}}); err != nil {
			t.Fatal(err)
		}
		var pb bytes.Buffer
		penc := json.NewEncoder(&pb)
		penc.SetEscapeHTML(false)
		penc.Encode(c.in)
		plain := bytes.TrimSuffix(pb.Bytes(), []byte("\n"))
		tree, err := decode.AppendJSON(nil, &decode.Object{Keys: []string{c.in}, Values: []any{c.in}})
		if err != nil {
			t.Fatal(err)
		}
		outputs := map[string][]byte{
			"AppendJSONString": decode.AppendJSONString(nil, []byte(c.in)),
			"EscapeJSON":       decode.EscapeJSON(nil, plain),
			"SafeJSONWriter":   viaEncoder.Bytes(),
			"AppendJSON":       tree,
		}
		for name, out := range outputs {
			// Structural whitespace (indentation) is the only C0 allowed.
			body := strings.NewReplacer("\n", "", "\t", "").Replace(string(out))
			if !terminalSafe(body) {
				t.Errorf("%s: %s wrote raw unsafe characters: %q", c.name, name, out)
			}
			var back any
			if err := json.Unmarshal(out, &back); err != nil {
				t.Errorf("%s: %s wrote invalid JSON %q: %v", c.name, name, out, err)
				continue
			}
			var s string
			switch v := back.(type) {
			case string:
				s = v
			case map[string]any:
				s, _ = v["k"].(string)
				if name == "AppendJSON" {
					s, _ = v[c.in].(string)
				}
			}
			if s != c.in {
				t.Errorf("%s: %s reads back as %q, want %q", c.name, name, s, c.in)
			}
		}
		if got, want := string(decode.AppendJSONString(nil, []byte(c.in))), string(decode.EscapeJSON(nil, plain)); got != want {
			t.Errorf("%s: AppendJSONString %s differs from EscapeJSON(encoding/json) %s", c.name, got, want)
		}
	}
	// The escapes are the JSON ones: \u009b, \u202e.
	if got := string(decode.AppendJSONString(nil, []byte("\x1b\u009b\u202e\x7f"))); got != `"\u001b\u009b\u202e\u007f"` {
		t.Errorf("AppendJSONString: %s", got)
	}
}

// TestErrorsAreTerminalSafe: decode's own error messages carry member
// names and meta.json content escaped.
func TestErrorsAreTerminalSafe(t *testing.T) {
	f := loadFixture(t, fixtureBasic)
	evil := "\x1b]0;pwned\x07\x1b[2J\u009b2J\u202eevil\n"
	var tb []byte
	tb = append(tb, regular(decode.MemberMeta, f.meta)...)
	tb = append(tb, regular(decode.MemberState, f.state)...)
	tb = append(tb, regular(evil, []byte("x"))...)
	tb = append(tb, rawHeader(evil+"dir/", '5', 0, magicUSTAR, nil)...)
	tb = append(tb, regular(decode.MemberSums, f.sums)...)
	tb = append(tb, make([]byte, 1024)...)
	badMeta := []byte(`{"ID":"` + evil[:len(evil)-1] + `","Version":"` + "\x1b[2J" + `"}`)
	inputs := map[string]*result{
		"archive": drainArchive(gz(t, tb), decode.Options{}),
		"meta": drainArchive(gz(t, tarOf(t, f.mtime,
			member{name: decode.MemberMeta, data: badMeta},
			member{name: decode.MemberState, data: f.state},
			member{name: decode.MemberSums, data: sumsOf(badMeta, f.state)})), decode.Options{}),
	}
	for name, r := range inputs {
		if r.err == nil {
			t.Fatalf("%s: no error", name)
		}
		for _, e := range joined(r.err) {
			if !terminalSafe(e.Error()) {
				t.Errorf("%s: error message is not terminal-safe: %q", name, e.Error())
			}
		}
	}
	var ae *decode.ArchiveError
	if !errors.As(inputs["archive"].err, &ae) || !strings.Contains(inputs["archive"].err.Error(), `\x1b]0;pwned\a`) {
		t.Errorf("archive: member name not shown escaped: %v", inputs["archive"].err)
	}
}

// TestSafeDocument: a document keeps its newlines and tabs and loses every
// other control, C1 and bidi character to an escape; a clean one is
// returned as is.
func TestSafeDocument(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<p>ok</p>\n\t<b>x</b>\r\n", "<p>ok</p>\n\t<b>x</b>\r\n"},
		{"<td>a\x1b[2Jb</td>", `<td>a\x1b[2Jb</td>`},
		{"<div>sess\u202e@n1</div>", `<div>sess\u202e@n1</div>`},
		{"<i>\u009b31m</i>", `<i>\u009b31m</i>`},
		{"caf\u00e9 \u4e16", "caf\u00e9 \u4e16"},
		{"bad \xff byte", `bad \xff byte`},
	} {
		if got := string(decode.SafeDocument([]byte(tc.in))); got != tc.want {
			t.Errorf("SafeDocument(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
