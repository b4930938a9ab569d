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
	n := len(fields)
	switch {
	case n < 16:
		dst = append(dst, 0x80|byte(n))
	case n < 1<<16:
		dst = append(dst, 0xde)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0xdf)
		dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	for _, f := range fields {
		dst = append(append(dst, f.Key...), f.Val...)
	}
	return dst
}

// AppendArray appends a msgpack array of the raw values elems, with the
// header go-msgpack writes for that many elements.
func AppendArray(dst []byte, elems [][]byte) []byte {
	n := len(elems)
	switch {
	case n < 16:
		dst = append(dst, 0x90|byte(n))
	case n < 1<<16:
		dst = append(dst, 0xdc)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0xdd)
		dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	}
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
