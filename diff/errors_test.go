package diff

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// A damaged input B: Run's error names input B (InputError, and its text)
// and gives the damaged record back through errors.As as a
// *decode.RecordError, wrapped once, whatever part of the diff found it.
func TestDamagedInputRecordError(t *testing.T) {
	good := stateBin(kvRec("a", "1", 1), kvRec("b", "2", 1), kvRec("c", "3", 1), chunking())
	// deep: a value nested beyond decode.MaxDepth (no identity, no decode).
	deep := append(bytes.Repeat([]byte{0x91}, decode.MaxDepth+10), 0xc0)
	var undecodable bytes.Buffer
	enc(&undecodable, om{{"LastIndex", 100}})
	for i, r := range []rec{kvRec("a", "1", 1), kvRec("b", "2", 1)} {
		undecodable.WriteByte(byte(r.t))
		if i == 1 {
			undecodable.Write(deep)
			continue
		}
		enc(&undecodable, r.v)
	}
	for _, r := range []rec{kvRec("c", "3", 1), chunking()} {
		undecodable.WriteByte(byte(r.t))
		enc(&undecodable, r.v)
	}
	// A KVS record whose Value is a map: it has an identity and a sort
	// key, so it is matched with A's "b", but its typed decode fails.
	badValue := stateBin(kvRec("a", "1", 1), rec{decode.TypeKVS, om{{"Key", "b"}, {"Value", om{{"x", 1}}}}}, kvRec("c", "3", 1), chunking())
	for _, tc := range []struct {
		name  string
		b     []byte
		wantN int64
	}{
		{"stream cut inside record 3", good[:len(good)-20], 3},
		{"record 2 has no identity", undecodable.Bytes(), 2},
		{"record 2 fails typed decode", badValue, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runDiff(t, good, tc.b, Options{})
			if err == nil {
				t.Fatal("no error for a damaged B")
			}
			var re *decode.RecordError
			if !errors.As(err, &re) {
				t.Fatalf("errors.As(*decode.RecordError) false for %v", err)
			}
			if re.N != tc.wantN || re.Member != decode.MemberState {
				t.Errorf("RecordError = %s record %d, want %s record %d (%v)", re.Member, re.N, decode.MemberState, tc.wantN, err)
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Input != "B" || ie.Name != "B" {
				t.Errorf("error does not say it is input B: %#v (%v)", ie, err)
			}
			if !decode.IsDamage(err) {
				t.Errorf("not classified as damage: %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "B (B): state.bin record ") || strings.Count(msg, "record ") != 1 || strings.Contains(msg, "A (A)") {
				t.Errorf("error text %q: want one position, wrapped once with input B", msg)
			}
		})
	}
}
