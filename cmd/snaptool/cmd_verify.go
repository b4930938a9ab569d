package main

import (
	"context"
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
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

A damaged file ends with one line on what to do: do not restore it, and
which records can still be read (how many, up to which offset of
state.bin) with which command. A file that is not a Consul snapshot (an
empty file, text, JSON, a zip, a directory with no snapshot) gets the
verdict "not_snapshot" and says what it looks like instead. Offsets say
which stream they count: the file, the gzip output (the uncompressed tar
stream) or state.bin. A raw state.bin is checked against a SHA256SUMS
beside it (an extracted archive), or a data-dir snapshot's CRC-64.

Exit status: 0 when every file passes, 3 when one is damaged (or has a
warning with --strict), 2 when a file cannot be read or is not a
snapshot and none failed.`

// verifyOptions are verify's flags.
type verifyOptions struct {
	input  inputOptions
	format string
	strict bool
}

// verifyFormats are verify's --format names.
var verifyFormats = []string{"text", "json"}

// AddFlags registers verify's flags on fs.
func (o *verifyOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "text", "output format: text or json")
	fs.BoolVar(&o.strict, "strict", false, "warnings fail the verdict too")
	o.input.AddFlags(fs)
}

func runVerify(ctx context.Context, args []string, e *env) error {
	var o verifyOptions
	fs := newFlagSet("verify")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, verifyUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, verifyFormats...); err != nil {
		return err
	}
	if err := checkArgs(fs, "FILE...", 1, -1); err != nil {
		return err
	}
	p, err := report.NewPrinter(o.format, e.stdout)
	if err != nil {
		return usagef("", "%v", err)
	}
	var results []*report.VerifyResult
	for _, path := range fs.Args() {
		vo := report.VerifyOptions{Strict: o.strict, Open: o.input.opener(ctx, e)}
		var done func()
		vo.Decode, done = withProgress(e, path, o.format, vo.Decode)
		r, _ := report.VerifyFile(ctx, path, vo) // an unreadable file is a verdict ("unreadable"), not a stop
		done()
		if err := ctx.Err(); err != nil {
			return err
		}
		results = append(results, r)
		if err := p.VerifyFile(r); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	if err := p.VerifyDone(results); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	sum := report.Summarize(results)
	switch {
	case sum.Failed > 0:
		return errDamaged
	case sum.Unreadable > 0:
		return fmt.Errorf("%s could not be read", report.Plural(sum.Unreadable, "file"))
	case sum.NotSnapshot > 0:
		verb := "is"
		if sum.NotSnapshot > 1 {
			verb = "are"
		}
		return fmt.Errorf("%s %s %w", report.Plural(sum.NotSnapshot, "file"), verb, decode.ErrNotSnapshot)
	}
	return nil
}
