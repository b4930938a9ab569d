package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// The completion table covers exactly the registered commands, and each
// entry's flags are the command's own (through its AddFlags).
func TestCompletionTable(t *testing.T) {
	for name := range commands {
		if _, ok := cmdFlags[name]; !ok {
			t.Errorf("command %q is not in the completion table (cmdFlags)", name)
		}
	}
	for name := range cmdFlags {
		if _, ok := commands[strings.Fields(name)[0]]; !ok {
			t.Errorf("completion table lists %q, which is not a command", name)
		}
	}
}

// Each script is accepted by its shell (bash -n, zsh -n, fish -n) and
// names every command, every flag of every command and the --format names.
func TestCLICompletion(t *testing.T) {
	model := completionModel()
	for _, shell := range completionShells {
		t.Run(shell, func(t *testing.T) {
			out, errOut, code := runCLI(t, "completion", shell)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, n := range commandNames() {
				if !regexp.MustCompile(`\b` + n + `\b`).MatchString(out) {
					t.Errorf("the %s script does not list command %q", shell, n)
				}
			}
			for _, c := range model {
				for _, f := range c.flags {
					if !strings.Contains(out, "--"+f.long) && !strings.Contains(out, "-l "+f.long) {
						t.Errorf("the %s script lacks %s's flag --%s", shell, c.name, f.long)
					}
				}
				if len(c.formats) > 0 && !strings.Contains(out, strings.Join(c.formats, " ")) {
					t.Errorf("the %s script lacks %s's formats %v", shell, c.name, c.formats)
				}
			}
			bin, err := exec.LookPath(shell)
			if err != nil {
				if shell == "bash" || os.Getenv("CI") == "true" {
					t.Fatalf("%s not installed", shell)
				}
				t.Logf("%s not installed: syntax not checked", shell)
				return
			}
			file := filepath.Join(t.TempDir(), "snaptool."+shell)
			if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			if msg, err := exec.Command(bin, "-n", file).CombinedOutput(); err != nil {
				t.Errorf("%s -n rejects the script: %v\n%s", shell, err, msg)
			}
		})
	}
	// bash: the script completes commands, flags, --format values and kv's subcommands.
	if _, err := exec.LookPath("bash"); err == nil {
		out, _, _ := runCLI(t, "completion", "bash")
		file := filepath.Join(t.TempDir(), "c.bash")
		if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			words []string
			want  string
		}{
			{[]string{"snaptool", "ver"}, "verify version"},
			{[]string{"snaptool", "inspect", "--for"}, "--format"},
			{[]string{"snaptool", "inspect", "--format", ""}, "table text pretty json"},
			{[]string{"snaptool", "dump", "--format", ""}, "jsonl json"},
			{[]string{"snaptool", "kv", ""}, "export get"},
			{[]string{"snaptool", "kv", "export", "-"}, "--output -o --best-effort --help -h"},
			{[]string{"snaptool", "completion", ""}, "bash zsh fish"},
			{[]string{"snaptool", "help", "pre"}, "preflight"},
		} {
			script := "source " + file + "\nCOMP_WORDS=(" + quoteWords(c.words) + ")\nCOMP_CWORD=" + itoa(len(c.words)-1) +
				"\n_snaptool\necho \"${COMPREPLY[*]}\"\n"
			got, err := exec.Command("bash", "-c", script).CombinedOutput()
			if err != nil || strings.TrimSpace(string(got)) != c.want {
				t.Errorf("completing %q: got %q (%v), want %q", c.words, strings.TrimSpace(string(got)), err, c.want)
			}
		}
	}
	if _, errOut, code := runCLI(t, "completion", "tcsh"); code != 2 || !strings.HasPrefix(errOut, "Error: unknown shell \"tcsh\"") {
		t.Errorf("completion tcsh: exit %d, stderr %q", code, errOut)
	}
}

func quoteWords(w []string) string {
	q := make([]string, len(w))
	for i, s := range w {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, " ")
}

