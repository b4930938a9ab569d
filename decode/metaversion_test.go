package decode_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/snaptool/snaptool/decode"
)

// TestMetaVersion: a meta.json Version outside raft's supported range
// (raft.SnapshotVersionMin..Max, 0 and 1 today) is a meta.json error that
// says a restore would refuse it, in the archive and the raw state.bin form.
func TestMetaVersion(t *testing.T) {
	f := loadFixture(t, fixtureBasic)
	cases := []struct {
		version int
		bad     bool
	}{
		{int(raft.SnapshotVersionMin), false},
		{int(raft.SnapshotVersionMax), false},
		{int(raft.SnapshotVersionMax) + 1, true},
		{99, true},
		{int(raft.SnapshotVersionMin) - 1, true},
	}
	for _, c := range cases {
		meta := metaWith(t, f.meta, map[string]any{"Version": c.version})
		forms := map[string]func() *result{
			"archive": func() *result {
				return drainArchive(archiveOf(t, f.mtime, meta, f.state), decode.Options{})
			},
			"state.bin": func() *result {
				s, err := decode.NewStateBin(strings.NewReader(string(f.state)), meta, decode.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return drain(s)
			},
		}
		for form, run := range forms {
			r := run()
			got := errors.Is(r.err, decode.ErrMetaVersion)
			if got != c.bad {
				t.Errorf("%s, Version %d: ErrMetaVersion %v, want %v (errors: %v)", form, c.version, got, c.bad, r.err)
				continue
			}
			if !c.bad {
				continue
			}
			var ae *decode.ArchiveError
			if !errors.As(r.err, &ae) || ae.Layer != "meta.json" {
				t.Errorf("%s, Version %d: not a meta.json layer error: %v", form, c.version, r.err)
			}
			if msg := r.err.Error(); !strings.Contains(msg, "restore would refuse") {
				t.Errorf("%s, Version %d: message gives no reason: %q", form, c.version, msg)
			}
			if r.records == 0 {
				t.Errorf("%s, Version %d: records not read (the version is a finding, not a stop)", form, c.version)
			}
		}
	}
}
