package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// The secrets audit runs every command snaptool lists in --help, in every
// output format its --help lists, over every real Consul fixture set
// (1.12.9, 1.13.9, 1.14.11: a known management token, a real CA, an
// established peering from 1.13 on, the servers' management token record in
// 1.14), and checks
// that no ACL SecretID, CA signing key, provider private key or peering
// secret appears anywhere (stdout, stderr, output files) unless
// --show-secrets is given, and that with --show-secrets they do appear
// (so the test notices both removed masking and a fixture without secrets).

const fixDir = "fixtures/consul-1.13.9"

// auditSets are the real fixture sets the audit runs over: each has
// before.snap, after.snap, a data-dir snapshot and a README that names its
// management token. 1.14.11 adds the server-management-token record.
var auditSets = []string{"fixtures/consul-1.12.9", "fixtures/consul-1.13.9", "fixtures/consul-1.14.11"}

// secret is one value that must never be printed in clear.
type secret struct {
	what  string
	value string
}

// needles are the substrings that would betray s: the value itself, or for
// a PEM key each line of its base64 body; and the value in base64, at each
// of the three alignments it can have inside a longer base64 text (a []byte
// in JSON, or a record's raw bytes).
func (s secret) needles() []string {
	var out []string
	if !strings.Contains(s.value, "-----BEGIN") {
		out = append(out, s.value)
	} else {
		for _, l := range strings.Split(s.value, "\n") {
			l = strings.TrimSpace(l)
			if len(l) >= 40 && !strings.HasPrefix(l, "-----") {
				out = append(out, l)
			}
		}
	}
	for k := 0; k < 3; k++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), s.value...))
		if k > 0 {
			enc = enc[4:] // the first group holds bits of what precedes
		}
		if enc = enc[:max(len(enc)-4, 0)]; len(enc) >= 16 { // the last group, of what follows
			out = append(out, enc)
		}
	}
	return out
}

// fixtureSecrets decodes every record of the fixtures and collects the
// secrets by field, independently of decode.Mask.
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
			case *decode.SystemMetadataEntry:
				if x.Key == "server-management-token" {
					add("server-management-token", x.Value)
				}
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
	// showFormat, when set, is the one format in which show applies (the
	// others print no record content: log's text timeline).
	showFormat string
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
	"history": {{args: []string{"{A}", "{B}", "{D}", "{P}"}}, {args: []string{"--out", "{OUT}", "{A}", "{P}"}},
		{args: []string{"--format", "json", "{A}", "{B}", "{D}", "{P}"}}, {args: []string{"--format", "csv", "{B}", "{P}"}},
		{args: []string{"--format", "prometheus", "{A}", "{P}"}}, {args: []string{"--format", "html", "--out", "{OUT}", "{B}", "{P}"}}},
}

func init() {
	// preflight prints no record content; exit 1 (would fail on 1.12) counts as a run.
	auditPlans["preflight"] = []auditPlan{{args: []string{"--target", "1.12", "{A}", "{B}", "{D}"}}, {args: []string{"--target", "1.14", "--edition", "enterprise", "{P}"}}}
	// rewrite prints a summary without record content to stderr. OUT is a
	// snapshot and holds the input's secrets by design (until --redact); the
	// audit reads it as compressed bytes, so it audits stdout and stderr.
	auditPlans["rewrite"] = []auditPlan{{args: []string{"--drop-type", "Peering", "{B}", "{OUT}"}}}
	// {L} is a real raft log fixture unpacked to a data dir (raft/raft.db,
	// raft/snapshots/). With --show-secrets the jsonl lines show the
	// callers' tokens and the written tokens' SecretIDs.
	auditPlans["log"] = []auditPlan{{args: []string{"{L}"}, show: "some", showFormat: "jsonl"}, {args: []string{"--summary", "{L}"}},
		{args: []string{"--type", "ACLToken,ACLBootstrap", "{L}"}, show: "some", showFormat: "jsonl"}}
	// DATA_DIR@INDEX: a replayed state goes through the same masking.
	// {LA} and {LB} are the log fixture's oldest (halfway) snapshot index + 1 and + 5.
	auditPlans["dump"] = append(auditPlans["dump"], auditPlan{args: []string{"{L}@{LA}"}, show: "all"})
	auditPlans["diff"] = append(auditPlans["diff"], auditPlan{args: []string{"{L}@{LA}", "{L}@{LB}"}},
		auditPlan{args: []string{"--log", "{L}", "{L}@{LA}", "{L}@{LB}"}})
	auditPlans["history"] = append(auditPlans["history"], auditPlan{args: []string{"{L}@{LA}", "{L}@{LB}", "{L}"}})
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
	if testing.Short() {
		t.Skip("-short: the quick loop; make test runs it")
	}
	for _, set := range auditSets {
		t.Run(filepath.Base(set), func(t *testing.T) {
			if testing.Short() && set != fixDir {
				t.Skip("-short audits the 1.13.9 set only")
			}
			auditSet(t, set)
		})
	}
}

