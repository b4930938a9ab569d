package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// A minimal protobuf wire-format reader for the peering and resource
// records (docs/FORMAT.md §9). Known fields go to struct fields; every other
// field is kept in Extra under "proto.<number>", so nothing is lost.

var errProto = errors.New("protobuf")

type protoField struct {
	num  uint64
	wire uint64
	u    uint64 // varint, fixed32, fixed64
	b    []byte // length-delimited
}

func protoFields(b []byte, bud *budget) ([]protoField, error) {
	var out []protoField
	for len(b) > 0 {
		// A field costs its protoField and, kept, an Extra or map entry.
		if !bud.spend(int64(unsafe.Sizeof(protoField{})) + sizeMapEntry + sizeBox) {
			return nil, ErrBudget
		}
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad field key", errProto)
		}
		b = b[n:]
		f := protoField{num: key >> 3, wire: key & 7}
		if f.num == 0 {
			return nil, fmt.Errorf("%w: field number 0", errProto)
		}
		switch f.wire {
		case 0:
			u, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, fmt.Errorf("%w: bad varint in field %d", errProto, f.num)
			}
			f.u, b = u, b[n:]
		case 1:
			if len(b) < 8 {
				return nil, fmt.Errorf("%w: truncated fixed64 in field %d", errProto, f.num)
			}
			f.u, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return nil, fmt.Errorf("%w: bad length in field %d", errProto, f.num)
			}
			f.b, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return nil, fmt.Errorf("%w: truncated fixed32 in field %d", errProto, f.num)
			}
			f.u, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return nil, fmt.Errorf("%w: unsupported wire type %d in field %d", errProto, f.wire, f.num)
		}
		out = append(out, f)
	}
	return out, nil
}

// protoGeneric renders a field for Extra: varints as numbers, bytes as a
// string when valid UTF-8, else raw bytes.
func protoGeneric(f protoField) any {
	switch f.wire {
	case 2:
		if utf8.Valid(f.b) {
			return string(f.b)
		}
		return append([]byte(nil), f.b...)
	case 1:
		return map[string]any{"fixed64": f.u, "double": math.Float64frombits(f.u)}
	case 5:
		return map[string]any{"fixed32": f.u}
	}
	return f.u
}

func addProtoExtra(e *Extra, f protoField) {
	if *e == nil {
		*e = Extra{}
	}
	k := "proto." + strconv.FormatUint(f.num, 10)
	if prev, ok := (*e)[k]; ok {
		if l, ok := prev.([]any); ok {
			(*e)[k] = append(l, protoGeneric(f))
		} else {
			(*e)[k] = []any{prev, protoGeneric(f)}
		}
		return
	}
	(*e)[k] = protoGeneric(f)
}

var peeringStates = []string{"UNDEFINED", "PENDING", "ESTABLISHING", "ACTIVE", "FAILING", "DELETING", "TERMINATED"}

func protoTimestamp(b []byte, bud *budget) (*Time, error) {
	fs, err := protoFields(b, bud)
	if err != nil {
		return nil, err
	}
	var sec, nsec int64
	for _, f := range fs {
		switch f.num {
		case 1:
			sec = int64(f.u)
		case 2:
			nsec = int64(int32(f.u))
		}
	}
	return &Time{time.Unix(sec, nsec).UTC()}, nil
}

// protoMap decodes a nested message generically: field number → value.
func protoMap(b []byte, names map[uint64]string, bud *budget) (map[string]any, error) {
	fs, err := protoFields(b, bud)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, f := range fs {
		k, ok := names[f.num]
		if !ok {
			k = "proto." + strconv.FormatUint(f.num, 10)
		}
		val := protoGeneric(f)
		if prev, ok := out[k]; ok {
			if l, ok := prev.([]any); ok {
				out[k] = append(l, val)
			} else {
				out[k] = []any{prev, val}
			}
			continue
		}
		out[k] = val
	}
	return out, nil
}

