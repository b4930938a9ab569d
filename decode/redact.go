package decode

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Redaction: a record's secrets replaced in its bytes, for `snaptool
// rewrite --redact`.
//
// Which values are secret is decided by the one policy, maskWith (Mask's
// rules, secrets.go): RedactRecord builds the record's content tree exactly
// as View does (contentTree), runs the policy over it and collects every
// value the policy hides. Then it walks the record's msgpack bytes (a copy)
// and overwrites, in place, every string payload equal to a collected
// secret with its stand-in: msgpack str, bin and ext payloads at any depth,
// map keys included; inside a config entry's wrapper (msgpack in a str,
// the Entry of proxy-defaults wrapped again) and inside the protobuf of
// peering, trust-bundle, peering-secret and resource records (a
// length-delimited field, at any depth of nested messages). A stand-in has
// the secret's length, so no length prefix, wrapper or protobuf length
// changes and every byte outside the secrets stays as it was. A secret the
// policy found but the walk could not locate as a whole payload (a config
// entry whose request does not decode, masked whole by the policy as a
// slice of its wrapper) fails the record with ErrRedact: redaction never
// silently leaves a secret behind.

// ErrRedact means a record could not be redacted: a secret the policy found
// is not a whole string of the record, a stand-in has another length, or
// the record does not decode at all.
var ErrRedact = errors.New("redaction failed")

// StandIn returns the replacement of a secret. It must return a value of
// exactly len(secret) bytes and the same value for the same secret.
type StandIn func(secret []byte) []byte

// RedactRecord returns rec's bytes (type byte first) with every value the
// secrets policy masks replaced by standIn(value), and with kvValues the
// Value of KVS records replaced by a placeholder of the same length
// (KVPlaceholder). changed is false, and raw is rec.Raw itself, when
// nothing was replaced. KVS and Tombstone records hold no secret by the
// policy (user data, see Mask), so without kvValues they are unchanged.
// Errors wrap ErrRedact; they carry no secret.
func RedactRecord(rec *Record, standIn StandIn, kvValues bool) (raw []byte, changed bool, err error) {
	if len(rec.Raw) < 2 {
		return nil, false, fmt.Errorf("%w: %s: %w", ErrRedact, rec.Type, ErrTruncated)
	}
	t := rec.Type
	kv := kvValues && t == TypeKVS
	if (t == TypeKVS || t == TypeTombstone) && !kv {
		return rec.Raw, false, nil
	}
	r := redactor{standIn: standIn, secrets: map[string]int{}, kvValues: kv, bud: budgetFor(len(rec.Raw))}
	if !kv {
		tree, _ := contentTree(t, rec.Value()) // a typed-decode error: the generic tree, as View
		if tree == nil {
			return nil, false, fmt.Errorf("%w: %s: the value is not msgpack", ErrRedact, t)
		}
		maskWith(t, tree, func(s string) { r.secrets[s] = 0 })
		if len(r.secrets) == 0 {
			return rec.Raw, false, nil
		}
	}
	out := bytes.Clone(rec.Raw)
	wrap := plainStr
	switch {
	case t == TypeConfigEntry:
		wrap = msgpackStr
	case t.wrapsPayload():
		wrap = protoStr
	}
	if end := r.value(out, 1, 0, wrap, true); r.err != nil {
		return nil, false, fmt.Errorf("%w: %s: %w", ErrRedact, t, r.err)
	} else if end != len(out) {
		return nil, false, fmt.Errorf("%w: %s: the value is not one msgpack value", ErrRedact, t)
	}
	missed := 0
	for _, n := range r.secrets {
		if n == 0 {
			missed++
		}
	}
	if missed > 0 {
		return nil, false, fmt.Errorf("%w: %s: %d secret(s) the policy masks are not a whole string of the record (a payload that does not decode); the record cannot be redacted in place", ErrRedact, t, missed)
	}
	return out, r.replaced > 0, nil
}

// How a str payload may be opened: not at all, as msgpack values (a config
// entry's wrapper), or as a protobuf message.
const (
	plainStr = iota
	msgpackStr
	protoStr
)