// auditSet runs the audit over one fixture set.
func auditSet(t *testing.T, set string) {
	before, after := repoPath(set, "before.snap"), repoPath(set, "after.snap")
	dirs, _ := filepath.Glob(repoPath(set, "datadir", "*-*-*"))
	if len(dirs) == 0 {
		t.Fatalf("no data-dir snapshot under %s", set)
	}
	datadir := dirs[0]
	patched := patchedSnapshot(t, after, t.TempDir(), "b0000000-0000-4000-8000-000000000001", "c0ffee00-0000-4000-8000-000000000001")
	secretsOf := map[string][]secret{}
	for _, p := range []string{before, after, datadir, patched} {
		secretsOf[p] = fixtureSecrets(t, p)
	}
	secrets := fixtureSecrets(t, before, after, datadir, patched)

	// The fixture must carry every kind of secret, including the documented management token.
	readme, err := os.ReadFile(repoPath(set, "README.md"))
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
	want := []string{"ACL token SecretID", "CA provider PrivateKey"}
	if !strings.HasSuffix(set, "1.12.9") { // 1.12 has no peering
		want = append(want, "peering establishment secret", "peering active secret")
	}
	if strings.HasSuffix(set, "1.14.11") { // 1.14 keeps the servers' management token in SystemMetadata
		want = append(want, "server-management-token")
	}
	for _, k := range want {
		if !kinds[k] {
			t.Errorf("fixture has no %s; the audit would prove nothing about it", k)
		}
	}
	t.Logf("%d secrets in the fixtures: %v", len(secrets), kinds)

	fixture := raftlogFixture(set)
	logDir := unpackRaftlog(t, fixture, t.TempDir())
	secretsOf[logDir] = raftlogSecrets(t, fixture, logDir)
	snapDirs, snapIndexes := raftlogSnapshots(t, logDir)
	la, lb := strconv.FormatUint(snapIndexes[0]+1, 10), strconv.FormatUint(snapIndexes[0]+5, 10)
	secretsOf[logDir+"@"+la] = fixtureSecrets(t, snapDirs[0]) // the halfway snapshot's: no token write right after it
	secrets = append(secrets, secretsOf[logDir]...)

	subst := map[string]string{"{A}": before, "{B}": after, "{D}": datadir, "{P}": patched, "{L}": logDir, "{LA}": la, "{LB}": lb}
	auditCommands(t, auditPlans, subst, secrets, secretsOf, false)
}

