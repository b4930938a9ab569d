package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/snaptool/snaptool/decode"
)

// The secrets audit runs every command snaptool lists in --help, in every
// output format its --help lists, over the real Consul 1.13.9 fixtures
// (known management token, a real CA, an established peering), and checks
// that no ACL SecretID, CA signing key, provider private key or peering
// secret appears anywhere (stdout, stderr, output files) unless
// --show-secrets is given, and that with --show-secrets they do appear
// (so the test notices both removed masking and a fixture without secrets).

const fixDir = "fixtures/consul-1.13.9"

// secret is one value that must never be printed in clear.
type secret struct {
	what  string
	value string
}

// needles are the substrings that would betray s: the value itself, or for
// a PEM key each line of its base64 body.
func (s secret) needles() []string {
	if !strings.Contains(s.value, "-----BEGIN") {
		return []string{s.value}
	}
	var out []string
	for _, l := range strings.Split(s.value, "\n") {
		l = strings.TrimSpace(l)
		if len(l) >= 40 && !strings.HasPrefix(l, "-----") {
			out = append(out, l)
		}
	}
	return out
}

// fixtureSecrets decodes every record of the fixtures and collects the
// secrets by field, independently of decode.MaskSecrets.
func fixtureSecrets(t *testing.T, paths ...string) []secret {
	t.Helper()
	seen := map[string]bool{}
	var out []secret
	add := func(what, v string) {
		if len(v) < 8 || seen[v] {
			return
		}
		seen[v] = true
		out = append(out, secret{what, v})
	}
	for _, p := range paths {
		s, err := decode.Open(p, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
			d, err := decode.DecodeRecord(s.Record())
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			switch x := d.Data.(type) {
			case *decode.ACLToken:
				add("ACL token SecretID", x.SecretID)
			case *decode.CARoot:
				add("CA root SigningKey", x.SigningKey)
			case *decode.CAConsulProviderState:
				add("CA provider PrivateKey", x.PrivateKey)
			case *decode.PeeringSecrets:
				add("peering establishment secret", x.EstablishmentSecretID)
				add("peering active secret", x.ActiveSecretID)
				add("peering pending secret", x.PendingSecretID)
			case *decode.CAConfiguration:
				for k, v := range x.Config {
					if s, ok := v.(string); ok && (strings.Contains(strings.ToLower(k), "privatekey") || strings.Contains(s, "PRIVATE KEY-----")) {
						add("CA config "+k, s)
					}
				}
			}
		}
		if err := s.Err(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		s.Close()
	}
	return out
}

// normalize undoes the escaping of JSON and HTML output so that an escaped
// secret is still found.
var jsonUnescaper = strings.NewReplacer(`\n`, "\n", `\/`, "/", `\u002b`, "+", `\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\u003d`, "=", `\"`, `"`)

func normalize(s string) string {
	return s + "\n" + jsonUnescaper.Replace(s) + "\n" + html.UnescapeString(s) + "\n" + jsonUnescaper.Replace(html.UnescapeString(s))
}

// commandsFromHelp lists the commands `snaptool --help` shows.
func commandsFromHelp(t *testing.T) []string {
	t.Helper()
	out, _, code := runCLI(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	_, list, ok := strings.Cut(out, "Commands:\n")
	if !ok {
		t.Fatalf("--help has no Commands section:\n%s", out)
	}
	var cmds []string
	for _, l := range strings.Split(list, "\n") {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		if f := strings.Fields(l); len(f) > 0 {
			cmds = append(cmds, f[0])
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("no commands in --help")
	}
	return cmds
}

var formatLine = regexp.MustCompile(`--format string\s+output format: ([^\n]*)`)

// commandFlags returns the formats a command's --help lists (nil if it has
// no --format) and whether it has --show-secrets.
func commandFlags(t *testing.T, name string) (formats []string, showSecrets bool) {
	t.Helper()
	out, _, code := runCLI(t, name, "--help")
	if code != 0 {
		t.Fatalf("%s --help: exit %d", name, code)
	}
	if m := formatLine.FindStringSubmatch(out); m != nil {
		list := m[1]
		if i := strings.Index(list, " ("); i >= 0 {
			list = list[:i]
		}
		for _, f := range regexp.MustCompile(`,\s*|\s+or\s+`).Split(list, -1) {
			if f = strings.TrimSpace(f); f != "" {
				formats = append(formats, f)
			}
		}
		if len(formats) == 0 {
			t.Fatalf("%s: cannot read the formats from %q", name, m[0])
		}
	} else if strings.Contains(out, "--format") {
		t.Fatalf("%s has --format but its help line is not 'output format: a, b or c'", name)
	}
	return formats, strings.Contains(out, "--show-secrets")
}

// auditPlan says how to run one command over the fixtures. {A} and {B} are
// before.snap and after.snap, {D} the data-dir snapshot, {OUT} an output
// file in a temp dir. show says which secrets must appear with
// --show-secrets: "all", "some" or "" (the command prints no record content).
type auditPlan struct {
	args []string
	show string
}

// {P} is after.snap with one ACL token's SecretID replaced (same length,
// checksums recomputed), so that diff has a changed secret to show.
var auditPlans = map[string][]auditPlan{
	"inspect": {{args: []string{"{B}"}}, {args: []string{"--kv-details", "{D}"}}},
	"verify":  {{args: []string{"{A}", "{B}", "{D}"}}},
	"dump":    {{args: []string{"{A}"}, show: "all"}, {args: []string{"{D}"}, show: "all"}},
	"top":     {{args: []string{"{B}"}}},
	"diff":    {{args: []string{"{A}", "{B}"}}, {args: []string{"{B}", "{P}"}, show: "some"}, {args: []string{"--stat", "{A}", "{D}"}}},
	"kv":      {{args: []string{"export", "{B}"}}, {args: []string{"export", "-o", "{OUT}", "{A}"}}, {args: []string{"get", "{B}", "app/config/db"}}},
	"report":  {{args: []string{"--html", "{OUT}", "{B}"}}, {args: []string{"--html", "{OUT}", "{B}", "{P}"}, show: "some"}},
	"history": {{args: []string{"{A}", "{B}", "{D}", "{P}"}}, {args: []string{"--out", "{OUT}", "{A}", "{P}"}}},
}

// patchedSnapshot writes a copy of the archive at src in dir with every
// occurrence of old in state.bin replaced by new (same length), SHA256SUMS
// recomputed, packed as Consul packs it.
func patchedSnapshot(t *testing.T, src, dir, old, new string) string {
	t.Helper()
	if len(old) != len(new) {
		t.Fatal("patch must keep the length")
	}
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	members := map[string][]byte{}
	var mtime time.Time
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		members[h.Name], mtime = b, h.ModTime
	}
	state := members[decode.MemberState]
	if !bytes.Contains(state, []byte(old)) {
		t.Fatalf("%s does not contain %q", src, old)
	}
	state = bytes.ReplaceAll(state, []byte(old), []byte(new))
	meta := members[decode.MemberMeta]
	sums := fmt.Sprintf("%x  meta.json\n%x  state.bin\n", sha256.Sum256(meta), sha256.Sum256(state))
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, m := range []struct {
		name string
		b    []byte
	}{{decode.MemberMeta, meta}, {decode.MemberState, state}, {decode.MemberSums, []byte(sums)}} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: m.name, Mode: 0o600, Size: int64(len(m.b)), ModTime: mtime, Format: tar.FormatUSTAR})
		tw.Write(m.b)
	}
	tw.Close()
	var gb bytes.Buffer
	zw := gzip.NewWriter(&gb)
	zw.Write(tb.Bytes())
	zw.Close()
	out := filepath.Join(dir, "patched.snap")
	if err := os.WriteFile(out, gb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSecretsAudit(t *testing.T) {
	before, after := repoPath(fixDir, "before.snap"), repoPath(fixDir, "after.snap")
	dirs, _ := filepath.Glob(repoPath(fixDir, "datadir", "*-*-*"))
	if len(dirs) == 0 {
		t.Fatalf("no data-dir snapshot under %s", fixDir)
	}
	datadir := dirs[0]
	patched := patchedSnapshot(t, after, t.TempDir(), "b0000000-0000-4000-8000-000000000001", "c0ffee00-0000-4000-8000-000000000001")
	secretsOf := map[string][]secret{}
	for _, p := range []string{before, after, datadir, patched} {
		secretsOf[p] = fixtureSecrets(t, p)
	}
	secrets := fixtureSecrets(t, before, after, datadir, patched)

	// The fixture must carry every kind of secret, including the documented management token.
	readme, err := os.ReadFile(repoPath(fixDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)Management token.*?`([0-9a-f-]{36})`").FindSubmatch(readme)
	if m == nil {
		t.Fatalf("fixture README names no management token")
	}
	kinds := map[string]bool{}
	haveMgmt := false
	for _, s := range secrets {
		kinds[s.what] = true
		haveMgmt = haveMgmt || s.value == string(m[1])
	}
	if !haveMgmt {
		t.Errorf("management token %s from the README is not among the decoded SecretIDs", m[1])
	}
	// (Consul 1.13 keeps the CA key in the provider state; CARoot.SigningKey
	// is empty in every fixture, so it is collected but not required.)
	for _, k := range []string{"ACL token SecretID", "CA provider PrivateKey", "peering establishment secret", "peering active secret"} {
		if !kinds[k] {
			t.Errorf("fixture has no %s; the audit would prove nothing about it", k)
		}
	}
	t.Logf("%d secrets in the fixtures: %v", len(secrets), kinds)

	for _, name := range commandsFromHelp(t) {
		plans, ok := auditPlans[name]
		if !ok {
			t.Errorf("command %q is not covered by the secrets audit: add its arguments to auditPlans", name)
			continue
		}
		formats, hasShow := commandFlags(t, name)
		if len(formats) == 0 {
			formats = []string{""}
		}
		for _, plan := range plans {
			for _, format := range formats {
				for _, show := range []bool{false, true} {
					if show && !hasShow {
						continue
					}
					label := name + " " + strings.Join(plan.args, " ")
					if format != "" {
						label += " --format " + format
					}
					if show {
						label += " --show-secrets"
					}
					t.Run(label, func(t *testing.T) {
						out := filepath.Join(t.TempDir(), "out.file")
						args := []string{name}
						var inputs []secret
						for _, a := range plan.args {
							a = strings.NewReplacer("{A}", before, "{B}", after, "{D}", datadir, "{P}", patched, "{OUT}", out).Replace(a)
							args = append(args, a)
							inputs = append(inputs, secretsOf[a]...)
						}
						if format != "" {
							args = append(args, "--format", format)
						}
						if show {
							args = append(args, "--show-secrets")
						}
						stdout, stderr, code := runCLI(t, args...)
						if code != 0 && code != 1 {
							t.Fatalf("exit %d (the audit needs the command to run):\n%s", code, stderr)
						}
						all := stdout + "\n" + stderr
						if b, err := os.ReadFile(out); err == nil {
							all += "\n" + string(b)
						}
						if strings.TrimSpace(all) == "" {
							t.Fatalf("no output at all")
						}
						hay := normalize(all)
						found := func(list []secret) (names []string) {
							for _, s := range list {
								for _, n := range s.needles() {
									if strings.Contains(hay, n) {
										names = append(names, s.what)
										break
									}
								}
							}
							return names
						}
						if !show {
							leaked := found(secrets)
							if len(leaked) > 0 {
								sort.Strings(leaked)
								t.Errorf("secrets in clear without --show-secrets: %v", leaked)
							}
							if strings.Contains(hay, "PRIVATE KEY-----") {
								t.Errorf("a PEM private key appears without --show-secrets")
							}
							return
						}
						shown := found(secrets)
						switch plan.show {
						case "all":
							if got := len(found(inputs)); got != len(dedup(inputs)) {
								t.Errorf("--show-secrets shows %d of the %d secrets of its input", got, len(dedup(inputs)))
							}
						case "some":
							if len(shown) == 0 {
								t.Errorf("--show-secrets shows no secret at all")
							}
						}
					})
				}
			}
		}
	}
}

func dedup(list []secret) map[string]bool {
	m := map[string]bool{}
	for _, s := range list {
		m[s.value] = true
	}
	return m
}
