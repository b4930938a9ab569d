package diff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

// bookkeeping are the raft index fields ignored at any depth unless
// Options.IncludeRaftBookkeeping is set.
var bookkeeping = map[string]bool{"CreateIndex": true, "ModifyIndex": true}

// content is what diff keeps of a record's content: the tree it compares
// and shows (decode.View: typed decode, secrets masked by decode's one
// policy unless ShowSecrets; raft bookkeeping stripped unless
// IncludeRaftBookkeeping), the record's label (decode.Label) and, for a
// tombstone, the raft index of the deletion (its ModifyIndex, read before
// bookkeeping is stripped).
type content struct {
	tree  any
	label string
	index uint64 // modifyIndexOf
}

// modifyIndexOf is the largest ModifyIndex a record carries (a Register
// record's node and service or check; a Tombstone's is its deletion), 0
// when it has none: the raft index of the write that last changed it.
func modifyIndexOf(t decode.MessageType, value []byte) uint64 {
	var max uint64
	decode.RaftIndexesOf(t, value, func(field string, v uint64) {
		if strings.HasSuffix(field, "ModifyIndex") && v > max {
			max = v
		}
	})
	return max
}

// contentOf decodes a record value into its content. A record that fails
// typed decode is an error (its content is not compared).
func contentOf(t decode.MessageType, value []byte, o *Options) (content, error) {
	tree, err := decode.View(t, value, o.ShowSecrets)
	if err != nil {
		return content{}, err
	}
	c := content{label: decode.Label(t, tree), index: modifyIndexOf(t, value)}
	if !o.IncludeRaftBookkeeping {
		tree = strip(tree)
	}
	c.tree = tree
	return c, nil
}

// contentDigest is the SHA-256 of a content tree's JSON: equal digests mean
// equal content as diff compares it (Tree sorts map keys, so Go's random map
// order does not matter).
func contentDigest(tree any) [32]byte {
	b, err := json.Marshal(tree)
	if err != nil {
		b = []byte(fmt.Sprintf("%#v", tree))
	}
	return sha256.Sum256(b)
}

// strip removes the bookkeeping keys from every object of the tree.
func strip(x any) any {
	switch v := x.(type) {
	case *decode.Object:
		o := &decode.Object{}
		for i, k := range v.Keys {
			if bookkeeping[k] {
				continue
			}
			o.Keys = append(o.Keys, k)
			o.Values = append(o.Values, strip(v.Values[i]))
		}
		return o
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = strip(e)
		}
		return out
	}
	return x
}

// maxFields caps the field changes listed for one record.
const maxFields = 200

type comparer struct {
	o      *Options
	kv     bool // the record is a KVS record (for --values)
	fields []FieldChange
	more   int // field changes beyond maxFields
	schema int // schema-only differences hidden
}

// leaf records one differing leaf (or a whole value that cannot be split).
func (c *comparer) leaf(path string, a, b any, absA, absB, schema bool) {
	if schema && !c.o.IncludeSchemaChanges {
		c.schema++
		return
	}
	if len(c.fields) >= maxFields {
		c.more++
		return
	}
	if path == "" {
		path = "(value)"
	}
	fc := FieldChange{Path: path, OldAbsent: absA, NewAbsent: absB, SchemaOnly: schema}
	if !absA {
		fc.Old = plain(a)
	}
	if !absB {
		fc.New = plain(b)
	}
	if c.o.Values && c.kv && path == "Value" {
		ab, aok := a.([]byte)
		bb, bok := b.([]byte)
		if aok && bok && isText(ab) && isText(bb) {
			fc.Diff = unifiedDiff(string(ab), string(bb), "a/Value", "b/Value")
		}
	}
	c.fields = append(c.fields, fc)
}

func (c *comparer) emitted() int { return len(c.fields) + c.more }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// walk compares a with b at path and records every differing leaf; hasA
// and hasB say whether the value exists on each side. Objects are compared
// key by key (important keys first, bookkeeping last: keyRank), arrays by
// walkArrays. A value that exists on one side only, or is null on one side
// and a non-empty object or array on the other, is reported at its leaves.
// A leaf that is zero-valued on one side and absent or zero-valued on the
// other is a schema-only difference. whole: the value is part of an array
// element that exists on one side only, whose zero leaves are not listed.
func (c *comparer) walk(path string, a, b any, hasA, hasB, whole bool) {
	if hasA && hasB {
		switch av := a.(type) {
		case *decode.Object:
			if bv, ok := b.(*decode.Object); ok {
				c.walkObjects(path, av, bv)
				return
			}
		case []any:
			if bv, ok := b.([]any); ok {
				c.walkArrays(path, av, bv)
				return
			}
		}
		switch {
		case leafEqual(a, b):
		case isZero(a) && isZero(b):
			c.leaf(path, a, b, false, false, true)
		case a == nil && !isZero(b) && isContainer(b):
			c.walk(path, nil, b, false, true, whole)
		case b == nil && !isZero(a) && isContainer(a):
			c.walk(path, a, nil, true, false, whole)
		default:
			c.leaf(path, a, b, false, false, false)
		}
		return
	}
	if !hasA && !hasB {
		return
	}
	x := b
	if hasA {
		x = a
	}
	one := func(p string, v any) {
		if hasA {
			c.walk(p, v, nil, true, false, whole)
		} else {
			c.walk(p, nil, v, false, true, whole)
		}
	}
	switch v := x.(type) {
	case *decode.Object:
		if len(v.Keys) > 0 {
			for _, i := range orderKeys(v.Keys) {
				one(join(path, v.Keys[i]), v.Values[i])
			}
			return
		}
	case []any:
		if len(v) > 0 {
			for i, e := range v {
				one(index(path, i), e)
			}
			return
		}
	}
	if isZero(x) {
		if !whole {
			c.leaf(path, a, b, !hasA, !hasB, true)
		}
		return
	}
	c.leaf(path, a, b, !hasA, !hasB, false)
}

