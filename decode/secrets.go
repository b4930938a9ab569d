package decode

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// The secrets policy. This file is the one place that decides what is
// secret; every output of a record's content (dump, diff in every format,
// the HTML report, and their failure paths) renders a tree made by View,
// which masks it with Mask unless secrets are to be shown. README's list
// of what is masked is checked against the rules below by
// TestREADMESecretsList.

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

// A key names a secret when, lower-cased and with everything but letters
// and digits removed ("X-Consul-Token" → "xconsultoken", "secret_id" →
// "secretid"), and a final "s" dropped, it contains one of
// secretKeyContains or ends with one of secretKeySuffixes. Suffixes rather
// than substrings for the words that also start ordinary field names:
// TokenLocality, MaxTokenTTL, PrivateKeyType, SigningKeyID,
// JWTValidationPubKeys are not secrets.
var (
	secretKeyContains = []string{"secret", "password", "passwd", "passphrase", "credential"}
	secretKeySuffixes = []string{"token", "jwt", "privatekey", "signingkey", "apikey", "keypem", "authorization", "cookie"}
)

// pemPrivateKey is in the armour line of every PEM private key ("-----BEGIN
// RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----", EC, OPENSSH,
// ENCRYPTED, …).
const pemPrivateKey = "PRIVATE KEY-----"

// fold maps a key's byte to its normalized form: letters lower-cased,
// digits kept, anything else 0 (dropped). containsLetters and
// suffixLetters hold the set of letters of each word of the two lists (bit
// i for 'a'+i): a key lacking one of a word's letters cannot contain it,
// which rules out nearly every field name before any comparison.
var (
	fold                           [256]byte
	containsLetters, suffixLetters []uint32
)

func init() {
	for c := 'a'; c <= 'z'; c++ {
		fold[c], fold[c-'a'+'A'] = byte(c), byte(c)
	}
	for c := '0'; c <= '9'; c++ {
		fold[c] = byte(c)
	}
	for _, w := range secretKeyContains {
		containsLetters = append(containsLetters, lettersOf(w))
	}
	for _, w := range secretKeySuffixes {
		suffixLetters = append(suffixLetters, lettersOf(w))
	}
}

func lettersOf(s string) uint32 {
	var m uint32
	for i := 0; i < len(s); i++ {
		if c := fold[s[i]]; c >= 'a' {
			m |= 1 << (c - 'a')
		}
	}
	return m
}

// IsSecretKey reports whether a map key or field name names a secret.
func IsSecretKey(k string) bool {
	have := lettersOf(k)
	maybe := false
	for _, m := range containsLetters {
		maybe = maybe || m&^have == 0
	}
	for _, m := range suffixLetters {
		maybe = maybe || m&^have == 0
	}
	if !maybe {
		return false
	}
	n := make([]byte, 0, 64)
	for i := 0; i < len(k); i++ {
		if c := fold[k[i]]; c != 0 {
			n = append(n, c)
		}
	}
	if l := len(n); l > 1 && n[l-1] == 's' {
		n = n[:l-1]
	}
	for _, w := range secretKeyContains {
		if bytes.Contains(n, []byte(w)) {
			return true
		}
	}
	for _, w := range secretKeySuffixes {
		if bytes.HasSuffix(n, []byte(w)) {
			return true
		}
	}
	return false
}

// wrapsPayload reports whether records of type t carry their content
// wrapped in a msgpack str (a config entry's own encoding, protobuf). A
// []byte left in such a record's tree is a payload that could not be
// opened, so it may hold anything and is masked whole.
func (t MessageType) wrapsPayload() bool {
	switch t {
	case TypeConfigEntry, TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource:
		return true
	}
	return false
}

