// Package hostile writes crafted Consul snapshot archives, one per class
// of hostile input of issue 11, at a chosen scale: each is a valid
// archive (correct SHA256SUMS and meta.json Size) whose records are built
// to break a promise (no panic, bounded memory, linear time, a safe
// terminal, masked secrets). Both the CLI tests (a corpus at scale 1) and
// scripts/hostile-mem.sh (scales 1, 4, 16, through cmd/hostilegen) use it,
// so the classes are written down once.
//
// Every class has an A and a B side (side 0 and 1): the same shape with a
// few values changed, so that diff A B has work to do. Output is
// deterministic. Secrets lists the secret strings a class plants, which
// no command may print without --show-secrets.
package hostile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/hashicorp/go-msgpack/codec"
	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// Class is one kind of crafted input.
type Class struct {
	Name string
	What string
	// state writes the records of state.bin (after its header) for scale
	// and side.
	state func(sw *encode.StateWriter, scale, side int) error
	// tail, if set, is appended to state.bin after the records (bytes a
	// StateWriter refuses to write).
	tail func(scale, side int) []byte
	// raw, if set, writes the whole archive itself (sparse tar member).
	raw func(w io.Writer, scale, side int) error
}

// Classes returns every class, in a fixed order.
func Classes() []Class {
	out := make([]Class, 0, len(classes))
	for _, c := range classes {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the class named name.
func Lookup(name string) (Class, bool) {
	c, ok := classes[name]
	return c, ok
}

// Secrets are the secret values the config-secrets class plants (both
// sides); they must never be printed without --show-secrets.
var Secrets = []string{
	"hostile-vault-token-0", "hostile-vault-token-1",
	"HOSTILE PRIVATE KEY BODY 0", "HOSTILE PRIVATE KEY BODY 1",
	"hostile-entry-token-0", "hostile-entry-token-1",
}

// Escapes are the control strings the terminal-escapes class plants in
// keys, node names, meta.json's ID and values.
var Escapes = []string{"\x1b]0;pwned\x07", "\x1b[2J", "\u009b31m", "\u009d0;title\u009c", "\u202eevil\u202c"}

var classes = map[string]Class{
	"nan-floats": {Name: "nan-floats", What: "NaN and ±Inf floats in unknown fields of Register records",
		state: func(sw *encode.StateWriter, scale, side int) error {
			floats := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1.5}
			for i := 0; i < count(scale, 2000); i++ {
				if err := sw.WriteRecord(decode.TypeRegister, map[string]any{
					"Node": fmt.Sprintf("nan-%07d", i), "Address": "10.0.0.1",
					"Weight": floats[(i+side)%len(floats)], "Nested": map[string]any{"F": []any{math.NaN(), math.Inf(-1)}},
				}); err != nil {
					return err
				}
			}
			return nil
		}},
	"amplification": {Name: "amplification", What: "records of 64K empty maps in an unknown field (a tree costs far more than its bytes)",
		state: func(sw *encode.StateWriter, scale, side int) error {
			for i := 0; i < count(scale, 8); i++ {
				if err := sw.WriteRaw(amplified(fmt.Sprintf("amp-%07d", i), 64<<10, side)); err != nil {
					return err
				}
			}
			return nil
		}},
	"zero-records": {Name: "zero-records", What: "state.bin of zeros: 2-byte malformed records, 1 MiB per scale",
		state: func(sw *encode.StateWriter, scale, side int) error {
			// One valid record, so that B differs from A; then the zeros (tail).
			return sw.WriteRecord(decode.TypeKVS, &encode.DirEntry{Key: "z", Value: []byte{byte(side)}})
		},
		tail: func(scale, side int) []byte { return make([]byte, count(scale, 1<<20)) }},
	"large-records": {Name: "large-records", What: "two KVS records of 2 MiB per scale (a 32 MiB pair at 16x), their values differing between A and B",
		state: func(sw *encode.StateWriter, scale, side int) error {
			for i := 0; i < 2; i++ {
				v := bytes.Repeat([]byte(fmt.Sprintf("line %d of side %d\n", i, side)), count(scale, 2<<20)/20)
				if err := sw.WriteRecord(decode.TypeKVS, &encode.DirEntry{Key: fmt.Sprintf("large/%d", i), Value: v,
					CreateIndex: 5, ModifyIndex: 5}); err != nil {
					return err
				}
			}
			return nil
		}},
	"sparse-member": {Name: "sparse-member", What: "state.bin as a GNU sparse tar member with a 1.1 TB hole per scale",
		raw: sparseArchive},
	"reverse-order": {Name: "reverse-order", What: "KVS records in reverse key order (side B; side A in order): 110,000 per scale, past diff's hold cap",
		state: func(sw *encode.StateWriter, scale, side int) error {
			n := count(scale, 110_000)
			for j := 0; j < n; j++ {
				i := j
				if side == 1 {
					i = n - 1 - j
				}
				if err := sw.WriteRecord(decode.TypeKVS, &encode.DirEntry{Key: fmt.Sprintf("r/%08d", i),
					Value: []byte(fmt.Sprintf("v%d", i%7+side)), CreateIndex: 5, ModifyIndex: 5}); err != nil {
					return err
				}
			}
			return nil
		}},
	"duplicate-keys": {Name: "duplicate-keys", What: "one KV key repeated (side B; side A once): 110,000 per scale, past diff's hold cap",
		state: func(sw *encode.StateWriter, scale, side int) error {
			n := count(scale, 110_000)
			if side == 0 {
				n = 1
			}
			for i := 0; i < n; i++ {
				if err := sw.WriteRecord(decode.TypeKVS, &encode.DirEntry{Key: "dup/key",
					Value: []byte(fmt.Sprintf("v%d", i)), CreateIndex: 5, ModifyIndex: 5}); err != nil {
					return err
				}
			}
			return nil
		}},
	"terminal-escapes": {Name: "terminal-escapes", What: "ESC, C1 and bidi controls in KV keys and values, node names and meta.json's ID",
		state: func(sw *encode.StateWriter, scale, side int) error {
			for i := 0; i < count(scale, 100); i++ {
				esc := Escapes[i%len(Escapes)]
				if err := sw.WriteRecord(decode.TypeRegister, map[string]any{
					"Node": fmt.Sprintf("n%07d%s", i, esc), "Address": "10.0.0.1",
					"NodeMeta": map[string]any{"k" + esc: "v" + esc}}); err != nil {
					return err
				}
			}
			for i := 0; i < count(scale, 100); i++ {
				esc := Escapes[i%len(Escapes)]
				if err := sw.WriteRecord(decode.TypeKVS, &encode.DirEntry{Key: fmt.Sprintf("esc/%07d/%s", i, esc),
					Value: []byte(esc + fmt.Sprint(side)), CreateIndex: 5, ModifyIndex: 5}); err != nil {
					return err
				}
			}
			return nil
		}},
	"config-secrets": {Name: "config-secrets", What: "config entries with an inline-certificate PrivateKey, Meta.vault_token and a Token, one failing typed decode",
		state: func(sw *encode.StateWriter, scale, side int) error {
			for i := 0; i < count(scale, 50); i++ {
				if err := sw.WriteRecord(decode.TypeConfigEntry, configEntry("inline-certificate", map[string]any{
					"Datacenter": "dc1", "Op": "upsert", "Token": Secrets[4+side],
					"Entry": map[string]any{"Kind": "inline-certificate", "Name": fmt.Sprintf("cert-%07d", i),
						"Certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
						"PrivateKey":  "-----BEGIN EC PRIVATE KEY-----\n" + Secrets[2+side] + "\n-----END EC PRIVATE KEY-----\n",
						"Meta":        map[string]any{"vault_token": Secrets[side], "owner": "team"}}})); err != nil {
					return err
				}
			}
			// A config entry whose typed decode fails (Datacenter is not a
			// string): dump shows its generic value, masked by the same rules.
			return sw.WriteRecord(decode.TypeConfigEntry, configEntry("service-defaults", map[string]any{
				"Datacenter": 42, "Op": "upsert", "Token": Secrets[4+side],
				"Entry": map[string]any{"Kind": "service-defaults", "Name": "zz-broken",
					"Meta": map[string]any{"vault_token": Secrets[side]}}}))
		}},
}

// configEntry is Consul's ConfigEntry wrapper: the kind and the request,
// msgpack-encoded into one string.
func configEntry(kind string, req map[string]any) string {
	var b []byte
	enc := codec.NewEncoderBytes(&b, encode.NewHandle())
	_ = enc.Encode(kind)
	_ = enc.Encode(req)
	return string(b)
}

// amplified is a Register record {Node: node, X: [n empty maps]} built by
// hand (a type byte, then msgpack): n bytes that decode into n maps.
func amplified(node string, n, side int) []byte {
	b := []byte{byte(decode.TypeRegister), 0x83}
	b = appendStr(b, "Node")
	b = appendStr(b, node)
	b = appendStr(b, "Side")
	b = append(b, byte(side))
	b = appendStr(b, "X")
	b = append(b, 0xdd)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	for i := 0; i < n; i++ {
		b = append(b, 0x80)
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	if len(s) < 32 {
		return append(append(b, 0xa0|byte(len(s))), s...)
	}
	b = append(b, 0xda)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// meta is meta.json of every class (the terminal-escapes class puts
// escapes in its ID).
func meta(class string, side int, size int64) raft.SnapshotMeta {
	id := fmt.Sprintf("2-100-%d", side)
	if class == "terminal-escapes" {
		id += Escapes[0] + Escapes[2]
	}
	return raft.SnapshotMeta{Version: 1, ID: id, Index: 100, Term: 2, Size: size,
		Configuration:      raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: "s1", Address: "127.0.0.1:8300"}}},
		ConfigurationIndex: 1}
}