// wholeElem reports an array element that exists on one side only (sideA:
// in A) at its non-zero leaves, or whole when it has none.
func (c *comparer) wholeElem(path string, x any, sideA bool) {
	n := c.emitted()
	if sideA {
		c.walk(path, x, nil, true, false, true)
	} else {
		c.walk(path, nil, x, false, true, true)
	}
	if c.emitted() == n {
		c.leaf(path, x, x, !sideA, sideA, false)
	}
}

func (c *comparer) walkObjects(path string, av, bv *decode.Object) {
	keys := append([]string(nil), av.Keys...)
	for _, k := range bv.Keys {
		if _, ok := av.Get(k); !ok {
			keys = append(keys, k)
		}
	}
	for _, i := range orderKeys(keys) {
		k := keys[i]
		x, okA := av.Get(k)
		y, okB := bv.Get(k)
		c.walk(join(path, k), x, y, okA, okB, false)
	}
}

// keyRank orders an object's keys for reading: identifying and decisive
// fields first, then the rest in the tree's order (struct wire order,
// sorted map keys), then bookkeeping (Legacy*, hashes, raft indexes).
func keyRank(k string) int {
	if r, ok := firstKeys[k]; ok {
		return r
	}
	switch {
	case strings.HasPrefix(k, "Legacy"), k == "Hash", k == "CreateIndex", k == "ModifyIndex", k == "RaftIndex":
		return 1000
	}
	return 100
}

var firstKeys = map[string]int{
	"Kind": 1, "Name": 2, "ID": 3, "Key": 4, "Node": 5, "ServiceID": 6, "CheckID": 7,
	"SourceName": 8, "DestinationName": 9, "Peer": 10, "Namespace": 11, "Partition": 12,
	"Action": 13, "Status": 14, "Value": 15, "Rules": 16, "Description": 17,
}

// orderKeys returns the indexes of keys in keyRank order (stable).
func orderKeys(keys []string) []int {
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return keyRank(keys[idx[i]]) < keyRank(keys[idx[j]]) })
	return idx
}

// naturalKeys are the fields that identify an element of a list of
// objects, by the list's field name; any other list of objects is matched
// by Name, else by ID, when every element has a unique one.
var naturalKeys = map[string][][]string{
	"Sources":   {{"Name", "Peer", "Namespace", "Partition", "SamenessGroup"}},
	"Checks":    {{"CheckID"}},
	"Upstreams": {{"DestinationType", "DestinationName", "DestinationNamespace", "DestinationPartition", "DestinationPeer", "Datacenter"}},
}

var genericKeys = [][]string{{"Name"}, {"ID"}}

