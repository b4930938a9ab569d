package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

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
	_, derr := Dump(s, &b, o)
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
	st, err := Dump(s, &b, DumpOptions{})
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
	st, err := Dump(stateBinSnapshot(t, nil), &b, DumpOptions{})
	if err == nil || !decode.IsDamage(err) || st.Written != 0 {
		t.Errorf("empty state.bin: err %v, written %d", err, st.Written)
	}
	if b.Len() != 0 {
		t.Errorf("output %q, want none", b.String())
	}
}
