package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/internal/golden"

	"github.com/snaptool/snaptool/decode"
)

const (
	consulTestdata = "../fixtures/consul-testdata"
	consul1139     = "../fixtures/consul-1.13.9"
)

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func inspectPath(t *testing.T, path string, o InspectOptions) *InspectResult {
	t.Helper()
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer s.Close()
	r, err := Inspect(context.Background(), s, o)
	if err != nil {
		t.Fatalf("inspect %s: %v", path, err)
	}
	return r
}

// consulOnly drops snaptool's own keys so that the JSON is what Consul prints.
func consulOnly(r *InspectResult) *InspectResult {
	c := *r
	c.LastIndex, c.SavedTime, c.Records, c.Integrity, c.Errors, c.Warnings = 0, "", 0, "", nil, nil
	return &c
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{-5, "0"}, {0, "0"}, {1, "1B"}, {344, "344B"}, {1023, "1023B"}, {1024, "1KB"}, {1280, "1.2KB"},
		{1750, "1.7KB"}, {1792, "1.8KB"}, {2039, "2KB"}, {5141, "5KB"}, {17228, "16.8KB"},
		{1048575, "1024KB"}, {1 << 20, "1MB"}, {3 << 30, "3GB"}, {5 << 40, "5TB"},
	}
	for _, tt := range tests {
		if got := ByteSize(tt.in); got != tt.want {
			t.Errorf("ByteSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKVGroup(t *testing.T) {
	tests := []struct {
		key   string
		depth int
		want  string
	}{
		{"a/", 2, "a/"}, {"a/b/", 3, "a/b/"}, {"b//c", 2, "b/"}, {"x/y/z", 0, ""},
		{"x/y/z", 1, "x"}, {"x/y/z", 2, "x/y"}, {"x/y/z", 9, "x/y/z"}, {"", 2, ""}, {"plain", 2, "plain"},
	}
	for _, tt := range tests {
		if got := decode.KVGroup(tt.key, tt.depth); got != tt.want {
			t.Errorf("kvGroup(%q, %d) = %q, want %q", tt.key, tt.depth, got, tt.want)
		}
	}
}

func TestKVKey(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		key  string
		ok   bool
	}{
		{"fixmap", []byte("\x82\xa3Key\xa3a/b\xa5Value\xa2hi"), "a/b", true},
		{"map16", []byte("\xde\x00\x01\xa3Key\xa1k"), "k", true},
		{"last Key wins", []byte("\x82\xa3Key\xa1x\xa3Key\xa1y"), "y", true},
		{"no Key", []byte("\x81\xa5Value\xa2hi"), "", false},
		{"Key not a string", []byte("\x81\xa3Key\x05"), "", false},
		{"Key is bin", []byte("\x81\xa3Key\xc4\x01k"), "k", true},
		{"not a map", []byte("\x91\xa1k"), "", false},
		{"empty", nil, "", false},
		{"truncated", []byte("\x82\xa3Key\xa3a/"), "", false},
		{"map32 count beyond bytes", []byte("\xdf\xff\xff\xff\xff\xa3Key\xa1k"), "", false},
		{"two Keys: the last wins", []byte("\x83\xa3Key\xa8mp/first\xa5Value\xa1v\xa3Key\xa7mp/last"), "mp/last", true},
	}
	for _, tt := range tests {
		key, ok := kvKey(&decode.Record{Type: decode.TypeKVS, Raw: append([]byte{byte(decode.TypeKVS)}, tt.in...)})
		if string(key) != tt.key || ok != tt.ok {
			t.Errorf("%s: kvKey = %q, %v; want %q, %v", tt.name, key, ok, tt.key, tt.ok)
		}
	}
}

// The formatter goldens of Consul's own tests (synthetic stats).
func TestFormatterGoldens(t *testing.T) {
	r := &InspectResult{
		Meta:        InspectMeta{ID: "one", Size: 2, Index: 3, Term: 4, Version: 1},
		Stats:       []Stat{{Name: "msg", Sum: 1, Count: 2}},
		StatsKV:     []Stat{{Name: "msgKV", Sum: 1, Count: 2}},
		TotalSize:   1,
		TotalSizeKV: 1,
	}
	pretty, err := FormatPretty(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := readText(t, filepath.Join(consulTestdata, "pretty.golden")); pretty != want {
		t.Errorf("pretty:\n--- got ---\n%s\n--- want ---\n%s", pretty, want)
	}
	js, err := FormatJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := readText(t, filepath.Join(consulTestdata, "json.golden")); js != want {
		t.Errorf("json:\n--- got ---\n%s\n--- want ---\n%s", js, want)
	}
}

type goldenCase struct {
	golden string
	input  string
	opts   InspectOptions
	json   bool
}

// Every `consul snapshot inspect` golden is reproduced byte for byte.
func TestInspectConsulGoldens(t *testing.T) {
	kv := func(depth int, filter string) InspectOptions {
		return InspectOptions{KVDetails: true, KVDepth: depth, KVFilter: filter}
	}
	plain := InspectOptions{KVDepth: 2}
	cases := []goldenCase{
		{"TestSnapshotInspectCommand.golden", "backup.snap", plain, false},
		{"TestSnapshotInspectCommandRaw.golden", "raw/state.bin", plain, false},
		{"TestSnapshotInspectKVDetailsCommand.golden", "backupWithKV.snap", kv(2, ""), false},
		{"TestSnapshotInspectKVDetailsDepthCommand.golden", "backupWithKV.snap", kv(3, ""), false},
		{"TestSnapshotInspectKVDetailsDepthFilterCommand.golden", "backupWithKV.snap", kv(3, "vault/logical"), false},
	}
	for i := range cases {
		cases[i].golden = filepath.Join(consulTestdata, cases[i].golden)
		cases[i].input = filepath.Join(consulTestdata, cases[i].input)
	}
	for _, x := range []struct{ prefix, input string }{
		{"before", "before.snap"}, {"after", "after.snap"}, {"datadir/raw", "datadir"},
	} {
		g := filepath.Join(consul1139, x.prefix)
		in := filepath.Join(consul1139, x.input)
		cases = append(cases,
			goldenCase{g + ".inspect.plain.golden", in, plain, false},
			goldenCase{g + ".inspect.golden", in, kv(2, ""), false},
			goldenCase{g + ".inspect.depth3.golden", in, kv(3, ""), false},
			goldenCase{g + ".inspect.json.golden", in, kv(2, ""), true},
		)
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.golden, "../fixtures/"), func(t *testing.T) {
			want := readText(t, tc.golden)
			r := inspectPath(t, tc.input, tc.opts)
			var got string
			var err error
			if tc.json {
				got, err = FormatJSON(consulOnly(r))
			} else {
				got, err = FormatPretty(r)
			}
			if err != nil {
				t.Fatal(err)
			}
			got += "\n" // the consul CLI prints the formatter's text and a newline
			if got != want {
				t.Errorf("differs from %s\n--- got ---\n%s\n--- want ---\n%s", tc.golden, got, want)
			}
			if tc.json {
				// With snaptool's extra keys, Consul's keys keep their order and values.
				full, err := FormatJSON(r)
				if err != nil {
					t.Fatal(err)
				}
				checkJSONSuperset(t, []byte(want), []byte(full))
			}
		})
	}
}

