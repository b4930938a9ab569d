package decode

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrTypedDecode means a record's value does not have the shape Consul
// gives that type (a field of the wrong msgpack kind, a malformed wrapped
// payload). The record is still intact as bytes.
var ErrTypedDecode = errors.New("typed decode failed")

// Decoded is a record decoded to its Go type.
type Decoded struct {
	Type MessageType
	// Data points to one of the record structs of this package (for example
	// *DirEntry for KVS), *CoordinateBatchUpdate, or *Unknown.
	Data any
}

// DecodeRecord decodes a record's value to its typed form. Unknown types
// decode generically into *Unknown. The result does not alias rec.Raw. A
// failure is a *RecordError (the record's number, offset and type)
// wrapping ErrTypedDecode, and ErrBudget when the decode would build more
// than the record's work budget (budget.go).
func DecodeRecord(rec *Record) (*Decoded, error) {
	if len(rec.Raw) < 1 {
		return nil, recordErr(rec, fmt.Errorf("%w: %s: %w", ErrTypedDecode, rec.Type, ErrTruncated))
	}
	d, err := DecodeValueOf(rec.Type, rec.Value())
	if err != nil {
		return nil, recordErr(rec, err)
	}
	return d, nil
}

// DecodeValueOf decodes the msgpack value b of a record of type t, within
// the work budget of len(b) bytes.
func DecodeValueOf(t MessageType, b []byte) (*Decoded, error) {
	bud := budgetFor(len(b))
	return decodeValueOf(t, b, &bud)
}

// decodeValueOf is DecodeValueOf charging bud. The generic Value aliases
// b; everything the typed value keeps is copied out of it (strings,
// []byte, Interface, protobuf fields), so the result does not alias b.
func decodeValueOf(t MessageType, b []byte, bud *budget) (*Decoded, error) {
	v, err := decodeAll(b, bud)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTypedDecode, t, err)
	}
	d := &Decoded{Type: t}
	var target any
	switch t {
	case TypeKVS, TypeTombstone:
		target = &DirEntry{}
	case TypeRegister:
		target = &RegisterRequest{}
	case TypeSession:
		target = &Session{}
	case TypeACL:
		target = &LegacyACL{}
	case TypeCoordinateBatchUpdate:
		target = &CoordinateBatchUpdate{}
	case TypePreparedQuery:
		target = &PreparedQuery{}
	case TypeAutopilot:
		target = &AutopilotConfig{}
	case TypeACLBootstrap:
		target = &ACLBootstrap{}
	case TypeIntention:
		target = &Intention{}
	case TypeConnectCA:
		target = &CARoot{}
	case TypeConnectCAProviderState:
		target = &CAConsulProviderState{}
	case TypeConnectCAConfig:
		target = &CAConfiguration{}
	case TypeIndex:
		target = &IndexEntry{}
	case TypeACLToken:
		target = &ACLToken{}
	case TypeACLPolicy:
		target = &ACLPolicy{}
	case TypeACLRole:
		target = &ACLRole{}
	case TypeACLBindingRule:
		target = &ACLBindingRule{}
	case TypeACLAuthMethod:
		target = &ACLAuthMethod{}
	case TypeChunkingState:
		target = &ChunkingState{}
	case TypeFederationState:
		target = &FederationStateRequest{}
	case TypeSystemMetadata:
		target = &SystemMetadataEntry{}
	case TypeServiceVirtualIP:
		target = &ServiceVirtualIP{}
	case TypeFreeVirtualIP:
		target = &FreeVirtualIP{}
	case TypeConfigEntry:
		ce, err := decodeConfigEntry(&v, bud)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrTypedDecode, t, err)
		}
		d.Data = ce
		return d, nil
	case TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource:
		if v.Kind != Str && v.Kind != Bin {
			return nil, fmt.Errorf("%w: %s: value is a msgpack %s, want str-wrapped protobuf", ErrTypedDecode, t, v.Kind)
		}
		x, err := decodeProtoRecord(t, v.Bytes, bud)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrTypedDecode, t, err)
		}
		d.Data = x
		return d, nil
	default:
		x, ok := v.iface(bud)
		if !ok {
			return nil, fmt.Errorf("%w: %s: %w", ErrTypedDecode, t, ErrBudget)
		}
		d.Data = &Unknown{Value: x}
		return d, nil
	}
	if err := unmarshal(&v, reflect.ValueOf(target).Elem(), "", bud); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrTypedDecode, t, err)
	}
	d.Data = target
	return d, nil
}

