package preflight

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreMatrix: for every pair of testdata/restore-matrix.tsv (each
// fixture snapshot × each Consul version built by make fixtures), preflight
// predicts what the real Consul did when scripts/interop-restore.sh
// restored it (make interop fails unless its run equals the file): the
// verdict, and for a failure Consul's error word for word and a rewrite
// command that removes it.
func TestRestoreMatrix(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "restore-matrix.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, fails := 0, 0
	cells := map[string][]string{} // README's table: snapshot → cell per target
	var snaps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != 4 {
			t.Fatalf("bad row %q", line)
		}
		snap, target, verdict, consulErr := col[0], col[1], col[2], col[3]
		rows++
		if cells[snap] == nil {
			snaps = append(snaps, snap)
		}
		cell := "restores"
		if verdict == "would fail" {
			cell = "fails: `" + consulErr + "`"
		}
		cells[snap] = append(cells[snap], cell)
		t.Run(snap+"/"+target, func(t *testing.T) {
			r, err := CheckFile(filepath.Join("..", "fixtures", snap), mustVersion(t, target), CE, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != verdict {
				t.Errorf("verdict %q, Consul %s did %q", r.Verdict, target, verdict)
			}
			want := consulErr
			if want == "-" {
				want = ""
			}
			if r.ConsulError != want {
				t.Errorf("consul_error %q, Consul %s logged %q", r.ConsulError, target, want)
			}
			if verdict == "would fail" {
				fails++
				if !strings.HasPrefix(r.Rewrite, "snaptool rewrite ") {
					t.Errorf("no rewrite command: %q", r.Rewrite)
				}
			}
			if r.WouldRestore != (verdict == "would restore") {
				t.Errorf("would_restore %v with verdict %q", r.WouldRestore, r.Verdict)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != 15 || fails == 0 {
		t.Errorf("%d rows (%d failing): want the 5 snapshots × 3 versions, some failing", rows, fails)
	}
	// README shows the same table, one row per snapshot, targets in file order.
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, snap := range snaps {
		row := "| `" + snap + "` | " + strings.Join(cells[snap], " | ") + " |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README's restore matrix has no row %s", row)
		}
	}
}
