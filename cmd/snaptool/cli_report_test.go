package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/internal/golden"

	"github.com/snaptool/snaptool/decode"
)

var (
	fixBefore = repoPath("fixtures", "consul-1.13.9", "before.snap")
	fixAfter  = repoPath("fixtures", "consul-1.13.9", "after.snap")
)

// truncatedCopy writes the first 2/3 of a fixture to a temp file: a damaged snapshot.
func truncatedCopy(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "truncated.snap")
	if err := os.WriteFile(out, b[:len(b)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// secretsOf returns every secret a snapshot holds, read through decode
// without masking: ACL SecretIDs, CA private keys, peering secrets.
func secretsOf(t *testing.T, path string) []string {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []string
	for s.Next() {
		d, err := decode.DecodeRecord(s.Record())
		if err != nil {
			t.Fatal(err)
		}
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
	for _, x := range out {
		if len(x) >= 8 {
			nonEmpty = append(nonEmpty, x)
		}
	}
	if len(nonEmpty) < 5 {
		t.Fatalf("%s: only %d secrets found; the masking checks would prove nothing", path, len(nonEmpty))
	}
	return nonEmpty
}

func assertNoSecrets(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		probe := s
		if len(probe) > 40 {
			probe = probe[len(probe)/2 : len(probe)/2+40] // a slice of a PEM body
		}
		if strings.Contains(text, probe) {
			t.Errorf("%s shows a secret (%.12s…)", what, s)
		}
	}
}

func TestCLITop(t *testing.T) {
	stdout, stderr, code := runCLI(t, "top", "-n", "5", repoPath("fixtures", "consul-testdata", "backupWithKV.snap"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden.Check(t, "top_backupWithKV.txt", []byte(stdout))

	stdout, stderr, code = runCLI(t, "top", "--format", "json", "--type", "KVS,Register", fixBefore)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		Largest []struct {
			Type, ID string
			Size     int64
		}
		Types []string
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("top --format json: %v\n%s", err, stdout)
	}
	if len(r.Largest) == 0 || r.Largest[0].Type != "KVS" || r.Largest[0].ID != "app/blob/big-70000" || r.Largest[0].Size <= 64<<10 {
		t.Errorf("largest record %+v, want the >64 KiB KVS app/blob/big-70000 first", r.Largest)
	}
	for _, x := range r.Largest {
		if x.Type != "KVS" && x.Type != "Register" {
			t.Errorf("--type KVS,Register listed a %s", x.Type)
		}
	}
	assertNoSecrets(t, "top --format json", stdout, secretsOf(t, fixBefore))

	// The table names it first, too.
	stdout, _, _ = runCLI(t, "top", fixBefore)
	lines := strings.Split(stdout, "\n")
	// The snapshot and its saved time, a blank line, title, top border,
	// header, rule, then the first row: rank #1, then its record number.
	if len(lines) < 7 || lines[0] != "Snapshot 2-99-1795550638790, saved 2026-11-24 20:03:58 UTC" ||
		!strings.Contains(lines[4], "│ Rank │ Record │") || !strings.HasPrefix(strings.TrimLeft(lines[6], "│ "), "#1 │") ||
		!strings.Contains(lines[6], "app/blob/big-70000") {
		t.Errorf("head of the table: %q", lines[:min(7, len(lines))])
	}
}

func TestCLITopErrors(t *testing.T) {
	damaged := truncatedCopy(t, fixBefore)
	cases := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"bad format", []string{"top", "--format", "xml", fixBefore}, 2, "unknown --format"},
		{"bad type", []string{"top", "--type", "Nope", fixBefore}, 2, "unknown record type"},
		{"n zero", []string{"top", "-n", "0", fixBefore}, 2, "-n must be"},
		{"depth zero", []string{"top", "--kv-depth", "0", fixBefore}, 2, "--kv-depth"},
		{"no file", []string{"top"}, 2, "top needs 1 argument (FILE), got 0"},
		{"missing file", []string{"top", "/nonexistent/x.snap"}, 2, "no such file"},
		{"damaged", []string{"top", damaged}, 3, "unexpected EOF"},
		{"consul spelling", []string{"top", "-format=json", fixBefore}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.inStderr) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, c.code, stderr, c.inStderr)
			}
			if c.name == "damaged" && !strings.Contains(stdout, "Largest records") {
				t.Errorf("damaged: what could be read is not printed: %q", stdout)
			}
		})
	}
}

