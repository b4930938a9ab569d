package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Time is a time.Time as Consul persists it: the str-wrapped bytes of
// time.Time.MarshalBinary (version 1, 15 bytes, or version 2, 16 bytes), or
// the msgpack timestamp extension (type -1) that go-msgpack v2 writes
// (docs/FORMAT.md §4.6). Both decode; the zone offset is kept.
type Time struct {
	time.Time
}

// MarshalJSON writes RFC 3339 with nanoseconds.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.Format(time.RFC3339Nano) + `"`), nil
}

var errBadTime = errors.New("not a time.Time encoding")

func decodeTimeValue(v *Value) (Time, error) {
	switch v.Kind {
	case Nil:
		return Time{}, nil
	case Str, Bin:
		var t time.Time
		if err := t.UnmarshalBinary(v.Bytes); err != nil {
			return Time{}, fmt.Errorf("%w: %v", errBadTime, err)
		}
		return Time{t}, nil
	case Ext:
		if v.ExtType != -1 {
			return Time{}, fmt.Errorf("%w: ext type %d", errBadTime, v.ExtType)
		}
		t, err := decodeTimestampExt(v.Bytes)
		return Time{t}, err
	}
	return Time{}, fmt.Errorf("%w: msgpack %s", errBadTime, v.Kind)
}

// decodeTimestampExt decodes the msgpack timestamp extension payload.
func decodeTimestampExt(b []byte) (time.Time, error) {
	switch len(b) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC(), nil
	case 8:
		u := binary.BigEndian.Uint64(b)
		return time.Unix(int64(u&(1<<34-1)), int64(u>>34)).UTC(), nil
	case 12:
		ns := binary.BigEndian.Uint32(b)
		sec := int64(binary.BigEndian.Uint64(b[4:]))
		return time.Unix(sec, int64(ns)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: timestamp extension of %d bytes", errBadTime, len(b))
}
