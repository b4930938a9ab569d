package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/internal/golden"
)

func fixturePair() (string, string) {
	return repoPath("fixtures", "consul-1.13.9", "before.snap"), repoPath("fixtures", "consul-1.13.9", "after.snap")
}

func TestDiffCLIGolden(t *testing.T) {
	before, after := fixturePair()
	after1411 := repoPath("fixtures", "consul-1.14.11", "after.snap")
	for _, tc := range []struct {
		name string
		a, b string
		args []string
	}{
		{"pair.txt", before, after, nil},
		{"pair.stat.txt", before, after, []string{"--stat"}},
		{"pair.jsonl", before, after, []string{"--format", "json"}},
		{"pair.kvprefix.txt", before, after, []string{"--kv-prefix", "app/config/", "--values"}},
		{"pair.consul-spelling.txt", before, after, []string{"-kvdepth", "1", "-format=text", "--stat"}},
		{"pair.values.txt", before, after, []string{"--values"}},
		{"pair.whole.txt", before, after, []string{"--max-value-len", "0"}},
		{"pair.short.txt", before, after, []string{"--max-value-len", "20"}},
		{"cross.txt", after, after1411, nil},
		{"cross.jsonl", after, after1411, []string{"--format", "json"}},
		{"cross.schema.txt", after, after1411, []string{"--include-schema-changes"}},
		{"cross.schema.jsonl", after, after1411, []string{"--include-schema-changes", "--format", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"diff"}, tc.args...), tc.a, tc.b)
			out, errOut, code := runCLI(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr %s", code, errOut)
			}
			if errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
			// Paths differ between machines: the goldens name the files only.
			out = strings.ReplaceAll(out, before, "before.snap")
			out = strings.ReplaceAll(out, after1411, "1.14.11/after.snap")
			out = strings.ReplaceAll(out, after, "after.snap")
			golden.Check(t, filepath.Join("diff", tc.name), []byte(out))
		})
	}
}

// No fake diff, ever: an input that cannot be read before its first record
// gives no change at all (exit 2 when it is not a snapshot, 3 when
// damaged), whichever side it is on; one that fails part-way stops the
// changes there, and stderr and the last JSON line say how far the
// comparison got (exit 3). Every change printed is one of the real diff's.
func TestDiffCLINoFakeDiff(t *testing.T) {
	before, after := fixturePair()
	dir := t.TempDir()
	raw, err := os.ReadFile(before)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.snap", nil)
	text := write("notes.txt", []byte("this is a text file\nnot a snapshot\n"))
	jsonFile := write("a.inspect.json", []byte(`{"records":[{"type":"KVS","count":3}]}`+"\n"))
	early := write("early.snap", raw[:200]) // gzip header, then cut before the first record
	partway := write("partway.snap", raw[:len(raw)*2/3])

	full, _, code := runCLI(t, "diff", "--format", "json", before, after)
	if code != 1 {
		t.Fatalf("full diff: exit %d", code)
	}
	real := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(full), "\n") {
		real[l] = true
	}

	for _, tc := range []struct {
		name    string
		bad     string
		code    int
		stderr  string
		partial bool
	}{
		{"empty file", empty, 2, "not a Consul snapshot", false},
		{"text file", text, 2, "not a Consul snapshot", false},
		{"JSON file", jsonFile, 2, "not a Consul snapshot", false},
		{"damage before the first record", early, 3, "nothing was compared", false},
		{"damage part-way", partway, 3, "the comparison stopped there", true},
	} {
		for _, badSide := range []string{"A", "B"} {
			a, b := tc.bad, after
			if badSide == "B" {
				a, b = after, tc.bad
			}
			t.Run(tc.name+"/"+badSide, func(t *testing.T) {
				out, errOut, code := runCLI(t, "diff", a, b)
				if code != tc.code {
					t.Errorf("text: exit %d, want %d; stderr %s", code, tc.code, errOut)
				}
				// Not a snapshot is known when the input is opened: the error
				// names the file; damage is found by the comparison, which
				// names the input.
				where := "input " + badSide + " "
				if tc.code == 2 {
					where = tc.bad
				}
				if !strings.Contains(errOut, tc.stderr) || !strings.Contains(errOut, where) {
					t.Errorf("text: stderr %q lacks %q for input %s", errOut, tc.stderr, badSide)
				}
				if !tc.partial && out != "" {
					t.Errorf("text: a change printed for an input that was never read:\n%s", out)
				}
				out, errOut, code = runCLI(t, "diff", "--format", "json", a, b)
				if code != tc.code {
					t.Errorf("json: exit %d, want %d; stderr %s", code, tc.code, errOut)
				}
				if tc.code == 2 {
					if out != "" {
						t.Errorf("json: output for an input that is not a snapshot:\n%s", out)
					}
					return
				}
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				var last struct {
					Op     string `json:"op"`
					Input  string `json:"input"`
					Record int64  `json:"record"`
					Before bool   `json:"before_first_record"`
					Error  string `json:"error"`
				}
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Op != "incomplete" || last.Input != badSide || last.Error == "" {
					t.Fatalf("json: last line %q (%v), want an incomplete line for %s", lines[len(lines)-1], err, badSide)
				}
				if last.Before == tc.partial || (tc.partial && last.Record < 2) {
					t.Errorf("json: before_first_record %v, record %d", last.Before, last.Record)
				}
				if !tc.partial && len(lines) != 1 {
					t.Errorf("json: %d lines, want only the incomplete line:\n%s", len(lines), out)
				}
				if badSide == "A" && tc.partial {
					for _, l := range lines[:len(lines)-1] {
						if !real[l] {
							t.Errorf("json: a change the real diff does not have: %s", l)
						}
					}
				}
			})
		}
	}
}