func decodeConfigEntry(v *Value, bud *budget) (*ConfigEntry, error) {
	if v.Kind != Str && v.Kind != Bin {
		return nil, fmt.Errorf("value is a msgpack %s, want a str-wrapped config entry", v.Kind)
	}
	inner := v.Bytes
	kind, n, err := decodeValue(inner, bud)
	if err != nil {
		return nil, fmt.Errorf("config entry kind: %w", err)
	}
	if kind.Kind != Str {
		return nil, fmt.Errorf("config entry kind is a msgpack %s, want str", kind.Kind)
	}
	req, err := decodeAll(inner[n:], bud)
	if err != nil {
		return nil, fmt.Errorf("config entry request: %w", err)
	}
	if req.Kind != Map {
		return nil, fmt.Errorf("config entry request is a msgpack %s, want map", req.Kind)
	}
	ce := &ConfigEntry{Kind: string(kind.Bytes)}
	for i := range req.Pairs {
		p := &req.Pairs[i]
		key := p.Key.keyString()
		switch key {
		case "Datacenter", "Op", "Token":
			s, err := asString(&p.Val)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			switch key {
			case "Datacenter":
				ce.Datacenter = s
			case "Op":
				ce.Op = s
			default:
				ce.Token = s
			}
		case "Entry":
			ev := &p.Val
			var unwrapped Value
			if ev.Kind == Str || ev.Kind == Bin {
				// proxy-defaults: the entry has its own MarshalBinary.
				unwrapped, err = decodeAll(ev.Bytes, bud)
				if err != nil {
					return nil, fmt.Errorf("Entry (wrapped): %w", err)
				}
				ev = &unwrapped
			}
			if ev.Kind != Map && ev.Kind != Nil {
				return nil, fmt.Errorf("Entry is a msgpack %s, want map", ev.Kind)
			}
			if ev.Kind == Map {
				x, ok := ev.iface(bud)
				if !ok {
					return nil, ErrBudget
				}
				ce.Entry = x.(map[string]any)
			}
		default:
			if ce.Extra == nil {
				ce.Extra = Extra{}
			}
			x, ok := p.Val.iface(bud)
			if !ok {
				return nil, ErrBudget
			}
			ce.Extra[key] = x
		}
	}
	ce.Name, _ = ce.Entry["Name"].(string)
	if ce.Name == "" && ce.Kind == "mesh" {
		ce.Name = "mesh"
	}
	ce.Namespace, _ = ce.Entry["Namespace"].(string)
	ce.Partition, _ = ce.Entry["Partition"].(string)
	return ce, nil
}

func asString(v *Value) (string, error) {
	switch v.Kind {
	case Str, Bin:
		return string(v.Bytes), nil
	case Nil:
		return "", nil
	}
	return "", fmt.Errorf("msgpack %s, want str", v.Kind)
}

// ---- reflection mapper: generic Value → record struct ----

type fieldInfo struct {
	index     int
	name      string
	omitEmpty bool
	typ       reflect.Type // the field's type (reflect's Field(i) copies a StructField each call)
}

type structInfo struct {
	fields map[string]fieldInfo
	order  []fieldInfo
	extra  int // index of the Extra field, -1 if none
}

var structCache sync.Map // reflect.Type → *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]fieldInfo{}, extra: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("msgpack"), ",")
		if opts == "extra" {
			si.extra = i
			continue
		}
		if name == "" {
			name = f.Name
		}
		fi := fieldInfo{index: i, name: name, omitEmpty: opts == "omitempty", typ: f.Type}
		si.fields[name] = fi
		si.order = append(si.order, fi)
	}
	structCache.Store(t, si)
	return si
}

var (
	timeType     = reflect.TypeOf(Time{})
	durationType = reflect.TypeOf(time.Duration(0))
	bytesType    = reflect.TypeOf([]byte(nil))
)

type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string {
	path := e.path
	if path == "" {
		path = "(value)"
	}
	return "field " + path + ": " + e.msg
}

func mismatch(path string, v *Value, want string) error {
	return &fieldError{path: path, msg: fmt.Sprintf("msgpack %s, want %s", v.Kind, want)}
}

// withPath prepends one path segment (a field name, "[i]", "[key]" or
// "{key}") to a field error coming up from a nested value. Paths are built
// only on the error path, so a successful decode allocates none.
func withPath(err error, seg string) error {
	fe, ok := err.(*fieldError)
	if !ok || seg == "" {
		return err
	}
	switch {
	case fe.path == "":
		fe.path = seg
	case fe.path[0] == '[' || fe.path[0] == '{':
		fe.path = seg + fe.path
	default:
		fe.path = seg + "." + fe.path
	}
	return fe
}