// auditCommands runs every command of --help with its plans, in every
// format and with and without --show-secrets, and checks that no secret
// appears in clear unless --show-secrets, and that with it the plan's
// secrets do appear. subst maps the plan's placeholders to files ({OUT} is
// added); secretsOf gives each input file's secrets. damagedOK accepts
// exit 3 (a crafted input with records that fail typed decode).
func auditCommands(t *testing.T, plans map[string][]auditPlan, subst map[string]string, secrets []secret, secretsOf map[string][]secret, damagedOK bool) {
	t.Helper()
	for _, name := range commandsFromHelp(t) {
		plans, ok := plans[name]
		if !ok {
			t.Errorf("command %q is not covered by the secrets audit: add its arguments to the plans", name)
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
							for k, v := range subst {
								a = strings.ReplaceAll(a, k, v)
							}
							a = strings.ReplaceAll(a, "{OUT}", out)
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
						if code != 0 && code != 1 && !(damagedOK && code == 3) {
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
						if plan.showFormat != "" && format != plan.showFormat {
							return
						}
						switch plan.show {
						case "all":
							var missing []string
							seen := map[string]bool{}
							for _, s := range inputs {
								if !seen[s.value] && len(found([]secret{s})) == 0 {
									missing = append(missing, s.what)
								}
								seen[s.value] = true
							}
							if len(missing) > 0 {
								t.Errorf("--show-secrets does not show %d of the secrets of its input: %v", len(missing), missing)
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

// craftedRecord is one record of the crafted audit archives: the class of
// the secrets policy it exercises, its type, its value (encoded with
// Consul's msgpack handle; a []byte value is written as the record's raw
// msgpack value), and the secrets in it.
type craftedRecord struct {
	class   string
	typ     decode.MessageType
	value   any
	secrets []string
}

// craftedSecret is a secret of class on side 0 (A) or 1 (B): unique, so
// that each class is found on its own, and rotated between A and B, so
// that diff shows it as a modified field.
func craftedSecret(class string, side int) string {
	h := sha256.Sum256([]byte(class))
	return fmt.Sprintf("s3cr3t-%s-%c-%x", class, 'a'+side, h[:4])
}

// craftedPEM is a fake PEM private key of class on side: its base64 body
// lines are unique (secret.needles looks for them).
func craftedPEM(class string, side int) string {
	var b strings.Builder
	b.WriteString("-----BEGIN RSA PRIVATE KEY-----\n")
	for i := 0; i < 3; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", class, side, i)))
		b.WriteString(fmt.Sprintf("MIIE%x\n", h[:24]))
	}
	b.WriteString("-----END RSA PRIVATE KEY-----\n")
	return b.String()
}

// mpEncode encodes v with Consul's handle (encode.NewHandle).
func mpEncode(t *testing.T, v ...any) []byte {
	t.Helper()
	var b []byte
	enc := codec.NewEncoderBytes(&b, encode.NewHandle())
	for _, x := range v {
		if err := enc.Encode(x); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// craftedRecords are the records of side 0 (A) or 1 (B), one or more per
// item of the secrets policy (README, decode.Mask). Identities are the
// same on both sides, so that diff compares them field by field, except
// where the identity is the secret or the content (legacy ACL, unknown
// types), and the records are in Consul's order.
func craftedRecords(t *testing.T, side int) []craftedRecord {
	sec := func(c string) string { return craftedSecret(c, side) }
	pem := func(c string) string { return craftedPEM(c, side) }
	configEntry := func(kind string, req map[string]any) string {
		return string(mpEncode(t, kind, req)) // Consul's wrapper: kind, then the request, in one str
	}
	recs := []craftedRecord{
		{class: "http-check-headers", typ: decode.TypeRegister, value: map[string]any{
			"Node": "crafted-node", "Address": "10.0.0.1",
			"Check": map[string]any{"Node": "crafted-node", "CheckID": "web-http", "Name": "web", "Status": "passing",
				"Definition": map[string]any{"HTTP": "http://127.0.0.1:8080/health", "Method": "GET",
					"Header": map[string]any{"Authorization": []any{"Bearer " + sec("http-check-headers")}, "X-Consul-Token": []any{sec("x-consul-token-header")}, "Accept": []any{"text/plain"}}}}},
			secrets: []string{sec("x-consul-token-header")}},
		{class: "legacy-acl-id", typ: decode.TypeACL, value: map[string]any{
			"ID": sec("legacy-acl-id"), "Name": "legacy", "Type": "client", "Rules": `key "" { policy = "read" }`}},
		{class: "acl-token-secretid", typ: decode.TypeACLToken, value: map[string]any{
			"AccessorID": "a0000000-0000-4000-8000-0000000000aa", "SecretID": sec("acl-token-secretid"),
			"Description": "crafted", "Type": "client", "Hash": []byte("hash")}},
		{class: "auth-method-service-account-jwt", typ: decode.TypeACLAuthMethod, value: map[string]any{
			"Name": "k8s", "Type": "kubernetes",
			"Config": map[string]any{"Host": "https://k8s.example", "ServiceAccountJWT": "eyJhbGciOi." + sec("auth-method-service-account-jwt")}}},
		{class: "auth-method-client-secret", typ: decode.TypeACLAuthMethod, value: map[string]any{
			"Name": "oidc", "Type": "oidc", "TokenLocality": "global",
			"Config": map[string]any{"OIDCClientID": "client", "OIDCClientSecret": sec("auth-method-client-secret"), "OIDCDiscoveryURL": "https://idp.example"}}},
		{class: "intention-header-match", typ: decode.TypeIntention, value: map[string]any{
			"ID": "i0000000-0000-4000-8000-000000000001", "SourceName": "web", "DestinationName": "api",
			"Permissions": []any{map[string]any{"Action": "allow", "HTTP": map[string]any{"Header": []any{
				map[string]any{"Name": "Authorization", "Exact": "Bearer " + sec("intention-header-match")}}}}}}},
		{class: "ca-root-signing-key", typ: decode.TypeConnectCA, value: map[string]any{
			"ID": "aa:bb:cc", "Name": "crafted root", "Active": true, "PrivateKeyType": "ec", "PrivateKeyBits": 256,
			"SigningKeyID": "11:22:33", "SigningKey": pem("ca-root-signing-key")}},
		{class: "ca-provider-private-key", typ: decode.TypeConnectCAProviderState, value: map[string]any{
			"ID": "crafted-provider", "PrivateKey": pem("ca-provider-private-key"), "RootCert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}},
		{class: "vault-ca-provider-token", typ: decode.TypeConnectCAConfig, value: map[string]any{
			"ClusterID": "c0000000-0000-4000-8000-000000000001", "Provider": "vault",
			"Config": map[string]any{"Address": "https://vault.example:8200", "Token": sec("vault-ca-provider-token"),
				"RootPKIPath": "pki", "AuthMethod": map[string]any{"Type": "approle", "Params": map[string]any{"role_id": "r", "secret_id": sec("vault-approle-secret-id")}}}},
			secrets: []string{sec("vault-approle-secret-id")}},
		{class: "inline-certificate-config-entry", typ: decode.TypeConfigEntry, value: configEntry("inline-certificate", map[string]any{
			"Datacenter": "dc1", "Op": "upsert",
			"Entry": map[string]any{"Kind": "inline-certificate", "Name": "crafted-cert",
				"Certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "PrivateKey": pem("inline-certificate-config-entry"),
				"Meta": map[string]any{"vault_token": sec("config-entry-meta-vault-token"), "owner": "team"}}}),
			secrets: []string{sec("config-entry-meta-vault-token")}},
		{class: "config-entry-failing-typed-decode", typ: decode.TypeConfigEntry, value: configEntry("service-defaults", map[string]any{
			"Datacenter": 42, // not a string: the typed decode fails
			"Op":         "upsert", "Token": sec("config-entry-failing-typed-decode"),
			"Entry": map[string]any{"Kind": "service-defaults", "Name": "broken",
				"Meta": map[string]any{"x-consul-token": sec("failing-entry-meta-token")}}}),
			secrets: []string{sec("failing-entry-meta-token")}},
		{class: "management-token-systemmetadata", typ: decode.TypeSystemMetadata, value: map[string]any{
			"Key": "server-management-token", "Value": sec("management-token-systemmetadata"), "CreateIndex": 5, "ModifyIndex": 5 + side}},
		{class: "peering-secret-failing-typed-decode", typ: decode.TypePeeringSecret,
			value: "\xff\xff\xff" + sec("peering-secret-failing-typed-decode")}, // not protobuf: opaque, masked whole
		{class: "pem-bytes-unknown-type", typ: 50, value: map[string]any{
			"Blob": append([]byte{0xff, 0xfe, 0xfd}, pem("pem-bytes-unknown-type")...)}}, // not UTF-8: decodes as []byte

		{class: "pem-in-array-unknown-type", typ: 51, value: map[string]any{
			"Certs": []any{"plain", pem("pem-in-array-unknown-type")}}},
	}
	for i := range recs {
		switch recs[i].class {
		case "ca-root-signing-key", "ca-provider-private-key", "inline-certificate-config-entry", "pem-in-array-unknown-type", "pem-bytes-unknown-type":
			recs[i].secrets = append(recs[i].secrets, pem(recs[i].class))
		default:
			recs[i].secrets = append(recs[i].secrets, sec(recs[i].class))
		}
	}
	return recs
}

// craftedArchive writes side's crafted records (and one KV record, so that
// kv get has a key) as an archive in dir. clean leaves out the records that
// fail typed decode (diff stops at those). It returns the archive, its
// secrets, and those that diff shows as a modified field (not the legacy
// ACL's or the unknown types', whose identity changes with the secret).
func craftedArchive(t *testing.T, dir string, side int, clean bool) (path string, secrets, diffable []secret) {
	t.Helper()
	var state bytes.Buffer
	sw, err := encode.NewStateWriter(&state, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range craftedRecords(t, side) {
		fails := strings.Contains(r.class, "failing-typed-decode")
		if clean && fails {
			continue
		}
		if r.typ == decode.TypeIntention { // KVS comes before intentions in Consul's order
			if err := sw.WriteRecord(decode.TypeKVS, &encode.DirEntry{Key: "app/config/db", Value: []byte(fmt.Sprintf("side %d", side)), CreateIndex: 3, ModifyIndex: 3}); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.WriteRecord(r.typ, r.value); err != nil {
			t.Fatal(err)
		}
		for _, v := range r.secrets {
			s := secret{what: "crafted " + r.class, value: v}
			secrets = append(secrets, s)
			if !fails && r.typ != decode.TypeACL && r.typ.InSnapshots() {
				diffable = append(diffable, s)
			}
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	meta := raft.SnapshotMeta{Version: 1, ID: fmt.Sprintf("2-100-%d", side), Index: 100, Term: 2, Size: int64(state.Len()),
		Configuration: raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: "s1", Address: "127.0.0.1:8300"}}}, ConfigurationIndex: 1}
	path = filepath.Join(dir, fmt.Sprintf("crafted-%c-%v.snap", 'a'+side, clean))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := encode.WriteArchive(f, meta, &state, encode.ArchiveOptions{ModTime: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	return path, secrets, diffable
}

// TestSecretsAuditCrafted runs every command and format over archives
// crafted with one record (or more) per item of the secrets policy, A and
// B with every secret rotated: no secret may appear without
// --show-secrets; dump --show-secrets must show every one of them (so a
// record that stops carrying its secret fails the test), and diff and the
// HTML report some.
func TestSecretsAuditCrafted(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the quick loop; make test runs it")
	}
	dir := t.TempDir()
	a, secA, _ := craftedArchive(t, dir, 0, false)
	b, secB, _ := craftedArchive(t, dir, 1, false)
	ca, _, diffA := craftedArchive(t, dir, 0, true)
	cb, _, diffB := craftedArchive(t, dir, 1, true)
	if d := os.Getenv("SNAPTOOL_CRAFTED_DIR"); d != "" { // to look at the archives by hand
		for _, p := range []string{a, b, ca, cb} {
			copyFile(t, p, filepath.Join(d, filepath.Base(p)))
		}
	}
	plans := map[string][]auditPlan{
		"inspect": {{args: []string{"{A}"}}, {args: []string{"--kv-details", "{B}"}}},
		"verify":  {{args: []string{"{A}", "{B}"}}},
		"dump":    {{args: []string{"{A}"}, show: "all"}, {args: []string{"{B}"}, show: "all"}},
		"top":     {{args: []string{"{A}"}}},
		"diff": {{args: []string{"{A}", "{B}"}}, {args: []string{"{CA}", "{CB}"}, show: "all"},
			{args: []string{"--values", "{CA}", "{CB}"}, show: "all"}, {args: []string{"--stat", "{A}", "{B}"}}},
		"kv":        {{args: []string{"export", "{A}"}}, {args: []string{"export", "-o", "{OUT}", "{B}"}}, {args: []string{"get", "{B}", "app/config/db"}}},
		"report":    {{args: []string{"--html", "{OUT}", "{A}"}}, {args: []string{"--html", "{OUT}", "{CA}", "{CB}"}, show: "all"}},
		"preflight": {{args: []string{"--target", "1.13", "{A}", "{B}"}}, {args: []string{"--target", "1.12", "{CB}"}}},
		"rewrite":   {{args: []string{"--drop-type", "KVS", "{CA}", "{OUT}"}}},
		"history": {{args: []string{"{A}", "{B}", "{CA}", "{CB}"}}, {args: []string{"--format", "json", "{A}", "{B}", "{CA}", "{CB}"}},
			{args: []string{"--format", "csv", "{A}", "{CB}"}}, {args: []string{"--format", "prometheus", "{A}", "{B}"}},
			{args: []string{"--format", "html", "--out", "{OUT}", "{CA}", "{CB}"}}},
	}
	for _, n := range []string{"version", "help", "completion"} { // they read no input
		plans[n] = auditPlans[n]
	}
	plans["log"] = []auditPlan{{args: []string{"{L}"}, show: "some", showFormat: "jsonl"}}
	fixture := raftlogFixture(fixDir)
	logDir := unpackRaftlog(t, fixture, t.TempDir())
	secL := raftlogSecrets(t, fixture, logDir)
	subst := map[string]string{"{CA}": ca, "{CB}": cb, "{A}": a, "{B}": b, "{L}": logDir}
	secretsOf := map[string][]secret{a: secA, b: secB, ca: diffA, cb: diffB, logDir: secL}
	auditCommands(t, plans, subst, append(append(secA, secB...), secL...), secretsOf, true)
}