func TestDiffCLIJSONLines(t *testing.T) {
	before, after := fixturePair()
	out, _, code := runCLI(t, "diff", "--format", "json", before, after)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d not JSON: %v: %s", i+1, err, l)
		}
		last := i == len(lines)-1
		switch {
		case last && m["op"] != "summary":
			t.Errorf("last line op %v, want summary", m["op"])
		case !last:
			for _, k := range []string{"op", "type", "id", "size_a", "size_b", "fields"} {
				if _, ok := m[k]; !ok {
					t.Errorf("line %d lacks %q: %s", i+1, k, l)
				}
			}
		}
	}
	if len(lines) != 14 { // 13 changes (changes.json) + summary
		t.Errorf("%d lines, want 14", len(lines))
	}
}

func TestDiffCLIIdentical(t *testing.T) {
	inputs := []string{
		repoPath("fixtures", "consul-1.13.9", "before.snap"),
		repoPath("fixtures", "consul-1.13.9", "after.snap"),
		repoPath("fixtures", "consul-1.13.9", "datadir"),
		repoPath("fixtures", "consul-testdata", "backup.snap"),
		repoPath("fixtures", "consul-testdata", "backupWithKV.snap"),
		repoPath("fixtures", "consul-testdata", "raw", "state.bin"),
	}
	for _, in := range inputs {
		out, errOut, code := runCLI(t, "diff", in, in)
		for _, l := range strings.Split(strings.TrimSuffix(errOut, "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, "Warning: ") { // a raw state.bin without CRC is unverifiable
				t.Errorf("%s: stderr line %q", in, l)
			}
		}
		if code != 0 || out != "" {
			t.Errorf("%s with itself: exit %d, stdout %q, stderr %q", in, code, out, errOut)
		}
		out, _, code = runCLI(t, "diff", "--format", "json", "--include-raft-bookkeeping", in, in)
		var sum struct {
			Op        string
			Identical bool
			Changes   int
		}
		if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || sum.Op != "summary" || !sum.Identical || sum.Changes != 0 {
			t.Errorf("%s json: exit %d, %v, %s", in, code, err, out)
		}
	}
	// The data-dir snapshot is the raft snapshot after.snap streamed.
	_, _, code := runCLI(t, "diff", "--include-raft-bookkeeping", repoPath("fixtures", "consul-1.13.9", "datadir"), repoPath("fixtures", "consul-1.13.9", "after.snap"))
	if code != 0 {
		t.Errorf("datadir vs after.snap: exit %d", code)
	}
}