func decodeProtoRecord(t MessageType, b []byte, bud *budget) (any, error) {
	fs, err := protoFields(b, bud)
	if err != nil {
		return nil, err
	}
	switch t {
	case TypePeering:
		p := &Peering{}
		for _, f := range fs {
			s := string(f.b)
			switch {
			case f.num == 1 && f.wire == 2:
				p.ID = s
			case f.num == 2 && f.wire == 2:
				p.Name = s
			case f.num == 3 && f.wire == 2:
				p.Partition = s
			case f.num == 4 && f.wire == 2:
				ts, err := protoTimestamp(f.b, bud)
				if err != nil {
					return nil, fmt.Errorf("DeletedAt: %w", err)
				}
				p.DeletedAt = ts
			case f.num == 5 && f.wire == 2:
				kv, err := protoMap(f.b, map[uint64]string{1: "key", 2: "value"}, bud)
				if err != nil {
					return nil, fmt.Errorf("Meta: %w", err)
				}
				if p.Meta == nil {
					p.Meta = map[string]string{}
				}
				k, _ := kv["key"].(string)
				v, _ := kv["value"].(string)
				p.Meta[k] = v
			case f.num == 6 && f.wire == 0:
				if f.u < uint64(len(peeringStates)) {
					p.State = peeringStates[f.u]
				} else {
					p.State = strconv.FormatUint(f.u, 10)
				}
			case f.num == 7 && f.wire == 2:
				p.PeerID = s
			case f.num == 8 && f.wire == 2:
				p.PeerCAPems = append(p.PeerCAPems, s)
			case f.num == 9 && f.wire == 2:
				p.PeerServerName = s
			case f.num == 10 && f.wire == 2:
				p.PeerServerAddresses = append(p.PeerServerAddresses, s)
			case f.num == 11 && f.wire == 0:
				p.CreateIndex = f.u
			case f.num == 12 && f.wire == 0:
				p.ModifyIndex = f.u
			case f.num == 13 && f.wire == 2:
				m, err := protoMap(f.b, map[uint64]string{1: "ImportedServices", 2: "ExportedServices", 3: "LastHeartbeat", 4: "LastReceive", 5: "LastSend"}, bud)
				if err != nil {
					return nil, fmt.Errorf("StreamStatus: %w", err)
				}
				p.StreamStatus = m
			case f.num == 17 && f.wire == 2:
				m, err := protoMap(f.b, map[uint64]string{1: "Partition", 2: "Datacenter", 3: "Locality"}, bud)
				if err != nil {
					return nil, fmt.Errorf("Remote: %w", err)
				}
				p.Remote = m
			case f.num == 18 && f.wire == 2:
				p.ManualServerAddresses = append(p.ManualServerAddresses, s)
			default:
				addProtoExtra(&p.Extra, f)
			}
		}
		return p, nil
	case TypePeeringTrustBundle:
		p := &PeeringTrustBundle{}
		for _, f := range fs {
			s := string(f.b)
			switch {
			case f.num == 1 && f.wire == 2:
				p.TrustDomain = s
			case f.num == 2 && f.wire == 2:
				p.PeerName = s
			case f.num == 3 && f.wire == 2:
				p.Partition = s
			case f.num == 4 && f.wire == 2:
				p.RootPEMs = append(p.RootPEMs, s)
			case f.num == 5 && f.wire == 2:
				p.ExportedPartition = s
			case f.num == 6 && f.wire == 0:
				p.CreateIndex = f.u
			case f.num == 7 && f.wire == 0:
				p.ModifyIndex = f.u
			default:
				addProtoExtra(&p.Extra, f)
			}
		}
		return p, nil
	case TypePeeringSecret:
		p := &PeeringSecrets{}
		for _, f := range fs {
			switch {
			case f.num == 1 && f.wire == 2:
				p.PeerID = string(f.b)
			case f.num == 2 && f.wire == 2:
				m, err := protoMap(f.b, map[uint64]string{1: "SecretID"}, bud)
				if err != nil {
					return nil, fmt.Errorf("establishment: %w", err)
				}
				p.EstablishmentSecretID, _ = m["SecretID"].(string)
			case f.num == 3 && f.wire == 2:
				m, err := protoMap(f.b, map[uint64]string{1: "ActiveSecretID", 2: "PendingSecretID"}, bud)
				if err != nil {
					return nil, fmt.Errorf("stream: %w", err)
				}
				p.ActiveSecretID, _ = m["ActiveSecretID"].(string)
				p.PendingSecretID, _ = m["PendingSecretID"].(string)
			default:
				addProtoExtra(&p.Extra, f)
			}
		}
		return p, nil
	case TypeResource:
		r := &Resource{}
		for _, f := range fs {
			switch {
			case f.num == 1 && f.wire == 2:
				if err := decodeResourceID(r, f.b, bud); err != nil {
					return nil, fmt.Errorf("id: %w", err)
				}
			case f.num == 3 && f.wire == 2:
				r.Version = string(f.b)
			case f.num == 4 && f.wire == 2:
				r.Generation = string(f.b)
			default:
				addProtoExtra(&r.Extra, f)
			}
		}
		return r, nil
	}
	return nil, fmt.Errorf("%w: type %s is not protobuf", errProto, t)
}

func decodeResourceID(r *Resource, b []byte, bud *budget) error {
	fs, err := protoFields(b, bud)
	if err != nil {
		return err
	}
	for _, f := range fs {
		switch f.num {
		case 1:
			r.UID = string(f.b)
		case 2:
			r.Name = string(f.b)
		case 3:
			m, err := protoMap(f.b, map[uint64]string{1: "group", 2: "group_version", 3: "kind"}, bud)
			if err != nil {
				return err
			}
			r.Group, _ = m["group"].(string)
			r.GroupVersion, _ = m["group_version"].(string)
			r.Kind, _ = m["kind"].(string)
		case 4:
			m, err := protoMap(f.b, map[uint64]string{1: "partition", 2: "namespace", 3: "peer_name"}, bud)
			if err != nil {
				return err
			}
			r.Partition, _ = m["partition"].(string)
			r.Namespace, _ = m["namespace"].(string)
			r.PeerName, _ = m["peer_name"].(string)
		}
	}
	return nil
}
