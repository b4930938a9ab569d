// Package golden compares test output with golden files under testdata/
// and rewrites them when the test binary runs with -update (`make golden`,
// which runs it for the packages that import this one; other test
// binaries do not know the flag). Only tests import it.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/ with the current output")

// Check compares got with testdata/<name>, or rewrites that file with -update.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden %s: %v (run go test with -update to create it)", path, err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from golden %s\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// Updating reports whether the test binary runs with -update, for tests
// whose golden files are not one output under the package's testdata/
// (decode's generated fuzz seeds of other packages).
func Updating() bool { return *update }