func TestDiffCLIStdin(t *testing.T) {
	before, after := fixturePair()
	f, err := os.Open(before)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(binPath, "diff", "--stat", "-", after)
	cmd.Stdin = f
	var o bytes.Buffer
	cmd.Stdout = &o
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v", err)
	}
	want, _, _ := runCLI(t, "diff", "--stat", before, after)
	if got := dropHeader(o.String()); got != dropHeader(want) || !strings.HasPrefix(o.String(), "A: -  index 99") {
		t.Errorf("stdin output differs:\n%s\nwant\n%s", o.String(), want)
	}
}

// dropHeader removes the header of a text diff (one line per input, then
// a blank line), which names the files.
func dropHeader(s string) string {
	if strings.HasPrefix(s, "A: ") {
		if i := strings.Index(s, "\n\n"); i >= 0 {
			return s[i+2:]
		}
	}
	return s
}

func TestDiffCLIErrors(t *testing.T) {
	before, after := fixturePair()
	dir := t.TempDir()
	raw, err := os.ReadFile(before)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.snap")
	if err := os.WriteFile(truncated, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	// A state.bin cut inside a record, with a meta.json whose Size matches
	// the cut (so only the record scanner can tell).
	stateDir := filepath.Join(dir, "raw")
	os.Mkdir(stateDir, 0o755)
	state, err := os.ReadFile(repoPath("fixtures", "consul-testdata", "raw", "state.bin"))
	if err != nil {
		t.Fatal(err)
	}
	cut := state[:len(state)-30]
	os.WriteFile(filepath.Join(stateDir, "state.bin"), cut, 0o600)
	os.WriteFile(filepath.Join(stateDir, "meta.json"), []byte(`{"Version":1,"ID":"2-13-1","Index":13,"Term":2,"Size":`+itoa(len(cut))+`}`), 0o600)

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"one argument", []string{"diff", before}, 2, "Error: diff needs 2 arguments (A B), got 1"},
		{"bad format", []string{"diff", "--format", "yaml", before, after}, 2, "unknown --format"},
		{"unknown type", []string{"diff", "--type", "Nope", before, after}, 2, `unknown record type "Nope"`},
		{"missing file", []string{"diff", before, filepath.Join(dir, "nope.snap")}, 2, "nope.snap"},
		{"both stdin", []string{"diff", "-", "-"}, 2, "only one of A and B"},
		{"truncated archive", []string{"diff", before, truncated}, 3, "Error: B (" + truncated + ")"},
		{"truncated state.bin", []string{"diff", repoPath("fixtures", "consul-testdata", "raw", "state.bin"), filepath.Join(stateDir, "state.bin")}, 3, "unexpected EOF"},
		{"truncated state.bin, json", []string{"diff", "--format", "json", filepath.Join(stateDir, "state.bin"), repoPath("fixtures", "consul-testdata", "raw", "state.bin")}, 3, "record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, tc.stderr)
			}
		})
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// tamperSums rewrites an archive with a wrong SHA-256 for state.bin.
func tamperSums(t *testing.T, in, out string) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "SHA256SUMS" {
			lines := strings.Split(string(data), "\n")
			for i, l := range lines {
				if strings.HasSuffix(l, "  state.bin") {
					lines[i] = strings.Repeat("0", 64) + "  state.bin"
				}
			}
			data = []byte(strings.Join(lines, "\n"))
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A checksum mismatch found after every record was read: the changes are
// all listed, and the damage is reported with exit 3, never 0 or 1.
func TestDiffCLIChecksumMismatch(t *testing.T) {
	before, after := fixturePair()
	bad := filepath.Join(t.TempDir(), "after-bad-sums.snap")
	tamperSums(t, after, bad)
	out, errOut, code := runCLI(t, "diff", before, bad)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if !strings.Contains(errOut, "SHA-256 mismatch") || !strings.Contains(errOut, "B ("+bad+")") {
		t.Errorf("stderr: %s", errOut)
	}
	want, _, _ := runCLI(t, "diff", before, after)
	changes := dropHeader(want[:strings.Index(want, "\n\n┌")+1]) // the changes, before the summary tables
	if out = dropHeader(out); out != changes {
		t.Errorf("changes differ from the intact diff:\n%s\nwant\n%s", out, changes)
	}
	_, _, code = runCLI(t, "diff", bad, bad)
	if code != 3 {
		t.Errorf("damaged input with itself: exit %d, want 3", code)
	}
}