// unmarshal decodes v into rv, charging bud for what it allocates.
func unmarshal(v *Value, rv reflect.Value, path string, bud *budget) error {
	t := rv.Type()
	if t == timeType {
		tm, err := decodeTimeValue(v)
		if err != nil {
			return &fieldError{path: path, msg: err.Error()}
		}
		rv.Set(reflect.ValueOf(tm))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.Kind == Nil {
			rv.SetZero()
			return nil
		}
		if !bud.spend(int64(t.Elem().Size())) {
			return ErrBudget
		}
		p := reflect.New(t.Elem())
		if err := unmarshal(v, p.Elem(), path, bud); err != nil {
			return err
		}
		rv.Set(p)
		return nil
	case reflect.Interface:
		x, ok := v.iface(bud)
		if !ok {
			return ErrBudget
		}
		if x != nil {
			rv.Set(reflect.ValueOf(x))
		}
		return nil
	case reflect.String:
		if !bud.spend(int64(len(v.Bytes))) {
			return ErrBudget
		}
		s, err := asString(v)
		if err != nil {
			return mismatch(path, v, "str")
		}
		rv.SetString(s)
		return nil
	case reflect.Bool:
		switch v.Kind {
		case Bool:
			rv.SetBool(v.Bool)
		case Nil:
			rv.SetBool(false)
		default:
			return mismatch(path, v, "bool")
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Kind == Nil {
			rv.SetInt(0)
			return nil
		}
		i, ok := v.AsInt()
		if !ok || rv.OverflowInt(i) {
			return mismatch(path, v, "int")
		}
		rv.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Kind == Nil {
			rv.SetUint(0)
			return nil
		}
		u, ok := v.AsUint()
		if !ok || rv.OverflowUint(u) {
			return mismatch(path, v, "uint")
		}
		rv.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		switch v.Kind {
		case Float:
			rv.SetFloat(v.Float)
		case Int:
			rv.SetFloat(float64(v.Int))
		case Uint:
			rv.SetFloat(float64(v.Uint))
		case Nil:
			rv.SetFloat(0)
		default:
			return mismatch(path, v, "float")
		}
		return nil
	case reflect.Slice:
		if t == bytesType {
			switch v.Kind {
			case Str, Bin:
				if !bud.spend(int64(len(v.Bytes))) {
					return ErrBudget
				}
				rv.SetBytes(append([]byte{}, v.Bytes...))
			case Nil:
				rv.SetBytes(nil)
			default:
				return mismatch(path, v, "bytes")
			}
			return nil
		}
		switch v.Kind {
		case Nil:
			rv.SetZero()
			return nil
		case Array:
		default:
			return mismatch(path, v, "array")
		}
		if !bud.spend(int64(t.Elem().Size()) * int64(len(v.Elems))) {
			return ErrBudget
		}
		s := reflect.MakeSlice(t, len(v.Elems), len(v.Elems))
		for i := range v.Elems {
			if err := unmarshal(&v.Elems[i], s.Index(i), "", bud); err != nil {
				return withPath(withPath(err, "["+strconv.Itoa(i)+"]"), path)
			}
		}
		rv.Set(s)
		return nil
	case reflect.Map:
		switch v.Kind {
		case Nil:
			rv.SetZero()
			return nil
		case Map:
		default:
			return mismatch(path, v, "map")
		}
		if !bud.spend(sizeMap + (sizeMapEntry+int64(t.Key().Size()+t.Elem().Size()))*int64(len(v.Pairs))) {
			return ErrBudget
		}
		m := reflect.MakeMapWithSize(t, len(v.Pairs))
		for i := range v.Pairs {
			p := &v.Pairs[i]
			k := reflect.New(t.Key()).Elem()
			if err := unmarshal(&p.Key, k, "", bud); err != nil {
				return withPath(withPath(err, "{key}"), path)
			}
			e := reflect.New(t.Elem()).Elem()
			if err := unmarshal(&p.Val, e, "", bud); err != nil {
				return withPath(withPath(err, "["+p.Key.keyString()+"]"), path)
			}
			m.SetMapIndex(k, e)
		}
		rv.Set(m)
		return nil
	case reflect.Struct:
		if v.Kind == Nil {
			rv.SetZero()
			return nil
		}
		if v.Kind != Map {
			return mismatch(path, v, "map")
		}
		si := infoOf(t)
		for i := range v.Pairs {
			p := &v.Pairs[i]
			var fi fieldInfo
			ok := false
			if p.Key.Kind == Str || p.Key.Kind == Bin {
				fi, ok = si.fields[string(p.Key.Bytes)] // no allocation for the lookup
			}
			if !ok {
				if si.extra < 0 {
					continue
				}
				if !bud.spend(sizeMapEntry + sizeStr + int64(len(p.Key.Bytes))) {
					return ErrBudget
				}
				key := p.Key.keyString()
				ev := rv.Field(si.extra)
				if ev.IsNil() {
					ev.Set(reflect.ValueOf(Extra{}))
				}
				x, ok := p.Val.iface(bud)
				if !ok {
					return ErrBudget
				}
				ev.SetMapIndex(reflect.ValueOf(key), reflect.ValueOf(&x).Elem())
				continue
			}
			if err := unmarshal(&p.Val, rv.Field(fi.index), "", bud); err != nil {
				return withPath(withPath(err, fi.name), path)
			}
		}
		return nil
	}
	return &fieldError{path: path, msg: "unsupported Go type " + t.String()}
}
