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
	"github.com/snaptool/snaptool/report"
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
		return runKVExport(args[1:], e)
	case "get":
		return runKVGet(args[1:], e)
	case "-h", "--help", "-help", "help":
		fmt.Fprintf(e.stdout, "%s\n\n%s", kvUsage, exitCodesHelp)
		return errHelp
	}
	return usagef("snaptool kv --help", "unknown kv subcommand %q (want export or get)", args[0])
}

func runKVExport(args []string, e *env) error {
	fs := newFlagSet("kv export")
	out := fs.StringP("output", "o", "", "write to FILE (atomically) instead of stdout")
	if err := parseFlags(fs, args, e, kvUsage); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usagef("snaptool kv export SNAPSHOT [PREFIX]", "kv export needs SNAPSHOT and an optional PREFIX, got %d arguments", fs.NArg())
	}
	path, prefix := fs.Arg(0), fs.Arg(1)
	s, err := openInput(path, decode.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if *out == "" {
		_, errs := report.KVExport(s, prefix, e.stdout)
		return readErrors(e, s, errs)
	}
	var errs []error
	var res report.KVExportResult
	err = safefile.Write(*out, inputFiles(path), func(w io.Writer) error {
		res, errs = report.KVExport(s, prefix, w)
		if len(errs) > 0 {
			return errors.Join(append(errs, fmt.Errorf("%s not written", *out))...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d KV entries (%d value bytes) to %s\n", res.Entries, res.ValueBytes, *out)
	return readErrors(e, s, nil)
}

func runKVGet(args []string, e *env) error {
	fs := newFlagSet("kv get")
	if err := parseFlags(fs, args, e, kvUsage); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("snaptool kv get SNAPSHOT KEY", "kv get needs SNAPSHOT and KEY, got %d arguments", fs.NArg())
	}
	path, key := fs.Arg(0), fs.Arg(1)
	s, err := openInput(path, decode.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	v, errs := report.KVGet(s, key)
	if v.Found {
		if _, err := e.stdout.Write(v.Value); err != nil {
			return err
		}
	}
	if err := readErrors(e, s, errs); err != nil {
		if !v.Found {
			fmt.Fprintf(e.stderr, "%s: key %q not found in what could be read of %s\n", programName, v.Key, path)
		}
		return err
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