// Mask replaces every secret in tree, the content of a record of type t,
// with its Fingerprint and returns the tree (in place where it can: a
// masked top-level string comes back as a new value, so use the result).
// tree is what View, Tree or Value.Interface produce: *Object,
// map[string]any, []any, string, []byte and scalars, at any depth.
//
// Masked, at any depth, inside objects, maps and arrays (config-entry
// bodies, check definitions and provider configs included):
//
//   - every string or []byte under a key that names a secret (IsSecretKey):
//     ACL SecretIDs, CA SigningKey and PrivateKey, a Vault CA provider's
//     Token, peering secret IDs, auth-method ClientSecret and
//     ServiceAccountJWT, RegisterRequest and ConfigEntry tokens, an
//     inline-certificate's PrivateKey, Meta.vault_token, an HTTP check's
//     Header values for Authorization or X-Consul-Token; everything
//     beneath such a key, so the strings of an array or object under it too;
//   - the Value (and a header match's Exact, Prefix, Suffix, Regex:
//     namedValueKeys) of an object whose Key or Name names a secret: the
//     SystemMetadata record "server-management-token" (the servers'
//     management SecretID, Consul 1.14+), name/value header lists, an
//     intention's or a service-router's match on the Authorization header;
//   - the ID of a legacy ACL (type 4), which is its secret;
//   - any string or []byte holding a PEM private key, whatever its key,
//     and a map key holding one (the key is replaced);
//   - in records whose content is a wrapped payload (config entries,
//     peering, trust bundles, peering secrets, resources), every []byte: a
//     payload that could not be opened is masked whole.
//
// KVS and Tombstone records are user data and are returned as they are:
// their values are what `consul kv get` and `kv export` show to anyone who
// may read the KV store.
func Mask(t MessageType, tree any) any {
	return maskWith(t, tree, nil)
}

// maskWith is the policy: it walks tree as Mask documents and replaces
// every value the rules call secret with its Fingerprint, after handing
// it to found when found is set. Mask (what every output shows) and
// RedactRecord (which locates the same values in the record's bytes,
// redact.go) are its two callers, so the rules exist once.
func maskWith(t MessageType, tree any, found func(secret string)) any {
	if t == TypeKVS || t == TypeTombstone {
		return tree
	}
	m := masker{opaque: t.wrapsPayload(), found: found}
	tree = m.value(tree, false)
	if t == TypeACL {
		m.maskField(tree, "ID")
	}
	return tree
}

type masker struct {
	opaque bool                // []byte leaves are unopened payloads
	found  func(secret string) // told of each secret before it is masked (nil: nobody)
}

// hide is the one place a value the policy calls secret is replaced.
func (m *masker) hide(secret string) string {
	if m.found != nil {
		m.found(secret)
	}
	return Fingerprint(secret)
}

// value masks v; secret says a key above it names a secret.
func (m *masker) value(v any, secret bool) any {
	switch x := v.(type) {
	case string:
		if x != "" && (secret || strings.Contains(x, pemPrivateKey)) {
			return m.hide(x)
		}
	case []byte:
		if len(x) > 0 && (secret || m.opaque || bytes.Contains(x, []byte(pemPrivateKey))) {
			return m.hide(string(x))
		}
	case *Object:
		for i, k := range x.Keys {
			x.Values[i] = m.value(x.Values[i], secret || IsSecretKey(k))
			if strings.Contains(k, pemPrivateKey) { // a key may hold one too
				x.Keys[i] = m.hide(k)
			}
		}
		if !secret {
			for i, k := range x.Keys {
				if (k == "Key" || k == "Name") && secretName(x.Values[i]) {
					m.maskField(x, namedValueKeys...)
					break
				}
			}
		}
	case map[string]any:
		var pemKeys []string
		for k, e := range x {
			x[k] = m.value(e, secret || IsSecretKey(k))
			if strings.Contains(k, pemPrivateKey) {
				pemKeys = append(pemKeys, k)
			}
		}
		for _, k := range pemKeys {
			x[m.hide(k)] = x[k]
			delete(x, k)
		}
		if !secret && (secretName(x["Key"]) || secretName(x["Name"])) {
			m.maskField(x, namedValueKeys...)
		}
	case []any:
		for i := range x {
			x[i] = m.value(x[i], secret)
		}
	}
	return v
}

// secretName reports whether the value of an object's Key or Name names a
// secret (the object's Value is then the secret).
func secretName(v any) bool {
	s, ok := v.(string)
	return ok && IsSecretKey(s)
}

// namedValueKeys are the members masked in an object whose Key or Name
// names a secret: a key/value entry's Value (SystemMetadata), and the match
// values of an HTTP header match ({Name: "Authorization", Exact: …}, in
// intentions' permissions and service-router matches).
var namedValueKeys = []string{"Value", "Exact", "Prefix", "Suffix", "Regex"}