func TestCLIHelpAndVersion(t *testing.T) {
	// help COMMAND is that command's help; an unknown one is an error.
	out, _, code := runCLI(t, "help", "completion")
	if code != 0 || !strings.HasPrefix(out, "Usage: snaptool completion bash|zsh|fish") {
		t.Errorf("help completion: exit %d\n%s", code, out)
	}
	out, errOut, code := runCLI(t, "help", "no-such-command")
	if code != 2 || out != "" || errOut != "Error: unknown command \"no-such-command\"\nTry: snaptool help (lists the commands)\n" {
		t.Errorf("help no-such-command: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = runCLI(t, "help")
	for _, n := range commandNames() {
		if code != 0 || !strings.Contains(out, "\n  "+n+" ") {
			t.Errorf("help: exit %d, command %s not listed", code, n)
		}
	}
	// version: the version, the Go version and a commit line.
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, code := runCLI(t, args...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != 3 || lines[0] != "snaptool dev" || !strings.HasPrefix(lines[1], "go: "+runtime.Version()+" ") || !strings.HasPrefix(lines[2], "commit: ") {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	// -ldflags set the version and the commit.
	bin := filepath.Join(t.TempDir(), "snaptool")
	if msg, err := exec.Command("go", "build", "-ldflags", "-X main.version=1.2.3-test -X main.commit=0123abcd", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	got, err := exec.Command(bin, "version").Output()
	if want := "snaptool 1.2.3-test\ngo: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\ncommit: 0123abcd\n"; err != nil || string(got) != want {
		t.Errorf("version with -ldflags: %q (%v), want %q", got, err, want)
	}
}

// The build info's VCS settings make the commit line.
func TestFormatVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "22156cf499985f62ff1b5e311c3d4578b3db9705"},
		{Key: "vcs.time", Value: "2026-11-29T23:32:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	want := "snaptool dev\ngo: go1.99.1 " + runtime.GOOS + "/" + runtime.GOARCH + "\ncommit: 22156cf499985f62ff1b5e311c3d4578b3db9705 (2026-11-29T23:32:00Z), modified\n"
	if got := formatVersion("dev", "ldflags-commit", info); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	info = &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Version: "v1.4.0"}}
	if got := formatVersion("dev", "", info); !strings.HasPrefix(got, "snaptool v1.4.0\n") || !strings.HasSuffix(got, "commit: unknown (built without version control information)\n") {
		t.Errorf("module version: %q", got)
	}
}

// --format takes the same names everywhere: text is table's alias (inspect,
// top), jsonl is dump's format and json its alias; a wrong name is a usage
// error that lists the names.
func TestCLIFormatNames(t *testing.T) {
	snap := testdataPath("backup.snap")
	for _, c := range []struct {
		args   []string
		sameAs []string
	}{
		{[]string{"inspect", "--format", "text", snap}, []string{"inspect", "--format", "table", snap}},
		{[]string{"top", "--format", "text", snap}, []string{"top", snap}},
		{[]string{"dump", "--format", "json", snap}, []string{"dump", snap}},
		{[]string{"dump", "--format", "jsonl", snap}, []string{"dump", snap}},
		{[]string{"verify", "--format", "text", snap}, []string{"verify", snap}},
	} {
		got, _, code := runCLI(t, c.args...)
		want, _, wcode := runCLI(t, c.sameAs...)
		if code != 0 || wcode != 0 || got != want || got == "" {
			t.Errorf("%v (exit %d) differs from %v (exit %d)", c.args, code, c.sameAs, wcode)
		}
	}
	out, _, _ := runCLI(t, "dump", "--format", "jsonl", snap)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("dump --format jsonl: not a JSON line: %q", l)
		}
	}
	for _, cmd := range []string{"inspect", "top", "verify", "dump", "preflight"} {
		args := []string{cmd, "--format", "yaml", snap}
		if cmd == "preflight" {
			args = append([]string{cmd, "--target", "1.13"}, args[1:]...)
		}
		_, errOut, code := runCLI(t, args...)
		if code != 2 || !strings.HasPrefix(errOut, "Error: unknown --format \"yaml\" (want one of [") || !strings.Contains(errOut, "\nTry: snaptool "+cmd+" --help\n") {
			t.Errorf("%s --format yaml: exit %d, stderr %q", cmd, code, errOut)
		}
	}
}

// One error style: every error line on stderr starts "Error: ", a usage
// error adds "Try: ", warnings "Warning: ".
func TestCLIErrorStyle(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.snap")
	damaged := damagedCopy(t, testdataPath("backup.snap"), truncateHalf)
	for _, args := range [][]string{
		{"inspect", missing},
		{"inspect", damaged},
		{"verify", missing},
		{"dump", damaged},
		{"top", "-n", "0", damaged},
		{"kv", "get", damaged, "nope"},
		{"inspect"},
		{"nope"},
		{"kv", "nope"},
	} {
		_, errOut, code := runCLI(t, args...)
		if code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, l := range strings.Split(strings.TrimSuffix(errOut, "\n"), "\n") {
			if !strings.HasPrefix(l, "Error: ") && !strings.HasPrefix(l, "Try: ") && !strings.HasPrefix(l, "Warning: ") {
				t.Errorf("%v: stderr line %q is not in the one style", args, l)
			}
		}
	}
	// A raw state.bin without checksums warns in that style.
	_, errOut, code := runCLI(t, "inspect", testdataPath("raw", "state.bin"))
	if code != 0 || !strings.HasPrefix(errOut, "Warning: ") {
		t.Errorf("inspect raw state.bin: exit %d, stderr %q", code, errOut)
	}
}

func init() {
	// version, help and completion read no input: their runs in the
	// secrets and file-safety audits show that they print nothing of one.
	auditPlans["version"] = []auditPlan{{args: []string{}}}
	auditPlans["help"] = []auditPlan{{args: []string{"dump"}}}
	auditPlans["completion"] = []auditPlan{{args: []string{"bash"}}, {args: []string{"zsh"}}, {args: []string{"fish"}}}
}
