package decode

import (
	"io"
	"unicode/utf8"
)

// Terminal safety, in one place. Strings from a snapshot (KV keys, node
// names, meta fields, tar member names, meta.json's ID) are attacker
// controlled: an ESC or C1 control sequence in them can clear or retitle a
// terminal or rewrite lines, and bidirectional overrides can make text read
// differently from what it is. Every text renderer and every error message
// that shows such a string passes it through SafeText (or AppendSafeText);
// every JSON writer escapes the same characters (AppendJSONString,
// EscapeJSON, SafeJSONWriter), so `jq -r` users are not exposed either.

// unsafeRune reports whether a terminal could act on r, or r would make
// text read other than it is: C0 controls (tab, newline and CR included),
// DEL, C1 controls, the bidirectional marks, embeddings, overrides and
// isolates, and the Unicode line and paragraph separators.
func unsafeRune(r rune) bool {
	switch {
	case r < ' ', r == '\u007f':
		return true
	case r < utf8.RuneSelf:
		return false
	case r <= '\u009f': // C1
		return true
	}
	switch r {
	case 0x061c, 0x200e, 0x200f, // ALM, LRM, RLM
		0x202a, 0x202b, 0x202c, 0x202d, 0x202e, // LRE RLE PDF LRO RLO
		0x2066, 0x2067, 0x2068, 0x2069, // LRI RLI FSI PDI
		0x2028, 0x2029: // line and paragraph separators
		return true
	}
	return false
}

const lowerHex = "0123456789abcdef"

// SafeText returns s ready for one line of terminal output or an error
// message. Escaped, Go-style: C0 controls and DEL (\t, \n, \r, \a, \b, \f,
// \v by name, others as \xHH), C1 controls (\u0080–\u009f), the
// bidirectional characters U+061C, U+200E, U+200F, U+202A–U+202E and
// U+2066–U+2069 and the separators U+2028, U+2029 (\uXXXX), and each byte
// of invalid UTF-8 (\xHH). Everything else, backslashes included, is kept:
// a string with nothing to escape comes back as it is, without allocating.
func SafeText(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return string(appendSafeText(make([]byte, 0, len(s)+16), s, i))
		}
		i += size
	}
	return s
}

// AppendSafeText appends SafeText(s) to dst.
func AppendSafeText(dst []byte, s string) []byte { return appendSafeText(dst, s, 0) }

// appendSafeText appends s to dst, escaping from index from on (s[:from]
// is known to be safe).
func appendSafeText(dst []byte, s string, from int) []byte {
	dst = append(dst, s[:from]...)
	start := from
	for i := from; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		invalid := r == utf8.RuneError && size == 1
		if !invalid && !unsafeRune(r) {
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch {
		case invalid || r < utf8.RuneSelf:
			switch c {
			case '\a':
				dst = append(dst, `\a`...)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			case '\v':
				dst = append(dst, `\v`...)
			default:
				dst = append(dst, '\\', 'x', lowerHex[c>>4], lowerHex[c&0xf])
			}
		default:
			dst = appendU4(dst, r)
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// appendU4 appends \uXXXX for a rune in the Basic Multilingual Plane.
func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', lowerHex[r>>12&0xf], lowerHex[r>>8&0xf], lowerHex[r>>4&0xf], lowerHex[r&0xf])
}

// EscapeJSON appends the JSON text src to dst with DEL, the C1 controls,
// the bidirectional characters and U+2028/U+2029 written as \uXXXX, and
// any invalid UTF-8 byte as \ufffd. src must be JSON as an encoder writes
// it (encoding/json escapes the C0 controls itself); those characters can
// only occur inside its strings, so the result is the same JSON value, safe
// for a terminal even after `jq -r`. Output without them is copied as is.
func EscapeJSON(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); {
		c := src[i]
		if c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
		case unsafeRune(r):
			dst = append(dst, src[start:i]...)
			dst = appendU4(dst, r)
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, src[start:]...)
}

// SafeJSONWriter returns a writer that passes JSON text to w through
// EscapeJSON. Each Write must end on a character boundary, as
// json.Encoder's do (one Write per value): wrap the encoder's writer,
// json.NewEncoder(decode.SafeJSONWriter(w)), and every string it writes is
// terminal-safe.
func SafeJSONWriter(w io.Writer) io.Writer { return &safeJSONWriter{w: w} }

type safeJSONWriter struct {
	w   io.Writer
	buf []byte
}

func (s *safeJSONWriter) Write(p []byte) (int, error) {
	clean := true
	for _, c := range p {
		if c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s.w.Write(p)
	}
	s.buf = EscapeJSON(s.buf[:0], p)
	if _, err := s.w.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SafeDocument escapes, as SafeText does, every character of a generated
// document (an HTML page) that a terminal or a browser could act on, except
// newlines, tabs and carriage returns, which the document's own markup
// uses. The renderers of whole documents pass their output through it, so
// that strings from the input (keys, labels, file names, meta.json's ID)
// reach a reader without control or bidi characters whatever template
// path printed them. doc is returned as is when nothing needs escaping.
func SafeDocument(doc []byte) []byte {
	var out []byte
	start := 0
	for i := 0; i < len(doc); {
		c := doc[i]
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' || c == '\r' {
			i++
			continue
		}
		r, size := utf8.DecodeRune(doc[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			if out == nil {
				out = make([]byte, 0, len(doc)+64)
			}
			out = append(out, doc[start:i]...)
			out = AppendSafeText(out, string(doc[i:i+size]))
			start = i + size
		}
		i += size
	}
	if out == nil {
		return doc
	}
	return append(out, doc[start:]...)
}
