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
	p := 0
	rem := uint64(1)
	for rem > 0 {
		if p >= len(b) {
			return 0, 0, false
		}
		c := b[p]
		p++
		rem--
		var skip uint64
		switch {
		case c <= 0x7f || c >= 0xe0:
		case c <= 0x8f:
			n := int(c & 0x0f)
			pairs += n
			rem += 2 * uint64(n)
		case c <= 0x9f:
			n := int(c & 0x0f)
			elems += n
			rem += uint64(n)
		case c <= 0xbf:
			skip = uint64(c & 0x1f)
		default:
			switch c {
			case 0xc0, 0xc2, 0xc3:
			case 0xc1:
				return 0, 0, false
			case 0xcc, 0xd0:
				skip = 1
			case 0xcd, 0xd1:
				skip = 2
			case 0xca, 0xce, 0xd2:
				skip = 4
			case 0xcb, 0xcf, 0xd3:
				skip = 8
			case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
				skip = 1 + uint64(1)<<(c-0xd4)
			default:
				var w int
				switch c {
				case 0xc4, 0xc7, 0xd9:
					w = 1
				case 0xc5, 0xc8, 0xda, 0xdc, 0xde:
					w = 2
				default:
					w = 4
				}
				if p+w > len(b) {
					return 0, 0, false
				}
				var n uint64
				for _, x := range b[p : p+w] {
					n = n<<8 | uint64(x)
				}
				p += w
				switch c {
				case 0xdc, 0xdd:
					if n > uint64(len(b)) {
						return 0, 0, false
					}
					elems += int(n)
					rem += n
				case 0xde, 0xdf:
					if n > uint64(len(b)) {
						return 0, 0, false
					}
					pairs += int(n)
					rem += 2 * n
				case 0xc7, 0xc8, 0xc9:
					skip = n + 1
				default:
					skip = n
				}
			}
		}
		if skip > uint64(len(b)-p) || rem > uint64(len(b)-p) {
			return 0, 0, false // more values announced than bytes left
		}
		p += int(skip)
	}
	return pairs, elems, true
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
