package decode

import (
	"testing"
	"unicode/utf8"
)

// describe never panics, and what it says is one terminal-safe line.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{"", "hello\n", `{"a":1}`, "PK\x03\x04", "\x1e\x8b\x08", "\x81\xa9LastIndex\x01", "\xe2\x80\xae evil", "a\x00b", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > sniffLen {
			b = b[:sniffLen]
		}
		if isGzipStart(b) {
			return
		}
		msg := (&NotSnapshotError{Looks: describe(b)}).Error()
		if !utf8.ValidString(msg) || SafeText(msg) != msg {
			t.Errorf("not terminal-safe: %q", msg)
		}
		for _, r := range msg {
			if r < 0x20 || r == 0x7f {
				t.Errorf("control character in %q", msg)
			}
		}
		_ = describeInflated(b)
	})
}
