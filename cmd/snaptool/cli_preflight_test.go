package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/internal/golden"
)

// Golden tests of preflight's text and JSON output on the real fixtures,
// through the binary (paths as given, relative to this package).
func TestCLIPreflightGolden(t *testing.T) {
	all := []string{consul1139Path("before.snap"), consul1139Path("after.snap"), consul1139Path("datadir"),
		testdataPath("backup.snap"), testdataPath("backupWithKV.snap"), testdataPath("raw", "state.bin")}
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string
	}{
		{"1.12 fails on peering", []string{"--target", "1.12", consul1139Path("before.snap")}, 1, "preflight/before.1.12.txt"},
		{"1.12 json", []string{"--target", "1.12.9", "--format", "json", consul1139Path("before.snap")}, 1, "preflight/before.1.12.json"},
		{"1.13 restores all", append([]string{"--target", "1.13.9"}, all...), 0, "preflight/all.1.13.txt"},
		{"1.22 json all", append([]string{"--target", "1.22", "--format", "json"}, all...), 0, "preflight/all.1.22.json"},
		{"1.10 text all", append([]string{"--target", "1.10"}, all...), 1, "preflight/all.1.10.txt"},
		{"enterprise 1.12", []string{"--target", "1.12", "--edition", "enterprise", consul1139Path("before.snap")}, 1, "preflight/before.1.12.enterprise.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"preflight"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if errOut != "" {
				t.Errorf("stderr: %q", errOut)
			}
			if strings.HasSuffix(tt.golden, ".json") && !json.Valid([]byte(out)) {
				t.Fatalf("invalid JSON:\n%s", out)
			}
			golden.Check(t, tt.golden, []byte(out))
		})
	}
}

// TestCLIPreflightExitCodes: damaged 3, unreadable and usage 2, failing 1.
func TestCLIPreflightExitCodes(t *testing.T) {
	damaged := damagedCopy(t, consul1139Path("after.snap"), truncateHalf)
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"damaged", []string{"--target", "1.14", damaged}, 3, "damaged: no Consul restores it"},
		{"damaged wins over failing", []string{"--target", "1.12", consul1139Path("before.snap"), damaged}, 3, "would fail"},
		{"missing file", []string{"--target", "1.14", filepath.Join(t.TempDir(), "nope.snap")}, 2, "no such file"},
		{"missing file wins over failing", []string{"--target", "1.12", consul1139Path("before.snap"), filepath.Join(t.TempDir(), "nope.snap")}, 2, "1 unreadable"},
		{"no target", []string{consul1139Path("before.snap")}, 2, "--target VERSION is required"},
		{"target outside the table", []string{"--target", "1.9", consul1139Path("before.snap")}, 2, "not in the version table"},
		{"bad target", []string{"--target", "one", consul1139Path("before.snap")}, 2, "want MAJOR.MINOR"},
		{"bad edition", []string{"--target", "1.12", "--edition", "pro", consul1139Path("before.snap")}, 2, "want ce or enterprise"},
		{"bad format", []string{"--target", "1.12", "--format", "xml", consul1139Path("before.snap")}, 2, "unknown --format"},
		{"no file", []string{"--target", "1.12"}, 2, "missing FILE"},
		{"stdin", []string{"--target", "1.12", "-"}, 1, "would fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"preflight"}, tt.args...)
			var out, errOut string
			var code int
			if tt.name == "stdin" {
				out, errOut, code = runCLIStdin(t, consul1139Path("before.snap"), args...)
			} else {
				out, errOut, code = runCLI(t, args...)
			}
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.want, out, errOut)
			}
		})
	}
}

// TestCLIPreflightThenRewrite: the rewrite command preflight prints, run as
// printed, gives a file preflight says the target restores.
func TestCLIPreflightThenRewrite(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "before.snap")
	if err := os.WriteFile(in, []byte(mustRead(t, consul1139Path("before.snap"))), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runCLI(t, "preflight", "--target", "1.12", "--format", "json", in)
	if code != 1 {
		t.Fatalf("preflight exit %d, want 1", code)
	}
	var rep struct {
		Files []struct {
			Rewrite string `json:"rewrite"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Files) != 1 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	args := strings.Fields(rep.Files[0].Rewrite)
	if len(args) < 4 || args[0] != "snaptool" || args[1] != "rewrite" {
		t.Fatalf("rewrite command %q", rep.Files[0].Rewrite)
	}
	_, errOut, code := runCLI(t, args[1:]...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, errOut)
	}
	if !strings.Contains(errOut, "dropped 5 (Peering 2, PeeringTrustBundle 1, PeeringSecret 2)") || !strings.Contains(errOut, "read back and verified") {
		t.Errorf("summary: %q", errOut)
	}
	outPath := args[len(args)-1]
	if filepath.Dir(outPath) != dir {
		t.Fatalf("OUT %s is not beside IN", outPath)
	}
	stdout, _, code := runCLI(t, "preflight", "--target", "1.12", outPath)
	if code != 0 || !strings.Contains(stdout, ": would restore on Consul 1.12.9 CE") {
		t.Errorf("rewritten file: exit %d\n%s", code, stdout)
	}
}

// runCLIStdin runs the binary with the file at path on standard input.
func runCLIStdin(t *testing.T, path string, args ...string) (string, string, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(binPath, args...)
	var o, e bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, &o, &e
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running snaptool %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return o.String(), e.String(), code
}
