package decode

import (
	"bytes"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-msgpack/codec"
)

var testKey = []byte("test key, fixed so that the tests are deterministic")

// protoField encodes one length-delimited protobuf field.
func protoLD(num int, b []byte) []byte {
	out := []byte{byte(num<<3 | 2)}
	n := len(b)
	for n >= 0x80 {
		out = append(out, byte(n)|0x80)
		n >>= 7
	}
	out = append(out, byte(n))
	return append(out, b...)
}

// masked renders a record's masked tree with every fingerprint made equal:
// two records whose only differences are secrets render the same.
func masked(t *testing.T, typ MessageType, value []byte) string {
	t.Helper()
	tree, _ := View(typ, value, false)
	b, err := marshalNoHTML(tree)
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`<masked sha256:[0-9a-f]{8}>`).ReplaceAllString(string(b), "<masked>")
}

// TestRedactRecord: each class of the policy is redacted in the record's
// bytes: the secret is gone, the length is the same, the record still
// decodes to the same masked view (so only secrets changed, and each is
// still where it was), and equal secrets get equal stand-ins.
func TestRedactRecord(t *testing.T) {
	sec := "s3cr3t-value-0123456789"
	uuid := "0b5b8d4e-77c1-4b1f-a7d2-7e3c9a0f5e21"
	cfgEntry := func(kind string, req map[string]any) []byte { return mpOf(t, string(mpOf(t, kind, req))) }
	peeringSecret := string(append(protoLD(1, []byte("peer-id")),
		append(protoLD(2, protoLD(1, []byte(uuid))), protoLD(3, append(protoLD(1, []byte(uuid)), protoLD(2, []byte(sec))...))...)...))
	tests := []struct {
		name    string
		typ     MessageType
		value   []byte
		secrets []string // must be gone
		keep    []string // must stay
		wantErr bool
	}{
		{name: "ACL token SecretID", typ: TypeACLToken, value: mpOf(t, map[string]any{"AccessorID": "acc-0001", "SecretID": uuid, "Description": "desc"}),
			secrets: []string{uuid}, keep: []string{"acc-0001", "desc"}},
		{name: "legacy ACL ID", typ: TypeACL, value: mpOf(t, map[string]any{"ID": sec, "Name": "legacy"}), secrets: []string{sec}, keep: []string{"legacy"}},
		{name: "management token", typ: TypeSystemMetadata, value: mpOf(t, map[string]any{"Key": "server-management-token", "Value": uuid}),
			secrets: []string{uuid}, keep: []string{"server-management-token"}},
		{name: "CA signing key", typ: TypeConnectCA, value: mpOf(t, map[string]any{"ID": "root", "SigningKey": testPEM, "SigningKeyID": "aa:bb"}),
			secrets: []string{testPEM, "MHcCAQEEIBody"}, keep: []string{"aa:bb"}},
		{name: "HTTP check headers", typ: TypeRegister, value: mpOf(t, map[string]any{"Node": "n1", "Check": map[string]any{"CheckID": "c", "Definition": map[string]any{
			"Header": map[string]any{"Authorization": []any{"Bearer " + sec}, "Accept": []any{"text/plain"}}}}}),
			secrets: []string{sec}, keep: []string{"text/plain"}},
		{name: "config entry token and wrapped entry", typ: TypeConfigEntry, value: cfgEntry("proxy-defaults", map[string]any{"Token": uuid,
			"Entry": string(mpOf(t, map[string]any{"Kind": "proxy-defaults", "Name": "global", "Config": map[string]any{"api_key": sec}}))}),
			secrets: []string{uuid, sec}, keep: []string{"proxy-defaults", "global"}},
		{name: "config entry failing typed decode", typ: TypeConfigEntry, value: cfgEntry("service-defaults", map[string]any{"Datacenter": 42, "Token": sec}),
			secrets: []string{sec}, keep: []string{"service-defaults"}},
		{name: "peering secret protobuf", typ: TypePeeringSecret, value: mpOf(t, peeringSecret), secrets: []string{uuid, sec}, keep: []string{"peer-id"}},
		{name: "opaque peering secret", typ: TypePeeringSecret, value: mpOf(t, "\xff\xff\xff"+sec), secrets: []string{sec}},
		{name: "PEM as a map key", typ: 99, value: mpOf(t, map[string]any{testPEM: "x", "n": "plain"}), secrets: []string{"MHcCAQEEIBody"}, keep: []string{"plain"}},
		{name: "config entry request not msgpack", typ: TypeConfigEntry, value: mpOf(t, string(append(mpOf(t, "kind"), append([]byte{0xc1}, sec...)...))), wantErr: true},
		{name: "KV value untouched", typ: TypeKVS, value: mpOf(t, map[string]any{"Key": "token", "Value": []byte(testPEM)}), keep: []string{testPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &Record{Type: tt.typ, Raw: append([]byte{byte(tt.typ)}, tt.value...)}
			orig := bytes.Clone(rec.Raw)
			out, changed, err := RedactRecord(rec, NewStandIn(testKey), false)
			if !bytes.Equal(rec.Raw, orig) {
				t.Fatal("the input record was modified")
			}
			if tt.wantErr {
				if !errors.Is(err, ErrRedact) {
					t.Fatalf("err = %v, want ErrRedact", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed != (len(tt.secrets) > 0) {
				t.Errorf("changed = %v with %d secrets", changed, len(tt.secrets))
			}
			if len(out) != len(orig) {
				t.Fatalf("length %d, want %d", len(out), len(orig))
			}
			for _, s := range tt.secrets {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("secret %q left in the redacted record", s)
				}
			}
			for _, s := range tt.keep {
				if !bytes.Contains(out, []byte(s)) {
					t.Errorf("%q is gone from the redacted record", s)
				}
			}
			if tt.name != "opaque peering secret" { // its stand-in is text, no longer an opaque payload
				if got, want := masked(t, tt.typ, out[1:]), masked(t, tt.typ, orig[1:]); got != want {
					t.Errorf("the masked views differ:\nredacted %s\noriginal %s", got, want)
				}
			}
			again, _, err := RedactRecord(rec, NewStandIn(testKey), false)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("not deterministic under one key: %v", err)
			}
		})
	}
}

// TestRedactShared: a secret shared by two records (a token's SecretID and
// the management token in SystemMetadata) gets one stand-in.
func TestRedactShared(t *testing.T) {
	uuid := "0b5b8d4e-77c1-4b1f-a7d2-7e3c9a0f5e21"
	si := NewStandIn(testKey)
	a := &Record{Type: TypeACLToken, Raw: append([]byte{byte(TypeACLToken)}, mpOf(t, map[string]any{"AccessorID": "a", "SecretID": uuid})...)}
	b := &Record{Type: TypeSystemMetadata, Raw: append([]byte{byte(TypeSystemMetadata)}, mpOf(t, map[string]any{"Key": "server-management-token", "Value": uuid})...)}
	ra, _, err := RedactRecord(a, si, false)
	if err != nil {
		t.Fatal(err)
	}
	rb, _, err := RedactRecord(b, si, false)
	if err != nil {
		t.Fatal(err)
	}
	want := si([]byte(uuid))
	if !bytes.Contains(ra, want) || !bytes.Contains(rb, want) {
		t.Errorf("the shared secret has different stand-ins: %q / %q", ra, rb)
	}
}

// TestRedactKVValues: with kvValues a KVS record's Value becomes the
// placeholder of the same length; the key and flags stay.
func TestRedactKVValues(t *testing.T) {
	val := "a KV value with data in it"
	rec := &Record{Type: TypeKVS, Raw: append([]byte{byte(TypeKVS)}, mpOf(t, map[string]any{"Key": "app/config", "Flags": 7, "Value": []byte(val)})...)}
	out, changed, err := RedactRecord(rec, NewStandIn(testKey), true)
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	if bytes.Contains(out, []byte(val)) || !bytes.Contains(out, KVPlaceholder(len(val))) || !bytes.Contains(out, []byte("app/config")) {
		t.Errorf("redacted KV record: %q", out)
	}
	d, err := DecodeRecord(&Record{Type: TypeKVS, Raw: out})
	if err != nil {
		t.Fatal(err)
	}
	if e := d.Data.(*DirEntry); e.Key != "app/config" || e.Flags != 7 || string(e.Value) != string(KVPlaceholder(len(val))) {
		t.Errorf("decoded: %+v", e)
	}
	tomb := &Record{Type: TypeTombstone, Raw: append([]byte{byte(TypeTombstone)}, mpOf(t, map[string]any{"Key": "gone"})...)}
	if _, changed, err := RedactRecord(tomb, NewStandIn(testKey), true); changed || err != nil {
		t.Errorf("tombstone: changed %v, err %v", changed, err)
	}
}

// TestStandInShapes: each shape keeps the length and the form, never
// equals the secret, is the same for the same key and differs for another.
func TestStandInShapes(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	pem := "-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat(strings.Repeat("Q", 64)+"\n", 20) + "-----END RSA PRIVATE KEY-----\n"
	tests := []struct {
		secret string
		re     *regexp.Regexp
	}{
		{"0b5b8d4e-77c1-4b1f-a7d2-7e3c9a0f5e21", uuidRE},
		{"DEADBEEF00", regexp.MustCompile(`^[0-9A-F]{10}$`)},
		{pem, regexp.MustCompile(`(?s)^-----BEGIN REDACTED PRIVATE KEY-----\n([A-Za-z0-9+/]{64}\n)+[A-Za-z0-9+/]*\n-----END REDACTED PRIVATE KEY-----\n$`)},
		{"short PRIVATE KEY-----", regexp.MustCompile(`^[A-Za-z0-9]{22}$`)},
		{"p@ssw0rd with spaces", regexp.MustCompile(`^[A-Za-z0-9]{20}$`)},
		{"\xff\x00binary", regexp.MustCompile(`^[A-Za-z0-9]{8}$`)},
		{"a", regexp.MustCompile(`^[A-Za-z0-9]$`)},
	}
	a, b := NewStandIn(testKey), NewStandIn([]byte("another key"))
	for _, tt := range tests {
		got := a([]byte(tt.secret))
		if len(got) != len(tt.secret) || !tt.re.Match(got) || string(got) == tt.secret {
			t.Errorf("stand-in of %q = %q", tt.secret, got)
		}
		if !bytes.Equal(a([]byte(tt.secret)), got) {
			t.Errorf("%q: not deterministic", tt.secret)
		}
		if len(tt.secret) > 4 && bytes.Equal(b([]byte(tt.secret)), got) {
			t.Errorf("%q: the same stand-in under another key", tt.secret)
		}
	}
}

// TestRedactFixtures: every record of every real snapshot redacts without
// error, keeps its length, and no secret the policy finds is left in it;
// records without secrets come back as they were.
func TestRedactFixtures(t *testing.T) {
	paths, _ := filepath.Glob("../fixtures/consul-*/*.snap")
	if len(paths) < 6 {
		t.Fatalf("only %d fixture snapshots", len(paths))
	}
	si := NewStandIn(testKey)
	total := 0
	for _, path := range paths {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
			rec := s.Record()
			secrets := Secrets(rec)
			out, changed, err := RedactRecord(rec, si, false)
			if err != nil {
				t.Errorf("%s record %d: %v", path, rec.N, err)
				continue
			}
			if changed != (len(secrets) > 0) || len(out) != len(rec.Raw) || !changed && &out[0] != &rec.Raw[0] {
				t.Errorf("%s record %d: changed %v with %d secrets, %d → %d bytes", path, rec.N, changed, len(secrets), len(rec.Raw), len(out))
			}
			for _, sec := range secrets {
				if len(sec) >= 6 && bytes.Contains(out, sec) {
					t.Errorf("%s record %d (%s): a secret is left", path, rec.N, rec.Type)
				}
			}
			if changed && masked(t, rec.Type, out[1:]) != masked(t, rec.Type, rec.Value()) {
				t.Errorf("%s record %d (%s): redaction changed more than secrets", path, rec.N, rec.Type)
			}
			total += len(secrets)
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	t.Logf("%d secrets in %d snapshots", total, len(paths))
	if total < 20 {
		t.Errorf("only %d secrets in the fixtures: the test checks too little", total)
	}
}

// FuzzRedactRecord: on any record bytes RedactRecord does not panic; an
// error wraps ErrRedact; a result has the input's length and type byte, is
// still one msgpack value when the input was, and equals the input when
// nothing changed.
func FuzzRedactRecord(f *testing.F) {
	uuid := "0b5b8d4e-77c1-4b1f-a7d2-7e3c9a0f5e21"
	for _, seed := range []struct {
		t MessageType
		v any
	}{
		{TypeACLToken, map[string]any{"AccessorID": "a", "SecretID": uuid}},
		{TypeSystemMetadata, map[string]any{"Key": "server-management-token", "Value": uuid}},
		{TypeACL, map[string]any{"ID": uuid}},
		{TypeConnectCA, map[string]any{"SigningKey": testPEM}},
		{TypeConfigEntry, string([]byte{0xa4, 'k', 'i', 'n', 'd', 0x81, 0xa5, 'T', 'o', 'k', 'e', 'n', 0xa3, 'a', 'b', 'c'})},
		{TypePeeringSecret, string(protoLD(2, protoLD(1, []byte(uuid))))},
	} {
		var h [1]byte
		h[0] = byte(seed.t)
		b := mpOfF(f, seed.v)
		f.Add(append(h[:], b...), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, kv bool) {
		if len(raw) == 0 {
			return
		}
		rec := &Record{Type: MessageType(raw[0]), Raw: raw}
		out, changed, err := RedactRecord(rec, NewStandIn(testKey), kv)
		if err != nil {
			if !errors.Is(err, ErrRedact) {
				t.Fatalf("error %v does not wrap ErrRedact", err)
			}
			return
		}
		if len(out) != len(raw) || out[0] != raw[0] || ValueEnd(out, 1) != len(out) && ValueEnd(raw, 1) == len(raw) {
			t.Fatalf("changed %v: %x → %x", changed, raw, out)
		}
		if !changed && !bytes.Equal(out, raw) {
			t.Fatal("unchanged but different")
		}
	})
}

func mpOfF(f *testing.F, v any) []byte {
	var b []byte
	h := &codec.MsgpackHandle{RawToString: true}
	if err := codec.NewEncoderBytes(&b, h).Encode(v); err != nil {
		f.Fatal(err)
	}
	return b
}
