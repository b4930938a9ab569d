package diff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

// bookkeeping are the raft index fields ignored at any depth unless
// Options.IncludeRaftBookkeeping is set.
var bookkeeping = map[string]bool{"CreateIndex": true, "ModifyIndex": true}

// contentTree decodes a record value into the tree diff compares and
// shows: decode.View (typed decode, secrets masked by decode's one policy
// unless ShowSecrets), raft bookkeeping stripped unless
// IncludeRaftBookkeeping. A record that fails typed decode is an error
// (its content is not compared).
func contentTree(t decode.MessageType, value []byte, o *Options) (any, error) {
	tree, err := decode.View(t, value, o.ShowSecrets)
	if err != nil {
		return nil, err
	}
	if !o.IncludeRaftBookkeeping {
		tree = strip(tree)
	}
	return tree, nil
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
	more   int
}

func (c *comparer) add(path string, a, b any, absentA, absentB bool) {
	if len(c.fields) >= maxFields {
		c.more++
		return
	}
	fc := FieldChange{Path: path, Old: Absent, New: Absent}
	if !absentA {
		fc.Old = render(a, c.o.maxValueLen())
	}
	if !absentB {
		fc.New = render(b, c.o.maxValueLen())
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

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// walk compares two trees and records every differing leaf path. Objects
// are compared key by key; arrays of equal length element by element; an
// array whose length changed is reported whole.
func (c *comparer) walk(path string, a, b any) {
	switch av := a.(type) {
	case *decode.Object:
		bv, ok := b.(*decode.Object)
		if !ok {
			c.add(path, a, b, false, false)
			return
		}
		for i, k := range av.Keys {
			if x, ok := bv.Get(k); ok {
				c.walk(join(path, k), av.Values[i], x)
			} else {
				c.add(join(path, k), av.Values[i], nil, false, true)
			}
		}
		for i, k := range bv.Keys {
			if _, ok := av.Get(k); !ok {
				c.add(join(path, k), nil, bv.Values[i], true, false)
			}
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok {
			c.add(path, a, b, false, false)
			return
		}
		if len(av) == len(bv) {
			for i := range av {
				c.walk(path+"["+strconv.Itoa(i)+"]", av[i], bv[i])
			}
			return
		}
		c.walkArrays(path, av, bv)
		return
	}
	if !leafEqual(a, b) {
		c.add(path, a, b, false, false)
	}
}

// walkArrays compares arrays of different lengths: elements are aligned by
// a longest common subsequence of their JSON, so an inserted or removed
// element shows as one field change at its index (A's index for removed,
// B's for added); a removed element directly followed by an added one is
// compared field by field.
func (c *comparer) walkArrays(path string, av, bv []any) {
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
	idx := func(i int) string { return path + "[" + strconv.Itoa(i) + "]" }
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
			c.walk(idx(dels[i].ai), av[dels[i].ai], bv[adds[i].bi])
		}
		for _, d := range dels[n:] {
			c.add(idx(d.ai), av[d.ai], nil, false, true)
		}
		for _, x := range adds[n:] {
			c.add(idx(x.bi), nil, bv[x.bi], true, false)
		}
	}
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

// compareTrees returns the field changes between two content trees.
func compareTrees(a, b any, kv bool, o *Options) []FieldChange {
	c := &comparer{o: o, kv: kv}
	c.walk("", a, b)
	if c.more > 0 {
		c.fields = append(c.fields, FieldChange{Path: "…", Old: "", New: fmt.Sprintf("%d more changed fields not listed", c.more)})
	}
	for i := range c.fields {
		if c.fields[i].Path == "" {
			c.fields[i].Path = "(value)"
		}
	}
	return c.fields
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

// render formats a tree value for a FieldChange: JSON, with []byte shown as
// a JSON string when it is text and as 0x-hex otherwise, truncated to max
// bytes with the full length noted.
func render(x any, max int) string {
	var s string
	switch v := x.(type) {
	case []byte:
		if isText(v) {
			s = marshal(string(v))
		} else {
			s = "0x" + hex.EncodeToString(v)
		}
		if v == nil {
			s = "null"
		}
		if len(s) > max {
			return truncate(s, max) + fmt.Sprintf("… (%d bytes)", len(v))
		}
		return s
	default:
		s = marshal(x)
	}
	if len(s) > max {
		return truncate(s, max) + fmt.Sprintf("… (%d chars)", utf8.RuneCountInString(s))
	}
	return s
}

// marshal is JSON without HTML escaping (fingerprints read <masked …>).
func marshal(x any) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(x); err != nil {
		return fmt.Sprint(x)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// truncate cuts s to at most max bytes on a rune boundary.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