type redactor struct {
	standIn  StandIn
	secrets  map[string]int // secret → times replaced
	kvValues bool           // replace the top-level Value (a KVS record)
	replaced int
	err      error
	bud      budget // the record's work budget, for the protobuf payloads it opens
}

// value walks the msgpack value at b[p] and returns the position after it
// (-1 when malformed).
func (r *redactor) value(b []byte, p, depth, wrap int, top bool) int {
	if depth > MaxDepth {
		r.fail(ErrTooDeep)
		return -1
	}
	k, hdr, n, ok := readHead(b, p) // mpdesc.go
	if !ok {
		return -1
	}
	p += hdr
	switch k {
	case Map, Array:
		entries := n
		if k == Map {
			entries = 2 * n
		}
		isValue := false
		for i := uint64(0); i < entries && p >= 0; i++ {
			if r.kvValues && top && k == Map && i%2 == 1 && isValue {
				s, end, isStr := strAt(b, p)
				if isStr && len(s) > 0 {
					copy(s, KVPlaceholder(len(s)))
					r.replaced++
				}
				p = end
				continue
			}
			if k == Map && i%2 == 0 {
				s, _, isStr := strAt(b, p)
				isValue = isStr && string(s) == "Value"
			}
			p = r.value(b, p, depth+1, wrap, false)
		}
		return p
	case Str, Bin, Ext:
		pl := payloadLen(k, n)
		if pl > uint64(len(b)-p) {
			return -1
		}
		s := b[p : p+int(pl) : p+int(pl)]
		if k == Ext {
			s = s[1:] // the ext type byte is not payload
		}
		if k != Ext {
			r.payload(s, depth, wrap)
		} else {
			r.payload(s, depth, plainStr)
		}
		return p + int(pl)
	default: // scalars: n is their payload width
		pl := payloadLen(k, n)
		if pl > uint64(len(b)-p) {
			return -1
		}
		return p + int(pl)
	}
}

// payload replaces s when it is a secret, else looks inside it when the
// record wraps msgpack or protobuf in strings.
func (r *redactor) payload(s []byte, depth, wrap int) {
	if r.err != nil || len(s) == 0 {
		return
	}
	if _, ok := r.secrets[string(s)]; ok {
		r.secrets[string(s)]++
		si := r.standIn(s)
		if len(si) != len(s) {
			r.fail(fmt.Errorf("a stand-in of %d bytes for a secret of %d", len(si), len(s)))
			return
		}
		copy(s, si)
		r.replaced++
		return
	}
	if depth >= MaxDepth {
		return
	}
	switch wrap {
	case msgpackStr:
		// Only when s is a whole sequence of msgpack values (kind, request).
		for p := 0; p < len(s); {
			if p = skipValue(s, p); p < 0 {
				return
			}
		}
		for p := 0; p < len(s) && p >= 0 && r.err == nil; {
			p = r.value(s, p, depth+1, msgpackStr, false)
		}
	case protoStr:
		fs, err := protoFields(s, &r.bud) // proto.go; the fields alias s
		if err != nil {
			return
		}
		for _, f := range fs {
			if f.wire == 2 {
				r.payload(f.b, depth+1, protoStr)
			}
		}
	}
}

func (r *redactor) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// KVPlaceholder is what --redact-kv-values writes over a KV value: n bytes
// of "redacted " repeated, which tell nothing but the value's length.
func KVPlaceholder(n int) []byte {
	const word = "redacted "
	b := make([]byte, n)
	for i := range b {
		b[i] = word[i%len(word)]
	}
	return b
}