// elemKey is an array element's natural key under fields: false when the
// element is not an object or lacks the first field.
func elemKey(x any, fields []string) (string, bool) {
	o, ok := x.(*decode.Object)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i, f := range fields {
		v, ok := o.Get(f)
		if !ok || v == nil {
			if i == 0 {
				return "", false
			}
			b.WriteByte(0)
			continue
		}
		s, ok := v.(string)
		if !ok {
			if bb, isB := v.([]byte); isB {
				s = string(bb)
			} else {
				s = fmt.Sprint(v)
			}
		}
		if i == 0 && s == "" {
			return "", false
		}
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.String(), true
}

// keyIndex maps each element's key to its index; false when an element
// has no key or two share one.
func keyIndex(list []any, fields []string) (map[string]int, bool) {
	m := make(map[string]int, len(list))
	for i, x := range list {
		k, ok := elemKey(x, fields)
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		m[k] = i
	}
	return m, true
}

// naturalKey finds the fields that match the elements of two lists of
// objects at path (see naturalKeys), or nil.
func naturalKey(path string, av, bv []any) (fields []string, ia, ib map[string]int) {
	name := path
	if i := strings.LastIndexAny(name, ".]"); i >= 0 {
		name = name[i+1:]
	}
	cands := append(append([][]string(nil), naturalKeys[name]...), genericKeys...)
	for _, f := range cands {
		ma, okA := keyIndex(av, f)
		if !okA {
			continue
		}
		mb, okB := keyIndex(bv, f)
		if okB {
			return f, ma, mb
		}
	}
	return nil, nil, nil
}

// walkArrays compares two arrays. Lists of objects with a natural key
// (naturalKey) are matched by it: an element in one list only is one
// change (at its leaves), wherever it is. Other arrays of equal length
// compare element by element; otherwise elements are aligned by a longest
// common subsequence of their JSON, so an inserted or removed element is
// one change (A's index for removed, B's for added), and a removed
// element directly followed by an added one is compared field by field.
func (c *comparer) walkArrays(path string, av, bv []any) {
	if len(av) == 0 && len(bv) == 0 {
		return
	}
	if len(av) > 0 && len(bv) > 0 {
		if f, ia, ib := naturalKey(path, av, bv); f != nil {
			for i, x := range av {
				k, _ := elemKey(x, f)
				if _, ok := ib[k]; !ok {
					c.wholeElem(index(path, i), x, true)
				}
			}
			for j, y := range bv {
				k, _ := elemKey(y, f)
				if i, ok := ia[k]; ok {
					c.walk(index(path, j), av[i], y, true, true, false)
				} else {
					c.wholeElem(index(path, j), y, false)
				}
			}
			return
		}
	}
	if len(av) == len(bv) {
		for i := range av {
			c.walk(index(path, i), av[i], bv[i], true, true, false)
		}
		return
	}
	as, bs := make([]string, len(av)), make([]string, len(bv))
	for i, x := range av {
		j, _ := json.Marshal(x)
		as[i] = string(j)
	}
	for i, x := range bv {
		j, _ := json.Marshal(x)
		bs[i] = string(j)
	}
	ops := lineOps(as, bs)
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		var dels, adds []lineOp
		for k < len(ops) && ops[k].kind == '-' {
			dels = append(dels, ops[k])
			k++
		}
		for k < len(ops) && ops[k].kind == '+' {
			adds = append(adds, ops[k])
			k++
		}
		n := min(len(dels), len(adds))
		for i := 0; i < n; i++ {
			c.walk(index(path, adds[i].bi), av[dels[i].ai], bv[adds[i].bi], true, true, false)
		}
		for _, d := range dels[n:] {
			c.wholeElem(index(path, d.ai), av[d.ai], true)
		}
		for _, x := range adds[n:] {
			c.wholeElem(index(path, x.bi), bv[x.bi], false)
		}
	}
}

// isZero reports whether x is a zero value: null, "", 0, false, empty
// bytes, [] or {}.
func isZero(x any) bool {
	switch v := x.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case bool:
		return !v
	case int64:
		return v == 0
	case uint64:
		return v == 0
	case float64:
		return v == 0
	case []byte:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case *decode.Object:
		return len(v.Keys) == 0
	}
	return false
}

func isContainer(x any) bool {
	switch x.(type) {
	case *decode.Object, []any:
		return true
	}
	return false
}

func leafEqual(a, b any) bool {
	switch av := a.(type) {
	case []byte:
		bv, ok := b.([]byte)
		return ok && bytes.Equal(av, bv) && (av == nil) == (bv == nil)
	case float64:
		bv, ok := b.(float64)
		return ok && (av == bv || math.Float64bits(av) == math.Float64bits(bv))
	case string, bool, int64, uint64, nil:
		return a == b
	}
	// Anything else: compare JSON renderings.
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// compareTrees compares two content trees: the changed leaves (at most
// maxFields), how many more there were, and how many schema-only
// differences were hidden.
func compareTrees(a, b any, kv bool, o *Options) (fields []FieldChange, more, schema int) {
	c := &comparer{o: o, kv: kv}
	c.walk("", a, b, true, true, false)
	return c.fields, c.more, c.schema
}

// contentFields lists the content of a record that exists on one side only
// (sideA: in A) as leaves, for Options.Values.
func contentFields(tree any, sideA, kv bool, o *Options) (fields []FieldChange, more int) {
	c := &comparer{o: o, kv: kv}
	c.wholeElem("", tree, sideA)
	return c.fields, c.more
}

// isText reports whether b is valid UTF-8 without control characters other
// than tab, newline and carriage return.
func isText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

// plain is a tree value as FieldChange carries it: a copy in which byte
// strings are strings when they are text and 0x-hex otherwise (nil stays
// null), so that JSON shows them as Consul's users read them.
func plain(x any) any {
	switch v := x.(type) {
	case []byte:
		if v == nil {
			return nil
		}
		if isText(v) {
			return string(v)
		}
		return "0x" + hex.EncodeToString(v)
	case *decode.Object:
		o := &decode.Object{Keys: v.Keys, Values: make([]any, len(v.Values))}
		for i, e := range v.Values {
			o.Values[i] = plain(e)
		}
		return o
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	}
	return x
}
