package decode

// Container slabs for the generic decoder. A record's maps and arrays are
// counted in one cheap pass over the bytes first (the same header walk the
// scanner does), then every map's pairs and every array's elements are cut
// from two slices allocated once, instead of one allocation per container:
// a Register record has twenty-odd containers. The counts are bounded by
// the input length (each pair takes at least two bytes, each element one),
// so a hostile length field cannot make them large; malformed input skips
// the slabs and takes the per-container path, which reports the error.

// countContainers returns the total map pairs and array elements of the
// msgpack object at b[0]; ok is false if it is malformed or truncated.
func countContainers(b []byte) (pairs, elems int, ok bool) {
	end, pairs, elems := walkValue(b, 0)
	return pairs, elems, end >= 0
}

// takePairs cuts n pairs (length 0, capacity n) from the slab, or returns nil.
func (d *valueDecoder) takePairs(n uint64) []Pair {
	if n == 0 || n > uint64(cap(d.pairs)-len(d.pairs)) {
		return nil
	}
	l := len(d.pairs)
	d.pairs = d.pairs[:l+int(n)]
	return d.pairs[l : l : l+int(n)]
}

// takeElems cuts n elements (length 0, capacity n) from the slab, or returns nil.
func (d *valueDecoder) takeElems(n uint64) []Value {
	if n == 0 || n > uint64(cap(d.elems)-len(d.elems)) {
		return nil
	}
	l := len(d.elems)
	d.elems = d.elems[:l+int(n)]
	return d.elems[l : l : l+int(n)]
}
