package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/internal/safefile"
	"github.com/snaptool/snaptool/rewrite"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "rewrite", summary: "write a new snapshot keeping a selection of the records (e.g. one an older Consul restores)", run: runRewrite})
}

const rewriteUsage = `Usage: snaptool rewrite [flags] IN OUT

Writes OUT, a snapshot archive as Consul writes it, with the records of IN
that the flags keep. Kept records are copied byte for byte; the state.bin
header (LastIndex) and every meta.json field stay, except Size; SHA256SUMS
is recomputed. With no flags OUT holds exactly IN's state.bin. OUT is read
back and verified before it replaces anything; it is written atomically,
0600, and never over IN.

A record is kept when every flag keeps it. --kv-prefix and --drop-kv-prefix
select KVS and Tombstone records only; other types are untouched. Types are
Consul's names (Peering, KVS, ...) or numbers. Index rows (raft's per-table
max index) are kept unless type Index itself is dropped: Consul restores
them as they are, harmless for tables that are now empty or unknown to the
target.

IN is any input form except - (standard input) or a pipe: it is read twice,
once to size state.bin (the tar header carries its size first), once to
write. A damaged IN is refused (exit 3). 'snaptool preflight' prints the
rewrite command that makes a snapshot restorable on a given Consul.

--redact replaces every secret (what every other command masks: ACL
SecretIDs, the management token, CA private keys, peering secrets, tokens
in config entries, ...) by a stand-in of the same length and shape: a UUID
stays a UUID, a PEM private key a PEM block saying REDACTED, anything else
letters and digits. Stand-ins come from an HMAC of the secret under a key
drawn for this run and then forgotten, so two records that shared a secret
still share its stand-in and OUT carries no byte of any secret. Records
without secrets stay byte for byte; OUT still restores. --redact-kv-values
(implies --redact) also replaces every KV value by "redacted " repeated to
the same length, for sending a snapshot's structure without its data.

A one-line summary goes to stderr: records kept and dropped per type, sizes.`

// rewriteOptions are rewrite's flags.
type rewriteOptions struct {
	dropTypes      []string
	keepTypes      []string
	dropEnterprise bool
	kvPrefixes     []string
	dropKVPrefixes []string
	redact         bool
	redactKV       bool
}

// AddFlags declares the flags on fs.
func (o *rewriteOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.dropTypes, "drop-type", nil, "drop records of this type (name or number; repeatable)")
	fs.StringArrayVar(&o.keepTypes, "keep-type", nil, "keep only records of these types (name or number; repeatable)")
	fs.BoolVar(&o.dropEnterprise, "drop-enterprise", false, "drop Consul Enterprise records (types 64 and up)")
	fs.StringArrayVar(&o.kvPrefixes, "kv-prefix", nil, "keep only KV entries and tombstones whose key starts with `P` (repeatable)")
	fs.StringArrayVar(&o.dropKVPrefixes, "drop-kv-prefix", nil, "drop KV entries and tombstones whose key starts with `P` (repeatable)")
	fs.BoolVar(&o.redact, "redact", false, "replace every secret by a stand-in of the same length and shape")
	fs.BoolVar(&o.redactKV, "redact-kv-values", false, "also replace KV values by same-length placeholders (implies --redact)")
}

// options turns the flags into the library's options.
func (o *rewriteOptions) options() (rewrite.Options, error) {
	drop, err := rewriteTypes(o.dropTypes, "--drop-type")
	if err != nil {
		return rewrite.Options{}, err
	}
	keep, err := rewriteTypes(o.keepTypes, "--keep-type")
	if err != nil {
		return rewrite.Options{}, err
	}
	for _, d := range drop {
		for _, k := range keep {
			if d == k {
				return rewrite.Options{}, usagef("", "type %s is given to both --drop-type and --keep-type", d)
			}
		}
	}
	var transform rewrite.Transform
	if o.redact || o.redactKV {
		if transform, err = rewrite.Redaction(o.redactKV); err != nil {
			return rewrite.Options{}, err
		}
	}
	return rewrite.Options{
		DropTypes: drop, KeepTypes: keep, DropEnterprise: o.dropEnterprise,
		KVPrefixes: o.kvPrefixes, DropKVPrefixes: o.dropKVPrefixes,
		Transform: transform,
		// Both cores: compression is the cost of a rewrite.
		Archive: encode.ArchiveOptions{Parallel: runtime.GOMAXPROCS(0)},
	}, nil
}

func rewriteTypes(names []string, flag string) ([]decode.MessageType, error) {
	var out []decode.MessageType
	for _, name := range names {
		t, ok := decode.ParseType(strings.TrimSpace(name))
		if !ok {
			return nil, usagef("snaptool rewrite "+flag+" Peering IN OUT", "unknown record type %q for %s", name, flag)
		}
		out = append(out, t)
	}
	return out, nil
}

func runRewrite(ctx context.Context, args []string, e *env) error {
	var o rewriteOptions
	fs := newFlagSet("rewrite")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, rewriteUsage); err != nil {
		return err
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("snaptool rewrite [flags] IN OUT", "rewrite needs IN and OUT, got %d arguments", fs.NArg())
	}
	in, out := fs.Arg(0), fs.Arg(1)
	if in == "-" {
		return usagef("snaptool rewrite [flags] IN OUT", "rewrite reads IN twice: give a file, not - (standard input)")
	}
	if out == "-" {
		return usagef("snaptool rewrite [flags] IN OUT", "OUT must be a file, not -")
	}
	var st rewrite.Stats
	err = safefile.Write(out, inputFiles(in), func(w io.Writer) error {
		var err error
		st, err = rewrite.Run(ctx, in, w, opts)
		return err
	})
	if err != nil {
		return err
	}
	for _, w := range st.Warnings {
		fmt.Fprintf(e.stderr, "Warning: %s: %s\n", in, w)
	}
	fmt.Fprintf(e.stderr, "Note: rewrote %s to %s: %s\n", in, out, st.Summary())
	return nil
}
