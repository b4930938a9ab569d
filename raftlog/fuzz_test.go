package raftlog

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
)

// FuzzEntry feeds hostile bytes to the entry decoder as a stored raft.Log
// (raft-boltdb) and as a raft-wal BinaryCodec entry: no panic, no hang,
// and the result renders.
func FuzzEntry(f *testing.F) {
	enc := func(v any) []byte {
		var b bytes.Buffer
		if err := codec.NewEncoder(&b, &codec.MsgpackHandle{}).Encode(v); err != nil {
			f.Fatal(err)
		}
		return b.Bytes()
	}
	type log struct {
		Index, Term uint64
		Type        uint8
		Data        []byte
		Extensions  []byte
		AppendedAt  time.Time
	}
	kv := append([]byte{2}, enc(map[string]any{"Op": "set", "DirEnt": map[string]any{"Key": "a", "Value": []byte("v")}, "Token": "s"})...)
	txn := append([]byte{8}, enc(map[string]any{"Ops": []any{map[string]any{"KV": map[string]any{"Verb": "set", "DirEnt": map[string]any{"Key": "k"}}}}})...)
	tok := append([]byte{17}, enc(map[string]any{"Tokens": []any{map[string]any{"AccessorID": "a", "SecretID": "s"}}})...)
	for _, d := range [][]byte{kv, txn, tok, {35, 0x0a, 0x02, 0x0a, 0x00}, {22, 0xa3, 0xa1, 'x', 0x80}, {200}} {
		f.Add(enc(log{Index: 1, Term: 1, Data: d, AppendedAt: time.Unix(1, 0)}))
	}
	f.Add(enc(log{Index: 1, Type: 5, Data: enc(map[string]any{"Servers": []any{map[string]any{"ID": "x"}}})}))
	f.Add([]byte{0x02, 0x01, 0x00, 0x02, 0x02, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, backend := range []string{"boltdb", "wal"} {
			for _, show := range []bool{false, true} {
				l := &Log{Backend: backend, tokens: newTokenTable(), opts: Options{ShowSecrets: show}}
				var e Entry
				l.decodeEntry(&e, 1, b, true)
				if _, err := json.Marshal(&e); err != nil {
					t.Fatalf("%s: JSON: %v", backend, err)
				}
				if err := WriteText(io.Discard, &e); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
