package decode

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
)

// Fingerprint replaces a secret in output: "sha256:" and the first 8 hex
// digits of its SHA-256, so that a rotated secret shows as a change without
// revealing either value. The empty string stays empty (nothing to hide).
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	h := sha256.Sum256([]byte(secret))
	return "<masked sha256:" + hex.EncodeToString(h[:4]) + ">"
}

// secretConfigKeys are auth-method and CA-provider config keys whose values
// are secrets, matched case-insensitively on the key's suffix.
var secretKeySuffixes = []string{
	"secret", "secretid", "password", "privatekey", "private_key", "token", "jwt",
	"serviceaccountjwt", "clientsecret", "key_pem", "keypem", "signingkey", "apikey", "credentials",
}

// isSecretKey reports whether a generic config key names a secret.
func isSecretKey(k string) bool {
	l := strings.ToLower(k)
	for _, s := range secretKeySuffixes {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}

// MaskSecrets replaces every secret in a decoded record with its
// Fingerprint, in place: ACL token SecretIDs, legacy ACL IDs, CA signing and
// private keys, provider private keys and tokens in CA config, peering
// secrets, and secret-looking keys of auth-method config.
func MaskSecrets(d *Decoded) {
	switch x := d.Data.(type) {
	case *ACLToken:
		x.SecretID = Fingerprint(x.SecretID)
	case *LegacyACL:
		x.ID = Fingerprint(x.ID)
	case *CARoot:
		x.SigningKey = Fingerprint(x.SigningKey)
		maskMap(x.Extra)
	case *CAConsulProviderState:
		x.PrivateKey = Fingerprint(x.PrivateKey)
	case *CAConfiguration:
		maskMap(x.Config)
		for k, v := range x.State {
			if isSecretKey(k) {
				x.State[k] = Fingerprint(v)
			}
		}
	case *ACLAuthMethod:
		maskMap(x.Config)
	case *PeeringSecrets:
		x.EstablishmentSecretID = Fingerprint(x.EstablishmentSecretID)
		x.ActiveSecretID = Fingerprint(x.ActiveSecretID)
		x.PendingSecretID = Fingerprint(x.PendingSecretID)
	case *RegisterRequest:
		x.Token = Fingerprint(x.Token)
	case *PreparedQuery:
		x.Token = Fingerprint(x.Token)
	case *ConfigEntry:
		x.Token = Fingerprint(x.Token)
	case *FederationStateRequest:
		x.Token = Fingerprint(x.Token)
	case *Unknown:
		if m, ok := x.Value.(map[string]any); ok {
			maskMap(m)
		}
	}
	// Keys a struct does not know (newer Consul versions) are masked when
	// they look like secrets.
	if rv := reflect.ValueOf(d.Data); rv.Kind() == reflect.Pointer && rv.Elem().Kind() == reflect.Struct {
		if f := rv.Elem().FieldByName("Extra"); f.IsValid() {
			if ex, ok := f.Interface().(Extra); ok {
				maskMap(ex)
			}
		}
	}
}

// maskMap masks secret-looking keys at any depth of a generic map.
func maskMap(m map[string]any) {
	for k, v := range m {
		switch vv := v.(type) {
		case string:
			if isSecretKey(k) || strings.Contains(vv, "PRIVATE KEY-----") {
				m[k] = Fingerprint(vv)
			}
		case []byte:
			if isSecretKey(k) {
				m[k] = Fingerprint(string(vv))
			}
		case map[string]any:
			maskMap(vv)
		case []any:
			for _, e := range vv {
				if em, ok := e.(map[string]any); ok {
					maskMap(em)
				}
			}
		}
	}
}
