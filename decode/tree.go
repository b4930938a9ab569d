package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Object is an ordered JSON object. Tree values are built from Object,
// []any, string, []byte (JSON base64), int64, uint64, float64, bool and nil.
type Object struct {
	Keys   []string
	Values []any
}

// Get returns the value under key.
func (o *Object) Get(key string) (any, bool) {
	for i, k := range o.Keys {
		if k == key {
			return o.Values[i], true
		}
	}
	return nil, false
}

// Set replaces or appends key.
func (o *Object) Set(key string, v any) {
	for i, k := range o.Keys {
		if k == key {
			o.Values[i] = v
			return
		}
	}
	o.Keys = append(o.Keys, key)
	o.Values = append(o.Values, v)
}

// MarshalJSON writes the keys in order. It does not HTML-escape strings
// itself: the encoder that calls it decides (json.Marshal escapes, an
// Encoder with SetEscapeHTML(false) keeps "<masked …>" readable).
func (o *Object) MarshalJSON() ([]byte, error) {
	return appendTreeJSON(make([]byte, 0, 256), o) // treejson.go: no reflection, no re-encoding of nested objects
}

func marshalNoHTML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Tree converts a typed record (Decoded.Data) to an ordered tree with
// Consul's field names: struct fields in wire order, Extra keys merged in
// sorted after them, map keys sorted, times as RFC 3339 strings with
// nanoseconds, durations as integer nanoseconds (as Consul's JSON does),
// []byte kept as bytes. dump renders it as JSON; diff compares trees.
func Tree(x any) any { return treeBudget(x, nil) }

// treeBudget is Tree charging bud for the nodes it builds; when bud runs
// out it stops and returns nil (check bud.ok()).
func treeBudget(x any, bud *budget) any {
	if u, ok := x.(*Unknown); ok {
		return treeOf(reflect.ValueOf(&u.Value).Elem(), bud)
	}
	return treeOf(reflect.ValueOf(x), bud)
}

// Non-finite floats are not JSON numbers (encoding/json refuses them): the
// tree holds them as these strings, so that every JSON built from a tree
// (dump, diff, the HTML report) stays valid, and NaN equals NaN in a diff.
const (
	jsonNaN    = "NaN"
	jsonPosInf = "+Inf"
	jsonNegInf = "-Inf"
)

// floatTree is a float's tree value: the float, or its string when it is
// not finite.
func floatTree(f float64) any {
	switch {
	case math.IsNaN(f):
		return jsonNaN
	case math.IsInf(f, 1):
		return jsonPosInf
	case math.IsInf(f, -1):
		return jsonNegInf
	}
	return f
}

// treeMapEntry is what a map entry costs Tree: the sorted key/value pair
// (a string and a reflect.Value), the iterator's copies of both, and the
// Object's key and value slots.
const treeMapEntry = sizeStr + 24 + 2*sizeBox + sizeStr + sizeIface

func treeOf(rv reflect.Value, bud *budget) any {
	if !rv.IsValid() {
		return nil
	}
	t := rv.Type()
	if t == timeType {
		if !bud.spend(64) {
			return nil
		}
		return rv.Interface().(Time).Format(time.RFC3339Nano)
	}
	if t == stdTimeType && rv.CanInterface() { // compare types first: rv.Interface() allocates
		if !bud.spend(64) {
			return nil
		}
		return rv.Interface().(time.Time).Format(time.RFC3339Nano)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return treeOf(rv.Elem(), bud)
	case reflect.String:
		bud.spend(sizeBox)
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bud.spend(sizeBox)
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bud.spend(sizeBox)
		return rv.Uint()
	case reflect.Float32, reflect.Float64:
		bud.spend(sizeBox)
		return floatTree(rv.Float())
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			if rv.Kind() == reflect.Slice && rv.IsNil() {
				return nil
			}
			bud.spend(sizeSlice)
			return rv.Bytes()
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		if !bud.spend(sizeSlice + sizeIface*int64(rv.Len())) {
			return nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			if out[i] = treeOf(rv.Index(i), bud); !bud.ok() {
				return nil
			}
		}
		return out
	case reflect.Map:
		if rv.IsNil() {
			return nil
		}
		if !bud.spend(sizeObject + treeMapEntry*int64(rv.Len())) {
			return nil
		}
		type kv struct {
			k string
			v reflect.Value
		}
		kvs := make([]kv, 0, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			kvs = append(kvs, kv{mapKey(it.Key()), it.Value()})
		}
		slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) }) // keys are distinct
		o := &Object{Keys: make([]string, 0, len(kvs)), Values: make([]any, 0, len(kvs))}
		for _, e := range kvs {
			o.Keys = append(o.Keys, e.k)
			if o.Values = append(o.Values, treeOf(e.v, bud)); !bud.ok() {
				return nil
			}
		}
		return o
	case reflect.Struct:
		si := infoOf(t)
		if !bud.spend(sizeObject + (sizeStr+sizeIface)*int64(len(si.order))) {
			return nil
		}
		o := &Object{Keys: make([]string, 0, len(si.order)), Values: make([]any, 0, len(si.order))}
		for _, fi := range si.order {
			f := rv.Field(fi.index)
			if fi.omitEmpty && f.IsZero() {
				continue
			}
			o.Keys = append(o.Keys, fi.name)
			if o.Values = append(o.Values, treeOf(f, bud)); !bud.ok() {
				return nil
			}
		}
		if si.extra >= 0 {
			ex := rv.Field(si.extra)
			if ex.Len() > 0 {
				extra, _ := treeOf(ex, bud).(*Object)
				if !bud.ok() {
					return nil
				}
				if !bud.spend((sizeStr + sizeIface) * int64(len(extra.Keys))) { // o grows by them
					return nil
				}
				// Extra's keys are distinct (a map's): only the struct's own
				// fields can be replaced, so each key is looked up among
				// them alone (o.Set would make this quadratic).
				nf := len(o.Keys)
			merge:
				for i, k := range extra.Keys {
					for j := 0; j < nf; j++ {
						if o.Keys[j] == k {
							o.Values[j] = extra.Values[i]
							continue merge
						}
					}
					o.Keys = append(o.Keys, k)
					o.Values = append(o.Values, extra.Values[i])
				}
			}
		}
		return o
	}
	return fmt.Sprint(rv.Interface())
}

var stdTimeType = reflect.TypeOf(time.Time{})

func mapKey(k reflect.Value) string {
	switch k.Kind() {
	case reflect.String:
		return k.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(k.Uint(), 10)
	}
	return fmt.Sprint(k.Interface())
}
