package decode

import (
	"reflect"
	"time"
)

// CheckRecord reports whether DecodeRecord would succeed on rec, and
// returns exactly the error DecodeRecord would return, but in the common
// case without building anything: it walks the msgpack bytes against the
// record struct's field types (the same acceptance rules as the typed
// decoder: integer ranges, str or bin for strings and bytes, nil for any
// field, unknown keys ignored, the same nesting limit) and allocates
// nothing. Whenever the walk finds something it does not accept, or the type
// needs a second decode (ConfigEntry, protobuf records), it calls
// DecodeRecord and returns its error, so a nil result always means
// DecodeRecord succeeds and a failure always carries DecodeRecord's message.
// verify uses it to check every record at scanning speed.
func CheckRecord(rec *Record) error {
	if len(rec.Raw) > 0 && checkFast(rec.Type, rec.Raw[1:]) {
		return nil
	}
	_, err := DecodeRecord(rec)
	return err
}

// RecordOK reports whether DecodeRecord would succeed on rec: CheckRecord's
// verdict without its error. The checker's walk decides both ways for the
// types it knows (it accepts exactly what DecodeRecord accepts, within the
// same budget; FuzzCheckRecord holds them equal), and a wrapped type whose
// value is not a str is rejected at once, so that a malformed record
// costs no more than a valid one to reject and allocates nothing. Build
// the error (CheckRecord) only for a finding that is kept (Capped).
func RecordOK(rec *Record) bool {
	if len(rec.Raw) < 2 {
		return false
	}
	b := rec.Raw[1:]
	if ct := &checkTarget[rec.Type]; ct.t != nil && b[0] != 0xc0 && descs[b[0]].kind != ct.root {
		return false // a garbage record is usually rejected by its first byte
	}
	if rec.Type.wrapsPayload() {
		if k := descs[b[0]].kind; k != Str && k != Bin {
			return false // DecodeValueOf wants a str-wrapped payload
		}
		_, err := DecodeRecord(rec)
		return err == nil
	}
	return checkFast(rec.Type, b)
}

// checkTargets are the struct types DecodeValueOf decodes into (kept in
// step with it by TestCheckTargetsMatchDecodeRecord).
var checkTargets = map[MessageType]reflect.Type{
	TypeKVS:                    reflect.TypeOf(DirEntry{}),
	TypeTombstone:              reflect.TypeOf(DirEntry{}),
	TypeRegister:               reflect.TypeOf(RegisterRequest{}),
	TypeSession:                reflect.TypeOf(Session{}),
	TypeACL:                    reflect.TypeOf(LegacyACL{}),
	TypeCoordinateBatchUpdate:  reflect.TypeOf(CoordinateBatchUpdate{}),
	TypePreparedQuery:          reflect.TypeOf(PreparedQuery{}),
	TypeAutopilot:              reflect.TypeOf(AutopilotConfig{}),
	TypeACLBootstrap:           reflect.TypeOf(ACLBootstrap{}),
	TypeIntention:              reflect.TypeOf(Intention{}),
	TypeConnectCA:              reflect.TypeOf(CARoot{}),
	TypeConnectCAProviderState: reflect.TypeOf(CAConsulProviderState{}),
	TypeConnectCAConfig:        reflect.TypeOf(CAConfiguration{}),
	TypeIndex:                  reflect.TypeOf(IndexEntry{}),
	TypeACLToken:               reflect.TypeOf(ACLToken{}),
	TypeACLPolicy:              reflect.TypeOf(ACLPolicy{}),
	TypeACLRole:                reflect.TypeOf(ACLRole{}),
	TypeACLBindingRule:         reflect.TypeOf(ACLBindingRule{}),
	TypeACLAuthMethod:          reflect.TypeOf(ACLAuthMethod{}),
	TypeChunkingState:          reflect.TypeOf(ChunkingState{}),
	TypeFederationState:        reflect.TypeOf(FederationStateRequest{}),
	TypeSystemMetadata:         reflect.TypeOf(SystemMetadataEntry{}),
	TypeServiceVirtualIP:       reflect.TypeOf(ServiceVirtualIP{}),
	TypeFreeVirtualIP:          reflect.TypeOf(FreeVirtualIP{}),
}

// checkTarget is checkTargets by type byte: the lookup runs once per
// record, so it is an array index, not a map lookup.
var checkTarget = func() (a [256]struct {
	t    reflect.Type
	root Kind // the msgpack kind of a non-nil value: Map for a struct, Array for a slice
}) {
	for mt, t := range checkTargets {
		a[mt].t, a[mt].root = t, Map
		if t.Kind() == reflect.Slice {
			a[mt].root = Array
		}
	}
	return a
}()

