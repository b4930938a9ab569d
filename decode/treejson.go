package decode

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// appendTreeJSON appends the JSON of a tree value (Object, []any, string,
// []byte, int64, uint64, float64, bool, nil) to b, byte for byte what
// encoding/json with SetEscapeHTML(false) writes passed through EscapeJSON, without reflection and
// without re-encoding nested objects (Object.MarshalJSON is on dump's hot
// path). Values of other types go through encoding/json. Non-finite floats,
// which encoding/json refuses, are written as the strings "NaN", "+Inf"
// and "-Inf", as Tree holds them.
func appendTreeJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case *Object:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '{')
		for i, k := range x.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendTreeJSON(b, x.Values[i]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendTreeJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case string:
		return appendJSONString(b, x), nil
	case []byte:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"'), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		if s, ok := floatTree(x).(string); ok { // NaN and ±Inf are not JSON numbers (tree.go)
			return appendJSONString(b, s), nil
		}
	case float32:
		if s, ok := floatTree(float64(x)).(string); ok {
			return appendJSONString(b, s), nil
		}
	}
	vb, err := marshalNoHTML(v)
	if err != nil {
		return nil, err
	}
	return EscapeJSON(b, vb), nil
}

// jsonSafe marks the ASCII bytes written as they are: printable, not DEL,
// '"' or '\\'.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendJSONString appends src as a JSON string as encoding/json with HTML
// escaping off writes a string — control characters as \n, \t, … or
// \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped — and, for
// terminal safety (safetext.go), DEL, the C1 controls and the bidirectional
// characters as \u00XX / \u202X too, so that `jq -r` cannot emit them.
// It equals EscapeJSON applied to encoding/json's output. KV values are mostly long runs of safe ASCII with quotes
// in between (JSON documents), so safe runs are copied whole.
func AppendJSONString(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		c := src[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, src[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			start = i + size
		case unsafeRune(r):
			dst = append(dst, src[start:i]...)
			dst = appendU4(dst, r)
			start = i + size
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// appendJSONString is AppendJSONString for a string, without copying it.
func appendJSONString(dst []byte, src string) []byte {
	return AppendJSONString(dst, unsafe.Slice(unsafe.StringData(src), len(src)))
}

// AppendJSON appends the JSON of a tree from Tree to b, exactly as
// encoding/json with SetEscapeHTML(false) would write it and EscapeJSON
// would make it terminal-safe, but without reflection. A caller that builds JSON lines itself (dump) can use it to
// skip encoding/json, which re-validates and compacts every Marshaler's
// output.
func AppendJSON(b []byte, tree any) ([]byte, error) { return appendTreeJSON(b, tree) }
