package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/internal/golden"

	"github.com/snaptool/snaptool/decode"
)

func testdataPath(p ...string) string {
	return repoPath(append([]string{"fixtures", "consul-testdata"}, p...)...)
}
func consul1139Path(p ...string) string {
	return repoPath(append([]string{"fixtures", "consul-1.13.9"}, p...)...)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// damagedCopy writes a copy of a fixture into t.TempDir() with damage applied.
func damagedCopy(t *testing.T, src string, damage func([]byte) []byte) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.WriteFile(path, damage(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func truncateHalf(b []byte) []byte { return b[:len(b)/2] }

// Every `consul snapshot inspect` golden is reproduced by --format pretty,
// also with Consul's own flag spellings.
func TestCLIInspectConsulGoldens(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{testdataPath("TestSnapshotInspectCommand.golden"), []string{"--format", "pretty", testdataPath("backup.snap")}},
		{testdataPath("TestSnapshotInspectCommandRaw.golden"), []string{"-format=pretty", testdataPath("raw", "state.bin")}},
		{testdataPath("TestSnapshotInspectKVDetailsCommand.golden"), []string{"-kvdetails", "-format", "pretty", testdataPath("backupWithKV.snap")}},
		{testdataPath("TestSnapshotInspectKVDetailsDepthCommand.golden"), []string{"--kv-details", "--kv-depth", "3", "--format=pretty", testdataPath("backupWithKV.snap")}},
		{testdataPath("TestSnapshotInspectKVDetailsDepthFilterCommand.golden"), []string{"-kvdetails", "-kvdepth", "3", "-kvfilter", "vault/logical", "-format", "pretty", testdataPath("backupWithKV.snap")}},
	}
	for _, x := range []struct{ prefix, input string }{
		{"before", "before.snap"}, {"after", "after.snap"}, {"datadir/raw", "datadir"},
	} {
		in := consul1139Path(x.input)
		tests = append(tests,
			struct {
				golden string
				args   []string
			}{consul1139Path(x.prefix + ".inspect.plain.golden"), []string{"--format", "pretty", in}},
			struct {
				golden string
				args   []string
			}{consul1139Path(x.prefix + ".inspect.golden"), []string{"-kvdetails", "-format", "pretty", in}},
			struct {
				golden string
				args   []string
			}{consul1139Path(x.prefix + ".inspect.depth3.golden"), []string{"-kvdetails", "-kvdepth", "3", "-format", "pretty", in}},
		)
	}
	for _, tt := range tests {
		out, errOut, code := runCLI(t, append([]string{"inspect"}, tt.args...)...)
		if code != 0 {
			t.Errorf("inspect %v: exit %d, stderr %s", tt.args, code, errOut)
			continue
		}
		if want := mustRead(t, tt.golden); out != want {
			t.Errorf("inspect %v differs from %s\n--- got ---\n%s--- want ---\n%s", tt.args, tt.golden, out, want)
		}
	}
}

// JSON: Consul's keys first, in Consul's order, with Consul's values.
func TestCLIInspectJSON(t *testing.T) {
	for _, x := range []struct{ golden, input string }{
		{consul1139Path("before.inspect.json.golden"), consul1139Path("before.snap")},
		{consul1139Path("after.inspect.json.golden"), consul1139Path("after.snap")},
		{consul1139Path("datadir", "raw.inspect.json.golden"), consul1139Path("datadir")},
	} {
		out, errOut, code := runCLI(t, "inspect", "-kvdetails", "-format", "json", x.input)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want := mustRead(t, x.golden)
		wk, wv := jsonTop(t, want)
		gk, gv := jsonTop(t, out)
		if len(gk) < len(wk) || !reflect.DeepEqual(gk[:len(wk)], wk) {
			t.Errorf("%s: keys %v, want %v first", x.input, gk, wk)
		}
		for _, k := range wk {
			if !reflect.DeepEqual(gv[k], wv[k]) {
				t.Errorf("%s: %s = %v, want %v", x.input, k, gv[k], wv[k])
			}
		}
		// Consul's layout: 3-space indent, final newline.
		if !strings.HasPrefix(out, "{\n   \"Meta\": {\n      \"ID\": ") || !strings.HasSuffix(out, "}\n") {
			t.Errorf("%s: layout differs from Consul's:\n%s", x.input, out)
		}
	}
	// Without --kv-details StatsKV is null, as in Consul.
	out, _, _ := runCLI(t, "inspect", "--format", "json", testdataPath("backup.snap"))
	golden.Check(t, "inspect_backup.json.golden", []byte(out))
	if !strings.Contains(out, `"StatsKV": null`) || !strings.Contains(out, `"TotalSize": 5141`) {
		t.Errorf("backup.snap JSON:\n%s", out)
	}
}

func jsonTop(t *testing.T, s string) ([]string, map[string]any) {
	t.Helper()
	var vals map[string]any
	if err := json.Unmarshal([]byte(s), &vals); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys, vals
}

func TestCLIInspectTable(t *testing.T) {
	out, errOut, code := runCLI(t, "inspect", "--kv-details", testdataPath("backupWithKV.snap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden.Check(t, "inspect_backupWithKV.table.golden", []byte(out))
	for _, want := range []string{"12.3KB", "16.8KB", "vault/core", "5.9KB", "17228"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestCLIExitCodes(t *testing.T) {
	damaged := damagedCopy(t, testdataPath("backupWithKV.snap"), truncateHalf)
	flipped := damagedCopy(t, testdataPath("backup.snap"), func(b []byte) []byte {
		b = append([]byte(nil), b...)
		b[len(b)-10] ^= 0xff // inside the gzip trailer's CRC/size
		return b
	})
	missing := filepath.Join(t.TempDir(), "missing.snap")
	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"inspect", testdataPath("backup.snap")}, 0, ""},
		{[]string{"inspect"}, 2, "inspect needs 1 argument (FILE), got 0"},
		{[]string{"inspect", "a", "b"}, 2, "inspect needs 1 argument (FILE), got 2"},
		{[]string{"inspect", "--nope", testdataPath("backup.snap")}, 2, "Error:"},
		{[]string{"inspect", "--format", "xml", testdataPath("backup.snap")}, 2, "--format"},
		{[]string{"inspect", "-kvdepth", "-1", testdataPath("backup.snap")}, 2, "--kv-depth"},
		{[]string{"inspect", missing}, 2, "Error: opening"},
		{[]string{"inspect", damaged}, 3, "Error: "},
		{[]string{"inspect", flipped}, 3, "gzip"},
		{[]string{"verify", testdataPath("backup.snap")}, 0, ""},
		{[]string{"verify"}, 2, "verify needs at least 1 argument (FILE...), got 0"},
		{[]string{"verify", "--format", "yaml", testdataPath("backup.snap")}, 2, "--format"},
		{[]string{"verify", missing}, 2, "could not be read"},
		{[]string{"verify", damaged}, 3, ""},
		{[]string{"verify", testdataPath("backup.snap"), damaged}, 3, ""},
		{[]string{"verify", testdataPath("raw", "state.bin")}, 0, ""},
		{[]string{"verify", "--strict", testdataPath("raw", "state.bin")}, 3, ""},
		{[]string{"dump", testdataPath("backup.snap")}, 0, ""},
		{[]string{"dump"}, 2, "dump needs 1 argument (FILE), got 0"},
		{[]string{"dump", "--type", "NoSuchType", testdataPath("backup.snap")}, 2, "unknown record type"},
		{[]string{"dump", missing}, 2, "Error: opening"},
		{[]string{"dump", damaged}, 3, "Error: "},
	}
	for _, tt := range tests {
		_, errOut, code := runCLI(t, tt.args...)
		if code != tt.code {
			t.Errorf("snaptool %v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errOut)
		}
		if !strings.Contains(errOut, tt.inStderr) {
			t.Errorf("snaptool %v: stderr %q lacks %q", tt.args, errOut, tt.inStderr)
		}
	}
}

// Errors name the place: member, record number, type, offset.
func TestCLIErrorsNameThePlace(t *testing.T) {
	// Cut state.bin inside record 5 (ConnectCA, at offset 1060+690+... ) of the raw form.
	dir := t.TempDir()
	state, err := os.ReadFile(testdataPath("raw", "state.bin"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := os.ReadFile(testdataPath("raw", "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.bin"), state[:2000], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "inspect", filepath.Join(dir, "state.bin"))
	if code != 3 || !strings.Contains(errOut, "Error: state.bin record 5 (ConnectCA) at offset 1949: unexpected EOF") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
	out, _, code := runCLI(t, "verify", filepath.Join(dir, "state.bin"))
	if code != 3 || !strings.Contains(out, "state.bin record 5 (ConnectCA) at offset 1949: unexpected EOF") || !strings.Contains(out, "DAMAGED") {
		t.Errorf("verify: exit %d, out:\n%s", code, out)
	}
}

func TestCLIHelp(t *testing.T) {
	for _, cmd := range []string{"inspect", "verify", "dump"} {
		out, _, code := runCLI(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "EXIT STATUS") || !strings.Contains(out, "Usage: snaptool "+cmd) {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out)
		}
	}
}

func TestCLIVerify(t *testing.T) {
	// Every real fixture passes.
	args := []string{"verify", testdataPath("backup.snap"), testdataPath("backupWithKV.snap"), testdataPath("raw", "state.bin"),
		consul1139Path("before.snap"), consul1139Path("after.snap"), consul1139Path("datadir")}
	out, errOut, code := runCLI(t, args...)
	if code != 0 || !strings.HasSuffix(out, "6 files verified: 6 passed, 0 failed\n") {
		t.Errorf("fixtures: exit %d\n%s%s", code, out, errOut)
	}
	// Text and JSON goldens (Consul's testdata only: the 1.13.9 fixtures are regenerated).
	damaged := damagedCopy(t, testdataPath("backup.snap"), truncateHalf)
	out, _, code = runCLI(t, "verify", testdataPath("backup.snap"), testdataPath("raw", "state.bin"))
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	golden.Check(t, "verify_testdata.golden", []byte(out))
	out, _, code = runCLI(t, "verify", "--format", "json", testdataPath("backup.snap"), testdataPath("raw", "state.bin"))
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	golden.Check(t, "verify_testdata.json.golden", []byte(out))
	out, _, code = runCLI(t, "verify", "--format", "json", damaged)
	var doc struct {
		Pass  bool
		Files []struct {
			Verdict  string
			Findings []struct{ Layer, Severity, Message string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 3 || doc.Pass || doc.Files[0].Verdict != "damaged" || len(doc.Files[0].Findings) == 0 {
		t.Errorf("damaged JSON: exit %d err %v\n%s", code, err, out)
	}
}

func dumpLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

func TestCLIDumpGolden(t *testing.T) {
	out, errOut, code := runCLI(t, "dump", testdataPath("backup.snap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden.Check(t, "dump_backup.golden", []byte(out))
}

// dump round-trips every KV value byte for byte (against decode directly).
func TestCLIDumpKVRoundTrip(t *testing.T) {
	for _, path := range []string{testdataPath("backupWithKV.snap"), consul1139Path("before.snap"), consul1139Path("after.snap")} {
		want := map[string][]byte{}
		s, err := decode.Open(path, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
			if s.Record().Type != decode.TypeKVS {
				continue
			}
			d, err := decode.DecodeRecord(s.Record())
			if err != nil {
				t.Fatal(err)
			}
			e := d.Data.(*decode.DirEntry)
			want[e.Key] = e.Value
		}
		s.Close()
		out, errOut, code := runCLI(t, "dump", "--type", "KVS", path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", path, code, errOut)
		}
		n := 0
		for _, l := range dumpLines(t, out)[1:] {
			data := l["data"].(map[string]any)
			key := data["Key"].(string)
			var got []byte
			if v, ok := data["Value"].(string); ok {
				got, err = base64.StdEncoding.DecodeString(v)
				if err != nil {
					t.Fatalf("%s %s: %v", path, key, err)
				}
			}
			w, ok := want[key]
			if !ok || !bytes.Equal(got, w) || (w == nil) != (data["Value"] == nil) {
				t.Errorf("%s %s: got %d bytes, want %d", path, key, len(got), len(w))
			}
			n++
		}
		if n != len(want) || n == 0 {
			t.Errorf("%s: %d KV lines, want %d", path, n, len(want))
		}
	}
}

// dump never shows the management token, the fixed token secrets or a
// private key without --show-secrets.
func TestCLIDumpSecrets(t *testing.T) {
	readme := mustRead(t, consul1139Path("README.md"))
	const mgmt = "5e1f0c3a-9d2b-4c7e-8a61-0f3b2d4c6e8a"
	if !strings.Contains(readme, mgmt) {
		t.Fatalf("fixture README no longer names the management token %s", mgmt)
	}
	secrets := []string{mgmt, "b0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000002", "-----BEGIN EC PRIVATE KEY-----"}
	for _, path := range []string{consul1139Path("before.snap"), consul1139Path("after.snap"), consul1139Path("datadir")} {
		masked, _, code := runCLI(t, "dump", path)
		if code != 0 {
			t.Fatalf("%s: exit %d", path, code)
		}
		shown, _, _ := runCLI(t, "dump", "--show-secrets", path)
		for _, s := range secrets {
			if strings.Contains(masked, s) {
				t.Errorf("%s: dump shows %q", path, s)
			}
			if !strings.Contains(shown, s) {
				t.Errorf("%s: --show-secrets lacks %q", path, s)
			}
		}
		if strings.Contains(masked, "PRIVATE KEY") {
			t.Errorf("%s: dump shows a private key", path)
		}
	}
	// backup.snap: ConnectCAProviderState.PrivateKey is masked.
	out, _, _ := runCLI(t, "dump", "--type", "ConnectCAProviderState", testdataPath("backup.snap"))
	lines := dumpLines(t, out)
	if len(lines) != 2 {
		t.Fatalf("want header + 1 line, got %d", len(lines))
	}
	pk, _ := lines[1]["data"].(map[string]any)["PrivateKey"].(string)
	if !strings.HasPrefix(pk, "<masked sha256:") || strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("PrivateKey = %q", pk)
	}
	shown, _, _ := runCLI(t, "dump", "--show-secrets", "--type", "ConnectCAProviderState", testdataPath("backup.snap"))
	if !strings.Contains(shown, "PRIVATE KEY-----") {
		t.Errorf("--show-secrets does not show the provider key")
	}
}

func TestCLIDumpFiltersAndDamage(t *testing.T) {
	out, _, code := runCLI(t, "dump", "--kv-prefix", "vault/logical/", "--id", "*", testdataPath("backupWithKV.snap"))
	lines := dumpLines(t, out)
	if code != 0 || len(lines) != 5 || lines[0]["type"] != "SnapshotHeader" {
		t.Fatalf("kv-prefix: exit %d, %d lines", code, len(lines))
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l["id"].(string), "vault/logical/") {
			t.Errorf("line %v", l)
		}
	}
	out, _, _ = runCLI(t, "dump", "--type", "Index", "--type", "16", "--id", "c*", testdataPath("backup.snap"))
	for _, l := range dumpLines(t, out)[1:] {
		if l["type"] != "Index" || !strings.HasPrefix(l["id"].(string), "c") {
			t.Errorf("line %v", l)
		}
	}
	damaged := damagedCopy(t, testdataPath("backupWithKV.snap"), truncateHalf)
	out, errOut, code := runCLI(t, "dump", damaged)
	if code != 3 || !strings.Contains(errOut, "Error: ") || len(dumpLines(t, out)) < 2 {
		t.Errorf("damaged: exit %d stderr %q", code, errOut)
	}
}
