package decode

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

const (
	testdataDir = "../fixtures/consul-testdata"
	fixtureDir  = "../fixtures/consul-1.13.9"
)

type typeStat struct {
	Count int64
	Sum   int64
}

// scanAll reads a whole input and returns per-type stats, the total size
// (bytes consumed through the last record, as Consul counts it) and the
// reconstructed state.bin (header raw + every record's raw bytes).
func scanAll(t *testing.T, path string) (map[string]typeStat, int64, []byte, *Snapshot) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stats := map[string]typeStat{}
	var total int64
	var rebuilt bytes.Buffer
	h, err := s.Header()
	if err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	rebuilt.Write(h.Raw)
	for s.Next() {
		r := s.Record()
		if s.Integrity() != Pending {
			t.Fatalf("%s: record %d handed out with integrity %v, want pending", path, r.N, s.Integrity())
		}
		st := stats[r.Name()]
		st.Count++
		st.Sum += r.Size
		stats[r.Name()] = st
		total += r.Size
		if r.Offset != int64(rebuilt.Len()) {
			t.Fatalf("%s: record %d offset %d, want %d", path, r.N, r.Offset, rebuilt.Len())
		}
		rebuilt.Write(r.Raw)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return stats, total, rebuilt.Bytes(), s
}

// stateBinOf extracts state.bin from an archive with the standard library, independently of this package.
func stateBinOf(t *testing.T, path string) []byte {
	t.Helper()
	if filepath.Base(path) == MemberState {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		b, err := os.ReadFile(filepath.Join(path, MemberState))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no state.bin: %v", path, err)
		}
		if h.Name == MemberState {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// TestConsulTestdataStats checks per-type Count and Sum against the figures
// verified with Consul v1.16.0 for its own test snapshots (docs/FORMAT.md §12,
// whose pretty goldens show the same numbers rounded).
func TestConsulTestdataStats(t *testing.T) {
	backup := map[string]typeStat{
		"Register": {3, 1750}, "ConnectCA": {1, 1258}, "ConnectCAProviderState": {1, 1174},
		"Index": {12, 344}, "Autopilot": {1, 199}, "ConnectCAConfig": {1, 197},
		"FederationState": {1, 139}, "SystemMetadata": {1, 68}, "ChunkingState": {1, 12},
	}
	withKV := map[string]typeStat{
		"KVS": {27, 12589}, "Register": {5, 3493}, "Index": {11, 285}, "Autopilot": {1, 199},
		"Session": {1, 199}, "CoordinateBatchUpdate": {1, 166}, "Tombstone": {2, 146},
		"FederationState": {1, 139}, "ChunkingState": {1, 12},
	}
	tests := []struct {
		file  string
		want  map[string]typeStat
		total int64
	}{
		{"backup.snap", backup, 5141},
		{"raw/state.bin", backup, 5141},
		{"backupWithKV.snap", withKV, 17228},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, total, _, _ := scanAll(t, filepath.Join(testdataDir, tc.file))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("stats\n got %v\nwant %v", got, tc.want)
			}
			if total != tc.total {
				t.Errorf("total %d, want %d", total, tc.total)
			}
		})
	}
}

// consulJSON is the shape of `consul snapshot inspect -format json`.
type consulJSON struct {
	Meta struct {
		ID      string
		Size    int64
		Index   uint64
		Term    uint64
		Version int
	}
	Stats []struct {
		Name  string
		Sum   int64
		Count int64
	}
	TotalSize int64
}