// checkJSONSuperset checks that got's top-level keys start with want's, in
// order, and that want's values are equal in got.
func checkJSONSuperset(t *testing.T, want, got []byte) {
	t.Helper()
	wk, wv := topLevel(t, want)
	gk, gv := topLevel(t, got)
	if len(gk) < len(wk) || !reflect.DeepEqual(gk[:len(wk)], wk) {
		t.Fatalf("keys: got %v, want %v first", gk, wk)
	}
	for _, k := range wk {
		if !reflect.DeepEqual(gv[k], wv[k]) {
			t.Errorf("key %s: got %v, want %v", k, gv[k], wv[k])
		}
	}
}

func topLevel(t *testing.T, b []byte) ([]string, map[string]any) {
	t.Helper()
	var vals map[string]any
	if err := json.Unmarshal(b, &vals); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys, vals
}

// Counting rules of docs/FORMAT.md §11.1 and §12, independent of the goldens.
func TestInspectCounting(t *testing.T) {
	r := inspectPath(t, filepath.Join(consulTestdata, "backup.snap"), InspectOptions{})
	want := []Stat{
		{"Register", 1750, 3}, {"ConnectCA", 1258, 1}, {"ConnectCAProviderState", 1174, 1},
		{"Index", 344, 12}, {"Autopilot", 199, 1}, {"ConnectCAConfig", 197, 1},
		{"FederationState", 139, 1}, {"SystemMetadata", 68, 1}, {"ChunkingState", 12, 1},
	}
	if !reflect.DeepEqual(r.Stats, want) {
		t.Errorf("backup.snap stats:\n got %v\nwant %v", r.Stats, want)
	}
	if r.TotalSize != 5141 || r.Records != 22 || r.StatsKV != nil || r.TotalSizeKV != 0 {
		t.Errorf("backup.snap: TotalSize %d Records %d StatsKV %v TotalSizeKV %d", r.TotalSize, r.Records, r.StatsKV, r.TotalSizeKV)
	}
	if r.Integrity != "verified" || r.LastIndex != 13 {
		t.Errorf("backup.snap: Integrity %q LastIndex %d", r.Integrity, r.LastIndex)
	}

	// Every fixture: the sums add up to the state.bin length, KV sums to TotalSizeKV.
	for _, in := range []string{
		filepath.Join(consulTestdata, "backupWithKV.snap"), filepath.Join(consul1139, "before.snap"),
		filepath.Join(consul1139, "after.snap"), filepath.Join(consul1139, "datadir"),
	} {
		r := inspectPath(t, in, InspectOptions{KVDetails: true, KVDepth: 1})
		var sum, kvSum, kvCount int64
		for _, s := range r.Stats {
			sum += s.Sum
		}
		for _, s := range r.StatsKV {
			kvSum += s.Sum
			kvCount += s.Count
		}
		var kvs Stat
		for _, s := range r.Stats {
			if s.Name == "KVS" {
				kvs = s
			}
		}
		if sum != r.TotalSize || r.TotalSize != r.Meta.Size {
			t.Errorf("%s: Σ Sum %d, TotalSize %d, meta Size %d", in, sum, r.TotalSize, r.Meta.Size)
		}
		if kvSum != r.TotalSizeKV || kvSum != kvs.Sum || kvCount != kvs.Count {
			t.Errorf("%s: Σ KV Sum %d (count %d), TotalSizeKV %d, KVS row %v", in, kvSum, kvCount, r.TotalSizeKV, kvs)
		}
	}

	// A filter that matches nothing gives no KV table (null), like Consul.
	r = inspectPath(t, filepath.Join(consulTestdata, "backupWithKV.snap"), InspectOptions{KVDetails: true, KVDepth: 2, KVFilter: "nothing/"})
	if r.StatsKV != nil || r.TotalSizeKV != 0 {
		t.Errorf("unmatched filter: StatsKV %v TotalSizeKV %d", r.StatsKV, r.TotalSizeKV)
	}
	// Depth 0 puts every key in one group named "".
	r = inspectPath(t, filepath.Join(consulTestdata, "backupWithKV.snap"), InspectOptions{KVDetails: true, KVDepth: 0})
	if len(r.StatsKV) != 1 || r.StatsKV[0] != (Stat{Name: "", Sum: 12589, Count: 27}) {
		t.Errorf("depth 0: %v", r.StatsKV)
	}
}

