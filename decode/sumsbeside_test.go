package decode_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// An extracted archive (state.bin, meta.json and SHA256SUMS in one
// directory) is verified by its SHA256SUMS, both ways, as the archive is.
func TestStateBinWithSumsBeside(t *testing.T) {
	f := loadFixture(t, fixtureKV)
	good := string(sumsOf(f.meta, f.state))
	for _, c := range []struct {
		name  string
		sums  *string // nil: no SHA256SUMS
		state []byte
		want  decode.Integrity
		is    error
	}{
		{name: "no SHA256SUMS", state: f.state, want: decode.Unverifiable},
		{name: "matching SHA256SUMS", sums: &good, state: f.state, want: decode.Verified},
		{name: "state.bin changed", sums: &good, state: append(append([]byte(nil), f.state[:len(f.state)-1]...), f.state[len(f.state)-1]^1), want: decode.Failed, is: decode.ErrChecksumMismatch},
		{name: "state.bin not listed", sums: ptr(strings.SplitAfter(good, "\n")[0]), state: f.state, want: decode.Failed, is: decode.ErrMissingHash},
		{name: "another file listed", sums: ptr(good + strings.Repeat("ab", 32) + "  other.bin\n"), state: f.state, want: decode.Failed, is: decode.ErrUnlistedHash},
		{name: "empty SHA256SUMS", sums: ptr(""), state: f.state, want: decode.Failed, is: decode.ErrMissingHash},
		{name: "malformed SHA256SUMS", sums: ptr("nonsense\n"), state: f.state, want: decode.Failed, is: decode.ErrChecksumList},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(name string, b []byte) {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(decode.MemberMeta, f.meta)
			write(decode.MemberState, c.state)
			if c.sums != nil {
				write(decode.MemberSums, []byte(*c.sums))
			}
			for _, path := range []string{dir, filepath.Join(dir, decode.MemberState)} {
				s, err := decode.Open(path, decode.Options{})
				if err != nil {
					t.Fatal(err)
				}
				r := drain(s)
				s.Close()
				if r.integrity != c.want || (c.is == nil) != (r.err == nil) || c.is != nil && !errors.Is(r.err, c.is) {
					t.Errorf("%s: integrity %v, err %v; want %v, %v", path, r.integrity, r.err, c.want, c.is)
				}
				if r.records == 0 {
					t.Errorf("%s: no records", path)
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

// A raw state.bin under another name is read as one when its meta.json is
// beside it; without meta.json it is not a snapshot, and says so.
func TestStateBinOtherName(t *testing.T) {
	f := loadFixture(t, fixtureKV)
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.bin")
	if err := os.WriteFile(path, f.state, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := decode.Open(path, decode.Options{})
	var ns *decode.NotSnapshotError
	if !errors.As(err, &ns) || !strings.HasPrefix(ns.Looks, "a raw state.bin without its meta.json") || decode.IsDamage(err) {
		t.Fatalf("without meta.json: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, decode.MemberMeta), f.meta, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := drain(s); r.err != nil || r.records == 0 || s.Form != decode.FormStateBin {
		t.Errorf("with meta.json: %d records, err %v, form %v", r.records, r.err, s.Form)
	}
}
