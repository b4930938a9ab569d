package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/safefile"
)

func TestTypeList(t *testing.T) {
	cases := []struct {
		in   []string
		want []decode.MessageType
		err  string
	}{
		{[]string{"KVS"}, []decode.MessageType{decode.TypeKVS}, ""},
		{[]string{"kvs,Register", "3"}, []decode.MessageType{decode.TypeKVS, decode.TypeRegister, 3}, ""},
		{[]string{" Tombstone "}, []decode.MessageType{decode.TypeTombstone}, ""},
		{[]string{"Nope"}, nil, `unknown record type "Nope"`},
		{[]string{"KVS,"}, nil, `unknown record type ""`},
	}
	for _, c := range cases {
		var l typeList
		var err error
		for _, v := range c.in {
			if err = l.Set(v); err != nil {
				break
			}
		}
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Set(%q) = %v, want error %q", c.in, err, c.err)
			}
		case err != nil || !reflect.DeepEqual([]decode.MessageType(l), c.want):
			t.Errorf("Set(%q) = %v, %v; want %v", c.in, l, err, c.want)
		}
	}
}

// TestTypeFlagEverywhere: every command with --type takes names, numbers
// and comma lists, and words an unknown type the same way.
func TestTypeFlagEverywhere(t *testing.T) {
	fix := repoPath("fixtures", "consul-testdata", "backupWithKV.snap")
	for _, args := range [][]string{
		{"dump", "--type", "Nope", fix},
		{"top", "--type", "Nope", fix},
		{"diff", "--type", "Nope", fix, fix},
		{"diff", "--ignore-type", "Nope", fix, fix},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, `unknown record type "Nope" (a name such as KVS or Register, or a number)`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	out, _, code := runCLI(t, "dump", "--no-header", "--type", "KVS,3", fix)
	if code != 0 || !strings.Contains(out, `"type":"KVS"`) || strings.Contains(out, `"type":"Register"`) {
		t.Errorf("dump --type KVS,3: exit %d\n%s", code, out)
	}
}

// TestExitCodeInterrupted: a signal's cause decides 130 or 143, whatever
// the command returned once the context was canceled (interrupted).
func TestExitCodeInterrupted(t *testing.T) {
	sigint := &safefile.Interrupted{Signal: syscall.SIGINT}
	sigterm := &safefile.Interrupted{Signal: syscall.SIGTERM}
	for _, c := range []struct {
		name  string
		cause error // nil: ctx not canceled
		err   error // what the command returned
		want  int
	}{
		{"bare Canceled", nil, context.Canceled, exitInterrupt},
		{"wrapped Canceled", nil, fmt.Errorf("reading: %w", context.Canceled), exitInterrupt},
		{"SIGINT cause", sigint, context.Canceled, exitInterrupt},
		{"SIGTERM cause", sigterm, context.Canceled, exitTerminated},
		{"SIGTERM, the rename refused", sigterm, safefile.ErrInterrupted, exitTerminated},
		{"SIGTERM, a damage error", sigterm, errDamaged, exitTerminated},
		{"SIGINT, the command finished", sigint, nil, exitInterrupt},
		{"no signal, damage", nil, errDamaged, exitDamaged},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if c.cause != nil {
				cancel(c.cause)
			}
			if got := exitCode(interrupted(ctx, c.err)); got != c.want {
				t.Errorf("exitCode(interrupted(%v)) = %d, want %d", c.err, got, c.want)
			}
		})
	}
}

// TestArgCountWording: one check, one wording, for every command.
func TestArgCountWording(t *testing.T) {
	re := regexp.MustCompile(`^Error: [a-z ]+ needs (at least )?\d+( to \d+)? arguments? \([A-Z .\[\]0-9]+\), got \d+\nTry: snaptool `)
	for _, args := range [][]string{
		{"inspect"}, {"verify"}, {"dump"}, {"top"}, {"diff", "a"}, {"kv", "export"}, {"kv", "get", "a"},
		{"report", "--html", "x.html"},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != 2 || !re.MatchString(stderr) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestCLIReportStdin: report reads each input once, so "-" works.
func TestCLIReportStdin(t *testing.T) {
	before, after := fixturePair()
	out := filepath.Join(t.TempDir(), "r.html")
	f, err := os.Open(before)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(binPath, "report", "--html", out, "-", after)
	cmd.Stdin = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("report - B: %v\n%s", err, stderr.String())
	}
	want := filepath.Join(t.TempDir(), "want.html")
	if _, errOut, code := runCLI(t, "report", "--html", want, before, after); code != 0 {
		t.Fatalf("report A B: exit %d: %s", code, errOut)
	}
	got, _ := os.ReadFile(out)
	exp, _ := os.ReadFile(want)
	bytesAttr := regexp.MustCompile(`data-bytes="\d+"`)
	if g, w := bytesAttr.FindAllString(string(got), -1), bytesAttr.FindAllString(string(exp), -1); len(g) == 0 || !reflect.DeepEqual(g, w) {
		t.Errorf("report from stdin shows other sizes than from the file: %d vs %d cells", len(g), len(w))
	}
	if !bytes.Contains(got, []byte(`id="summary"`)) {
		t.Error("report from stdin has no comparison")
	}
}
