package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/internal/safefile"
	"github.com/snaptool/snaptool/replay"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "kv", summary: "get the KV store back: export (consul kv import format) or get one value", run: runKV})
}

const kvUsage = `Usage:
  snaptool kv export [-o FILE] SNAPSHOT [PREFIX]
  snaptool kv get SNAPSHOT KEY

export writes every KV entry (under PREFIX, if given) in the exact format of
'consul kv export': a JSON array of {"key","flags","value"} with the value in
base64. The file imports with 'consul kv import @FILE'. With -o the file is
written atomically, and not at all if the snapshot is damaged; on stdout the
JSON stays valid and the damage is reported on stderr (exit 3).

get prints one raw value, byte for byte, to stdout. A key that is not in the
snapshot is an error (exit 2), as is a value in a damaged snapshot (exit 3,
the value is still printed).`

func runKV(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 {
		return usagef("snaptool kv --help", "kv needs a subcommand: export or get")
	}
	switch args[0] {
	case "export":
		return runKVExport(ctx, args[1:], e)
	case "get":
		return runKVGet(ctx, args[1:], e)
	case "-h", "--help", "-help", "help":
		fmt.Fprintf(e.stdout, "%s\n\n%s", kvUsage, exitCodesHelp)
		return errHelp
	}
	return usagef("snaptool kv --help", "unknown kv subcommand %q (want export or get)", args[0])
}

// kvExportOptions are kv export's flags.
type kvExportOptions struct {
	input  inputOptions
	output string
}

// AddFlags registers kv export's flags on fs.
func (o *kvExportOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.output, "output", "o", "", "write to FILE (atomically) instead of stdout")
	o.input.AddFlags(fs)
}

func runKVExport(ctx context.Context, args []string, e *env) error {
	var o kvExportOptions
	fs := newFlagSet("kv export")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, kvUsage); err != nil {
		return err
	}
	if err := checkArgs(fs, "SNAPSHOT [PREFIX]", 1, 2); err != nil {
		return err
	}
	path, prefix := fs.Arg(0), fs.Arg(1)
	s, err := openInput(ctx, e, path, decode.Options{}, o.input)
	if err != nil {
		return err
	}
	defer s.Close()
	if o.output == "" {
		_, err := report.KVExport(ctx, s, prefix, e.stdout)
		printWarnings(e, s)
		return err
	}
	var res report.KVExportResult
	err = safefile.Write(o.output, inputFiles(path), func(w io.Writer) error {
		var err error
		res, err = report.KVExport(ctx, s, prefix, w)
		if err != nil {
			return errors.Join(err, fmt.Errorf("%s not written", o.output))
		}
		return nil
	})
	printWarnings(e, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d KV entries (%d value bytes) to %s\n", res.Entries, res.ValueBytes, o.output)
	return nil
}

// kvGetOptions are kv get's flags.
type kvGetOptions struct {
	input inputOptions
}

// AddFlags registers kv get's flags on fs.
func (o *kvGetOptions) AddFlags(fs *pflag.FlagSet) { o.input.AddFlags(fs) }

func runKVGet(ctx context.Context, args []string, e *env) error {
	var o kvGetOptions
	fs := newFlagSet("kv get")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, kvUsage); err != nil {
		return err
	}
	if err := checkArgs(fs, "SNAPSHOT KEY", 2, 2); err != nil {
		return err
	}
	path, key := fs.Arg(0), fs.Arg(1)
	s, err := openInput(ctx, e, path, decode.Options{}, o.input)
	if err != nil {
		return err
	}
	defer s.Close()
	v, gerr := report.KVGet(ctx, s, key)
	if v.Found {
		out := v.Value
		if isTerminal(e.stdout) {
			// The raw bytes are for pipes and files (consul kv get's
			// output); a terminal gets them escaped (decode.SafeText).
			out = []byte(decode.SafeText(string(v.Value)) + "\n")
		}
		if _, err := e.stdout.Write(out); err != nil {
			return err
		}
	}
	printWarnings(e, s)
	if gerr != nil {
		if !v.Found {
			fmt.Fprintf(e.stderr, "Error: key \"%s\" not found in what could be read of %s\n", decode.SafeText(v.Key), decode.SafeText(path))
		}
		return gerr
	}
	if !v.Found {
		return usagef("snaptool kv export "+path+" PREFIX  (lists the keys under PREFIX)",
			"no key %q in %s (%d KV entries)", v.Key, path, v.Entries)
	}
	return nil
}

// inputFiles lists the files an input path reads, so that an output never
// replaces one: the path itself, meta.json beside a raw state.bin, and the
// state.bin and meta.json of snapshot directories under a directory.
func inputFiles(path string) []string {
	files := []string{path}
	if path == "-" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		if dir, _, ok := replay.Split(path); ok { // DATA_DIR@INDEX: the data dir's files
			return append(append(files, inputFiles(dir)...), filepath.Join(dir, "raft", "raft.db"))
		}
		return files
	}
	if !st.IsDir() {
		return append(files, filepath.Join(filepath.Dir(path), decode.MemberMeta))
	}
	for _, pat := range []string{"", "*", filepath.Join("snapshots", "*"), filepath.Join("raft", "snapshots", "*")} {
		for _, m := range []string{decode.MemberState, decode.MemberMeta} {
			found, _ := filepath.Glob(filepath.Join(path, pat, m))
			files = append(files, found...)
		}
	}
	return files
}