// checkFast is true only when DecodeValueOf(t, b) certainly succeeds.
func checkFast(t MessageType, b []byte) bool {
	c := checker{b: b}
	switch t {
	case TypeConfigEntry, TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource:
		return false // second-level decodes: take the full path
	}
	target := checkTarget[t].t // a wrong root kind: the walk rejects it (RecordOK, the hot path, before)
	ok := target != nil
	if ok {
		ok = c.typed(target, 0)
	} else {
		ok = c.walk(0, true) // unknown types decode generically, then Interface
	}
	// Within the budget, DecodeValueOf certainly succeeds (the same charges).
	return ok && c.p == len(b) && c.cost <= budgetFor(len(b)).left
}

type checker struct {
	b []byte
	p int
	// cost is what DecodeValueOf charges its budget for the value walked
	// so far (slabs, unmarshal's copies and containers, Interface): the
	// same charges, so that CheckRecord and DecodeRecord agree on ErrBudget.
	cost int64
}

// head reads the header at p and returns the kind, the length or count
// for str/bin/ext/array/map, and the integer for the int families. It is
// readHead (mpdesc.go) unrolled for the checker's hot loop: the same
// descriptor table, the values read in place.
func (c *checker) head() (k Kind, n uint64, i int64, ok bool) {
	if c.p >= len(c.b) {
		return 0, 0, 0, false
	}
	d := descs[c.b[c.p]]
	at := c.p
	c.p++
	n = uint64(d.n)
	if d.lenw > 0 {
		w := int(d.lenw)
		if w > len(c.b)-c.p {
			return 0, 0, 0, false
		}
		n = beUint(c.b[c.p : c.p+w])
		c.p += w
	}
	switch d.kind {
	case Uint, Int:
		if n == 0 { // fixint
			if d.kind == Uint {
				return Uint, uint64(c.b[at]), 0, true
			}
			return Int, 0, int64(int8(c.b[at])), true
		}
		if n > uint64(len(c.b)-c.p) {
			return 0, 0, 0, false
		}
		x := beUint(c.b[c.p : c.p+int(n)])
		c.p += int(n)
		if d.kind == Uint {
			return Uint, x, 0, true
		}
		shift := 64 - 8*n
		return Int, 0, int64(x<<shift) >> shift, true
	case Float:
		if n > uint64(len(c.b)-c.p) {
			return 0, 0, 0, false
		}
		c.p += int(n)
		return Float, 0, 0, true
	}
	return d.kind, n, 0, d.ok
}

// payload takes n bytes (str, bin, ext payloads; ext also its type byte first).
func (c *checker) payload(k Kind, n uint64) ([]byte, int8, bool) {
	var et int8
	if k == Ext {
		if c.p >= len(c.b) {
			return nil, 0, false
		}
		et = int8(c.b[c.p])
		c.p++
	}
	if n > uint64(len(c.b)-c.p) {
		return nil, 0, false
	}
	s := c.b[c.p : c.p+int(n)]
	c.p += int(n)
	return s, et, true
}

// generic accepts what DecodeAll accepts (at this depth), charging cost
// for the Values DecodeAll would cut from its slabs.
func (c *checker) generic(depth int) bool { return c.walk(depth, false) }

// walk is generic; with iface it also charges what Value.iface builds
// from the value (the same charges, budget.go), as the typed decode does
// for interface fields, Extra and unknown types.
func (c *checker) walk(depth int, iface bool) bool {
	if depth > MaxDepth {
		return false
	}
	k, n, _, ok := c.head()
	if !ok {
		return false
	}
	switch k {
	case Int, Uint, Float:
		if iface {
			c.cost += sizeBox
		}
	case Str, Bin, Ext:
		_, _, ok = c.payload(k, n)
		if iface {
			switch k {
			case Str:
				c.cost += sizeBox + int64(n)
			case Bin:
				c.cost += sizeSlice + int64(n)
			default:
				c.cost += sizeMap + 2*sizeMapEntry + sizeSlice + int64(n)
			}
		}
		return ok
	case Array:
		c.cost += int64(n) * sizeValue
		if iface {
			c.cost += sizeSlice + sizeIface*int64(n)
		}
		for j := uint64(0); j < n; j++ {
			if !c.walk(depth+1, iface) {
				return false
			}
		}
	case Map:
		c.cost += int64(n) * sizePair
		if iface {
			c.cost += sizeMap + sizeMapEntry*int64(n)
		}
		for j := uint64(0); j < n; j++ {
			if iface {
				c.cost += sizeStr + c.strLenAt()
			}
			if !c.walk(depth+1, false) || !c.walk(depth+1, iface) {
				return false
			}
		}
	}
	return true
}

