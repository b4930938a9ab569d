package decode

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/codec"
)

// mpOf encodes vs back to back with a handle like Consul's (strings and
// []byte as msgpack str).
func mpOf(t *testing.T, vs ...any) []byte {
	t.Helper()
	var b []byte
	h := &codec.MsgpackHandle{RawToString: true}
	enc := codec.NewEncoderBytes(&b, h)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

const testPEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBody\n-----END EC PRIVATE KEY-----\n"

func TestIsSecretKey(t *testing.T) {
	for k, want := range map[string]bool{
		"SecretID": true, "EstablishmentSecretID": true, "OIDCClientSecret": true, "secret_id": true,
		"Token": true, "X-Consul-Token": true, "vault_token": true, "AccessTokens": true, "ServiceAccountJWT": true,
		"PrivateKey": true, "private_key": true, "SigningKey": true, "Password": true, "db_passwd": true,
		"Credentials": true, "AWSCredentialsFile": true, "APIKey": true, "key_pem": true,
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "server-management-token": true,
		"Passphrase":    true,
		"TokenLocality": false, "MaxTokenTTL": false, "PrivateKeyType": false, "PrivateKeyBits": false,
		"SigningKeyID": false, "SigningCert": false, "JWTValidationPubKeys": false, "JWTSupportedAlgs": false,
		"AccessorID": false, "Name": false, "token_path": false, "Key": false, "Value": false, "": false,
		"Certificate": false, "RootCert": false, "Accept": false, "s": false,
	} {
		if got := IsSecretKey(k); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// TestView renders each class of the policy through View, masked and with
// show, and checks the JSON: no secret when masked, the fingerprint in its
// place, the secret with show.
func TestView(t *testing.T) {
	sec := "s3cr3t-value-0123456789"
	fp := Fingerprint(sec)
	fpPEM := Fingerprint(testPEM)
	cfgEntry := func(kind string, req map[string]any) []byte { return mpOf(t, string(mpOf(t, kind, req))) }
	tests := []struct {
		name     string
		typ      MessageType
		value    []byte
		secret   string // must not appear masked, must appear with show
		want     string // must appear masked
		failed   bool   // the typed decode fails
		keep     string // must appear masked too (not a secret)
		userData bool   // not masked at all
		shown    string // what shows with show, when not the secret itself
	}{
		{name: "ACL token SecretID", typ: TypeACLToken, value: mpOf(t, map[string]any{"AccessorID": "acc", "SecretID": sec}), secret: sec, want: fp, keep: `"acc"`},
		{name: "a field the struct does not know (Extra)", typ: TypeACLToken, value: mpOf(t, map[string]any{"AccessorID": "acc", "FutureSecret": sec, "Plain": "shown"}),
			secret: sec, want: fp, keep: `"Plain":"shown"`},
		{name: "legacy ACL ID", typ: TypeACL, value: mpOf(t, map[string]any{"ID": sec, "Name": "n"}), secret: sec, want: fp},
		{name: "management token", typ: TypeSystemMetadata, value: mpOf(t, map[string]any{"Key": "server-management-token", "Value": sec}), secret: sec, want: fp, keep: "server-management-token"},
		{name: "other system metadata", typ: TypeSystemMetadata, value: mpOf(t, map[string]any{"Key": "virtual-ips", "Value": "true"}), keep: `"Value":"true"`},
		{name: "CA signing key", typ: TypeConnectCA, value: mpOf(t, map[string]any{"ID": "r", "SigningKey": testPEM, "SigningKeyID": "aa:bb", "PrivateKeyType": "ec"}), secret: "MHcCAQEEIBody", want: fpPEM, keep: `"PrivateKeyType":"ec"`},
		{name: "Vault provider token", typ: TypeConnectCAConfig, value: mpOf(t, map[string]any{"Provider": "vault", "Config": map[string]any{"Address": "https://v", "Token": sec}}), secret: sec, want: fp, keep: "https://v"},
		{name: "CA state", typ: TypeConnectCAConfig, value: mpOf(t, map[string]any{"State": map[string]any{"private_key": sec}}), secret: sec, want: fp},
		{name: "auth-method client secret", typ: TypeACLAuthMethod, value: mpOf(t, map[string]any{"Name": "oidc", "TokenLocality": "global", "Config": map[string]any{"OIDCClientSecret": sec}}), secret: sec, want: fp, keep: `"TokenLocality":"global"`},
		{name: "auth-method JWT", typ: TypeACLAuthMethod, value: mpOf(t, map[string]any{"Name": "k8s", "Config": map[string]any{"ServiceAccountJWT": sec}}), secret: sec, want: fp},
		{name: "HTTP check headers", typ: TypeRegister, value: mpOf(t, map[string]any{"Node": "n", "Check": map[string]any{"CheckID": "c", "Definition": map[string]any{
			"Header": map[string]any{"Authorization": []any{"Bearer " + sec}, "X-Consul-Token": []any{sec}, "Accept": []any{"text/plain"}}}}}),
			secret: sec, want: fp, keep: "text/plain"},
		{name: "register token", typ: TypeRegister, value: mpOf(t, map[string]any{"Node": "n", "Token": sec}), secret: sec, want: fp},
		{name: "inline-certificate", typ: TypeConfigEntry, value: cfgEntry("inline-certificate", map[string]any{"Datacenter": "dc1", "Entry": map[string]any{
			"Kind": "inline-certificate", "Name": "c", "PrivateKey": testPEM, "Meta": map[string]any{"vault_token": sec}}}),
			secret: sec, want: fp, keep: "inline-certificate"},
		{name: "inline-certificate PEM", typ: TypeConfigEntry, value: cfgEntry("inline-certificate", map[string]any{"Entry": map[string]any{"Kind": "inline-certificate", "Name": "c", "PrivateKey": testPEM}}),
			secret: "MHcCAQEEIBody", want: fpPEM},
		{name: "config entry failing typed decode", typ: TypeConfigEntry, value: cfgEntry("service-defaults", map[string]any{"Datacenter": 42, "Token": sec, "Entry": map[string]any{"Name": "x"}}),
			secret: sec, want: fp, failed: true, keep: `"Datacenter":42`},
		{name: "config entry with a wrapped Entry failing typed decode", typ: TypeConfigEntry, value: cfgEntry("proxy-defaults", map[string]any{"Op": 7, "Entry": string(mpOf(t, map[string]any{"Config": map[string]any{"api_key": sec}}))}),
			secret: sec, want: fp, failed: true},
		{name: "config entry request not msgpack", typ: TypeConfigEntry, value: mpOf(t, string(append(mpOf(t, "kind"), append([]byte{0xc1}, sec...)...))),
			secret: sec, want: `"Request":"<masked sha256:`, failed: true, keep: `"Kind":"kind"`,
			shown: base64.StdEncoding.EncodeToString(append([]byte{0xc1}, sec...))},
		{name: "opaque peering secret", typ: TypePeeringSecret, value: mpOf(t, "\xff\xff\xff"+sec), secret: sec, want: `"<masked sha256:`, failed: true,
			shown: base64.StdEncoding.EncodeToString([]byte("\xff\xff\xff" + sec))},
		{name: "PEM in an array of an unknown type", typ: 99, value: mpOf(t, map[string]any{"Certs": []any{"plain", testPEM}}), secret: "MHcCAQEEIBody", want: fpPEM, keep: "plain"},
		{name: "PEM as bytes", typ: 99, value: mpOf(t, map[string]any{"Blob": append([]byte{0xff}, testPEM...)}), secret: "BEGIN EC PRIVATE", want: "<masked sha256:",
			shown: base64.StdEncoding.EncodeToString(append([]byte{0xff}, testPEM...))},
		{name: "nested under a secret key", typ: 99, value: mpOf(t, map[string]any{"Credentials": map[string]any{"user": sec, "n": 5}}), secret: sec, want: fp, keep: `"n":5`},
		{name: "intention header match", typ: TypeIntention, value: mpOf(t, map[string]any{"ID": "i", "Permissions": []any{map[string]any{"Action": "allow",
			"HTTP": map[string]any{"Header": []any{map[string]any{"Name": "Authorization", "Exact": "Bearer " + sec}, map[string]any{"Name": "Accept", "Exact": "text/plain"}}}}}}),
			secret: sec, want: `"Exact":"<masked sha256:`, keep: "text/plain"},
		{name: "name/value pair", typ: 99, value: mpOf(t, map[string]any{"Headers": []any{map[string]any{"Name": "Authorization", "Value": sec}}}), secret: sec, want: fp, keep: `"Name":"Authorization"`},
		{name: "KV value is user data", typ: TypeKVS, value: mpOf(t, map[string]any{"Key": "token", "Value": []byte(testPEM)}), userData: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, show := range []bool{false, true} {
				tree, err := View(tt.typ, tt.value, show)
				if (err != nil) != tt.failed {
					t.Fatalf("show=%v: err = %v, want failed=%v", show, err, tt.failed)
				}
				if tree == nil {
					t.Fatalf("show=%v: no tree", show)
				}
				b, err := marshalNoHTML(tree)
				if err != nil {
					t.Fatal(err)
				}
				got := string(b)
				if tt.keep != "" && !strings.Contains(got, tt.keep) {
					t.Errorf("show=%v: %q is missing from %s", show, tt.keep, got)
				}
				if tt.userData || tt.secret == "" {
					if strings.Contains(got, "masked") {
						t.Errorf("user data masked: %s", got)
					}
					continue
				}
				if show {
					shown := tt.secret
					if tt.shown != "" {
						shown = tt.shown
					}
					if !strings.Contains(got, shown) {
						t.Errorf("show: secret missing from %s", got)
					}
					continue
				}
				if strings.Contains(got, tt.secret) || strings.Contains(got, "PRIVATE KEY-----") {
					t.Errorf("secret in clear: %s", got)
				}
				if !strings.Contains(got, tt.want) {
					t.Errorf("%q is missing from %s", tt.want, got)
				}
			}
		})
	}
}

// TestMaskGenericForms: Mask works on every tree form (Object, map, array,
// top-level string) in place, and leaves non-string leaves alone.
func TestMaskGenericForms(t *testing.T) {
	m := map[string]any{"a": []any{map[string]any{"token": "x1"}, testPEM}, "n": int64(3), "Token": int64(4)}
	Mask(99, m)
	want := map[string]any{"a": []any{map[string]any{"token": Fingerprint("x1")}, Fingerprint(testPEM)}, "n": int64(3), "Token": int64(4)}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("map: %v", m)
	}
	if got := Mask(99, testPEM); got != Fingerprint(testPEM) {
		t.Errorf("top-level string: %v", got)
	}
	if got := Mask(TypePeeringSecret, []byte("opaque")); got != Fingerprint("opaque") {
		t.Errorf("opaque payload: %v", got)
	}
	if got := Mask(99, []byte("plain")); !reflect.DeepEqual(got, []byte("plain")) {
		t.Errorf("plain bytes of a non-wrapper type: %v", got)
	}
	o := &Object{Keys: []string{"Key", "Value"}, Values: []any{"server-management-token", "v"}}
	Mask(TypeSystemMetadata, o)
	if o.Values[1] != Fingerprint("v") {
		t.Errorf("object: %v", o.Values)
	}
	if Fingerprint("") != "" || Mask(TypeACLToken, &Object{Keys: []string{"SecretID"}, Values: []any{""}}).(*Object).Values[0] != "" {
		t.Error("an empty secret must stay empty")
	}
}

// TestREADMESecretsList: README's list of what is masked names exactly the
// key words of the code, its examples are classified as it says, and it
// names the PEM marker.
func TestREADMESecretsList(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(b)), " ")
	tick := regexp.MustCompile("`([^`]+)`")
	words := func(s string) (out []string) {
		for _, m := range tick.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	m := regexp.MustCompile(`a final ` + "`s`" + ` dropped, it contains (.*?), or ends with (.*?)\. So: (.*?)\. Not secrets: (.*?);`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README has no sentence 'a final `s` dropped, it contains …, or ends with … . So: … . Not secrets: …;'")
	}
	if got := words(m[1]); !reflect.DeepEqual(got, secretKeyContains) {
		t.Errorf("README says a secret key contains %v, the code %v", got, secretKeyContains)
	}
	if got := words(m[2]); !reflect.DeepEqual(got, secretKeySuffixes) {
		t.Errorf("README says a secret key ends with %v, the code %v", got, secretKeySuffixes)
	}
	for _, w := range words(m[3]) {
		if w == "inline-certificate" {
			continue
		}
		if w = w[strings.LastIndex(w, ".")+1:]; !IsSecretKey(w) {
			t.Errorf("README gives %q as a secret key, IsSecretKey says no", w)
		}
	}
	for _, w := range words(m[4]) {
		if IsSecretKey(w) {
			t.Errorf("README gives %q as not a secret, IsSecretKey says it is", w)
		}
	}
	if !strings.Contains(readme, "`"+pemPrivateKey+"`") {
		t.Errorf("README does not name the PEM marker %q", pemPrivateKey)
	}
	if m := regexp.MustCompile(`- the (.*?) of an object whose ` + "`Key` or `Name`" + ` names a secret`).FindStringSubmatch(readme); m == nil {
		t.Error("README has no item 'the … of an object whose `Key` or `Name` names a secret'")
	} else if got := words(m[1]); !reflect.DeepEqual(got, namedValueKeys) {
		t.Errorf("README masks %v beside a secret Key or Name, the code %v", got, namedValueKeys)
	}
	if !strings.Contains(readme, "`server-management-token`") || !IsSecretKey("server-management-token") {
		t.Error("README's server-management-token item does not hold")
	}
	// The wrapper types README names are the ones Mask treats as opaque.
	var wrappers []string
	for i := 0; i < 256; i++ {
		if MessageType(i).wrapsPayload() {
			wrappers = append(wrappers, MessageType(i).String())
		}
	}
	if want := []string{"ConfigEntry", "Peering", "PeeringTrustBundle", "PeeringSecret", "Resource"}; !reflect.DeepEqual(wrappers, want) ||
		!strings.Contains(readme, "in config-entry, peering, trust-bundle, peering-secret and resource records, every byte value") {
		t.Errorf("wrapper types %v: README's item no longer matches", wrappers)
	}
}
