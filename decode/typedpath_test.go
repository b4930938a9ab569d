package decode_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// TestTypedErrorPaths: field paths in typed-decode errors are built on the
// error path only; they must still name the exact place.
func TestTypedErrorPaths(t *testing.T) {
	str := func(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		typ  decode.MessageType
		val  []byte
		want string
	}{
		{"top-level field", decode.TypeKVS, cat([]byte{0x81}, str("Key"), []byte{0x05}), "field Key: msgpack uint, want str"},
		{"root value", decode.TypeKVS, []byte{0x05}, "field (value): msgpack uint, want map"},
		{"nested slice element", decode.TypeRegister, cat([]byte{0x81}, str("Service"), []byte{0x81}, str("Tags"), []byte{0x92}, str("a"), []byte{0x07}),
			"field Service.Tags[1]: msgpack uint, want str"},
		{"map value", decode.TypeRegister, cat([]byte{0x81}, str("NodeMeta"), []byte{0x81}, str("k"), []byte{0xc3}),
			"field NodeMeta[k]: msgpack bool, want str"},
		{"root array element field", decode.TypeCoordinateBatchUpdate, cat([]byte{0x91, 0x81}, str("Node"), []byte{0x01}),
			"field [0].Node: msgpack uint, want str"},
		{"struct in slice", decode.TypeACLToken, cat([]byte{0x81}, str("Policies"), []byte{0x91, 0x81}, str("ID"), []byte{0xc2}),
			"field Policies[0].ID: msgpack bool, want str"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode.DecodeValueOf(tt.typ, tt.val)
			if err == nil || !errors.Is(err, decode.ErrTypedDecode) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
