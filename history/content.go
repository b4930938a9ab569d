package history

import (
	"hash/maphash"

	"github.com/snaptool/snaptool/decode"
)

// maxContentDepth bounds the content hash's recursion, as decode bounds
// its generic decoding (docs/FORMAT.md §4).
const maxContentDepth = 512

// contentHash is the digest's content hash of a record: a hash of its raw
// bytes in which the entries of every msgpack map count regardless of
// their order. Consul writes Go maps (node Meta, TaggedAddresses, config
// entry fields) in Go's random map order, so the same content is written in
// other bytes by every snapshot; diff compares decoded trees with sorted
// keys and calls those records equal, and so does this hash. Scalars,
// strings and array orders are hashed byte for byte; nothing is re-encoded.
// KVS, Tombstone and Index records hold no Go maps (their structs are
// written in field order), so their raw bytes are hashed directly, which
// keeps the bulk of a snapshot at hashing speed.
func contentHash(seed maphash.Seed, rec *decode.Record) uint64 {
	switch rec.Type {
	case decode.TypeKVS, decode.TypeTombstone, decode.TypeIndex:
		return maphash.Bytes(seed, rec.Raw)
	}
	if len(rec.Raw) < 2 {
		return maphash.Bytes(seed, rec.Raw)
	}
	h, end := valueHash(seed, rec.Raw[1:], 0, 0)
	if end != len(rec.Raw)-1 { // malformed: fall back to the bytes
		return maphash.Bytes(seed, rec.Raw)
	}
	return mix(h ^ uint64(rec.Type))
}

// valueHash hashes the msgpack object at b[p] and returns the position
// after it (-1 when malformed or too deep).
func valueHash(seed maphash.Seed, b []byte, p, depth int) (uint64, int) {
	if p < 0 || p >= len(b) || depth > maxContentDepth {
		return 0, -1
	}
	if n, q, ok := decode.MapHeader(b, p); ok {
		acc := mix(0x6d61700000000000 ^ n)
		for i := uint64(0); i < n; i++ {
			kh, r := valueHash(seed, b, q, depth+1)
			if r < 0 {
				return 0, -1
			}
			vh, s := valueHash(seed, b, r, depth+1)
			if s < 0 {
				return 0, -1
			}
			acc += mix(kh ^ mix(vh)) // commutative over the pairs: order does not count
			q = s
		}
		return mix(acc), q
	}
	if n, q, ok := arrayHeader(b, p); ok {
		acc := mix(0x6172720000000000 ^ n)
		for i := uint64(0); i < n; i++ {
			eh, r := valueHash(seed, b, q, depth+1)
			if r < 0 {
				return 0, -1
			}
			acc = mix(acc ^ eh)
			q = r
		}
		return acc, q
	}
	end := decode.SkipValue(b, p)
	if end < 0 {
		return 0, -1
	}
	return maphash.Bytes(seed, b[p:end]), end
}

// arrayHeader reads an array header at b[p] (decode/walk.go has the map
// counterpart, MapHeader).
func arrayHeader(b []byte, p int) (n uint64, q int, ok bool) {
	c := b[p]
	switch {
	case c >= 0x90 && c <= 0x9f:
		return uint64(c & 0x0f), p + 1, true
	case c == 0xdc && len(b)-p >= 3:
		return uint64(b[p+1])<<8 | uint64(b[p+2]), p + 3, true
	case c == 0xdd && len(b)-p >= 5:
		return uint64(b[p+1])<<24 | uint64(b[p+2])<<16 | uint64(b[p+3])<<8 | uint64(b[p+4]), p + 5, true
	}
	return 0, 0, false
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
