package decode

// Field readers over a record's msgpack bytes (built on mpdesc.go): they
// find map entries by name without decoding or allocating, for Keys,
// KVFields, RegisterNames and RaftIndexes. They resolve a name that appears twice in a map
// the way Consul's decoder does, and the way Value.Get does: the last entry
// wins. A str and a bin key both match a name.

// lookup scans the map at b[p] once and sets pos[i] to the position of the
// value under the last str/bin key equal to names[i], or -1 when there is
// none. It returns false (all positions -1) when b[p] is not a well-formed
// map.
func lookup(b []byte, p int, names []string, pos []int) bool {
	for i := range pos {
		pos[i] = -1
	}
	k, hdr, n, ok := readHead(b, p)
	if !ok || k != Map {
		return false
	}
	p += hdr
	for j := uint64(0); j < n; j++ {
		key, q, isStr := strAt(b, p)
		if q < 0 {
			break
		}
		if isStr {
			for i, name := range names {
				if string(key) == name {
					pos[i] = q
				}
			}
		}
		if p = skipValue(b, q); p < 0 {
			break
		}
	}
	if p < 0 {
		for i := range pos {
			pos[i] = -1
		}
		return false
	}
	return true
}

// field is the position of the value under name in the map at b[p] (the
// last one), -1 when absent or when b[p] is not a map.
func field(b []byte, p int, name string) int {
	var pos [1]int
	names := [1]string{name}
	lookup(b, p, names[:], pos[:])
	return pos[0]
}

// strVal is the str/bin payload at b[p], nil when p is -1 or the value is
// not a str or bin (Value.String's "" on bytes).
func strVal(b []byte, p int) []byte {
	if p < 0 {
		return nil
	}
	s, _, _ := strAt(b, p)
	return s
}

// strPath follows names through nested maps from b[p] and returns the
// str/bin payload at the end (nil when any step is missing).
func strPath(b []byte, p int, names ...string) []byte {
	for _, name := range names {
		if p = field(b, p, name); p < 0 {
			return nil
		}
	}
	return strVal(b, p)
}

// uintAt reads a non-negative integer at b[p].
func uintAt(b []byte, p int) (uint64, bool) {
	k, _, n, ok := readHead(b, p)
	if !ok || (k != Uint && k != Int) {
		return 0, false
	}
	u, i, ok := intAt(b, p, k, n)
	switch {
	case !ok:
		return 0, false
	case k == Uint:
		return u, true
	case i >= 0:
		return uint64(i), true
	}
	return 0, false
}

// validValue reports whether b holds exactly one msgpack value that
// DecodeAll accepts (checker.generic: the same descriptors, lengths and
// nesting limit).
func validValue(b []byte) bool {
	c := checker{b: b}
	return c.generic(0) && c.p == len(b)
}

// scanTop checks, in one pass, that b holds exactly one msgpack value that
// DecodeAll accepts (validValue) and, when it is a map, does what lookup
// does for its top level. A false result leaves pos undefined.
func scanTop(b []byte, names []string, pos []int) bool {
	for i := range pos {
		pos[i] = -1
	}
	c := checker{b: b}
	k, n, _, ok := c.head()
	if !ok {
		return false
	}
	if k != Map {
		c.p = 0
		return c.generic(0) && c.p == len(b)
	}
	for j := uint64(0); j < n; j++ {
		name, isStr, ok := c.mapKey(1)
		if !ok {
			return false
		}
		if isStr {
			for i, want := range names {
				if string(name) == want {
					pos[i] = c.p
				}
			}
		}
		if !c.generic(1) {
			return false
		}
	}
	return c.p == len(b)
}

// mapKey reads a map key at depth: its payload when it is a str or bin,
// else it checks and skips it.
func (c *checker) mapKey(depth int) (name []byte, isStr, ok bool) {
	start := c.p
	k, n, _, ok := c.head()
	if !ok {
		return nil, false, false
	}
	if k == Str || k == Bin {
		name, _, ok = c.payload(k, n)
		return name, ok, ok
	}
	c.p = start
	return nil, false, c.generic(depth)
}

// KVEntry is a KVS or Tombstone record's DirEntry fields read straight from
// its bytes. Byte fields alias the record's Raw (valid until the stream's
// next Next); a string field that is absent, nil or not a str/bin is nil,
// an index that is absent or not a non-negative integer is 0. When a field
// appears twice the last one wins, as in Consul's decoder.
type KVEntry struct {
	Key, Session, Namespace, Partition []byte
	// Value is the value's bytes; ValueSet is false when it is absent or nil.
	Value                                      []byte
	ValueSet                                   bool
	CreateIndex, Flags, LockIndex, ModifyIndex uint64
	// Plain is true when the record has exactly the shape Consul writes:
	// every key is a DirEntry field name, strings are str/bin/nil and
	// indexes unsigned integers or nil. DecodeRecord then gives exactly
	// these fields and nothing in Extra, so a caller can use them instead.
	Plain bool
}

