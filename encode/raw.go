package encode

import (
	"encoding/binary"

	"github.com/hashicorp/go-msgpack/codec"

	"github.com/snaptool/snaptool/decode"
)

// AppendMap appends a msgpack map of fields (each key and value raw, as
// read by decode.MapFields) with the header go-msgpack writes for that
// many entries: records assembled from the bytes Consul wrote, never a
// re-encoding of them.
func AppendMap(dst []byte, fields []decode.Field) []byte {
	dst = appendHeader(dst, len(fields), 0x80, 0xde)
	for _, f := range fields {
		dst = append(append(dst, f.Key...), f.Val...)
	}
	return dst
}

// AppendArray appends a msgpack array of the raw values elems, with the
// header go-msgpack writes for that many elements.
func AppendArray(dst []byte, elems [][]byte) []byte {
	dst = appendHeader(dst, len(elems), 0x90, 0xdc)
	for _, e := range elems {
		dst = append(dst, e...)
	}
	return dst
}

// Value encodes v (a scalar or one of this package's structs) with
// Consul's handle: the bytes Consul's encoder writes for it.
func Value(v any) ([]byte, error) {
	var b []byte
	if err := codec.NewEncoderBytes(&b, NewHandle()).Encode(v); err != nil {
		return nil, err
	}
	return b, nil
}

// appendHeader appends a container header for n entries as go-msgpack
// writes it: the fix form (fix|n) below 16, else the 16-bit form (lead16,
// then a big-endian uint16) or the 32-bit one (lead16+1, then a uint32).
func appendHeader(dst []byte, n int, fix, lead16 byte) []byte {
	switch {
	case n < 16:
		return append(dst, fix|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(dst, lead16), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(dst, lead16+1), uint32(n))
	}
}