// fixtureInputs lists the 1.13.9 fixtures with the Consul JSON golden made for each.
func fixtureInputs(t *testing.T) map[string]string {
	t.Helper()
	in := map[string]string{
		filepath.Join(fixtureDir, "before.snap"): filepath.Join(fixtureDir, "before.inspect.json.golden"),
		filepath.Join(fixtureDir, "after.snap"):  filepath.Join(fixtureDir, "after.inspect.json.golden"),
	}
	dirs, _ := filepath.Glob(filepath.Join(fixtureDir, "datadir", "*-*-*"))
	for _, d := range dirs {
		in[d] = filepath.Join(fixtureDir, "datadir", "raw.inspect.json.golden")
		in[filepath.Join(d, MemberState)] = filepath.Join(fixtureDir, "datadir", "raw.inspect.json.golden")
	}
	if len(dirs) == 0 {
		t.Fatalf("no data-dir snapshot under %s/datadir", fixtureDir)
	}
	return in
}

// TestFixtureStatsEqualConsul checks every real 1.13.9 fixture against the
// JSON that real `consul snapshot inspect` printed for it: exact Count and
// Sum per type, and TotalSize.
func TestFixtureStatsEqualConsul(t *testing.T) {
	for input, goldenPath := range fixtureInputs(t) {
		t.Run(strings.TrimPrefix(input, fixtureDir+"/"), func(t *testing.T) {
			b, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatal(err)
			}
			var want consulJSON
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got, total, _, s := scanAll(t, input)
			wantStats := map[string]typeStat{}
			for _, st := range want.Stats {
				wantStats[st.Name] = typeStat{st.Count, st.Sum}
			}
			if fmt.Sprint(got) != fmt.Sprint(wantStats) {
				t.Errorf("stats\n got %v\nwant %v", got, wantStats)
			}
			if total != want.TotalSize {
				t.Errorf("total %d, want %d", total, want.TotalSize)
			}
			m := s.Meta()
			if m.ID != want.Meta.ID || m.Size != want.Meta.Size || m.Index != want.Meta.Index || m.Term != want.Meta.Term || m.Version != raftVersion(want.Meta.Version) {
				t.Errorf("meta %+v, want %+v", m.SnapshotMeta, want.Meta)
			}
		})
	}
}

func raftVersion(v int) raft.SnapshotVersion { return raft.SnapshotVersion(v) }

