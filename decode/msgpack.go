package decode

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// MaxDepth is the deepest container nesting the generic decoder accepts.
// Consul's own records nest about ten levels; anything deeper than this is
// treated as hostile input and rejected with ErrTooDeep.
const MaxDepth = 512

// Kind is the msgpack family of a Value.
type Kind uint8

// Value kinds. Str and Bin both carry bytes; Consul writes Go []byte as Str
// (old-spec raw), so a Str payload is not guaranteed to be UTF-8.
const (
	Nil Kind = iota
	Bool
	Int
	Uint
	Float
	Str
	Bin
	Array
	Map
	Ext
)

var kindNames = [...]string{"nil", "bool", "int", "uint", "float", "str", "bin", "array", "map", "ext"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Value is one generic msgpack object, decoded without loss: map entries keep
// wire order, integers keep signedness, strings keep their raw bytes.
type Value struct {
	Kind    Kind
	Bool    bool
	Int     int64
	Uint    uint64
	Float   float64
	Bytes   []byte // Str, Bin and Ext payloads; aliases the input buffer
	ExtType int8
	Elems   []Value // Array
	Pairs   []Pair  // Map, in wire order
}

// Pair is one map entry.
type Pair struct {
	Key Value
	Val Value
}

// Get returns the value of the map entry whose key is the string name
// (str or bin). When the name appears more than once the last entry wins,
// as in Consul's decoder.
func (v *Value) Get(name string) (*Value, bool) {
	if v == nil || v.Kind != Map {
		return nil, false
	}
	for i := len(v.Pairs) - 1; i >= 0; i-- {
		k := &v.Pairs[i].Key
		if (k.Kind == Str || k.Kind == Bin) && string(k.Bytes) == name {
			return &v.Pairs[i].Val, true
		}
	}
	return nil, false
}

// String returns the payload of a Str or Bin value, "" otherwise.
func (v *Value) String() string {
	if v == nil || (v.Kind != Str && v.Kind != Bin) {
		return ""
	}
	return string(v.Bytes)
}

// AsUint returns an integer value as uint64 (false if negative or not an integer).
func (v *Value) AsUint() (uint64, bool) {
	switch v.Kind {
	case Uint:
		return v.Uint, true
	case Int:
		if v.Int >= 0 {
			return uint64(v.Int), true
		}
	}
	return 0, false
}

// AsInt returns an integer value as int64 (false if it does not fit or is not an integer).
func (v *Value) AsInt() (int64, bool) {
	switch v.Kind {
	case Int:
		return v.Int, true
	case Uint:
		if v.Uint <= math.MaxInt64 {
			return int64(v.Uint), true
		}
	}
	return 0, false
}

// Interface converts v to plain Go values the way Consul's handle decodes
// into interface{} (RawToString): maps become map[string]any (non-string
// keys are formatted with %v), str becomes string when it is valid UTF-8 and
// []byte otherwise, so that no byte is lost.
func (v *Value) Interface() any {
	x, _ := v.iface(nil)
	return x
}

// iface is Interface charging what it builds to b (nil: no budget); ok is
// false, and the result incomplete, when b ran out.
func (v *Value) iface(b *budget) (x any, ok bool) {
	switch v.Kind {
	case Nil:
		return nil, true
	case Bool:
		return v.Bool, true
	case Int:
		return v.Int, b.spend(sizeBox)
	case Uint:
		return v.Uint, b.spend(sizeBox)
	case Float:
		return v.Float, b.spend(sizeBox)
	case Str:
		if !b.spend(sizeBox + int64(len(v.Bytes))) {
			return nil, false
		}
		if utf8.Valid(v.Bytes) {
			return string(v.Bytes), true
		}
		return append([]byte(nil), v.Bytes...), true
	case Bin:
		if !b.spend(sizeSlice + int64(len(v.Bytes))) {
			return nil, false
		}
		return append([]byte(nil), v.Bytes...), true
	case Ext:
		if !b.spend(sizeMap + 2*sizeMapEntry + sizeSlice + int64(len(v.Bytes))) {
			return nil, false
		}
		if v.ExtType == -1 {
			if t, err := decodeTimestampExt(v.Bytes); err == nil {
				return t, true
			}
		}
		return map[string]any{"ExtType": v.ExtType, "Data": append([]byte(nil), v.Bytes...)}, true
	case Array:
		if !b.spend(sizeSlice + sizeIface*int64(len(v.Elems))) {
			return nil, false
		}
		out := make([]any, len(v.Elems))
		for i := range v.Elems {
			if out[i], ok = v.Elems[i].iface(b); !ok {
				return nil, false
			}
		}
		return out, true
	case Map:
		if !b.spend(sizeMap + sizeMapEntry*int64(len(v.Pairs))) {
			return nil, false
		}
		out := make(map[string]any, len(v.Pairs))
		for i := range v.Pairs {
			k := &v.Pairs[i].Key
			if !b.spend(int64(len(k.Bytes)) + sizeStr) { // the key's copy (a formatted non-string key is shorter than sizeStr+its bytes)
				return nil, false
			}
			if out[k.keyString()], ok = v.Pairs[i].Val.iface(b); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, true
}

func (v *Value) keyString() string {
	switch v.Kind {
	case Str, Bin:
		return string(v.Bytes)
	case Int:
		return fmt.Sprint(v.Int)
	case Uint:
		return fmt.Sprint(v.Uint)
	case Bool:
		return fmt.Sprint(v.Bool)
	case Nil:
		return ""
	}
	return fmt.Sprintf("<%s>", v.Kind)
}

// Errors from the msgpack layer. They are wrapped with position by callers.
var (
	// ErrTruncated means a value ended before its encoded length.
	ErrTruncated = errors.New("msgpack: unexpected end of value")
	// ErrTooDeep means containers nest deeper than MaxDepth.
	ErrTooDeep = errors.New("msgpack: nesting too deep")
	// ErrInvalidDescriptor means a byte that starts no msgpack value (0xc1).
	ErrInvalidDescriptor = errors.New("msgpack: invalid descriptor byte")
	// ErrTrailingBytes means bytes were left after a value that should fill its input.
	ErrTrailingBytes = errors.New("msgpack: trailing bytes after value")
)

// DecodeValue decodes exactly one msgpack object from b and returns it with
// the number of bytes it used. Byte payloads alias b. Allocation is bounded
// by len(b): a length field can never make it allocate more than the input,
// and the Values built stay within the work budget of len(b) bytes
// (budget.go), past which it fails with ErrBudget.
func DecodeValue(b []byte) (Value, int, error) {
	bud := budgetFor(len(b))
	return decodeValue(b, &bud)
}

// decodeValue is DecodeValue charging bud.
func decodeValue(b []byte, bud *budget) (Value, int, error) {
	// The decoder charges a copy of the budget (the recursion would move
	// a pointer to it to the heap) and hands back what is left.
	d := valueDecoder{b: b, bud: budget{left: math.MaxInt64}}
	if bud != nil {
		d.bud = *bud
		defer func() { bud.left = d.bud.left }()
	}
	if np, ne, ok := countContainers(b); ok { // slab.go
		// The slabs are charged before they are made: a record of tiny
		// containers is refused here, at the cost of one header walk.
		// Unless the value is malformed (too deep, say): the
		// per-container path finds that, charging as it goes.
		if cost := int64(np)*sizePair + int64(ne)*sizeValue; cost > d.bud.left {
			if c := (checker{b: b}); c.generic(0) {
				d.bud.spend(cost)
				return Value{}, 0, ErrBudget
			}
			np, ne = 0, 0
		} else {
			d.bud.spend(cost)
		}
		if np > 0 {
			d.pairs = make([]Pair, 0, np)
		}
		if ne > 0 {
			d.elems = make([]Value, 0, ne)
		}
	}
	var v Value
	err := d.decode(&v, 0)
	return v, d.p, err
}

// DecodeAll decodes b as exactly one msgpack object with nothing after it.
func DecodeAll(b []byte) (Value, error) {
	bud := budgetFor(len(b))
	return decodeAll(b, &bud)
}

// decodeAll is DecodeAll charging bud.
func decodeAll(b []byte, bud *budget) (Value, error) {
	v, n, err := decodeValue(b, bud)
	if err != nil {
		return v, err
	}
	if n != len(b) {
		return v, fmt.Errorf("%w: %d of %d bytes used", ErrTrailingBytes, n, len(b))
	}
	return v, nil
}

type valueDecoder struct {
	b     []byte
	p     int
	bud   budget  // what is left of the record's budget
	pairs []Pair  // slab for map pairs (slab.go); nil: allocate per map
	elems []Value // slab for array elements
}

func (d *valueDecoder) take(n uint64) ([]byte, error) {
	if n > uint64(len(d.b)-d.p) {
		return nil, ErrTruncated
	}
	s := d.b[d.p : d.p+int(n) : d.p+int(n)]
	d.p += int(n)
	return s, nil
}

func (d *valueDecoder) decode(v *Value, depth int) error {
	if depth > MaxDepth {
		return ErrTooDeep
	}
	k, hdr, n, ok := readHead(d.b, d.p) // mpdesc.go
	if !ok {
		if d.p < len(d.b) && !descs[d.b[d.p]].ok {
			return fmt.Errorf("%w 0x%02x", ErrInvalidDescriptor, d.b[d.p])
		}
		return ErrTruncated
	}
	at := d.p
	d.p += hdr
	switch k {
	case Nil:
		*v = Value{Kind: Nil}
	case Bool:
		*v = Value{Kind: Bool, Bool: boolAt(d.b[at])}
	case Uint, Int:
		u, i, ok := intAt(d.b, at, k, n)
		if !ok {
			return ErrTruncated
		}
		d.p += int(n)
		*v = Value{Kind: k, Uint: u, Int: i}
	case Float:
		s, err := d.take(n)
		if err != nil {
			return err
		}
		if n == 4 {
			*v = Value{Kind: Float, Float: float64(math.Float32frombits(uint32(beUint(s))))}
		} else {
			*v = Value{Kind: Float, Float: math.Float64frombits(beUint(s))}
		}
	case Str, Bin:
		s, err := d.take(n)
		*v = Value{Kind: k, Bytes: s}
		return err
	case Ext:
		return d.ext(v, n)
	case Array:
		return d.decodeArray(v, n, depth)
	case Map:
		return d.decodeMap(v, n, depth)
	}
	return nil
}

func (d *valueDecoder) ext(v *Value, n uint64) error {
	t, err := d.take(1)
	if err != nil {
		return err
	}
	s, err := d.take(n)
	*v = Value{Kind: Ext, ExtType: int8(t[0]), Bytes: s}
	return err
}

// capacity bounds a preallocation by the bytes left: every element takes at least one byte.
func (d *valueDecoder) capacity(n uint64, per uint64) int {
	left := uint64(len(d.b)-d.p) / per
	if n > left {
		n = left
	}
	return int(n)
}

func (d *valueDecoder) decodeArray(v *Value, n uint64, depth int) error {
	elems := d.takeElems(n)
	if elems == nil {
		c := d.capacity(n, 1)
		if !d.bud.spend(int64(c) * sizeValue) {
			return ErrBudget
		}
		elems = make([]Value, 0, c)
	}
	for i := uint64(0); i < n; i++ {
		elems = append(elems, Value{})
		if err := d.decode(&elems[len(elems)-1], depth+1); err != nil {
			*v = Value{Kind: Array, Elems: elems}
			return err
		}
	}
	*v = Value{Kind: Array, Elems: elems}
	return nil
}

func (d *valueDecoder) decodeMap(v *Value, n uint64, depth int) error {
	pairs := d.takePairs(n)
	if pairs == nil {
		c := d.capacity(n, 2)
		if !d.bud.spend(int64(c) * sizePair) {
			return ErrBudget
		}
		pairs = make([]Pair, 0, c)
	}
	for i := uint64(0); i < n; i++ {
		pairs = append(pairs, Pair{})
		p := &pairs[len(pairs)-1]
		if err := d.decode(&p.Key, depth+1); err != nil {
			*v = Value{Kind: Map, Pairs: pairs}
			return err
		}
		if err := d.decode(&p.Val, depth+1); err != nil {
			*v = Value{Kind: Map, Pairs: pairs}
			return err
		}
	}
	*v = Value{Kind: Map, Pairs: pairs}
	return nil
}
