package decode

// Allocation-free readers for msgpack bytes already in memory (a record's
// Raw), shared by the fast paths here (KV keys, identities, raft indexes)
// and by diff's sort keys. Positions are byte offsets into b; a result of
// -1 or ok false means the bytes are malformed or truncated there. They
// agree with DecodeValue: str and bin both read as strings, and the first
// key equal to a name wins.

// MapHeader reads a map header at b[p]: the number of entries and the
// position of the first key.
func MapHeader(b []byte, p int) (n uint64, q int, ok bool) {
	if p < 0 || p >= len(b) {
		return 0, 0, false
	}
	c := b[p]
	switch {
	case c >= 0x80 && c <= 0x8f:
		return uint64(c & 0x0f), p + 1, true
	case c == 0xde && len(b)-p >= 3:
		return uint64(b[p+1])<<8 | uint64(b[p+2]), p + 3, true
	case c == 0xdf && len(b)-p >= 5:
		return uint64(b[p+1])<<24 | uint64(b[p+2])<<16 | uint64(b[p+3])<<8 | uint64(b[p+4]), p + 5, true
	}
	return 0, 0, false
}

// IsMapAt reports whether b[p] starts a map.
func IsMapAt(b []byte, p int) bool {
	_, _, ok := MapHeader(b, p)
	return ok
}

// MapField returns the position of the value under the first str/bin key
// equal to name in the map at b[p].
func MapField(b []byte, p int, name string) (int, bool) {
	n, q, ok := MapHeader(b, p)
	if !ok {
		return 0, false
	}
	for i := uint64(0); i < n; i++ {
		k, end, isStr := StrAt(b, q)
		if end < 0 {
			return 0, false
		}
		if isStr && string(k) == name {
			return end, end < len(b)
		}
		if q = SkipValue(b, end); q < 0 {
			return 0, false
		}
	}
	return 0, false
}

// StrAt reads the value at b[p]. If it is a str or bin it returns the
// payload; in any case it returns the position after the value (-1 if
// malformed or truncated).
func StrAt(b []byte, p int) (payload []byte, end int, isStr bool) {
	if p >= len(b) {
		return nil, -1, false
	}
	c := b[p]
	var n, w int
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n, w = int(c&0x1f), 0
	case c == 0xd9 || c == 0xc4:
		w = 1
	case c == 0xda || c == 0xc5:
		w = 2
	case c == 0xdb || c == 0xc6:
		w = 4
	default:
		return nil, SkipValue(b, p), false
	}
	if p+1+w > len(b) {
		return nil, -1, false
	}
	for _, x := range b[p+1 : p+1+w] {
		n = n<<8 | int(x)
	}
	start := p + 1 + w
	if n < 0 || n > len(b)-start {
		return nil, -1, false
	}
	return b[start : start+n], start + n, true
}

// SkipValue returns the position just after the msgpack object at b[p], or
// -1 if it is malformed or runs past the end of b.
func SkipValue(b []byte, p int) int {
	end, _, _ := walkValue(b, p)
	return end
}

// walkValue walks the msgpack object at b[p] without building it and
// returns the position after it (-1 if malformed or truncated) and the
// total map pairs and array elements inside it. It is iterative — a count
// of values still to read replaces recursion, as in Stream.scanValue — and
// rejects an object that announces more values than bytes are left.
func walkValue(b []byte, p int) (end, pairs, elems int) {
	rem := uint64(1)
	for rem > 0 {
		if p < 0 || p >= len(b) {
			return -1, 0, 0
		}
		c := b[p]
		p++
		rem--
		var skip uint64
		switch {
		case c <= 0x7f || c >= 0xe0:
		case c <= 0x8f:
			pairs += int(c & 0x0f)
			rem += 2 * uint64(c&0x0f)
		case c <= 0x9f:
			elems += int(c & 0x0f)
			rem += uint64(c & 0x0f)
		case c <= 0xbf:
			skip = uint64(c & 0x1f)
		default:
			switch c {
			case 0xc0, 0xc2, 0xc3:
			case 0xc1:
				return -1, 0, 0
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
					return -1, 0, 0
				}
				var n uint64
				for _, x := range b[p : p+w] {
					n = n<<8 | uint64(x)
				}
				p += w
				if n > uint64(len(b)) {
					return -1, 0, 0
				}
				switch c {
				case 0xdc, 0xdd:
					elems += int(n)
					rem += n
				case 0xde, 0xdf:
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
			return -1, 0, 0 // more bytes or values announced than are left
		}
		p += int(skip)
	}
	return p, pairs, elems
}