func stateBinSnapshot(t *testing.T, state []byte) *decode.Snapshot {
	t.Helper()
	meta := []byte(`{"Version":1,"ID":"2-13-1","Index":13,"Term":2,"Size":` + intString(len(state)) + "}\n")
	s, err := decode.NewStateBin(bytes.NewReader(state), meta, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func intString(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestInspectEdgeCases(t *testing.T) {
	header := []byte("\x81\xa9LastIndex\x0d")
	t.Run("header only", func(t *testing.T) {
		r, err := Inspect(context.Background(), stateBinSnapshot(t, header), InspectOptions{KVDetails: true, KVDepth: 2})
		if err != nil {
			t.Fatal(err)
		}
		if r.TotalSize != 0 || len(r.Stats) != 0 || r.Stats == nil || r.StatsKV != nil {
			t.Errorf("header only: %+v", r)
		}
		js, _ := FormatJSON(consulOnly(r))
		if !strings.Contains(js, `"Stats": [],`) || !strings.Contains(js, `"StatsKV": null,`) {
			t.Errorf("header-only JSON:\n%s", js)
		}
	})
	t.Run("negative depth", func(t *testing.T) {
		if _, err := Inspect(context.Background(), stateBinSnapshot(t, header), InspectOptions{KVDetails: true, KVDepth: -1}); err == nil {
			t.Error("negative depth: no error")
		}
	})
	t.Run("unknown type and header counted in first record", func(t *testing.T) {
		state := append(append([]byte{}, header...), 100, 0xc0, 44, 0xc0, 44, 0x01)
		r, err := Inspect(context.Background(), stateBinSnapshot(t, state), InspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []Stat{{"Unknown(100)", int64(len(header)) + 2, 1}, {"Unknown(44)", 4, 2}}
		if !reflect.DeepEqual(r.Stats, want) || r.TotalSize != int64(len(state)) {
			t.Errorf("got %v total %d, want %v total %d", r.Stats, r.TotalSize, want, len(state))
		}
	})
	t.Run("ties sort by name", func(t *testing.T) {
		// The first record absorbs the header; the other three tie at 2 bytes.
		state := append(append([]byte{}, header...), 7, 0xc0, 44, 0xc0, 100, 0xc0, 45, 0xc0)
		r, err := Inspect(context.Background(), stateBinSnapshot(t, state), InspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, st := range r.Stats {
			names = append(names, st.Name)
		}
		if want := []string{"PreparedQuery", "Unknown(100)", "Unknown(44)", "Unknown(45)"}; !reflect.DeepEqual(names, want) {
			t.Errorf("order %v, want %v (stats %v)", names, want, r.Stats)
		}
	})
	t.Run("truncated record is damage, counts kept", func(t *testing.T) {
		state := append(append([]byte{}, header...), 16, 0x82, 0xa3, 'K', 'e', 'y')
		r, err := Inspect(context.Background(), stateBinSnapshot(t, state), InspectOptions{})
		if err == nil || !decode.IsDamage(err) {
			t.Fatalf("err = %v, want damage", err)
		}
		var re *decode.RecordError
		if !errors.As(err, &re) || re.N != 1 || re.Offset != int64(len(header)) {
			t.Errorf("error %v does not locate record 1 at offset %d", err, len(header))
		}
		if r == nil || len(r.Errors) == 0 {
			t.Errorf("result should carry the errors: %+v", r)
		}
	})
}

func TestInspectTableGolden(t *testing.T) {
	for _, tc := range []struct {
		golden, input string
		opts          InspectOptions
	}{
		{"inspect_table_backup.golden", "backup.snap", InspectOptions{KVDepth: 2}},
		{"inspect_table_backupWithKV.golden", "backupWithKV.snap", InspectOptions{KVDetails: true, KVDepth: 2}},
	} {
		r := inspectPath(t, filepath.Join(consulTestdata, tc.input), tc.opts)
		var b bytes.Buffer
		if err := (&tablePrinter{w: &b}).Inspect(r); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, tc.golden, []byte(b.String()))
		// The table shows Consul's size strings and the exact byte counts.
		for _, st := range r.Stats {
			if !strings.Contains(b.String(), " "+ByteSize(st.Sum)+" ") {
				t.Errorf("%s: table lacks size %s for %s", tc.input, ByteSize(st.Sum), st.Name)
			}
		}
	}
}
