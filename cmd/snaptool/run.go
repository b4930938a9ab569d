package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/safefile"
)

// version and commit are set at build time with -ldflags "-X
// main.version=… -X main.commit=…" (make build does); the build info's
// vcs.revision, when go build stamped one, wins over commit.
var (
	version = "dev"
	commit  = ""
)

// Exit codes, documented in every command's help.
const (
	exitOK         = 0
	exitDifferent  = 1
	exitUsage      = 2
	exitDamaged    = 3
	exitInterrupt  = 130 // 128 + SIGINT
	exitTerminated = 143 // 128 + SIGTERM
	exitCodesHelp  = "EXIT STATUS\n  0    success\n  1    differences found (diff), would not restore (preflight), a check failed (history)\n  2    usage or I/O error, or not a Consul snapshot\n  3    damaged snapshot\n  130  interrupted (SIGINT, Ctrl-C)\n  143  terminated (SIGTERM)\n"
	programName    = "snaptool"
	globalHelpHead = "snaptool: offline forensics for HashiCorp Consul snapshots (.snap archives, raw state.bin, raft data dirs).\nIt never contacts a cluster and never writes to an input file.\n\nUsage:\n  snaptool <command> [flags] ARGS\n\nCommands:\n"
)

// command is one subcommand. Each lives in its own cmd_<name>.go file and
// registers itself in init.
type command struct {
	name    string
	summary string
	// run executes the command. Errors are classified by exitCode.
	run func(ctx context.Context, args []string, env *env) error
	// gcPercent, when set, replaces gctune's GOGC for this command (unless
	// the environment sets GOGC).
	gcPercent int
}

// env is what a command may touch: its output streams and whether stderr is
// a terminal (for progress).
type env struct {
	stdout, stderr io.Writer
	stderrIsTTY    bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError is a command-line mistake; it is printed with a hint.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...), hint: hint}
}

// errDifferent means diff found differences (exit 1). It is not printed.
var errDifferent = errors.New("snapshots differ")

// errCheckFailed means a check failed (exit 1) and the command already
// printed why: preflight found a snapshot the target would refuse, or a
// history cron rule fired.
var errCheckFailed = errors.New("check failed")

// errDamaged means a command already reported damage (exit 3) and nothing more needs printing.
var errDamaged = errors.New("snapshot damaged")

// errHelp means help was printed on request (exit 0).
var errHelp = errors.New("help requested")

// exitCode is the one place that maps a command's outcome to an exit code.
// A signal's cause (an *safefile.Interrupted, see interrupted) gives 130
// for SIGINT and 143 for SIGTERM; a bare context.Canceled gives 130.
func exitCode(err error) int {
	var ue *usageError
	var in *safefile.Interrupted
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &in):
		return in.ExitCode()
	case errors.Is(err, context.Canceled):
		return exitInterrupt
	case errors.Is(err, errDifferent), errors.Is(err, errCheckFailed):
		return exitDifferent
	case errors.As(err, &ue), errors.Is(err, decode.ErrNotSnapshot):
		return exitUsage // not a snapshot is not damage: the input is something else
	case errors.Is(err, errDamaged), decode.IsDamage(err):
		return exitDamaged
	default:
		return exitUsage
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, stderrIsTTY: isTerminal(stderr)}
	if len(args) == 0 {
		printGlobalHelp(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help":
		args[0] = "help"
	case "--version", "-version":
		args[0] = "version"
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "Error: unknown command %q\nTry: snaptool --help\n", args[0])
		return exitUsage
	}
	if c.gcPercent != 0 {
		tuneGC(c.gcPercent)
	}
	err := interrupted(ctx, c.run(ctx, args[1:], e))
	code := exitCode(err)
	switch {
	case err == nil, errors.Is(err, errHelp), errors.Is(err, errDifferent), errors.Is(err, errCheckFailed), errors.Is(err, errDamaged):
	default:
		var ue *usageError
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "Error: %s\n", decode.SafeText(err.Error()))
		} else if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Error: %s\n", decode.SafeText(ue.msg))
			hint := ue.hint
			if hint == "" {
				hint = "snaptool " + c.name + " --help"
			}
			fmt.Fprintf(stderr, "Try: %s\n", hint)
		} else {
			printError(stderr, err)
		}
	}
	return code
}

// interrupted is err, unless a signal canceled ctx while the command ran:
// then it is the signal (context.Cause, an *safefile.Interrupted), whatever
// the command returned (a Write refused at the rename, a half-read input,
// or even success just as the signal came), so that every command exits
// 130 or 143 after SIGINT or SIGTERM.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return ctx.Err()
}

// printError prints each line of err (joined errors are one per line,
// at any depth) as "Error: …", the one style of every error (a usage
// error adds "Try: …").
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "Error: %s\n", decode.SafeText(line)) // file names and keys come from the input
	}
}

func printGlobalHelp(w io.Writer) {
	fmt.Fprint(w, globalHelpHead)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'snaptool <command> --help' for a command's flags.\n\n%s", exitCodesHelp)
}

// consulSpellings maps the single-dash flags of `consul snapshot inspect`
// to ours, so that muscle memory works.
var consulSpellings = map[string]string{
	"-kvdetails": "--kv-details",
	"-kvdepth":   "--kv-depth",
	"-kvfilter":  "--kv-filter",
	"-format":    "--format",
}

// normalizeArgs rewrites Consul's spellings (`-kvdepth 3`, `-format=json`).
func normalizeArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		name, val, hasVal := strings.Cut(a, "=")
		if n, ok := consulSpellings[name]; ok {
			if hasVal {
				out = append(out, n+"="+val)
			} else {
				out = append(out, n)
			}
			continue
		}
		out = append(out, a)
	}
	return out
}
