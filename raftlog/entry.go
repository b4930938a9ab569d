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
	body    []byte
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

// Body is the request of a command entry as stored after its message type
// byte (msgpack, or protobuf for the peering types), a chunked request
// reassembled; nil for other entries. It aliases the log's memory and is
// valid until the scan moves on (replay reads it to apply the request).
func (e *Entry) Body() []byte { return e.body }

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
// raft.Log's field names) with decode's generic reader. Data and Extensions
// alias b.
func parseLog(b []byte) (rawLog, error) {
	var l rawLog
	v, err := decode.DecodeAll(b)
	if err != nil {
		return l, fmt.Errorf("raft.Log: %w", err)
	}
	if v.Kind != decode.Map {
		return l, fmt.Errorf("raft.Log is a msgpack %s, not a map", v.Kind)
	}
	if x, ok := v.Get("Index"); ok {
		l.Index, _ = x.AsUint()
	}
	if x, ok := v.Get("Term"); ok {
		l.Term, _ = x.AsUint()
	}
	if x, ok := v.Get("Type"); ok {
		t, ok := x.AsUint()
		if !ok || t > 255 {
			return l, fmt.Errorf("raft.Log Type is not a small integer")
		}
		l.Type = LogType(t)
	}
	if x, ok := v.Get("Data"); ok {
		l.Data = x.Bytes
	}
	if x, ok := v.Get("Extensions"); ok {
		l.Extensions = x.Bytes
	}
	if x, ok := v.Get("AppendedAt"); ok {
		t, err := decode.TimeOf(x)
		if err != nil {
			return l, fmt.Errorf("raft.Log AppendedAt: %w", err)
		}
		l.AppendedAt = t
	}
	return l, nil
}