// strLenAt is the length of Value.Bytes of the str, bin or ext at p (0
// for anything else, or when it is cut off: the walk then fails).
func (c *checker) strLenAt() int64 {
	k, _, n, ok := readHead(c.b, c.p)
	if !ok || (k != Str && k != Bin && k != Ext) {
		return 0
	}
	return int64(n)
}

// typed accepts a value only if unmarshal into Go type t certainly succeeds.
func (c *checker) typed(t reflect.Type, depth int) bool {
	if depth > MaxDepth {
		return false
	}
	if t == timeType {
		k, n, _, ok := c.head()
		if !ok {
			return false
		}
		switch k {
		case Nil:
			return true
		case Str, Bin:
			s, _, ok := c.payload(k, n)
			var tm time.Time
			return ok && tm.UnmarshalBinary(s) == nil
		case Ext:
			s, et, ok := c.payload(k, n)
			if !ok || et != -1 {
				return false
			}
			_, err := decodeTimestampExt(s)
			return err == nil
		}
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return c.walk(depth, true)
	case reflect.Pointer:
		if isNilAt(c.b, c.p) {
			c.p++
			return true
		}
		c.cost += int64(t.Elem().Size())
		return c.typed(t.Elem(), depth)
	}
	k, n, i, ok := c.head()
	if !ok {
		return false
	}
	switch t.Kind() {
	case reflect.String:
		switch k {
		case Nil:
			return true
		case Str, Bin:
			c.cost += int64(n)
			_, _, ok := c.payload(k, n)
			return ok
		}
	case reflect.Bool:
		return k == Bool || k == Nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch k {
		case Nil:
			return true
		case Int:
			return fitsInt(i, t.Bits())
		case Uint:
			return n <= 1<<63-1 && fitsInt(int64(n), t.Bits())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		switch k {
		case Nil:
			return true
		case Uint:
			return fitsUint(n, t.Bits())
		case Int:
			return i >= 0 && fitsUint(uint64(i), t.Bits())
		}
	case reflect.Float32, reflect.Float64:
		return k == Float || k == Int || k == Uint || k == Nil
	case reflect.Slice:
		if t == bytesType {
			switch k {
			case Nil:
				return true
			case Str, Bin:
				c.cost += int64(n)
				_, _, ok := c.payload(k, n)
				return ok
			}
			return false
		}
		switch k {
		case Nil:
			return true
		case Array:
			c.cost += int64(n) * (sizeValue + int64(t.Elem().Size()))
			for j := uint64(0); j < n; j++ {
				if !c.typed(t.Elem(), depth+1) {
					return false
				}
			}
			return true
		}
	case reflect.Map:
		switch k {
		case Nil:
			return true
		case Map:
			c.cost += sizeMap + int64(n)*(sizePair+sizeMapEntry+int64(t.Key().Size()+t.Elem().Size()))
			for j := uint64(0); j < n; j++ {
				if !c.typed(t.Key(), depth+1) || !c.typed(t.Elem(), depth+1) {
					return false
				}
			}
			return true
		}
	case reflect.Struct:
		switch k {
		case Nil:
			return true
		case Map:
			si := infoOf(t)
			c.cost += int64(n) * sizePair
			for j := uint64(0); j < n; j++ {
				start := c.p
				kk, kn, _, ok := c.head()
				if !ok {
					return false
				}
				var keyLen int64
				if kk == Str || kk == Bin {
					name, _, ok := c.payload(kk, kn)
					if !ok {
						return false
					}
					if fi, known := si.fields[string(name)]; known {
						if !c.typed(fi.typ, depth+1) {
							return false
						}
						continue
					}
					keyLen = int64(kn)
				} else {
					c.p = start
					if !c.generic(depth + 1) {
						return false
					}
				}
				if si.extra >= 0 {
					c.cost += sizeMapEntry + sizeStr + keyLen
				}
				if !c.walk(depth+1, si.extra >= 0) { // an unknown key's value: kept generically in Extra
					return false
				}
			}
			return true
		}
	}
	return false
}

func fitsInt(x int64, bits int) bool {
	s := 64 - bits
	return x<<s>>s == x
}

func fitsUint(x uint64, bits int) bool {
	s := 64 - bits
	return x<<s>>s == x
}
