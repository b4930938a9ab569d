package rewrite

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// inflate is the whole decompressed archive: tar headers, meta.json,
// state.bin and SHA256SUMS, every byte a reader of the file gets.
func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// needles are the forms of a value searched for: the bytes, and their
// standard and URL base64 encodings (padded and not).
func needles(v []byte) [][]byte {
	return [][]byte{v, []byte(base64.StdEncoding.EncodeToString(v)), []byte(base64.RawStdEncoding.EncodeToString(v)),
		[]byte(base64.URLEncoding.EncodeToString(v)), []byte(base64.RawURLEncoding.EncodeToString(v))}
}

// minSearched is the shortest value searched for in a whole archive: a
// shorter one ("1", "true") occurs in any file by chance.
const minSearched = 8

// TestRedactFixtures: `rewrite --redact` (and --redact-kv-values) of every
// real snapshot: the decompressed output holds none of the input's secrets
// (nor KV values with kvValues) in any form, it verifies, and it has the
// input's records, types and sizes in the same order; only records with
// secrets changed.
func TestRedactFixtures(t *testing.T) {
	paths, _ := filepath.Glob("../fixtures/consul-*/*.snap")
	if len(paths) < 6 {
		t.Fatalf("only %d fixture snapshots", len(paths))
	}
	searched := 0
	for _, path := range paths {
		for _, kv := range []bool{false, true} {
			name := strings.TrimPrefix(path, "../fixtures/")
			if kv {
				name += "/kv-values"
			}
			t.Run(name, func(t *testing.T) {
				tr, err := Redaction(kv)
				if err != nil {
					t.Fatal(err)
				}
				in := openSnap(t, path)
				b, st := run(t, path, Options{Transform: tr})
				out := archiveSnap(t, b)
				if out.integrity != decode.Verified || len(out.recs) != len(in.recs) || out.stateLen != in.stateLen || !bytes.Equal(out.header, in.header) {
					t.Fatalf("output: %v, %d records, %d bytes; input %d records, %d bytes", out.integrity, len(out.recs), out.stateLen, len(in.recs), in.stateLen)
				}
				var secrets, values [][]byte
				changed := int64(0)
				for i, r := range in.recs {
					o := out.recs[i]
					if o.t != r.t || len(o.raw) != len(r.raw) {
						t.Fatalf("record %d: %s of %d bytes, input %s of %d", i+1, o.t, len(o.raw), r.t, len(r.raw))
					}
					rs := decode.Secrets(&decode.Record{Type: r.t, Raw: r.raw})
					secrets = append(secrets, rs...)
					if kv && r.t == decode.TypeKVS {
						d, err := decode.DecodeRecord(&decode.Record{Type: r.t, Raw: r.raw})
						if err != nil {
							t.Fatal(err)
						}
						if v := d.Data.(*decode.DirEntry).Value; len(v) > 0 {
							values = append(values, v)
						}
					}
					if !bytes.Equal(o.raw, r.raw) {
						changed++
					} else if len(rs) > 0 {
						t.Errorf("record %d (%s) has secrets and is unchanged", i+1, r.t)
					}
				}
				if changed != st.Transformed {
					t.Errorf("%d records differ, Stats.Transformed %d", changed, st.Transformed)
				}
				whole := inflate(t, b)
				for _, s := range secrets {
					if len(s) < minSearched {
						continue
					}
					searched++
					for _, n := range needles(s) {
						if bytes.Contains(whole, n) {
							t.Errorf("the output holds a secret of %d bytes (form %.12q…)", len(s), n)
						}
					}
				}
				// A KV value may also be data outside the KV values (a
				// lock's value is a key's last segment, a description):
				// the output may hold it only as often as the input holds
				// it outside the values.
				inWhole := inflate(t, mustReadFile(t, path))
				for _, v := range values {
					if len(v) < minSearched {
						continue
					}
					searched++
					for _, n := range needles(v) {
						outside := bytes.Count(inWhole, n)
						for _, w := range values {
							outside -= bytes.Count(w, n)
						}
						if got := bytes.Count(whole, n); got > max(outside, 0) {
							t.Errorf("the output holds a KV value of %d bytes %d times, the input outside KV values %d (form %.12q…)", len(v), got, outside, n)
						}
					}
				}
			})
		}
	}
	if searched < 100 {
		t.Errorf("only %d values searched for: the test checks too little", searched)
	}
}

// TestRedactSharedAcrossRecords: in the 1.14.11 fixture the servers'
// management token (SystemMetadata server-management-token) is also an ACL
// token's SecretID... when it is; either way a secret that occurs in
// several records of a snapshot has one stand-in in the output.
func TestRedactSharedAcrossRecords(t *testing.T) {
	tr, err := Redaction(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"../fixtures/consul-1.14.11/after.snap", fixBefore} {
		in := openSnap(t, path)
		b, _ := run(t, path, Options{Transform: tr})
		out := archiveSnap(t, b)
		// where each secret occurred in the input, and what stands there now
		standIn := map[string]string{}
		shared := 0
		for i, r := range in.recs {
			for _, s := range decode.Secrets(&decode.Record{Type: r.t, Raw: r.raw}) {
				at := bytes.Index(r.raw, s)
				if at < 0 {
					continue // inside a wrapper whose bytes differ (never for these fixtures' UUIDs)
				}
				got := string(out.recs[i].raw[at : at+len(s)])
				if prev, ok := standIn[string(s)]; ok {
					shared++
					if prev != got {
						t.Errorf("%s record %d: a shared secret got another stand-in", path, i+1)
					}
				}
				standIn[string(s)] = got
			}
		}
		t.Logf("%s: %d secrets, %d occurrences in a second record", path, len(standIn), shared)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
