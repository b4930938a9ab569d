package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/replay"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

// Every command is wired the same way, in the shape of restic's
// cmd_diff.go: an options struct with an AddFlags method registers its
// flags on the command's own FlagSet (no package-level flag variables),
// parseFlags parses (printing help on --help), checkArgs checks the number
// of arguments with one wording, and the command body takes ctx into every
// record loop. Warnings go to stderr through printWarnings.

// newFlagSet returns a FlagSet for one command.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	return fs
}

// parseFlags parses args (after Consul spellings are normalised). On
// --help it prints usage, the flags and the exit codes to stdout and
// returns errHelp.
func parseFlags(fs *pflag.FlagSet, args []string, e *env, usage string) error {
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(normalizeArgs(args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			*help = true
		} else {
			return usagef("", "%v", err)
		}
	}
	if *help {
		fmt.Fprintf(e.stdout, "%s\n\nFlags:\n%s\n%s", usage, fs.FlagUsages(), exitCodesHelp)
		return errHelp
	}
	return nil
}

// checkArgs checks the number of positional arguments: at least min, at
// most max (max < 0: no limit). spec names them as the usage line does
// ("FILE", "A B", "SNAPSHOT [PREFIX]"). One wording for every command:
// "inspect needs 1 argument (FILE), got 0".
func checkArgs(fs *pflag.FlagSet, spec string, min, max int) error {
	n := fs.NArg()
	if n >= min && (max < 0 || n <= max) {
		return nil
	}
	var want string
	switch {
	case max < 0:
		want = "at least " + report.Plural(min, "argument")
	case min == max:
		want = report.Plural(min, "argument")
	default:
		want = fmt.Sprintf("%d to %d arguments", min, max)
	}
	name := fs.Name()
	return usagef("snaptool "+name+" [flags] "+spec, "%s needs %s (%s), got %d", name, want, spec, n)
}

// checkFormat validates --format before any work starts.
func checkFormat(format string, allowed ...string) error {
	if err := report.CheckFormat(format, allowed...); err != nil {
		return usagef("", "%v", err)
	}
	return nil
}

// typeList is the --type value of every command that filters by record
// type: repeatable or comma-separated, each a type name as inspect prints
// it (case-insensitive) or its number, parsed by decode.ParseType.
type typeList []decode.MessageType

var _ pflag.Value = (*typeList)(nil)

func (l *typeList) String() string {
	names := make([]string, len(*l))
	for i, t := range *l {
		names[i] = t.String()
	}
	return strings.Join(names, ",")
}

// Set adds the types named in v.
func (l *typeList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		t, ok := decode.ParseType(strings.TrimSpace(part))
		if !ok {
			return fmt.Errorf("unknown record type %q (a name such as KVS or Register, or a number)", part)
		}
		*l = append(*l, t)
	}
	return nil
}

// Type is the placeholder shown in help.
func (l *typeList) Type() string { return "TYPE" }

// inputOptions are the flags of every command that reads snapshots
// through openInput.
type inputOptions struct {
	bestEffort bool
}

// AddFlags registers the input flags on fs.
func (o *inputOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.bestEffort, "best-effort", false, "DATA_DIR@INDEX: apply the log entries that replay exactly, list the others on stderr, instead of stopping")
}

// openInput opens a snapshot in any input form (archive, raw state.bin,
// data-dir snapshot directory, "-" for an archive on stdin), or
// DATA_DIR@INDEX: the state of a server's data dir at a raft index,
// replayed from its snapshots and raft log (package replay). A path that
// exists is always opened as it is.
func openInput(ctx context.Context, e *env, path string, opts decode.Options, in inputOptions) (*decode.Snapshot, error) {
	s, err := in.opener(ctx, e)(path, opts)
	if err != nil {
		var ue *replay.UnreproducibleError
		if errors.As(err, &ue) || errors.Is(err, replay.ErrNoBase) {
			return nil, err // names DATA_DIR@INDEX already
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return s, nil
}

// opener is openInput's way to open, for the library functions that open
// their paths themselves (report.VerifyOptions.Open, HTMLOptions.Open):
// decode.Open, or replay.Open for DATA_DIR@INDEX (the entries it skips with
// --best-effort are listed on stderr).
func (in inputOptions) opener(ctx context.Context, e *env) func(string, decode.Options) (*decode.Snapshot, error) {
	return func(path string, opts decode.Options) (*decode.Snapshot, error) {
		if _, statErr := os.Stat(path); statErr != nil {
			if dir, index, ok := replay.Split(path); ok {
				s, res, err := replay.Open(dir, index, replay.Options{BestEffort: in.bestEffort, Decode: opts, Context: ctx})
				if err != nil {
					return nil, err
				}
				for _, u := range res.Skipped {
					fmt.Fprintf(e.stderr, "Warning: %s: not replayed: %s\n", decode.SafeText(path), decode.SafeText(u.String()))
				}
				return s, nil
			}
		}
		return decode.Open(path, opts)
	}
}

// printWarnings prints the warnings of each snapshot to stderr, one line
// each, after the data: "Warning: NAME: message". Every diagnostic line on
// stderr has one of four labels: "Error: " (and "Try: " for a usage
// error's hint, run.go), "Warning: ", "Note: ".
func printWarnings(e *env, snaps ...*decode.Snapshot) {
	for _, s := range snaps {
		if s == nil {
			continue
		}
		for _, w := range s.Warnings() {
			fmt.Fprintf(e.stderr, "Warning: %s: %s\n", decode.SafeText(s.Name), decode.SafeText(w.Error()))
		}
	}
}