func TestCLIKVExport(t *testing.T) {
	stdout, stderr, code := runCLI(t, "kv", "export", fixBefore)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var entries []struct {
		Key   string `json:"key"`
		Flags uint64 `json:"flags"`
		Value []byte `json:"value"`
	}
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil || len(entries) == 0 {
		t.Fatalf("kv export: %v, %d entries", err, len(entries))
	}

	// -o writes the same bytes, atomically.
	out := filepath.Join(t.TempDir(), "kv.json")
	_, stderr, code = runCLI(t, "kv", "export", "-o", out, fixBefore)
	if code != 0 {
		t.Fatalf("-o: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != stdout {
		t.Errorf("-o file differs from stdout export (%v)", err)
	}
	if !strings.Contains(stderr, "wrote ") {
		t.Errorf("-o: no summary on stderr: %q", stderr)
	}

	// Prefix, with Consul's leading-slash tolerance.
	stdout, _, code = runCLI(t, "kv", "export", fixBefore, "/app/config/")
	if code != 0 || !strings.Contains(stdout, `"key": "app/config/db"`) || strings.Contains(stdout, "app/blob") {
		t.Errorf("prefix export: exit %d\n%s", code, stdout)
	}

	// kv get prints the raw bytes of every key, equal to what export carries.
	for _, e := range entries {
		got, stderr, code := runCLI(t, "kv", "get", fixBefore, e.Key)
		if code != 0 || got != string(e.Value) {
			t.Errorf("kv get %q: exit %d, %d bytes (want %d) %s", e.Key, code, len(got), len(e.Value), stderr)
		}
	}
}

func TestCLIKVErrors(t *testing.T) {
	damaged := truncatedCopy(t, fixBefore)
	before := fileHash(t, fixBefore)

	_, stderr, code := runCLI(t, "kv", "get", fixBefore, "no/such/key")
	if code != 2 || !strings.Contains(stderr, `no key "no/such/key"`) || !strings.Contains(stderr, "Try:") {
		t.Errorf("missing key: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runCLI(t, "kv", "export", "-o", fixBefore, fixBefore)
	if code != 2 || !strings.Contains(stderr, "refusing to overwrite an input") {
		t.Errorf("-o onto the input: exit %d, stderr %q", code, stderr)
	}
	if fileHash(t, fixBefore) != before {
		t.Fatal("the input file changed")
	}

	stdout, stderr, code := runCLI(t, "kv", "export", damaged)
	if code != 3 || stderr == "" {
		t.Errorf("damaged export: exit %d, stderr %q", code, stderr)
	}
	var entries []any
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Errorf("damaged export: stdout is not valid JSON: %v", err)
	}
	out := filepath.Join(t.TempDir(), "kv.json")
	_, _, code = runCLI(t, "kv", "export", "-o", out, damaged)
	if _, err := os.Stat(out); code != 3 || err == nil {
		t.Errorf("damaged export -o: exit %d, file written: %v", code, err == nil)
	}

	for _, args := range [][]string{{"kv"}, {"kv", "put"}, {"kv", "get", fixBefore}, {"kv", "export"}, {"kv", "export", fixBefore, "a", "b"}} {
		if _, _, code := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if stdout, _, code := runCLI(t, "kv", "--help"); code != 0 || !strings.Contains(stdout, "consul kv import") {
		t.Errorf("kv --help: exit %d", code)
	}
}

func TestCLIReport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")
	stdout, stderr, code := runCLI(t, "report", "--html", out, fixBefore, fixAfter)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if abs, _ := filepath.Abs(out); strings.TrimSpace(stdout) != abs {
		t.Errorf("stdout %q, want the report's path %q", stdout, abs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{`<section id="snap-A"`, `<section id="snap-B"`, `<section id="summary">`, `<section id="details">`, `<figure class="bars all"`, "<style>", `class="kvtree"`, "@media print", "@media (max-width"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Self-contained: nothing is fetched.
	for _, bad := range []string{"<link", " src=", "http://", "https://", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("report references an external resource (%q)", bad)
		}
	}
	secrets := append(secretsOf(t, fixBefore), secretsOf(t, fixAfter)...)
	assertNoSecrets(t, "the HTML report", html, secrets)

	// One snapshot: no comparison.
	one := filepath.Join(dir, "one.html")
	if _, stderr, code := runCLI(t, "report", "--html", one, fixBefore); code != 0 {
		t.Fatalf("one file: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(one); !bytes.Contains(b, []byte(`id="snap-A"`)) || bytes.Contains(b, []byte(`id="summary"`)) {
		t.Error("single-snapshot report: wrong sections")
	}
}

func TestCLIReportErrors(t *testing.T) {
	dir := t.TempDir()
	damaged := truncatedCopy(t, fixBefore)
	before := fileHash(t, fixBefore)

	out := filepath.Join(dir, "damaged.html")
	_, stderr, code := runCLI(t, "report", "--html", out, damaged)
	b, err := os.ReadFile(out)
	if code != 3 || err != nil || !bytes.Contains(b, []byte("DAMAGED")) || !strings.Contains(stderr, "damaged") {
		t.Errorf("damaged input: exit %d, report written %v, stderr %q", code, err == nil, stderr)
	}

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no --html", []string{"report", fixBefore}, "--html OUT is required"},
		{"no file", []string{"report", "--html", filepath.Join(dir, "x.html")}, "report needs 1 to 2 arguments (FILE [FILE2]), got 0"},
		{"three files", []string{"report", "--html", filepath.Join(dir, "x.html"), fixBefore, fixAfter, fixBefore}, "report needs 1 to 2 arguments (FILE [FILE2]), got 3"},
		{"stdin twice", []string{"report", "--html", filepath.Join(dir, "x.html"), "-", "-"}, "only one of FILE and FILE2"},
		{"onto input", []string{"report", "--html", fixBefore, fixBefore}, "refusing to overwrite an input"},
		{"missing", []string{"report", "--html", filepath.Join(dir, "x.html"), "/nonexistent.snap"}, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q (want 2, %q)", code, stderr, c.want)
			}
		})
	}
	if fileHash(t, fixBefore) != before {
		t.Fatal("the input file changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.html")); err == nil {
		t.Error("a failed report left a file behind")
	}
}