// KVFields reads a KVS or Tombstone record's fields from its bytes without
// decoding or allocating. ok is false for other types and for values that
// are not one valid msgpack value (Identity then fails); a valid value that
// is not a map gives an empty, non-plain entry.
func KVFields(rec *Record) (e KVEntry, ok bool) {
	if rec == nil || len(rec.Raw) < 2 || (rec.Type != TypeKVS && rec.Type != TypeTombstone) {
		return e, false
	}
	b := rec.Raw[1:]
	c := checker{b: b} // one pass: checks the value as validValue does and reads the fields
	k, n, _, ok := c.head()
	if !ok {
		return e, false
	}
	if k != Map {
		c.p = 0
		return e, c.generic(0) && c.p == len(b)
	}
	e.Plain = true
	for j := uint64(0); j < n; j++ {
		name, isStr, ok := c.mapKey(1)
		if !ok {
			return KVEntry{}, false
		}
		// The value: scalars are read in place, containers and ext checked.
		q := c.p
		vk, vn, vi, ok := c.head()
		if !ok {
			return KVEntry{}, false
		}
		var payload []byte
		switch vk {
		case Str, Bin:
			if payload, _, ok = c.payload(vk, vn); !ok {
				return KVEntry{}, false
			}
		case Map, Array, Ext:
			c.p = q
			if !c.generic(1) {
				return KVEntry{}, false
			}
		}
		if !isStr {
			e.Plain = false
			continue
		}
		var s *[]byte
		var u *uint64
		switch string(name) {
		case "Key":
			s = &e.Key
		case "Session":
			s = &e.Session
		case "Namespace":
			s = &e.Namespace
		case "Partition":
			s = &e.Partition
		case "Value":
			s = &e.Value
		case "CreateIndex":
			u = &e.CreateIndex
		case "Flags":
			u = &e.Flags
		case "LockIndex":
			u = &e.LockIndex
		case "ModifyIndex":
			u = &e.ModifyIndex
		default:
			e.Plain = false // goes to Extra
			continue
		}
		if s != nil {
			switch vk {
			case Str, Bin:
				*s = payload
			case Nil:
				*s = nil
			default:
				*s = nil
				e.Plain = false
			}
			if s == &e.Value {
				e.ValueSet = *s != nil
			}
			continue
		}
		switch {
		case vk == Uint:
			*u = vn
		case vk == Nil:
			*u = 0
		case vk == Int && vi >= 0:
			*u, e.Plain = uint64(vi), false
		default:
			*u, e.Plain = 0, false
		}
	}
	if c.p != len(b) {
		return KVEntry{}, false
	}
	return e, true
}

// AppendIdentity appends the entry's identity (see Identity: the key, then
// ?partition=…&namespace=… when set) to dst.
func (e *KVEntry) AppendIdentity(dst []byte) []byte {
	return appendQual(append(dst, e.Key...), []byte(nil), e.Partition, e.Namespace)
}

// appendQual appends the identity's qualifier: the peer name, partition and
// namespace that are set, as ?peer=<p>&partition=<p>&namespace=<n>.
func appendQual[S ~string | ~[]byte](dst []byte, peer, partition, namespace S) []byte {
	sep := byte('?')
	for _, f := range [...]struct {
		name string
		v    S
	}{{"peer=", peer}, {"partition=", partition}, {"namespace=", namespace}} {
		if len(f.v) > 0 {
			dst = append(append(append(dst, sep), f.name...), f.v...)
			sep = '&'
		}
	}
	return dst
}

// RegisterNames reads a Register record's Node and, for a service
// registration, its service name (Service.Service) straight from the bytes,
// without decoding or allocating; the last entry wins, as everywhere. node
// is nil when the Node field is absent or not a str/bin. service is nil
// unless the record has a Service map whose Service field is a str or bin
// (then non-nil, possibly empty). Both alias rec.Raw. Other types give nil,
// nil.
func RegisterNames(rec *Record) (node, service []byte) {
	if rec == nil || rec.Type != TypeRegister || len(rec.Raw) < 2 {
		return nil, nil
	}
	b := rec.Raw[1:]
	var f [2]int
	names := [2]string{"Node", "Service"}
	if !lookup(b, 0, names[:], f[:]) {
		return nil, nil
	}
	node = strVal(b, f[0])
	if isMapAt(b, f[1]) {
		if q := field(b, f[1], "Service"); q >= 0 {
			if s, _, isStr := strAt(b, q); isStr {
				service = s
			}
		}
	}
	return node, service
}
