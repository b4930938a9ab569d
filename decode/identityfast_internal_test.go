package decode

import (
	"os"
	"testing"
)

// slowIdentity is Identity without the fast path.
func slowIdentity(rec *Record) (string, error) {
	v, err := DecodeAll(rec.Value())
	if err != nil {
		return "", err
	}
	return identityFromValue(rec.Type, &v), nil
}

func identityFixtureRecords(t testing.TB) [][]byte {
	var out [][]byte
	for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-1.13.9/after.snap",
		"../fixtures/consul-testdata/backupWithKV.snap"} {
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for s.Next() {
			out = append(out, append([]byte(nil), s.Record().Raw...))
		}
		s.Close()
	}
	return out
}

func checkIdentityFast(t *testing.T, raw []byte) bool {
	t.Helper()
	rec := &Record{Type: MessageType(raw[0]), Raw: raw}
	fast, ok := identityFast(rec)
	if !ok {
		return false
	}
	slow, err := slowIdentity(rec)
	if err != nil || slow != fast {
		t.Fatalf("type %s value % x: fast %q, generic %q (%v)", rec.Type, raw[1:], fast, slow, err)
	}
	return true
}

func TestIdentityFastMatches(t *testing.T) {
	var fast int
	for _, raw := range identityFixtureRecords(t) {
		if checkIdentityFast(t, raw) {
			fast++
		}
		for i := 1; i < len(raw) && i < 120; i++ {
			for _, x := range []byte{0x00, 0x80, 0xa1, 0xc0, 0xc1, 0xda, 0xff} {
				m := append([]byte(nil), raw...)
				m[i] = x
				checkIdentityFast(t, m)
			}
		}
	}
	if fast < 50 {
		t.Errorf("fast path taken for only %d records", fast)
	}
	// Enterprise qualifiers and odd shapes, built by hand.
	str := func(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	for _, raw := range [][]byte{
		cat([]byte{byte(TypeKVS), 0x83}, str("Key"), str("a/b"), str("Namespace"), str("ns1"), str("Partition"), str("p1")),
		cat([]byte{byte(TypeRegister), 0x84}, str("Node"), str("n1"), str("PeerName"), str("peer"), str("Partition"), str("p"), str("Check"),
			[]byte{0x82}, str("CheckID"), str("c1"), str("Namespace"), str("ns")),
		cat([]byte{byte(TypeRegister), 0x82}, str("Node"), str("n1"), str("Service"), []byte{0xc0}),
		cat([]byte{byte(TypeACLToken), 0x81}, str("AccessorID"), []byte{0x05}),
		cat([]byte{byte(TypeIndex), 0x82}, str("Key"), str("k1"), str("Key"), str("k2")),
	} {
		if !checkIdentityFast(t, raw) {
			t.Errorf("fast path declined % x", raw)
		}
	}
}

func FuzzIdentityFast(f *testing.F) {
	for _, raw := range identityFixtureRecords(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 0 {
			checkIdentityFast(t, raw)
		}
	})
}
