package main

import (
	"context"
	"fmt"

	"github.com/snaptool/snaptool/report"
)

func init() {
	register(&command{name: "verify", summary: "layered integrity verdict: gzip, tar, checksums, meta.json, records, ordering, unknown types", run: runVerify})
}

const verifyUsage = `Usage: snaptool verify [flags] FILE...

Checks each snapshot layer by layer and gives one verdict per file, then a
summary line. It reads past a failure where later layers still tell
something: after a checksum mismatch every record is still decoded to
locate the damage.

  gzip           stream valid and drained
  tar            exactly meta.json, state.bin, SHA256SUMS; nothing after the end
  checksums      SHA-256 both ways (archive), CRC-64 (data-dir snapshot)
  meta.json      parses; Size equals the state.bin length
  records        every record decodes to its type; header LastIndex vs meta Index
  ordering       ChunkingState last and once; no index beyond meta.json's Index
  unknown types  named, with what a CE restore would do

Each finding is an error or a warning and names its place: member, byte
offset, record number, type. A file passes when it has no error (and with
--strict no warning). --format json prints
{"pass", "summary": {files, passed, failed, unreadable}, "files": [...]};
each file has file, form, verdict (ok|warnings|damaged|unreadable), pass,
strict, integrity, meta, last_index, records, state_size, errors,
warnings, layers [{name, status}], findings [{layer, severity, member,
offset, record, type, message}].

Exit status: 0 when every file passes, 3 when one is damaged (or has a
warning with --strict), 2 when a file cannot be read and none failed.`

func runVerify(ctx context.Context, args []string, e *env) error {
	var format string
	var opts report.VerifyOptions
	fs := newFlagSet("verify")
	fs.StringVar(&format, "format", "text", "output format: text or json")
	fs.BoolVar(&opts.Strict, "strict", false, "warnings fail the verdict too")
	if err := parseFlags(fs, args, e, verifyUsage); err != nil {
		return err
	}
	if err := checkFormat(format, "text", "json"); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("snaptool verify [flags] FILE...", "missing FILE argument")
	}
	var results []*report.VerifyResult
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		o := opts
		var done func()
		o.Decode, done = withProgress(e, path, format, o.Decode)
		r, _ := report.VerifyFile(path, o) // an unreadable file is a verdict, not a stop
		done()
		results = append(results, r)
		if format == "text" {
			if err := report.WriteVerifyText(e.stdout, r); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
		}
	}
	sum := report.Summarize(results)
	switch format {
	case "json":
		if err := report.WriteVerifyJSON(e.stdout, results); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	default:
		if _, err := fmt.Fprintln(e.stdout, sum.SummaryLine()); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	switch {
	case sum.Failed > 0:
		return errDamaged
	case sum.Unreadable > 0:
		return fmt.Errorf("%s could not be read", plural(sum.Unreadable, "file"))
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
