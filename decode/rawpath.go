package decode

import (
	"fmt"
	"time"
)

// Readers for callers that hold msgpack other than a snapshot record (the
// raft log's requests, which embed records: a KV DirEnt, a Session, a list
// of ACLTokens). They give the bytes of an embedded value so that the
// record functions (Identity, Keys, DecodeValueOf, View) see exactly the
// bytes that were written, never a re-encoding. All build on mpdesc.go.

// ValueAt returns the bytes of the value reached by following path from
// the msgpack value that starts at b[0]: a string steps into the map entry
// of that name (the last one when the name appears twice, as everywhere in
// this package), an int into that element of an array. It returns false
// when a step is missing, b is malformed, or a path element is neither a
// string nor an int. The result aliases b. It allocates nothing and reads
// each container once.
func ValueAt(b []byte, path ...any) ([]byte, bool) {
	p := 0
	for _, step := range path {
		switch s := step.(type) {
		case string:
			if p = field(b, p, s); p < 0 {
				return nil, false
			}
		case int:
			k, hdr, n, ok := readHead(b, p)
			if !ok || k != Array || s < 0 || uint64(s) >= n {
				return nil, false
			}
			p += hdr
			for i := 0; i < s; i++ {
				if p = skipValue(b, p); p < 0 {
					return nil, false
				}
			}
		default:
			return nil, false
		}
	}
	end := skipValue(b, p)
	if end < 0 {
		return nil, false
	}
	return b[p:end:end], true
}

// ArrayValues returns the bytes of each element of the msgpack array that
// starts at b[0], in order (aliasing b); false when b does not start with a
// well-formed array. Its cost is linear in len(b).
func ArrayValues(b []byte) ([][]byte, bool) {
	k, hdr, n, ok := readHead(b, 0)
	if !ok || k != Array || n > uint64(len(b)) {
		return nil, false
	}
	out := make([][]byte, 0, n)
	p := hdr
	for i := uint64(0); i < n; i++ {
		end := skipValue(b, p)
		if end < 0 {
			return nil, false
		}
		out = append(out, b[p:end:end])
		p = end
	}
	return out, true
}

// TimeOf reads a time.Time from a generic Value in the encodings of Time:
// the str/bin bytes of time.Time.MarshalBinary (go-msgpack v0.5.5, which
// Consul and hashicorp/raft use for raft.Log.AppendedAt) or the msgpack
// timestamp extension (type -1). Nil is the zero time.
func TimeOf(v *Value) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	t, err := decodeTimeValue(v)
	return t.Time, err
}

// DecodeProtoOf decodes b, the bare protobuf bytes of a value of the
// protobuf-encoded types (Peering, PeeringTrustBundle, PeeringSecret,
// Resource), as DecodeValueOf decodes the str-wrapped form that snapshots
// hold. Consul's raft log carries its peering requests as bare protobuf
// after the message type byte. The result does not alias b. The decode
// runs within the work budget of a record of len(b) bytes (ErrBudget). A
// failure wraps ErrTypedDecode.
func DecodeProtoOf(t MessageType, b []byte) (*Decoded, error) {
	switch t {
	case TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource:
	default:
		return nil, fmt.Errorf("%w: %s is not a protobuf type", ErrTypedDecode, t)
	}
	bud := budgetFor(len(b)) // the work budget of a record of len(b) bytes
	x, err := decodeProtoRecord(t, append([]byte(nil), b...), &bud)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTypedDecode, t, err)
	}
	return &Decoded{Type: t, Data: x}, nil
}

// DecodedKeys returns the keys (see Keys) of a decoded record of one of
// the types whose value is wrapped (ConfigEntry, Peering,
// PeeringTrustBundle, PeeringSecret, Resource): the same function Keys
// uses for them. For other types it returns false: their keys are read
// from the bytes (Keys, Identity).
func DecodedKeys(d *Decoded) (RecordKeys, bool) {
	if d == nil {
		return RecordKeys{}, false
	}
	switch d.Data.(type) {
	case *ConfigEntry, *Peering, *PeeringTrustBundle, *PeeringSecrets, *Resource:
		return keysOfDecoded(d), true
	}
	return RecordKeys{}, false
}

// Qualifier is the suffix an identity carries when a peer name, partition
// or namespace is set: ?peer=<p>&partition=<p>&namespace=<n>, only the
// parts that are non-empty, "" when none is (see Keys). Callers that name
// records from request fields (the raft log's catalog operations) build
// identities with it.
func Qualifier(peer, partition, namespace string) string {
	return string(appendQual(nil, peer, partition, namespace))
}

// Field is one entry of a msgpack map: the key's name and the raw bytes of
// the key and of the value, as written.
type Field struct {
	Name     string
	Key, Val []byte
}

// MapFields returns the entries of the msgpack map that starts at b[0], in
// wire order (Key and Val alias b); false when b does not start with one
// well-formed map whose keys are all strings. Its cost is linear in len(b).
func MapFields(b []byte) ([]Field, bool) {
	k, hdr, n, ok := readHead(b, 0)
	if !ok || k != Map || n > uint64(len(b)) {
		return nil, false
	}
	out := make([]Field, 0, n)
	p := hdr
	for i := uint64(0); i < n; i++ {
		name, kend, isStr := strAt(b, p)
		if !isStr || kend < 0 {
			return nil, false
		}
		end := skipValue(b, kend)
		if end < 0 {
			return nil, false
		}
		out = append(out, Field{Name: string(name), Key: b[p:kend:kend], Val: b[kend:end:end]})
		p = end
	}
	if p != len(b) {
		return nil, false
	}
	return out, true
}

// SameValue reports whether the msgpack values a and b hold the same
// content by ContentHash's rule: the entries of every map regardless of
// their order, everything else byte for byte (nil is not an empty map).
// Malformed values compare byte for byte.
func SameValue(a, b []byte) bool {
	ha, ea := valueHash(a, 0, 0)
	hb, eb := valueHash(b, 0, 0)
	if ea != len(a) || eb != len(b) {
		return string(a) == string(b)
	}
	return ha == hb
}