// maskField masks the members keys of an object (Object or map).
func (m *masker) maskField(obj any, keys ...string) {
	switch x := obj.(type) {
	case *Object:
		for i, k := range x.Keys {
			for _, key := range keys {
				if k == key {
					x.Values[i] = m.value(x.Values[i], true)
				}
			}
		}
	case map[string]any:
		for _, key := range keys {
			if e, ok := x[key]; ok {
				x[key] = m.value(e, true)
			}
		}
	}
}

// View is a record's content as every output shows it: the typed record
// as a Tree, secrets masked by Mask unless show. When the typed decode
// fails, err says why (it wraps ErrTypedDecode) and tree is the generic
// value (genericTree), masked the same way, or nil when not even that
// decodes; the record's bytes are never shown as they are. The decode and
// the tree share the record's work budget (budget.go): past it err wraps
// ErrBudget and tree is nil, so that the record is shown by its type,
// size and offset only, never expanded.
func View(t MessageType, value []byte, show bool) (tree any, err error) {
	tree, err = contentTree(t, value)
	if tree != nil && !show {
		tree = Mask(t, tree)
	}
	return tree, err
}

// contentTree is the tree the policy judges, for View and RedactRecord
// alike: the typed record as a Tree, or when its typed decode fails (err
// says why) the generic value (genericTree), nil when not even that
// decodes.
func contentTree(t MessageType, value []byte) (tree any, err error) {
	bud := budgetFor(len(value))
	d, err := decodeValueOf(t, value, &bud)
	switch {
	case err == nil:
		if tree = treeBudget(d.Data, &bud); !bud.ok() {
			return nil, fmt.Errorf("%w: %s: %w", ErrTypedDecode, t, ErrBudget)
		}
		return tree, nil
	case errors.Is(err, ErrBudget):
		return nil, err
	}
	return genericTree(t, value), err
}

// genericTree is the content of a record that did not decode to its type:
// the generic msgpack value as a Tree. A wrapped payload (a str holding
// protobuf or a config entry) is kept as []byte, so that Mask masks it
// whole, except that a config entry's wrapper is opened as far as it goes:
// {"Kind", "Request"} with the request's wrapped Entry opened too, so that
// its fields can be shown and masked one by one. nil when the value is not
// msgpack, or when building it goes over the record's work budget (a
// budget of its own: the typed attempt's is spent).
func genericTree(t MessageType, value []byte) any {
	budv := budgetFor(len(value))
	bud := &budv
	v, err := decodeAll(value, bud)
	if err != nil {
		return nil
	}
	var tree any
	if t.wrapsPayload() && (v.Kind == Str || v.Kind == Bin) {
		if t == TypeConfigEntry {
			if o := openConfigEntry(v.Bytes, bud); o != nil {
				return o
			}
		}
		if !bud.spend(int64(len(v.Bytes))) {
			return nil
		}
		return append([]byte{}, v.Bytes...)
	}
	if x, ok := v.iface(bud); ok {
		tree = treeBudget(&Unknown{Value: x}, bud)
	}
	if !bud.ok() {
		return nil
	}
	return tree
}

// openConfigEntry opens a config entry's wrapper (its kind, then the
// request) generically; nil when not even the kind decodes or bud runs out.
func openConfigEntry(b []byte, bud *budget) *Object {
	kind, n, err := decodeValue(b, bud)
	if err != nil {
		return nil
	}
	o := &Object{}
	k, _ := kind.iface(bud)
	o.Set("Kind", treeBudget(&Unknown{Value: k}, bud))
	req, err := decodeAll(b[n:], bud)
	if err != nil {
		if !bud.spend(int64(len(b) - n)) {
			return nil
		}
		o.Set("Request", append([]byte{}, b[n:]...))
		return o
	}
	rv, _ := req.iface(bud)
	if m, ok := rv.(map[string]any); ok {
		if e, ok := m["Entry"].([]byte); ok {
			if ev, err := decodeAll(e, bud); err == nil {
				m["Entry"], _ = ev.iface(bud)
			}
		} else if e, ok := m["Entry"].(string); ok {
			if ev, err := decodeAll([]byte(e), bud); err == nil {
				m["Entry"], _ = ev.iface(bud)
			} else {
				m["Entry"] = []byte(e) // unopened: masked whole
			}
		}
	}
	o.Set("Request", treeBudget(&Unknown{Value: rv}, bud))
	if !bud.ok() {
		return nil
	}
	return o
}
