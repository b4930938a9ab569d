package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// binPath is the real snaptool binary built once for the CLI tests.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "snaptool-cli-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binPath = filepath.Join(dir, "snaptool")
	if runtime.GOOS == "windows" {
		binPath += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building snaptool: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the real binary with args and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running snaptool %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return o.String(), e.String(), code
}

// repoPath returns a path relative to the repository root.
func repoPath(p ...string) string {
	return filepath.Join(append([]string{"..", ".."}, p...)...)
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := runCLI(t, "--version")
	if code != 0 || !bytes.HasPrefix([]byte(out), []byte("snaptool ")) {
		t.Errorf("--version: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, "--help")
	if code != 0 || !bytes.Contains([]byte(out), []byte("EXIT STATUS")) {
		t.Errorf("--help: code %d, out %q", code, out)
	}
	_, errOut, code := runCLI(t, "no-such-command")
	if code != 2 || !bytes.Contains([]byte(errOut), []byte("unknown command")) {
		t.Errorf("unknown command: code %d, stderr %q", code, errOut)
	}
}
