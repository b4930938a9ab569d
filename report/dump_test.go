package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

// managementToken is the fixture's initial management SecretID (fixtures/consul-1.13.9/README.md).
const managementToken = "5e1f0c3a-9d2b-4c7e-8a61-0f3b2d4c6e8a"

func dumpPath(t *testing.T, path string, o DumpOptions) ([]map[string]any, string, error) {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b bytes.Buffer
	_, derr := Dump(context.Background(), s, &b, o)
	return parseLines(t, b.Bytes()), b.String(), derr
}

func parseLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("line is not JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// typedRecords reads path through decode directly.
func typedRecords(t *testing.T, path string) []*decode.Decoded {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []*decode.Decoded
	for s.Next() {
		d, err := decode.DecodeRecord(s.Record())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// backup.snap has no KV records; backupWithKV.snap no secrets.
var dumpFixtures = []string{
	filepath.Join(consulTestdata, "backup.snap"),
	filepath.Join(consulTestdata, "backupWithKV.snap"),
	filepath.Join(consul1139, "before.snap"),
	filepath.Join(consul1139, "after.snap"),
	filepath.Join(consul1139, "datadir"),
}

// Every KV value comes back byte for byte from the base64 in "data.Value".
func TestDumpKVRoundTrip(t *testing.T) {
	for _, path := range dumpFixtures {
		want := map[string][]byte{}
		nilValue := map[string]bool{}
		for _, d := range typedRecords(t, path) {
			if e, ok := d.Data.(*decode.DirEntry); ok && d.Type == decode.TypeKVS {
				want[e.Key] = e.Value
				nilValue[e.Key] = e.Value == nil
			}
		}
		lines, _, err := dumpPath(t, path, DumpOptions{Types: []decode.MessageType{decode.TypeKVS}})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got := 0
		for _, l := range lines[1:] {
			data := l["data"].(map[string]any)
			key := data["Key"].(string)
			if l["id"] != key || l["type"] != "KVS" {
				t.Errorf("%s: line id %v type %v for key %q", path, l["id"], l["type"], key)
			}
			var v []byte
			if data["Value"] != nil {
				if err := json.Unmarshal([]byte(`"`+data["Value"].(string)+`"`), &v); err != nil {
					t.Fatalf("%s %s: Value is not base64: %v", path, key, err)
				}
			} else if !nilValue[key] {
				t.Errorf("%s %s: Value null, want %q", path, key, want[key])
			}
			if !bytes.Equal(v, want[key]) {
				t.Errorf("%s %s: value differs: got %d bytes, want %d", path, key, len(v), len(want[key]))
			}
			if txt, ok := data["ValueText"]; ok && txt != string(want[key]) {
				t.Errorf("%s %s: ValueText differs", path, key)
			}
			got++
		}
		if got != len(want) || (got == 0 && !strings.HasSuffix(path, "backup.snap")) {
			t.Errorf("%s: %d KV lines, want %d", path, got, len(want))
		}
	}
}

// secretsOf collects every secret value of a snapshot, read through decode.
func secretsOf(t *testing.T, path string) []string {
	var out []string
	for _, d := range typedRecords(t, path) {
		switch x := d.Data.(type) {
		case *decode.ACLToken:
			out = append(out, x.SecretID)
		case *decode.CARoot:
			out = append(out, x.SigningKey)
		case *decode.CAConsulProviderState:
			out = append(out, x.PrivateKey)
		case *decode.PeeringSecrets:
			out = append(out, x.EstablishmentSecretID, x.ActiveSecretID, x.PendingSecretID)
		}
	}
	var nonEmpty []string
	for _, s := range out {
		if len(s) >= 8 {
			nonEmpty = append(nonEmpty, s)
		}
	}
	return nonEmpty
}

// No secret is shown without ShowSecrets; with it, they all are.
func TestDumpMasksSecrets(t *testing.T) {
	for _, path := range dumpFixtures {
		secrets := secretsOf(t, path)
		if strings.Contains(path, "1.13.9") {
			secrets = append(secrets, managementToken)
		}
		if len(secrets) == 0 && !strings.HasSuffix(path, "backupWithKV.snap") {
			t.Fatalf("%s: no secrets found to check", path)
		}
		_, masked, err := dumpPath(t, path, DumpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, shown, err := dumpPath(t, path, DumpOptions{ShowSecrets: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(masked, s) {
				t.Errorf("%s: masked dump shows secret %.12q…", path, s)
			}
			if !strings.Contains(shown, jsonString(s)) {
				t.Errorf("%s: --show-secrets dump lacks secret %.12q…", path, s)
			}
		}
		if strings.Contains(masked, "PRIVATE KEY") {
			t.Errorf("%s: masked dump shows a private key", path)
		}
		if len(secrets) > 0 && !strings.Contains(masked, "<masked sha256:") {
			t.Errorf("%s: no fingerprint in masked dump", path)
		}
	}
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n")[1:], `"`)
}

func TestDumpLinesAndFilters(t *testing.T) {
	path := filepath.Join(consulTestdata, "backupWithKV.snap")
	lines, _, err := dumpPath(t, path, DumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := lines[0]; h["type"] != "SnapshotHeader" || h["data"].(map[string]any)["LastIndex"] != json.Number("12426") {
		t.Errorf("header line %v", h)
	}
	if len(lines) != 51 {
		t.Fatalf("%d lines, want header + 50 records", len(lines))
	}
	var off int64 = 14 // header bytes
	for i, l := range lines[1:] {
		n, _ := l["n"].(json.Number).Int64()
		o, _ := l["offset"].(json.Number).Int64()
		sz, _ := l["size"].(json.Number).Int64()
		if n != int64(i+1) || o != off {
			t.Errorf("line %d: n %d offset %d, want %d %d", i+1, n, o, i+1, off)
		}
		for _, k := range []string{"n", "offset", "size", "type", "id", "data"} {
			if _, ok := l[k]; !ok {
				t.Errorf("line %d lacks %q", i+1, k)
			}
		}
		off += sz
	}
	if off != 17228 {
		t.Errorf("offsets+sizes end at %d, want 17228", off)
	}

	tests := []struct {
		name  string
		opts  DumpOptions
		count int
		check func(l map[string]any) bool
	}{
		{"type", DumpOptions{Types: []decode.MessageType{decode.TypeTombstone, decode.TypeSession}}, 3,
			func(l map[string]any) bool { return l["type"] == "Tombstone" || l["type"] == "Session" }},
		{"kv prefix", DumpOptions{KVPrefix: "vault/logical/"}, 4,
			func(l map[string]any) bool { return strings.HasPrefix(l["id"].(string), "vault/logical/") }},
		{"id glob", DumpOptions{IDGlob: "vault/*/core*"}, 0, nil},
		{"id glob spans slashes", DumpOptions{IDGlob: "vault/sys/*"}, 7,
			func(l map[string]any) bool { return strings.HasPrefix(l["id"].(string), "vault/sys/") }},
		{"singleton", DumpOptions{IDGlob: "singleton"}, 2,
			func(l map[string]any) bool { return l["type"] == "Autopilot" || l["type"] == "ChunkingState" }},
	}
	for _, tt := range tests {
		lines, _, err := dumpPath(t, path, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		recs := lines[1:]
		if tt.name != "id glob" && len(recs) != tt.count {
			t.Errorf("%s: %d records, want %d", tt.name, len(recs), tt.count)
		}
		for _, l := range recs {
			if tt.check != nil && !tt.check(l) {
				t.Errorf("%s: unexpected line %v", tt.name, l)
			}
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "a/b/c", true}, {"a/*", "a/b/c", true}, {"a/?", "a/b", true},
		{"a/?", "a/bc", false}, {"*/c", "a/b/c", true}, {"node:*", "service:x", false},
		{"ключ*", "ключ/日本語", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false}, {"", "", true}, {"", "x", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

// A record that does not decode to its type is still written, with its
// generic value (secrets masked) and an error, and Dump reports damage.
func TestDumpTypedDecodeFailure(t *testing.T) {
	header := []byte("\x81\xa9LastIndex\x0d")
	// ACLToken whose CreateIndex is a string: typed decode fails.
	tok := []byte("\x11\x83\xaaAccessorID\xa3acc\xa8SecretID\xa6s3cr3t\xabCreateIndex\xa1x")
	state := append(append(append([]byte{}, header...), tok...), 0x1d, 0x81, 0xa8, 'C', 'h', 'u', 'n', 'k', 'M', 'a', 'p', 0x80)
	s := stateBinSnapshot(t, state)
	var b bytes.Buffer
	st, err := Dump(context.Background(), s, &b, DumpOptions{})
	if err == nil || !errors.Is(err, ErrDumpDecode) || !decode.IsDamage(err) {
		t.Fatalf("err = %v, want ErrDumpDecode (damage)", err)
	}
	if st.DecodeErrors != 1 || st.Written != 2 {
		t.Errorf("stats %+v", st)
	}
	lines := parseLines(t, b.Bytes())
	l := lines[1]
	if l["error"] == nil || l["type"] != "ACLToken" || l["id"] != "acc" {
		t.Errorf("line %v", l)
	}
	data := l["data"].(map[string]any)
	if data["SecretID"] != decode.Fingerprint("s3cr3t") || strings.Contains(b.String(), "s3cr3t") {
		t.Errorf("secret not masked in fallback data: %v", data)
	}
}

// An empty state.bin is damage for dump too, although Dump asks for the
// header before the first record.
func TestDumpEmptyStateBin(t *testing.T) {
	var b bytes.Buffer
	st, err := Dump(context.Background(), stateBinSnapshot(t, nil), &b, DumpOptions{})
	if err == nil || !decode.IsDamage(err) || st.Written != 0 {
		t.Errorf("empty state.bin: err %v, written %d", err, st.Written)
	}
	if b.Len() != 0 {
		t.Errorf("output %q, want none", b.String())
	}
}

// mp builds msgpack bytes for the KV fast-path cases.
type mp []byte

func (m mp) fixmap(n int) mp { return append(m, 0x80|byte(n)) }
func (m mp) str(s string) mp {
	if len(s) < 32 {
		return append(append(m, 0xa0|byte(len(s))), s...)
	}
	return append(append(m, 0xd9, byte(len(s))), s...)
}
func (m mp) bin(s string) mp  { return append(append(m, 0xc4, byte(len(s))), s...) }
func (m mp) raw(b ...byte) mp { return append(m, b...) }

// kvCases are KVS values in and around the shape the fast path accepts.
func kvCases() map[string][]byte {
	full := mp{}.fixmap(7).str("CreateIndex").raw(0x05).str("Flags").raw(0xcc, 0xff).str("Key").str("app/config").
		str("LockIndex").raw(0x00).str("ModifyIndex").raw(0xcd, 0x12, 0x34).str("Session").str("").str("Value").bin(`{"a":1}`)
	return map[string][]byte{
		"consul shape":          full,
		"nil value":             mp{}.fixmap(2).str("Key").str("k").str("Value").raw(0xc0),
		"empty bin value":       mp{}.fixmap(2).str("Key").str("k").str("Value").bin(""),
		"str value":             mp{}.fixmap(2).str("Key").str("k").str("Value").str("text"),
		"invalid utf8 value":    mp{}.fixmap(2).str("Key").str("k").str("Value").bin("\xff\xfeok"),
		"escapes in value":      mp{}.fixmap(2).str("Key").str("k").str("Value").bin("<a&b>\"\\\n\t\x01\u2028é"),
		"every escape":          mp{}.fixmap(2).str("Key").str("\b\f\r\x7f\x1f").str("Value").bin("\u2029 😀 \xe2\x82 \xf0\x9f\x98 \xed\xa0\x80 \xc0\xaf end"),
		"invalid utf8 key":      mp{}.fixmap(1).str("Key").str("bad\xffkey"),
		"html in key":           mp{}.fixmap(1).str("Key").str("<script>&"),
		"namespace partition":   mp{}.fixmap(3).str("Key").str("k").str("Namespace").str("ns").str("Partition").str("part"),
		"empty namespace":       mp{}.fixmap(2).str("Key").str("k").str("Namespace").str(""),
		"duplicate key":         mp{}.fixmap(2).str("Key").str("first").str("Key").str("second"),
		"duplicate value":       mp{}.fixmap(2).str("Value").bin("x").str("Value").raw(0xc0),
		"unknown field":         mp{}.fixmap(2).str("Key").str("k").str("Hash").raw(0x07),
		"bin field name":        mp{}.fixmap(1).bin("Key").str("k"),
		"nil field name":        mp{}.fixmap(1).raw(0xc0).str("k"),
		"int field name":        mp{}.fixmap(1).raw(0x01).str("k"),
		"negative index":        mp{}.fixmap(1).str("CreateIndex").raw(0xff),
		"signed positive index": mp{}.fixmap(1).str("CreateIndex").raw(0xd0, 0x05),
		"max uint64":            mp{}.fixmap(1).str("ModifyIndex").raw(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"float index":           mp{}.fixmap(1).str("ModifyIndex").raw(0xcb, 0, 0, 0, 0, 0, 0, 0, 0),
		"nil index":             mp{}.fixmap(1).str("LockIndex").raw(0xc0),
		"nil key":               mp{}.fixmap(1).str("Key").raw(0xc0),
		"int key value":         mp{}.fixmap(1).str("Key").raw(0x07),
		"array value":           mp{}.fixmap(1).str("Value").raw(0x91, 0x01),
		"empty map":             mp{}.fixmap(0),
		"map16":                 mp{}.raw(0xde, 0x00, 0x01).str("Key").str("k"),
		"map32":                 mp{}.raw(0xdf, 0, 0, 0, 1).str("Key").str("k"),
		"nil record":            mp{}.raw(0xc0),
		"not a map":             mp{}.str("Key"),
		"trailing bytes":        append(mp{}.fixmap(1).str("Key").str("k"), 0x00),
		"truncated":             full[:len(full)-3],
		"count too high":        mp{}.fixmap(3).str("Key").str("k"),
		"str16 value":           mp{}.fixmap(1).str("Value").raw(0xda, 0x00, 0x02, 'h', 'i'),
		"str32 key":             mp{}.fixmap(1).str("Key").raw(0xdb, 0, 0, 0, 2, 'h', 'i'),
		"bin32 length too long": mp{}.fixmap(1).str("Value").raw(0xc6, 0xff, 0xff, 0xff, 0xff, 'h'),
		"long str":              mp{}.fixmap(1).str("Key").str(strings.Repeat("k", 200)),
	}
}

// checkKVFastPath compares dump's line for a KVS and a Tombstone record
// with value v against the typed reference path.
func checkKVFastPath(t *testing.T, name string, v []byte, show bool) (fast bool) {
	t.Helper()
	for _, typ := range []decode.MessageType{decode.TypeKVS, decode.TypeTombstone} {
		rec := &decode.Record{N: 7, Type: typ, Offset: 1234, Size: int64(len(v) + 1), Raw: append([]byte{byte(typ)}, v...)}
		o := &DumpOptions{ShowSecrets: show}
		got, gotKept, gotFailed, gotErr := appendDumpLine(nil, rec, o)
		id, _ := decode.Identity(rec)
		want, wantKept, wantFailed, wantErr := appendDumpLineTyped(nil, rec, id, o)
		if string(got) != string(want) || gotKept != wantKept || gotFailed != wantFailed || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s (%s): dump line differs from the typed path:\ngot  %q kept=%v failed=%v err=%v\nwant %q kept=%v failed=%v err=%v",
				name, typ, got, gotKept, gotFailed, gotErr, want, wantKept, wantFailed, wantErr)
		}
		e, ok := decode.KVFields(rec)
		fast = ok && e.Plain
		if fast && wantFailed {
			t.Errorf("%s: fast path accepts a value the typed decode rejects", name)
		}
	}
	return fast
}

// The KV fast path writes exactly what the typed path writes, and takes
// over the records Consul writes.
func TestDumpKVFastPathMatchesTyped(t *testing.T) {
	mustFast := map[string]bool{"consul shape": true, "nil value": true, "empty bin value": true, "str value": true,
		"invalid utf8 value": true, "escapes in value": true, "every escape": true, "namespace partition": true, "duplicate key": true, "map16": true, "long str": true}
	for name, v := range kvCases() {
		if fast := checkKVFastPath(t, name, v, false); mustFast[name] && !fast {
			t.Errorf("%s: fast path declined", name)
		}
	}
	// Every KV record of the real fixtures goes through the fast path.
	for _, path := range dumpFixtures {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		kv := 0
		for s.Next() {
			rec := s.Record()
			if rec.Type != decode.TypeKVS && rec.Type != decode.TypeTombstone {
				continue
			}
			kv++
			if !checkKVFastPath(t, fmt.Sprintf("%s record %d", path, rec.N), rec.Value(), false) {
				t.Errorf("%s: record %d (%s) declined by the fast path", path, rec.N, rec.Type)
			}
		}
		s.Close()
		if strings.Contains(path, "WithKV") && kv == 0 {
			t.Errorf("%s: no KV records", path)
		}
	}
}

func FuzzDumpKVFastPath(f *testing.F) {
	cases := kvCases()
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f.Add(cases[name])
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		checkKVFastPath(t, "fuzz", v, false)
		// Whatever the bytes, the line is one JSON object whose id is the
		// record's identity and whose Key is the one decode.Keys reads.
		rec := &decode.Record{N: 1, Type: decode.TypeKVS, Raw: append([]byte{byte(decode.TypeKVS)}, v...)}
		line, kept, _, err := appendDumpLine(nil, rec, &DumpOptions{})
		if err != nil || !kept {
			return
		}
		var got struct {
			ID   string
			Data any
		}
		if err := json.Unmarshal(line, &got); err != nil || !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("dump line is not one JSON line (%v): %q", err, line)
		}
		if k, err := decode.Keys(rec); err == nil {
			if got.ID != k.Identity && utf8.ValidString(k.Identity) {
				t.Fatalf("dump id %q, identity %q", got.ID, k.Identity)
			}
			data, _ := got.Data.(map[string]any)
			if key, isStr := data["Key"].(string); isStr && key != k.KV && utf8.ValidString(k.KV) {
				t.Fatalf("dump Key %q, decode.Keys %q", key, k.KV)
			}
		}
	})
}

// pipelineStateBin is a state.bin of n records, mixing fast-path KV
// records, typed-path records (unknown field, Session, Index) and every
// so often one record larger than a whole batch.
func pipelineStateBin(n int) []byte {
	b := []byte(mp{}.fixmap(1).str("LastIndex").raw(0xcd, 0xff, 0xff))
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("app/%05d", i)
		switch {
		case i%997 == 0:
			b = append(b, byte(decode.TypeKVS))
			big := strings.Repeat(fmt.Sprintf("%d\"", i), dumpBatchBytes/3)
			b = mp(b).fixmap(2).str("Key").str(key).str("Value").raw(0xc6, byte(len(big)>>24), byte(len(big)>>16), byte(len(big)>>8), byte(len(big)))
			b = append(b, big...)
		case i%7 == 0:
			b = append(b, byte(decode.TypeKVS))
			b = mp(b).fixmap(2).str("Key").str(key).str("Hash").raw(0x01) // unknown field: typed path
		case i%11 == 0:
			b = append(b, byte(decode.TypeSession))
			b = mp(b).fixmap(2).str("ID").str(key).str("Node").str("n1")
		case i%13 == 0:
			b = append(b, byte(decode.TypeIndex))
			b = mp(b).fixmap(2).str("Key").str(key).str("Value").raw(byte(i % 100))
		default:
			b = append(b, byte(decode.TypeKVS))
			b = mp(b).fixmap(3).str("Key").str(key).str("ModifyIndex").raw(0xcd, byte(i>>8), byte(i)).str("Value").bin(key)
		}
	}
	return b
}

func pipelineSnapshot(t *testing.T, state []byte) *decode.Snapshot {
	t.Helper()
	meta := fmt.Sprintf(`{"ID":"x","Index":65535,"Term":1,"Version":1,"Size":%d}`, len(state))
	s, err := decode.NewStateBin(bytes.NewReader(state), []byte(meta), decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Dump's worker pipeline writes, across many batches and batch-sized
// records, exactly the lines of a plain one-record-at-a-time loop, in order.
func TestDumpPipelineOrder(t *testing.T) {
	const n = 3*dumpInFlight*dumpBatchRecords + 123
	state := pipelineStateBin(n)
	for _, o := range []DumpOptions{{NoHeader: true}, {NoHeader: true, IDGlob: "app/0*5"}, {NoHeader: true, Types: []decode.MessageType{decode.TypeSession}}} {
		var got bytes.Buffer
		st, err := Dump(context.Background(), pipelineSnapshot(t, state), &got, o)
		if err != nil {
			t.Fatalf("Dump: %v", err)
		}
		var want []byte
		wantWritten := int64(0)
		s := pipelineSnapshot(t, state)
		types := map[decode.MessageType]bool{}
		for _, ty := range o.Types {
			types[ty] = true
		}
		for s.Next() {
			rec := s.Record()
			if len(types) > 0 && !types[rec.Type] {
				continue
			}
			id, _ := decode.Identity(rec)
			if o.IDGlob != "" && !globMatch(o.IDGlob, id) {
				continue
			}
			var kept bool
			want, kept, _, err = appendDumpLineTyped(want, rec, id, &o)
			if err != nil || !kept {
				t.Fatalf("reference line: kept=%v err=%v", kept, err)
			}
			wantWritten++
		}
		if st.Records != n || st.Written != wantWritten || st.DecodeErrors != 0 {
			t.Errorf("stats %+v, want %d records, %d written", st, n, wantWritten)
		}
		if wantWritten == 0 {
			t.Fatalf("options %+v select nothing: the test is void", o)
		}
		if !bytes.Equal(got.Bytes(), want) {
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("options %+v: line %d differs:\ngot  %.300s\nwant %.300s", o, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("options %+v: %d lines, want %d", o, len(gl), len(wl))
		}
	}
}

type failAfter struct {
	n   int
	err error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

// A write error stops the dump at once and is returned, wrapped.
func TestDumpWriteError(t *testing.T) {
	state := pipelineStateBin(20000)
	for _, after := range []int{0, 100, 1 << 20} {
		errDiskFull := errors.New("disk full")
		st, err := Dump(context.Background(), pipelineSnapshot(t, state), &failAfter{n: after, err: errDiskFull}, DumpOptions{})
		if !errors.Is(err, errDiskFull) || !strings.Contains(err.Error(), "writing") {
			t.Errorf("after %d bytes: err = %v, want the write error", after, err)
		}
		if st.Records >= 20000 {
			t.Errorf("after %d bytes: read all %d records: the dump did not stop", after, st.Records)
		}
	}
}

// BenchmarkDump: the whole pipeline on an in-memory state.bin (MB/s of
// state.bin; allocations per record are allocs/op ÷ records/op).
func BenchmarkDump(b *testing.B) {
	const n = 20000
	state := pipelineStateBin(n)
	meta := []byte(fmt.Sprintf(`{"ID":"x","Index":65535,"Term":1,"Version":1,"Size":%d}`, len(state)))
	b.SetBytes(int64(len(state)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := decode.NewStateBin(bytes.NewReader(state), meta, decode.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Dump(context.Background(), s, io.Discard, DumpOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(n, "records/op")
}

// The hand-written lines are what encoding/json writes for DumpLine (the
// documented shape), for typed and fallback ("error" + generic data or
// null) records alike.
func TestDumpLineMatchesEncodingJSON(t *testing.T) {
	var recs []decode.Record
	keep := func(s *decode.Snapshot) {
		defer s.Close()
		for s.Next() {
			r := *s.Record()
			r.Raw = append([]byte(nil), r.Raw...)
			recs = append(recs, r)
		}
	}
	for _, path := range dumpFixtures {
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		keep(s)
	}
	keep(pipelineSnapshot(t, pipelineStateBin(300)))
	for _, v := range kvCases() {
		recs = append(recs, decode.Record{N: int64(len(recs) + 1), Type: decode.TypeKVS, Offset: 99, Raw: append([]byte{byte(decode.TypeKVS)}, v...)})
	}
	failed := 0
	for _, show := range []bool{false, true} {
		o := &DumpOptions{ShowSecrets: show}
		for i := range recs {
			rec := &recs[i]
			got, kept, fail, err := appendDumpLine(nil, rec, o)
			if err != nil || !kept {
				t.Fatalf("record %d: kept=%v err=%v", rec.N, kept, err)
			}
			// The reference: the old encoding/json rendering of DumpLine.
			line := DumpLine{N: rec.N, Offset: rec.Offset, Size: int64(len(rec.Raw)), Type: rec.Type.String()}
			line.ID, _ = decode.Identity(rec)
			data, derr := decode.View(rec.Type, rec.Value(), show)
			line.Data = data
			if derr == nil {
				line.Label = decode.Label(rec.Type, data)
			}
			if derr != nil {
				failed++
				line.Error = derr.Error()
			} else if rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone {
				addValueText(line.Data)
			}
			var want bytes.Buffer
			enc := json.NewEncoder(decode.SafeJSONWriter(&want)) // encoding/json plus the terminal-safe escapes
			enc.SetEscapeHTML(false)
			if err := enc.Encode(&line); err != nil {
				t.Fatal(err)
			}
			if string(got) != want.String() || fail != (line.Error != "") {
				t.Errorf("record %d (%s), show=%v:\ngot  %.400s\nwant %.400s", rec.N, rec.Type, show, got, want.String())
			}
		}
	}
	if failed == 0 {
		t.Error("no record took the fallback path: the test is void")
	}
}
