package decode

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// appendTreeJSON appends the JSON of a tree value (Object, []any, string,
// []byte, int64, uint64, float64, bool, nil) to b, byte for byte what
// encoding/json with SetEscapeHTML(false) writes, without reflection and
// without re-encoding nested objects (Object.MarshalJSON is on dump's hot
// path). Values of other types go through encoding/json.
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
	}
	vb, err := marshalNoHTML(v)
	if err != nil {
		return nil, err
	}
	return append(b, vb...), nil
}

// appendJSONString is encoding/json's string encoding with escapeHTML=false.
func appendJSONString(dst []byte, src string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
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
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}

// AppendJSON appends the JSON of a tree from Tree to b, exactly as
// encoding/json with SetEscapeHTML(false) would write it, but without
// reflection. A caller that builds JSON lines itself (dump) can use it to
// skip encoding/json, which re-validates and compacts every Marshaler's
// output.
func AppendJSON(b []byte, tree any) ([]byte, error) { return appendTreeJSON(b, tree) }
