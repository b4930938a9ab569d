package decode

import "hash/maphash"

// contentSeed seeds ContentHash: hashes compare within one process only.
var contentSeed = maphash.MakeSeed()

// ContentHash is a 64-bit hash of a record's content, for telling whether
// two versions of one record (same type and identity) differ, without
// decoding or re-encoding either. It hashes the record's raw bytes, except
// that the entries of every msgpack map count regardless of their order:
// Consul writes Go maps (node Meta, TaggedAddresses, config-entry fields)
// in Go's random map order, so the same content comes out in other bytes in
// every snapshot, and diff, which compares decoded trees with sorted keys,
// calls those records equal; so does this hash. Scalars, strings and the
// order of array elements are hashed byte for byte, and the type counts.
//
// KVS, Tombstone and Index records hold no Go maps (their structs are
// written in field order), so their raw bytes are hashed directly, at
// hashing speed. A value that is not exactly one well-formed msgpack value
// (cut off, a bad descriptor, trailing bytes, nested deeper than MaxDepth)
// is hashed as raw bytes too. The hash is seeded once per process: hashes
// compare within one run only. Two different contents collide with
// probability about 2⁻⁶⁴.
func ContentHash(rec *Record) uint64 {
	if rec == nil {
		return 0
	}
	switch rec.Type {
	case TypeKVS, TypeTombstone, TypeIndex:
		return maphash.Bytes(contentSeed, rec.Raw)
	}
	if len(rec.Raw) < 2 {
		return maphash.Bytes(contentSeed, rec.Raw)
	}
	b := rec.Raw[1:]
	h, end := valueHash(b, 0, 0)
	if end != len(b) { // malformed: the bytes are the content
		return maphash.Bytes(contentSeed, rec.Raw)
	}
	return mix64(h ^ uint64(rec.Type))
}

// valueHash hashes the msgpack value at b[p] (readHead classifies it) and
// returns the position after it, -1 when it is malformed or too deep.
func valueHash(b []byte, p, depth int) (uint64, int) {
	if depth > MaxDepth {
		return 0, -1
	}
	k, hdr, n, ok := readHead(b, p)
	if !ok {
		return 0, -1
	}
	switch k {
	case Map:
		if n > uint64(len(b)-p) { // more pairs announced than bytes are left
			return 0, -1
		}
		acc := mix64(0x6d61700000000000 ^ n)
		q := p + hdr
		for i := uint64(0); i < n; i++ {
			kh, r := valueHash(b, q, depth+1)
			if r < 0 {
				return 0, -1
			}
			vh, s := valueHash(b, r, depth+1)
			if s < 0 {
				return 0, -1
			}
			acc += mix64(kh ^ mix64(vh)) // a sum over the pairs: their order does not count
			q = s
		}
		return mix64(acc), q
	case Array:
		if n > uint64(len(b)-p) {
			return 0, -1
		}
		acc := mix64(0x6172720000000000 ^ n)
		q := p + hdr
		for i := uint64(0); i < n; i++ {
			eh, r := valueHash(b, q, depth+1)
			if r < 0 {
				return 0, -1
			}
			acc = mix64(acc ^ eh)
			q = r
		}
		return acc, q
	}
	skip := payloadLen(k, n)
	if skip > uint64(len(b)-p-hdr) {
		return 0, -1
	}
	end := p + hdr + int(skip)
	return maphash.Bytes(contentSeed, b[p:end]), end
}

// mix64 is splitmix64's finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
