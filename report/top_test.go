package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/internal/golden"

	"github.com/snaptool/snaptool/decode"
)

var topFixtures = []string{
	"../fixtures/consul-1.13.9/before.snap",
	"../fixtures/consul-1.13.9/after.snap",
	"../fixtures/consul-testdata/backupWithKV.snap",
	"../fixtures/consul-testdata/backup.snap",
}

func openFixture(t *testing.T, path string) *decode.Snapshot {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func runTop(t *testing.T, path string, opts TopOptions) *TopResult {
	t.Helper()
	r, errs := Top(context.Background(), openFixture(t, path), opts)
	if errs != nil {
		t.Fatalf("Top(%s): %v", path, errs)
	}
	return r
}

// oracleRec is one record as the test sees it, computed without Top.
type oracleRec struct {
	n      int64
	typ    decode.MessageType
	size   int64
	id     string
	key    string // KVS/Tombstone key
	valLen int
}

func readOracle(t *testing.T, path string) []oracleRec {
	t.Helper()
	s := openFixture(t, path)
	var out []oracleRec
	for s.Next() {
		rec := s.Record()
		id, err := decode.Identity(rec)
		if err != nil {
			t.Fatalf("%s: identity of record %d: %v", path, rec.N, err)
		}
		o := oracleRec{n: rec.N, typ: rec.Type, size: rec.Size, id: id}
		if rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone {
			d, err := decode.DecodeRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			o.key = d.Data.(*decode.DirEntry).Key
			o.valLen = len(d.Data.(*decode.DirEntry).Value)
		}
		out = append(out, o)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// TestTopLargestKeyFirst: on the 1.13.9 fixtures the largest record is
// the >64 KiB KV value, and top names it first.
func TestTopLargestKeyFirst(t *testing.T) {
	for _, f := range topFixtures[:2] {
		t.Run(filepath.Base(f), func(t *testing.T) {
			recs := readOracle(t, f)
			var big oracleRec
			for _, r := range recs {
				if r.typ == decode.TypeKVS && r.valLen > big.valLen {
					big = r
				}
			}
			if big.valLen <= 64<<10 {
				t.Fatalf("fixture has no KV value over 64 KiB (largest %d B)", big.valLen)
			}
			got := runTop(t, f, TopOptions{})
			if len(got.Largest) == 0 {
				t.Fatal("no largest records")
			}
			first := got.Largest[0]
			if first.Type != "KVS" || first.ID != big.key || first.Size != big.size || first.N != big.n {
				t.Errorf("first = %+v, want KVS %q (record %d, %d B)", first, big.key, big.n, big.size)
			}
		})
	}
}

// TestTopLargestMatchesBruteForce checks the heap against sorting every record.
func TestTopLargestMatchesBruteForce(t *testing.T) {
	cases := []struct {
		name  string
		n     int
		types []decode.MessageType
	}{
		{"default", 0, nil},
		{"n1", 1, nil},
		{"n3-register", 3, []decode.MessageType{decode.TypeRegister}},
		{"n100-all", 100, nil},
		{"kvs-and-index", 5, []decode.MessageType{decode.TypeKVS, decode.TypeIndex}},
	}
	for _, f := range topFixtures {
		recs := readOracle(t, f)
		for _, c := range cases {
			t.Run(filepath.Base(f)+"/"+c.name, func(t *testing.T) {
				var want []oracleRec
				for _, r := range recs {
					if len(c.types) == 0 || containsType(c.types, r.typ) {
						want = append(want, r)
					}
				}
				sort.SliceStable(want, func(i, j int) bool { return want[i].size > want[j].size })
				n := c.n
				if n == 0 {
					n = DefaultTopN
				}
				if len(want) > n {
					want = want[:n]
				}
				got := runTop(t, f, TopOptions{N: c.n, Types: c.types}).Largest
				if len(got) != len(want) {
					t.Fatalf("got %d records, want %d", len(got), len(want))
				}
				for i := range want {
					w := want[i]
					if got[i].N != w.n || got[i].Size != w.size || got[i].ID != w.id || got[i].Type != w.typ.String() {
						t.Errorf("#%d: got %+v, want record %d %s %q %d B", i, got[i], w.n, w.typ, w.id, w.size)
					}
				}
			})
		}
	}
}

func containsType(ts []decode.MessageType, t decode.MessageType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// consulInspectJSON is the part of `consul snapshot inspect -format json` we compare with.
type consulInspectJSON struct {
	Stats []struct {
		Name       string
		Sum, Count int64
	}
	StatsKV []struct {
		Name       string
		Sum, Count int64
	}
	TotalSize   int64
	TotalSizeKV int64
}

// TestTopAgainstConsulInspect compares the KV prefixes, totals, tombstone and
// session counts with what the real Consul 1.13.9 printed for the fixtures.
func TestTopAgainstConsulInspect(t *testing.T) {
	for _, name := range []string{"before", "after"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile("../fixtures/consul-1.13.9/" + name + ".inspect.json.golden")
			if err != nil {
				t.Fatal(err)
			}
			var want consulInspectJSON
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got := runTop(t, "../fixtures/consul-1.13.9/"+name+".snap", TopOptions{N: 1000, KVDepth: 2})
			if got.TotalSize != want.TotalSize {
				t.Errorf("TotalSize %d, Consul %d", got.TotalSize, want.TotalSize)
			}
			if got.KVTotal.Size != want.TotalSizeKV {
				t.Errorf("KV total %d, Consul %d", got.KVTotal.Size, want.TotalSizeKV)
			}
			if len(got.KVPrefixes) != len(want.StatsKV) {
				t.Fatalf("%d prefixes, Consul %d", len(got.KVPrefixes), len(want.StatsKV))
			}
			for i, w := range want.StatsKV {
				g := got.KVPrefixes[i]
				if g.Prefix != w.Name || g.Size != w.Sum || g.Count != w.Count {
					t.Errorf("prefix #%d: got %+v, Consul %+v", i, g, w)
				}
			}
			stat := map[string]int64{}
			statSum := map[string]int64{}
			for _, s := range want.Stats {
				stat[s.Name], statSum[s.Name] = s.Count, s.Sum
			}
			if got.Tombstones.Count != stat["Tombstone"] || got.Tombstones.Size != statSum["Tombstone"] {
				t.Errorf("tombstones %d/%d B, Consul %d/%d B", got.Tombstones.Count, got.Tombstones.Size, stat["Tombstone"], statSum["Tombstone"])
			}
			if got.Sessions != stat["Session"] {
				t.Errorf("sessions %d, Consul %d", got.Sessions, stat["Session"])
			}
			var sessSum, regSize int64
			for _, s := range got.SessionsPerNode {
				sessSum += s.Count
			}
			for _, n := range got.Nodes {
				regSize += n.Size
			}
			if sessSum != stat["Session"] {
				t.Errorf("sessions per node add up to %d, want %d", sessSum, stat["Session"])
			}
			if regSize != statSum["Register"] {
				t.Errorf("node sizes add up to %d, Consul's Register sum is %d", regSize, statSum["Register"])
			}
		})
	}
}

// TestTopNodesAndTombstones checks node loads against the identities of the
// Register records, and tombstone bounds against the records themselves.
func TestTopNodesAndTombstones(t *testing.T) {
	for _, f := range topFixtures {
		t.Run(filepath.Base(f), func(t *testing.T) {
			recs := readOracle(t, f)
			type load struct{ svc, chk int64 }
			want := map[string]*load{}
			var tombKeys []string
			for _, r := range recs {
				switch r.typ {
				case decode.TypeRegister:
					id, peer, _ := strings.Cut(r.id, "?peer=")
					peer, _, _ = strings.Cut(peer, "&")
					kind, rest, _ := strings.Cut(id, ":")
					node, _, _ := strings.Cut(rest, "/")
					if peer != "" {
						node += "@" + peer
					}
					if want[node] == nil {
						want[node] = &load{}
					}
					switch kind {
					case "service":
						want[node].svc++
					case "check":
						want[node].chk++
					}
				case decode.TypeTombstone:
					tombKeys = append(tombKeys, r.key)
				}
			}
			got := runTop(t, f, TopOptions{N: 1000})
			if len(got.Nodes) != len(want) {
				t.Errorf("%d nodes, want %d", len(got.Nodes), len(want))
			}
			for i, n := range got.Nodes {
				w := want[n.Node]
				if w == nil || w.svc != n.Services || w.chk != n.Checks {
					t.Errorf("node %+v, want %+v", n, w)
				}
				if i > 0 && n.Services+n.Checks > got.Nodes[i-1].Services+got.Nodes[i-1].Checks {
					t.Errorf("nodes not sorted at %d", i)
				}
			}
			if got.Tombstones.Count != int64(len(tombKeys)) {
				t.Errorf("tombstones %d, want %d", got.Tombstones.Count, len(tombKeys))
			}
			if len(tombKeys) > 0 && (got.Tombstones.OldestModifyIndex == 0 || got.Tombstones.OldestModifyIndex > got.Tombstones.NewestModifyIndex) {
				t.Errorf("tombstone index range %d..%d", got.Tombstones.OldestModifyIndex, got.Tombstones.NewestModifyIndex)
			}
		})
	}
}

// TestTopDamaged: a truncated archive still gives what could be read, and the damage.
func TestTopDamaged(t *testing.T) {
	b, err := os.ReadFile("../fixtures/consul-1.13.9/before.snap")
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{10, len(b) / 2, len(b) - 9} {
		s := decode.NewArchive(bytes.NewReader(b[:cut]), decode.Options{})
		r, errs := Top(context.Background(), s, TopOptions{})
		if errs == nil {
			t.Errorf("cut at %d: no error", cut)
			continue
		}
		if !decode.IsDamage(errs) {
			t.Errorf("cut at %d: %v is not damage", cut, errs)
		}
		if r == nil {
			t.Errorf("cut at %d: nil result", cut)
		}
	}
}

func TestTopTableGolden(t *testing.T) {
	for _, f := range topFixtures[2:] { // Consul's own fixtures never change
		var buf bytes.Buffer
		if err := (&tablePrinter{w: &buf}).Top(runTop(t, f, TopOptions{N: 5})); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, "top_"+strings.TrimSuffix(filepath.Base(f), ".snap")+".golden", []byte(buf.String()))
	}
}

func TestPrefixOfLikeConsul(t *testing.T) {
	// Examples from docs/FORMAT.md §11.2 (verified against Consul).
	cases := []struct {
		key   string
		depth int
		want  string
	}{
		{"a/", 2, "a/"},
		{"a/b/", 3, "a/b/"},
		{"b//c", 2, "b/"},
		{"vault/core/x/y", 2, "vault/core"},
		{"top", 2, "top"},
	}
	for _, c := range cases {
		if got := decode.KVGroup(c.key, c.depth); got != c.want {
			t.Errorf("prefixOf(%q, %d) = %q, want %q", c.key, c.depth, got, c.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	// docs/FORMAT.md §11.3 examples.
	for n, want := range map[int64]string{0: "0", 344: "344B", 1750: "1.7KB", 5141: "5KB", 17228: "16.8KB", 1048575: "1024KB", 1280: "1.2KB", 1792: "1.8KB"} {
		if got := ByteSize(n); got != want {
			t.Errorf("ByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// kvStateBin builds a raw state.bin (with meta.json) holding KVS records
// with the given keys, for synthetic cases.
func kvStateBin(t *testing.T, keys []string) string {
	t.Helper()
	var st bytes.Buffer
	st.Write([]byte{0x81, 0xa9})
	st.WriteString("LastIndex")
	st.WriteByte(0x01)
	for _, k := range keys {
		st.Write([]byte{0x02, 0x82, 0xa3})
		st.WriteString("Key")
		st.Write([]byte{0xda, byte(len(k) >> 8), byte(len(k))})
		st.WriteString(k)
		st.Write([]byte{0xa5})
		st.WriteString("Value")
		st.Write([]byte{0xa1, 'v'})
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.bin"), st.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(map[string]any{"Version": 1, "ID": "1-1-1", "Index": 1, "Term": 1, "Size": st.Len()})
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "state.bin")
}

// TestTopGroupCap: distinct prefixes beyond the cap are counted under
// (other), so memory stays bounded and nothing is lost from the totals.
func TestTopGroupCap(t *testing.T) {
	old := maxGroups
	maxGroups = 5
	t.Cleanup(func() { maxGroups = old })
	var keys []string
	for i := 0; i < 40; i++ {
		keys = append(keys, "p"+strconv.Itoa(i)+"/sub/key")
	}
	s, err := decode.Open(kvStateBin(t, keys), decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, _ := Top(context.Background(), s, TopOptions{N: 100, KVDepth: 1, TreeDepth: 3})
	if len(r.KVPrefixes) != 6 {
		t.Fatalf("%d prefixes, want the cap (5) plus %s", len(r.KVPrefixes), OtherGroup)
	}
	var count, size int64
	other := false
	for _, p := range r.KVPrefixes {
		count += p.Count
		size += p.Size
		other = other || p.Prefix == OtherGroup
	}
	if !other || count != 40 || size != r.KVTotal.Size {
		t.Errorf("other %v, %d keys (want 40), %d B (want %d)", other, count, size, r.KVTotal.Size)
	}
	nodes := 0
	var walk func(n *PrefixNode)
	walk = func(n *PrefixNode) {
		nodes += len(n.Children)
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(r.KVTree)
	if nodes > 2*5+1 { // the cap, plus at most one (other) under each node
		t.Errorf("tree has %d nodes with a cap of 5", nodes)
	}
	if r.KVTree.Count != 40 {
		t.Errorf("tree root counts %d keys, want 40", r.KVTree.Count)
	}
}

// FuzzTopKV: arbitrary state.bin bytes never make Top, KVExport or KVGet
// panic, and the export is always valid JSON.
func FuzzTopKV(f *testing.F) {
	for _, p := range []string{"../fixtures/consul-testdata/raw/state.bin"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	matches, _ := filepath.Glob("../fixtures/consul-1.13.9/datadir/*/state.bin")
	for _, p := range matches {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{0x81, 0xa9, 'L', 'a', 's', 't', 'I', 'n', 'd', 'e', 'x', 0x01, 0x02, 0x80})
	meta := []byte(`{"Version":1,"ID":"1-1-1","Index":1,"Term":1}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		open := func() *decode.Snapshot {
			s, err := decode.NewStateBin(bytes.NewReader(b), meta, decode.Options{MaxRecordSize: 1 << 20})
			if err != nil {
				t.Skip()
			}
			return s
		}
		Top(context.Background(), open(), TopOptions{N: 3, TreeDepth: 3})
		var buf bytes.Buffer
		KVExport(context.Background(), open(), "", &buf)
		var v []KVEntry
		if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
			t.Fatalf("export not JSON: %v\n%q", err, buf.Bytes())
		}
		KVGet(context.Background(), open(), "a")
	})
}
