package decode

// KVKeyBytes returns the Key field of a KVS or Tombstone record without
// decoding the rest: it walks the top-level map's keys and skips values by
// their msgpack headers. The result aliases rec.Raw (valid until the next
// Next) and nothing is allocated. ok is false for other types, or when the
// value is not a map with a str/bin Key.
func KVKeyBytes(rec *Record) (key []byte, ok bool) {
	if rec == nil || len(rec.Raw) < 2 || (rec.Type != TypeKVS && rec.Type != TypeTombstone) {
		return nil, false
	}
	return mapStrField(rec.Raw[1:], "Key")
}

// KVKey is KVKeyBytes as a string (one allocation for the string).
func KVKey(rec *Record) (string, bool) {
	b, ok := KVKeyBytes(rec)
	if !ok {
		return "", false
	}
	return string(b), true
}

// mapStrField finds field name in the msgpack map b and returns its value's
// payload if it is a str or bin.
func mapStrField(b []byte, name string) ([]byte, bool) {
	n, p, ok := mapLen(b)
	if !ok {
		return nil, false
	}
	for i := uint64(0); i < n; i++ {
		k, q, isStr := strAt(b, p)
		if q < 0 {
			return nil, false
		}
		if isStr && string(k) == name {
			v, end, isStr := strAt(b, q)
			return v, end >= 0 && isStr
		}
		if p = skipValue(b, q); p < 0 {
			return nil, false
		}
	}
	return nil, false
}

// mapLen reads a map header at b[0].
func mapLen(b []byte) (n uint64, p int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	c := b[0]
	switch {
	case c >= 0x80 && c <= 0x8f:
		return uint64(c & 0x0f), 1, true
	case c == 0xde && len(b) >= 3:
		return uint64(b[1])<<8 | uint64(b[2]), 3, true
	case c == 0xdf && len(b) >= 5:
		return uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4]), 5, true
	}
	return 0, 0, false
}

// strAt reads the value at b[p]. If it is a str or bin it returns the
// payload; in any case it returns the position after the value (-1 if
// malformed or truncated).
func strAt(b []byte, p int) (payload []byte, end int, isStr bool) {
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
		return nil, skipValue(b, p), false
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

// skipValue returns the position just after the msgpack object at b[p], or
// -1 if it is malformed or runs past the end of b. Iterative, like
// Stream.scanValue.
func skipValue(b []byte, p int) int {
	rem := uint64(1)
	for rem > 0 {
		if p >= len(b) {
			return -1
		}
		c := b[p]
		p++
		rem--
		var skip uint64
		switch {
		case c <= 0x7f || c >= 0xe0:
		case c <= 0x8f:
			rem += 2 * uint64(c&0x0f)
		case c <= 0x9f:
			rem += uint64(c & 0x0f)
		case c <= 0xbf:
			skip = uint64(c & 0x1f)
		default:
			switch c {
			case 0xc0, 0xc2, 0xc3:
			case 0xc1:
				return -1
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
					return -1
				}
				var n uint64
				for _, x := range b[p : p+w] {
					n = n<<8 | uint64(x)
				}
				p += w
				switch c {
				case 0xdc, 0xdd:
					rem += n
				case 0xde, 0xdf:
					rem += 2 * n
				case 0xc7, 0xc8, 0xc9:
					skip = n + 1
				default:
					skip = n
				}
			}
		}
		if skip > uint64(len(b)-p) || rem > uint64(len(b)) {
			return -1
		}
		p += int(skip)
	}
	return p
}