// NewStandIn returns the StandIn of one redaction run: the stand-in of a
// secret is derived from HMAC-SHA256(key, secret), so equal secrets get
// equal stand-ins (two records that shared a secret still share it, and
// the second pass of a rewrite writes what the first sized), while the
// stand-in carries nothing of the secret to anyone without key; give a
// fresh random key per run and forget it. Shapes, each exactly the
// secret's length:
//
//   - a PEM private key (a value holding "PRIVATE KEY-----") becomes a PEM
//     block "-----BEGIN REDACTED PRIVATE KEY-----" … "-----END REDACTED
//     PRIVATE KEY-----" whose body is base64 characters in lines of 64
//     (when the value is too short for the armour, the next rule applies);
//   - a hex string, dashes and colons allowed (a UUID: ACL SecretIDs,
//     peering secrets, the management token), stays one: each hex digit
//     becomes a hex digit of the same case, dashes and colons stay;
//   - anything else becomes letters and digits.
//
// A stand-in never equals its secret.
func NewStandIn(key []byte) StandIn {
	key = bytes.Clone(key)
	return func(secret []byte) []byte {
		for salt := uint64(0); ; salt++ {
			out := standIn(key, secret, salt)
			if !bytes.Equal(out, secret) || salt > 16 {
				return out
			}
		}
	}
}

const (
	pemHead   = "-----BEGIN REDACTED PRIVATE KEY-----\n"
	pemFoot   = "\n-----END REDACTED PRIVATE KEY-----"
	alnum     = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	base64Chr = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	hexLower  = "0123456789abcdef"
	hexUpper  = "0123456789ABCDEF"
)

// keyStream yields the bytes SHA-256(HMAC(key, salt‖secret) ‖ counter).
type keyStream struct {
	seed  []byte
	block [sha256.Size]byte
	ctr   uint64
	i     int
}

func newKeyStream(key, secret []byte, salt uint64) *keyStream {
	m := hmac.New(sha256.New, key)
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], salt)
	m.Write(s[:])
	m.Write(secret)
	return &keyStream{seed: m.Sum(nil), i: sha256.Size}
}

func (k *keyStream) next() byte {
	if k.i == sha256.Size {
		h := sha256.New()
		h.Write(k.seed)
		var c [8]byte
		binary.BigEndian.PutUint64(c[:], k.ctr)
		h.Write(c[:])
		h.Sum(k.block[:0])
		k.ctr++
		k.i = 0
	}
	b := k.block[k.i]
	k.i++
	return b
}

func (k *keyStream) pick(alphabet string) byte { return alphabet[int(k.next())%len(alphabet)] }

func standIn(key, secret []byte, salt uint64) []byte {
	ks := newKeyStream(key, secret, salt)
	out := make([]byte, len(secret))
	if bytes.Contains(secret, []byte(pemPrivateKey)) {
		foot := pemFoot
		if bytes.HasSuffix(secret, []byte("\n")) {
			foot += "\n"
		}
		if body := len(secret) - len(pemHead) - len(foot); body >= 0 {
			p := copy(out, pemHead)
			for i := 0; i < body; i++ {
				if i%65 == 64 && i != body-1 {
					out[p] = '\n'
				} else {
					out[p] = ks.pick(base64Chr)
				}
				p++
			}
			copy(out[p:], foot)
			return out
		}
	}
	if isHexish(secret) {
		for i, c := range secret {
			switch {
			case c == '-' || c == ':':
				out[i] = c
			case c >= 'A' && c <= 'F':
				out[i] = ks.pick(hexUpper)
			default:
				out[i] = ks.pick(hexLower)
			}
		}
		return out
	}
	for i := range out {
		out[i] = ks.pick(alnum)
	}
	return out
}

// isHexish: hex digits, dashes and colons, at least one digit.
func isHexish(s []byte) bool {
	digits := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			digits++
		case c == '-' || c == ':':
		default:
			return false
		}
	}
	return digits > 0
}

// Secrets returns every value of a record the secrets policy masks (what
// Mask replaces by a Fingerprint), each once: what RedactRecord replaces,
// and what a test searches a redacted file for. KVS and Tombstone records
// have none.
func Secrets(rec *Record) [][]byte {
	if len(rec.Raw) < 2 {
		return nil
	}
	tree, _ := contentTree(rec.Type, rec.Value())
	if tree == nil {
		return nil
	}
	seen := map[string]bool{}
	var out [][]byte
	maskWith(rec.Type, tree, func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, []byte(s))
		}
	})
	return out
}