// Write writes class c's archive at scale (1, 4, 16, …; 0 for a fuzz
// seed) for side (0: A, 1: B) to w.
func (c Class) Write(w io.Writer, scale, side int) error {
	if scale < 0 {
		scale = 0
	}
	if c.raw != nil {
		return c.raw(w, scale, side)
	}
	state, err := c.State(scale, side)
	if err != nil {
		return err
	}
	return encode.WriteArchive(w, meta(c.Name, side, int64(len(state))), bytes.NewReader(state), encode.ArchiveOptions{Level: 1})
}

// count is how many of something a class writes at scale: n per unit of
// scale, and at scale 0 (a fuzz seed) n/256, at least 4.
func count(scale, n int) int {
	if scale == 0 {
		return max(n/256, 4)
	}
	return n * scale
}

// Seed is the class at scale 0: the same shape, a few KB, for fuzz seeds.
func (c Class) Seed(side int) ([]byte, error) { return c.Bytes(0, side) }

// Bytes is Write into memory.
func (c Class) Bytes(scale, side int) ([]byte, error) {
	var b bytes.Buffer
	err := c.Write(&b, scale, side)
	return b.Bytes(), err
}

// State is the class's raw state.bin at scale for side (header, records,
// tail), or nil for a class that is about the archive (sparse-member).
func (c Class) State(scale, side int) ([]byte, error) {
	if c.raw != nil {
		return nil, nil
	}
	var state bytes.Buffer
	sw, err := encode.NewStateWriter(&state, 100)
	if err != nil {
		return nil, err
	}
	if err := c.state(sw, scale, side); err != nil {
		return nil, err
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	if c.tail != nil {
		state.Write(c.tail(scale, side))
	}
	return state.Bytes(), nil
}

// sparseArchive is an archive whose state.bin is an old-GNU sparse member:
// one 512-byte chunk at the end of a hole of scale × 1.1 TB. Go's tar
// reader would expand the hole; Consul never writes such a member.
func sparseArchive(w io.Writer, scale, side int) error {
	hole := int64(max(scale, 1)) * 1_100_000_000_000
	mj, err := encode.MetaJSON(meta("sparse-member", side, hole))
	if err != nil {
		return err
	}
	chunk := make([]byte, 512)
	sum := sha256.Sum256(mj)
	sums := fmt.Sprintf("%x  %s\n%x  %s\n", sum, decode.MemberMeta, sha256.Sum256(chunk), decode.MemberState)
	var tb []byte
	tb = append(tb, regularMember(decode.MemberMeta, mj)...)
	h := RawTarHeader(decode.MemberState, tar.TypeGNUSparse, 512, "ustar  \x00", func(b []byte) {
		base256(b[386:398], hole-512)                   // sparse[0].offset
		copy(b[398:410], fmt.Sprintf("%011o\x00", 512)) // sparse[0].numbytes
		base256(b[483:495], hole)                       // realsize
	})
	tb = append(tb, h...)
	tb = append(tb, chunk...)
	tb = append(tb, regularMember(decode.MemberSums, []byte(sums))...)
	tb = append(tb, make([]byte, 1024)...)
	zw := gzip.NewWriter(w)
	if _, err := zw.Write(tb); err != nil {
		return err
	}
	return zw.Close()
}

// RawTarHeader is one hand-made 512-byte tar header (archive/tar cannot
// write sparse members): name, type flag, size, magic ("ustar\x0000" for
// USTAR/PAX, "ustar  \x00" for old GNU), and fill sets further fields
// before the checksum.
func RawTarHeader(name string, typeflag byte, size int64, magic string, fill func(b []byte)) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000600\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", 1700000000))
	b[156] = typeflag
	copy(b[257:265], magic)
	if fill != nil {
		fill(b)
	}
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func regularMember(name string, data []byte) []byte {
	b := append(RawTarHeader(name, tar.TypeReg, int64(len(data)), "ustar\x0000", nil), data...)
	if r := len(data) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// base256 stores v in a numeric field too small for its octal form.
func base256(field []byte, v int64) {
	for i := len(field) - 1; i > 0; i-- {
		field[i] = byte(v)
		v >>= 8
	}
	field[0] = 0x80
}
