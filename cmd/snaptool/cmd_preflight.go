package main

import (
	"context"
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/preflight"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "preflight", summary: "would a given Consul restore this snapshot? problems, Consul's error, the rewrite that fixes it", run: runPreflight})
}

const preflightUsage = `Usage: snaptool preflight --target VERSION [flags] FILE...

Answers, before a restore, whether a Consul server of version VERSION
(e.g. 1.12.9, or 1.12 for the newest patch read) and --edition would
accept each snapshot. Integrity comes first ('snaptool verify's verdict,
computed in the same pass): Consul checks SHA256SUMS before anything else.
Then meta.json's Version, then every record type against what the target's
FSM restores (a table read from Consul's source, CE 1.10 to 1.22): types
unknown to the target, Enterprise types on CE, legacy ACL records on 1.15
and later. Each problem lists its record types and counts, Consul's own
error text, and the 'snaptool rewrite' command that removes it. The oldest
Consul that could have written the file is inferred from its records, so a
downgrade is named as one.

Text output: one verdict per file ("would restore", "would fail",
"damaged") with its details, then a summary line. --format json prints
{"would_restore", "summary": {files, would_restore, would_fail, damaged,
unreadable}, "files": [...]}; each file has the keys documented in
preflight.Result (file, target, edition, verdict, would_restore,
integrity, types, writer, consul_error, problems [{kind, message, types,
records, consul_error, fix}], rewrite, notes, ...).

Exit status: 0 every file would restore, 1 one would fail, 2 usage or a
file cannot be read, 3 one is damaged (3 wins over 2, 2 over 1).`

// preflightOptions are preflight's flags.
type preflightOptions struct {
	input        inputOptions
	target       string
	edition      string
	format       string
	downgradeEnv bool
}

// preflightFormats are preflight's --format names.
var preflightFormats = []string{"text", "json"}

// AddFlags declares the flags on fs.
func (o *preflightOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.target, "target", "", "the Consul version to restore into, e.g. 1.12.9 or 1.12 (required)")
	fs.StringVar(&o.edition, "edition", "ce", "the target's edition: ce or enterprise")
	fs.StringVar(&o.format, "format", "text", "output format: text or json")
	fs.BoolVar(&o.downgradeEnv, "downgrade-env", false, "the target runs with CONSUL_ENTERPRISE_DOWNGRADE_TO_CE=true")
	o.input.AddFlags(fs)
}

func runPreflight(ctx context.Context, args []string, e *env) error {
	var o preflightOptions
	fs := newFlagSet("preflight")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, preflightUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, preflightFormats...); err != nil {
		return err
	}
	if o.target == "" {
		return usagef("snaptool preflight --target 1.12.9 FILE...", "--target VERSION is required")
	}
	target, err := preflight.ParseVersion(o.target)
	if err != nil {
		return usagef("snaptool preflight --target 1.12.9 FILE...", "--target: %v", err)
	}
	if _, _, err := preflight.Resolve(target); err != nil {
		return usagef("", "--target: %v", err)
	}
	ed, err := preflight.ParseEdition(o.edition)
	if err != nil {
		return usagef("", "--edition: %v", err)
	}
	if fs.NArg() == 0 {
		return usagef("snaptool preflight --target 1.12.9 FILE...", "missing FILE argument")
	}
	var results []*preflight.Result
	unreadable := 0
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := preflightFile(ctx, path, target, ed, o, e)
		if err != nil {
			unreadable++
			printError(e.stderr, err)
			continue
		}
		results = append(results, r)
		if o.format == "text" {
			if err := preflight.WriteText(e.stdout, r); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
		}
	}
	sum := preflight.Summarize(results, unreadable)
	if o.format == "json" {
		if err := preflight.WriteJSON(e.stdout, results, unreadable); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	} else if _, err := fmt.Fprintln(e.stdout, sum.Line()); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	switch {
	case sum.Damaged > 0:
		return errDamaged
	case unreadable > 0:
		return fmt.Errorf("%d file(s) could not be read", unreadable)
	case sum.WouldFail > 0:
		return errCheckFailed
	}
	return nil
}

// preflightFile checks one input in one pass: verify's accumulator gives
// the integrity verdict while the preflight Checker sees the same records.
func preflightFile(ctx context.Context, path string, target preflight.Version, ed preflight.Edition, o preflightOptions, e *env) (*preflight.Result, error) {
	c, err := preflight.NewChecker(target, ed, preflight.Options{DowngradeEnv: o.downgradeEnv})
	if err != nil {
		return nil, err
	}
	dopts, done := withProgress(e, path, o.format, decode.Options{})
	defer done()
	s, err := openInput(ctx, e, path, dopts, o.input)
	if err != nil {
		if !decode.IsDamage(err) {
			return nil, err // openInput names the path
		}
		return c.Finish(path, nil, preflight.IntegrityVerdict{Verdict: report.VerdictDamaged, Source: "verify", Errors: []string{err.Error()}}), nil
	}
	defer s.Close()
	v := report.NewVerify(report.VerifyOptions{})
	if err := report.Scan(ctx, s, v, c); err != nil {
		return nil, err
	}
	vr := v.Finish(s)
	done()
	iv := preflight.IntegrityVerdict{Verdict: vr.Verdict, Source: "verify"}
	for _, f := range vr.Findings {
		if f.Severity == report.SeverityError && len(iv.Errors) < 20 {
			iv.Errors = append(iv.Errors, f.Message)
		}
	}
	return c.Finish(path, s.Meta(), iv), nil
}
