package raftlog

import (
	"fmt"
	"time"

	"github.com/snaptool/snaptool/decode"
)

// IgnoreUnknownFlag is bit 7 of the message type byte: Consul's FSM skips
// such an entry when it does not know the type instead of panicking.
const IgnoreUnknownFlag = 128

// LogType is hashicorp/raft's LogType.
type LogType uint8

// raft's log types.
const (
	LogCommand              LogType = 0
	LogNoop                 LogType = 1
	LogAddPeerDeprecated    LogType = 2
	LogRemovePeerDeprecated LogType = 3
	LogBarrier              LogType = 4
	LogConfiguration        LogType = 5
)

var logTypeNames = [...]string{"command", "noop", "add-peer-deprecated", "remove-peer-deprecated", "barrier", "configuration"}

func (t LogType) String() string {
	if int(t) < len(logTypeNames) {
		return logTypeNames[t]
	}
	return fmt.Sprintf("logtype(%d)", uint8(t))
}

// Entry is one raft log entry, decoded. JSON tags are the JSON-lines schema.
type Entry struct {
	Index   uint64 `json:"index"`
	Term    uint64 `json:"term"`
	LogType string `json:"log_type"`
	// AppendedAt is when the leader appended the entry (raft ≥ 1.3.x;
	// zero in older logs, then omitted).
	AppendedAt time.Time `json:"appended_at,omitzero"`
	// MsgType is Consul's message type name (decode.MessageType.String) of
	// a command entry, MsgTypeNum its number without the flag bit.
	MsgType       string `json:"msg_type,omitempty"`
	MsgTypeNum    *uint8 `json:"msg_type_num,omitempty"`
	IgnoreUnknown bool   `json:"ignore_unknown,omitempty"`
	// Op is the request's operation (KVS "set", Session "destroy", "txn", …).
	Op      string   `json:"op,omitempty"`
	Targets []Target `json:"targets"`
	// Token is the caller (nil when the request type carries no Token
	// field, as Consul's ACL batch requests and raft's own entries).
	Token *Who `json:"token,omitempty"`
	// Request is the whole request as an ordered tree (decode.Object …),
	// secrets masked unless ShowSecrets.
	Request any `json:"request,omitempty"`
	// Chunk is set on go-raftchunking entries ("op 7 part 2/3"); the part
	// that completes an op carries the whole request.
	Chunk string `json:"chunk,omitempty"`
	// Size is the stored size of the entry (the msgpack raft.Log).
	Size int `json:"size"`
	// Err says why the entry could not be decoded (the scan goes on).
	Err string `json:"error,omitempty"`

	msgType decode.MessageType
	isCmd   bool
}

// Target is one identity an entry touches, with the identity strings of
// decode.Identity (dump's "id", diff's match key).
type Target struct {
	// Type is the decode.MessageType name whose identity ID is (KVS,
	// Register, Session, ACLToken, ConfigEntry, …).
	Type string `json:"type"`
	ID   string `json:"id"`
	// Op is set per target in transactions (for example "kv:set").
	Op string `json:"op,omitempty"`
	// Name is a service name (for --service) or the name a delete goes by
	// when the request has no ID (peering delete by name).
	Name string `json:"name,omitempty"`
}

// MessageType returns the message type and true for command entries.
func (e *Entry) MessageType() (decode.MessageType, bool) { return e.msgType, e.isCmd }

// rawLog is raft.Log as raft-boltdb stores it.
type rawLog struct {
	Index, Term uint64
	Type        LogType
	Data        []byte
	Extensions  []byte
	AppendedAt  time.Time
}

// parseLog decodes a stored raft.Log (go-msgpack MsgpackHandle: a map with
// raft.Log's field names). Data and Extensions alias b. It walks the map
// with decode's allocation-free readers; each field value is decoded alone.
func parseLog(b []byte) (rawLog, error) {
	var l rawLog
	n, p, ok := decode.MapHeader(b, 0)
	if !ok {
		return l, fmt.Errorf("raft.Log is not a msgpack map")
	}
	for i := uint64(0); i < n; i++ {
		key, vp, isStr := decode.StrAt(b, p)
		if vp < 0 {
			return l, fmt.Errorf("raft.Log: truncated key %d", i)
		}
		end := decode.SkipValue(b, vp)
		if end < 0 {
			return l, fmt.Errorf("raft.Log: value of %q truncated or malformed", key)
		}
		p = end
		if !isStr {
			continue
		}
		val, err := decode.DecodeAll(b[vp:end])
		if err != nil {
			return l, fmt.Errorf("raft.Log %s: %w", key, err)
		}
		switch string(key) {
		case "Index":
			l.Index, _ = val.AsUint()
		case "Term":
			l.Term, _ = val.AsUint()
		case "Type":
			t, ok := val.AsUint()
			if !ok || t > 255 {
				return l, fmt.Errorf("raft.Log Type is not a small integer")
			}
			l.Type = LogType(t)
		case "Data":
			l.Data = val.Bytes
		case "Extensions":
			l.Extensions = val.Bytes
		case "AppendedAt":
			t, err := timeOf(&val)
			if err != nil {
				return l, fmt.Errorf("raft.Log AppendedAt: %w", err)
			}
			l.AppendedAt = t
		}
	}
	if p != len(b) {
		return l, fmt.Errorf("raft.Log: %d trailing bytes", len(b)-p)
	}
	return l, nil
}

// timeOf reads a time.Time as go-msgpack writes it: the str-wrapped
// MarshalBinary bytes (v0.5.5 handle) or the timestamp extension (v2).
// TODO(decode): use an exported decode time reader when there is one
// (decode.decodeTimeValue does exactly this).
func timeOf(v *decode.Value) (time.Time, error) {
	switch v.Kind {
	case decode.Nil:
		return time.Time{}, nil
	case decode.Str, decode.Bin:
		var t time.Time
		if err := t.UnmarshalBinary(v.Bytes); err != nil {
			return time.Time{}, err
		}
		return t, nil
	case decode.Ext:
		if t, ok := v.Interface().(time.Time); ok {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("msgpack %s is not a time", v.Kind)
}
