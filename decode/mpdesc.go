package decode

// The msgpack descriptor classifier: the one place in snaptool that knows
// what a lead byte means. Like encoding/json's single scanner, which serves
// Valid, Compact, Indent and Decoder, everything that reads msgpack builds
// on it: the streaming record scanner (stream.go, which keeps its own
// refill loop), skipping and counting (walkValue), the allocation-free
// check (check.go), the generic decoder (msgpack.go), the field readers
// behind Keys, KVFields, RegisterNames and RaftIndexes (fields.go), and
// ContentHash (contenthash.go). No other package reads
// msgpack bytes (layering_test.go keeps it so).
//
// A msgpack value is a lead byte, then for some families a big-endian
// length or count of 1, 2 or 4 bytes (the header), then its payload: the
// scalar's bytes, a str/bin's bytes, an ext's type byte and data, or a
// container's children.

// desc is what a lead byte says about the value it starts.
type desc struct {
	kind Kind
	ok   bool  // false only for 0xc1, which starts nothing
	lenw uint8 // width of the length or count after the lead byte: 0, 1, 2 or 4
	// n, when lenw is 0: the inline length of a fixstr, the count of a
	// fixmap or fixarray, the data bytes of a fixext, or the fixed payload
	// width of an integer or float (0 for fixints, nil and booleans).
	n uint8
}

// descs classifies every lead byte.
var descs = func() (t [256]desc) {
	for c := 0; c < 256; c++ {
		d := &t[c]
		d.ok = true
		switch {
		case c <= 0x7f:
			d.kind = Uint
		case c <= 0x8f:
			d.kind, d.n = Map, uint8(c&0x0f)
		case c <= 0x9f:
			d.kind, d.n = Array, uint8(c&0x0f)
		case c <= 0xbf:
			d.kind, d.n = Str, uint8(c&0x1f)
		case c >= 0xe0:
			d.kind = Int
		}
	}
	set := func(c int, k Kind, lenw, n uint8) { t[c] = desc{kind: k, ok: true, lenw: lenw, n: n} }
	set(0xc0, Nil, 0, 0)
	t[0xc1] = desc{}
	set(0xc2, Bool, 0, 0)
	set(0xc3, Bool, 0, 0)
	for i := 0; i < 3; i++ { // 8, 16, 32-bit lengths
		w := uint8(1) << i
		set(0xc4+i, Bin, w, 0)
		set(0xc7+i, Ext, w, 0)
		set(0xd9+i, Str, w, 0)
	}
	set(0xca, Float, 0, 4)
	set(0xcb, Float, 0, 8)
	for i := 0; i < 4; i++ { // 1, 2, 4, 8 bytes
		set(0xcc+i, Uint, 0, 1<<i)
		set(0xd0+i, Int, 0, 1<<i)
	}
	for i := 0; i < 5; i++ { // fixext 1, 2, 4, 8, 16
		set(0xd4+i, Ext, 0, 1<<i)
	}
	set(0xdc, Array, 2, 0)
	set(0xdd, Array, 4, 0)
	set(0xde, Map, 2, 0)
	set(0xdf, Map, 4, 0)
	return t
}()

// beUint reads a big-endian unsigned integer of len(b) (at most 8) bytes.
func beUint(b []byte) uint64 {
	var x uint64
	for _, c := range b {
		x = x<<8 | uint64(c)
	}
	return x
}

// payloadLen is the number of bytes that follow a value's header and belong
// to the value itself, given its kind and n from readHead: a container's
// children are not counted, an ext's type byte is.
func payloadLen(k Kind, n uint64) uint64 {
	switch k {
	case Map, Array:
		return 0
	case Ext:
		return n + 1
	}
	return n
}

// readHead classifies the value at b[p]: its kind, the header's length
// (the lead byte and any length field) and n, which is the payload length
// for scalars, str and bin, the data length for ext (after its type byte),
// and the entry count for arrays and maps. ok is false when p is outside b,
// the lead byte is 0xc1 or the length field is cut off.
func readHead(b []byte, p int) (k Kind, hdr int, n uint64, ok bool) {
	if p < 0 || p >= len(b) {
		return 0, 0, 0, false
	}
	d := &descs[b[p]]
	if d.lenw == 0 {
		return d.kind, 1, uint64(d.n), d.ok
	}
	w := int(d.lenw)
	if w > len(b)-p-1 {
		return d.kind, 0, 0, false
	}
	return d.kind, 1 + w, beUint(b[p+1 : p+1+w]), true
}