// TestReconstructStateBin proves that the header's raw bytes plus every
// record's raw bytes reproduce state.bin byte for byte, for every fixture.
func TestReconstructStateBin(t *testing.T) {
	inputs := []string{
		filepath.Join(testdataDir, "backup.snap"),
		filepath.Join(testdataDir, "backupWithKV.snap"),
		filepath.Join(testdataDir, "raw", "state.bin"),
	}
	for in := range fixtureInputs(t) {
		inputs = append(inputs, in)
	}
	sort.Strings(inputs)
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			_, _, rebuilt, s := scanAll(t, in)
			want := stateBinOf(t, in)
			if !bytes.Equal(rebuilt, want) {
				t.Fatalf("rebuilt %d bytes, state.bin has %d; first difference at %d", len(rebuilt), len(want), firstDiff(rebuilt, want))
			}
			if s.StateSize() != int64(len(want)) {
				t.Errorf("StateSize %d, want %d", s.StateSize(), len(want))
			}
			switch s.Form {
			case FormArchive, FormDataDir:
				if s.Integrity() != Verified {
					t.Errorf("integrity %v, want verified", s.Integrity())
				}
			case FormStateBin:
				if s.Integrity() != Unverifiable {
					t.Errorf("integrity %v, want unverifiable (no CRC in meta.json)", s.Integrity())
				}
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// buildArchive packs members as Consul does (docs/FORMAT.md §2.6), in the given order.
func buildArchive(t *testing.T, members []member) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o600, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type member struct {
	name string
	data []byte
}

func sums(meta, state []byte) []byte {
	return []byte(fmt.Sprintf("%x  meta.json\n%x  state.bin\n", sha256.Sum256(meta), sha256.Sum256(state)))
}

// TestUnverifiedUntilChecksum: records handed out before SHA256SUMS is
// checked are Pending, and when the checksum fails the final error says
// that the delivered records are unverified — whichever order the members
// come in.
func TestUnverifiedUntilChecksum(t *testing.T) {
	state := stateBinOf(t, filepath.Join(testdataDir, "backup.snap"))
	meta, err := os.ReadFile(filepath.Join(testdataDir, "raw", "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	good := sums(meta, state)
	wrong := []byte(fmt.Sprintf("%x  meta.json\n%x  state.bin\n", sha256.Sum256(meta), sha256.Sum256([]byte("other"))))
	tests := []struct {
		name      string
		members   []member
		wantState Integrity
		wantErr   error
	}{
		{"consul order, good", []member{{MemberMeta, meta}, {MemberState, state}, {MemberSums, good}}, Verified, nil},
		{"consul order, wrong sum", []member{{MemberMeta, meta}, {MemberState, state}, {MemberSums, wrong}}, Failed, ErrChecksumMismatch},
		{"sums first, wrong sum", []member{{MemberSums, wrong}, {MemberMeta, meta}, {MemberState, state}}, Failed, ErrChecksumMismatch},
		{"meta last, good", []member{{MemberState, state}, {MemberSums, good}, {MemberMeta, meta}}, Verified, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewArchive(bytes.NewReader(buildArchive(t, tc.members)), Options{})
			n := 0
			for s.Next() {
				n++
				if got := s.Integrity(); got != Pending {
					t.Fatalf("record %d: integrity %v while streaming, want pending", n, got)
				}
			}
			if n != 22 {
				t.Errorf("records %d, want 22", n)
			}
			if got := s.Integrity(); got != tc.wantState {
				t.Errorf("integrity %v, want %v", got, tc.wantState)
			}
			err := s.Err()
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "22 records already delivered are unverified") {
				t.Errorf("error does not say the delivered records are unverified: %v", err)
			}
			var ae *ArchiveError
			if !errors.As(err, &ae) || ae.Member != MemberState || ae.Layer != "checksums" {
				t.Errorf("error not located at checksums/state.bin: %#v", ae)
			}
		})
	}
}

// TestDataDirCRC checks the CRC-64 of data-dir snapshots (docs/FORMAT.md §3.2 test vector).
func TestDataDirCRC(t *testing.T) {
	state := stateBinOf(t, filepath.Join(testdataDir, "raw", "state.bin"))
	metaBase := `{"Version":1,"ID":"2-13-1602222343947","Index":13,"Term":2,"Peers":"ka4xMjcuMC4wLjE6ODMwMA==","Configuration":{"Servers":[{"Suffrage":0,"ID":"a577b288-b354-770e-e909-da0972eb20e8","Address":"127.0.0.1:8300"}]},"ConfigurationIndex":1,"Size":5141,"CRC":"%s"}` + "\n"
	tests := []struct {
		name    string
		crc     string
		want    Integrity
		wantErr error
	}{
		{"good (r2Ovr2CgFQk= = af63afaf60a01509)", "r2Ovr2CgFQk=", Verified, nil},
		{"wrong", "AAAAAAAAAAA=", Failed, ErrCRCMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "2-13-1602222343947")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, MemberState), state, 0o600)
			os.WriteFile(filepath.Join(dir, MemberMeta), []byte(fmt.Sprintf(metaBase, tc.crc)), 0o600)
			// The snapshot dir itself, and its parent (newest snapshot), both open.
			for _, p := range []string{dir, filepath.Dir(dir)} {
				s, err := Open(p, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for s.Next() {
				}
				s.Close()
				if s.Form != FormDataDir || s.Integrity() != tc.want {
					t.Errorf("%s: form %v integrity %v, want data-dir %v", p, s.Form, s.Integrity(), tc.want)
				}
				if err := s.Err(); !errors.Is(err, tc.wantErr) && !(err == nil && tc.wantErr == nil) {
					t.Errorf("%s: error %v, want %v", p, err, tc.wantErr)
				}
			}
		})
	}
}
