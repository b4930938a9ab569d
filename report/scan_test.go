package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// TestHTMLReportOnePass: the sections of a report come from one pass per
// input (fed by diff's merge for a pair) and equal what inspect, verify and
// top give on their own passes.
func TestHTMLReportOnePass(t *testing.T) {
	pairs := [][]string{
		{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-1.13.9/after.snap"},
		{"../fixtures/consul-testdata/backupWithKV.snap"},
		{"../fixtures/consul-testdata/backup.snap", "../fixtures/consul-testdata/backupWithKV.snap"},
	}
	for _, paths := range pairs {
		o := HTMLOptions{}
		o.defaults()
		r, err := BuildHTMLReport(context.Background(), paths, o)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range paths {
			sn := r.Snapshots[i]
			in, err := Inspect(context.Background(), openFixture(t, p), InspectOptions{KVDetails: true, KVDepth: o.KVDepth})
			if err != nil {
				t.Fatal(err)
			}
			v, err := VerifyFile(context.Background(), p, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			top, err := Top(context.Background(), openFixture(t, p), TopOptions{N: o.TopN, KVDepth: o.KVDepth, TreeDepth: o.TreeDepth})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sn.Inspect, in) {
				t.Errorf("%s: report's inspect differs from Inspect:\n%+v\n%+v", p, sn.Inspect, in)
			}
			if !reflect.DeepEqual(sn.Verify, v) {
				t.Errorf("%s: report's verify differs from VerifyFile:\n%+v\n%+v", p, sn.Verify, v)
			}
			if a, b := jsonOf(t, sn.Top), jsonOf(t, top); a != b {
				t.Errorf("%s: report's top differs from Top:\n%s\n%s", p, a, b)
			}
			if sn.Damaged {
				t.Errorf("%s: damaged", p)
			}
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHTMLReportStdin: "-" is read once, like any other input.
func TestHTMLReportStdin(t *testing.T) {
	// decode.Open reads "-" from os.Stdin; swap it for a pipe of the fixture.
	f, err := os.Open("../fixtures/consul-1.13.9/before.snap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old })
	r, err := BuildHTMLReport(context.Background(), []string{"-", "../fixtures/consul-1.13.9/after.snap"}, HTMLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Snapshots[0].Inspect.Records == 0 || r.Compare == nil || r.Compare.Diff.Summary.Identical {
		t.Errorf("report from stdin: %d records, compare %+v", r.Snapshots[0].Inspect.Records, r.Compare)
	}
	if _, err := BuildHTMLReport(context.Background(), []string{"-", "-"}, HTMLOptions{}); err == nil {
		t.Error("- twice: no error")
	}
}

// TestScanHonoursContext: a cancelled context stops the pass within
// ctxCheckEvery records, and every report function returns its error.
func TestScanHonoursContext(t *testing.T) {
	var keys []string
	for i := 0; i < 3*ctxCheckEvery; i++ {
		keys = append(keys, "k/"+strconv.Itoa(i))
	}
	path := kvStateBin(t, keys)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	open := func() *decode.Snapshot { return openFixture(t, path) }

	in := NewInspect(InspectOptions{})
	if err := Scan(ctx, open(), in); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan: %v, want context.Canceled", err)
	}
	if in.r.Records >= ctxCheckEvery {
		t.Errorf("Scan fed %d records after the context was cancelled", in.r.Records)
	}
	calls := map[string]func() error{
		"Inspect": func() error { _, err := Inspect(ctx, open(), InspectOptions{}); return err },
		"Verify":  func() error { _, err := Verify(ctx, open(), VerifyOptions{}); return err },
		"Top":     func() error { _, err := Top(ctx, open(), TopOptions{}); return err },
		"Dump":    func() error { _, err := Dump(ctx, open(), &bytes.Buffer{}, DumpOptions{}); return err },
		"KVExport": func() error {
			_, err := KVExport(ctx, open(), "", &bytes.Buffer{})
			return err
		},
		"KVGet": func() error { _, err := KVGet(ctx, open(), "k/1"); return err },
		"BuildHTMLReport": func() error {
			_, err := BuildHTMLReport(ctx, []string{path, path}, HTMLOptions{})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want context.Canceled", name, err)
		}
	}
}

// TestTopKeepsFewErrors: a snapshot full of undecodable records gives
// the first maxKeptErrors errors, located, and a count of the rest.
func TestTopKeepsFewErrors(t *testing.T) {
	var st bytes.Buffer
	st.Write([]byte{0x81, 0xa9})
	st.WriteString("LastIndex")
	st.WriteByte(0x01)
	const bad = maxKeptErrors + 30
	for i := 0; i < bad; i++ {
		// A KVS record whose Key is a number: it scans, but does not decode.
		st.Write([]byte{0x02, 0x81, 0xa3})
		st.WriteString("Key")
		st.WriteByte(0x07)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.bin"), st.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(map[string]any{"Version": 1, "ID": "1-1-1", "Index": 1, "Term": 1, "Size": st.Len()})
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Top(context.Background(), openFixture(t, filepath.Join(dir, "state.bin")), TopOptions{})
	if r == nil || r.Records != bad {
		t.Fatalf("result %+v", r)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("err %v: not joined", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "\n") + 1; n != maxKeptErrors+1 {
		t.Errorf("%d error lines, want %d kept and a count:\n%s", n, maxKeptErrors, msg)
	}
	if !strings.Contains(msg, strconv.Itoa(bad-maxKeptErrors)+" more records of this kind could not be decoded") {
		t.Errorf("no count of the errors left out:\n%s", msg)
	}
	var re *decode.RecordError
	if !errors.As(err, &re) || re.N != 1 {
		t.Errorf("first error %v: want a *decode.RecordError for record 1", re)
	}
	if !decode.IsDamage(err) {
		t.Errorf("%v is not damage", err)
	}
}