// intAt reads the integer whose head readHead classified at b[p] as (k, n):
// a fixint lives in its lead byte, other integers in the n bytes after it.
// ok is false if those bytes are cut off.
func intAt(b []byte, p int, k Kind, n uint64) (u uint64, i int64, ok bool) {
	if n == 0 {
		if k == Uint {
			return uint64(b[p]), 0, true
		}
		return 0, int64(int8(b[p])), true
	}
	if n > uint64(len(b)-p-1) {
		return 0, 0, false
	}
	x := beUint(b[p+1 : p+1+int(n)])
	if k == Uint {
		return x, 0, true
	}
	shift := 64 - 8*n
	return 0, int64(x<<shift) >> shift, true
}

// boolAt is the value of the boolean whose lead byte is c.
func boolAt(c byte) bool { return c == 0xc3 }

// isNilAt reports whether b[p] is msgpack nil.
func isNilAt(b []byte, p int) bool { return p >= 0 && p < len(b) && b[p] == 0xc0 }

// isMapAt reports whether a map starts at b[p].
func isMapAt(b []byte, p int) bool {
	return p >= 0 && p < len(b) && descs[b[p]].kind == Map && descs[b[p]].ok
}

// walkValue walks the msgpack object at b[p] without building it and
// returns the position after it (-1 if malformed or truncated) and the
// total map pairs and array elements inside it. It is iterative — a count
// of values still to read replaces recursion, as in Stream.scanValue — and
// rejects an object that announces more values than bytes are left. It
// does not limit nesting depth (checker.generic does).
func walkValue(b []byte, p int) (end, pairs, elems int) {
	rem := uint64(1)
	for rem > 0 {
		k, hdr, n, ok := readHead(b, p)
		if !ok {
			return -1, 0, 0
		}
		p += hdr
		rem--
		switch k {
		case Map:
			if n > uint64(len(b)) {
				return -1, 0, 0
			}
			pairs += int(n)
			rem += 2 * n
		case Array:
			if n > uint64(len(b)) {
				return -1, 0, 0
			}
			elems += int(n)
			rem += n
		default:
			skip := payloadLen(k, n)
			if skip > uint64(len(b)-p) {
				return -1, 0, 0
			}
			p += int(skip)
		}
		if rem > uint64(len(b)-p) {
			return -1, 0, 0 // more values announced than bytes are left
		}
	}
	return p, pairs, elems
}

// skipValue returns the position just after the msgpack object at b[p], or
// -1 if it is malformed or runs past the end of b.
func skipValue(b []byte, p int) int {
	end, _, _ := walkValue(b, p)
	return end
}

// strAt reads the value at b[p]. If it is a str or bin it returns the
// payload (non-nil, possibly empty); in any case it returns the position
// after the value (-1 if malformed or truncated).
func strAt(b []byte, p int) (payload []byte, end int, isStr bool) {
	k, hdr, n, ok := readHead(b, p)
	if !ok {
		return nil, -1, false
	}
	if k != Str && k != Bin {
		return nil, skipValue(b, p), false
	}
	start := p + hdr
	if n > uint64(len(b)-start) {
		return nil, -1, false
	}
	return b[start : start+int(n) : start+int(n)], start + int(n), true
}

// ValueEnd returns the offset just past the one msgpack value that starts
// at b[p], or -1 when it is malformed, truncated or nests deeper than
// MaxDepth. It walks headers only and allocates nothing: a writer uses it to
// check that bytes hold exactly one value before copying them.
func ValueEnd(b []byte, p int) int { return skipValue(b, p) }

// IsMap reports whether the msgpack value at b[p] is a map.
func IsMap(b []byte, p int) bool { return isMapAt(b, p) }

// IsNil reports whether the msgpack value at b[0] is nil.
func IsNil(b []byte) bool { return isNilAt(b, 0) }

// IsTrue reports whether the msgpack value at b[0] is the boolean true.
func IsTrue(b []byte) bool { return len(b) > 0 && descs[b[0]].kind == Bool && boolAt(b[0]) }
