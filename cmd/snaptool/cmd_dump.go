package main

import (
	"context"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/report"
	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "dump", summary: "every record as a JSON line, typed, with its identity; secrets masked", run: runDump})
}

const dumpUsage = `Usage: snaptool dump [flags] FILE

Writes every record of a snapshot as one JSON object per line:

  {"n", "offset", "size", "type", "id", "label", "data"}

n is the 1-based record number, offset the byte offset of the record in
state.bin, size its encoded length (offset+size is the next offset), type
Consul's name of the record type, id its identity (the key diff matches
on), label its human name when it has one (a token's description, a
policy's name, a session's Name@Node, ...; never for KV), data the typed record with Consul's field names ([]byte as base64,
times RFC 3339; KV records also get "ValueText" when the value is UTF-8).
A record that cannot be decoded to its type is still written, with its
generic value and an "error" field, and the exit status is 3. The first
line is {"type":"SnapshotHeader", "form", "size", "data":{"LastIndex",
"Meta"}}.

Secrets (ACL token SecretIDs, CA signing and private keys, peering
secrets, secret-looking auth-method and CA config) are replaced by
"<masked sha256:1a2b3c4d>" unless --show-secrets is given.

--format jsonl is the only format (JSON lines); json is accepted as its
alias, as in diff.

Filters combine with AND: --type (repeatable, a type name such as KVS or
ACLToken, or its number), --kv-prefix (only KVS and Tombstone records whose
key starts with it), --id (a glob on the identity: * matches anything
including /, ? one character).`

// dumpFormats are dump's --format names: its output is JSON lines, and
// "json" is an alias of "jsonl".
var dumpFormats = []string{"jsonl", "json"}

// dumpOptions are dump's flags.
type dumpOptions struct {
	input  inputOptions
	format string
	types  typeList
	report.DumpOptions
}

// AddFlags registers dump's flags on fs.
func (o *dumpOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.format, "format", "jsonl", "output format: jsonl or json (both JSON lines)")
	fs.Var(&o.types, "type", "only records of this type (repeatable or comma-separated; name or number)")
	fs.StringVar(&o.KVPrefix, "kv-prefix", "", "only KVS and Tombstone records whose key starts with this prefix")
	fs.StringVar(&o.IDGlob, "id", "", "only records whose identity matches this glob")
	fs.BoolVar(&o.ShowSecrets, "show-secrets", false, "show secrets instead of masking them")
	fs.BoolVar(&o.NoHeader, "no-header", false, "leave out the first SnapshotHeader line")
	o.input.AddFlags(fs)
}

func runDump(ctx context.Context, args []string, e *env) error {
	var o dumpOptions
	fs := newFlagSet("dump")
	o.AddFlags(fs)
	if err := parseFlags(fs, args, e, dumpUsage); err != nil {
		return err
	}
	if err := checkFormat(o.format, dumpFormats...); err != nil {
		return err
	}
	if err := checkArgs(fs, "FILE", 1, 1); err != nil {
		return err
	}
	o.Types = o.types
	dopts, done := decode.Options{}, func() {}
	if !isTerminal(e.stdout) { // the bar would interleave with records on a terminal
		dopts, done = withProgress(e, fs.Arg(0), "", dopts)
	}
	defer done()
	s, err := openInput(ctx, e, fs.Arg(0), dopts, o.input)
	if err != nil {
		return err
	}
	defer s.Close()
	_, derr := report.Dump(ctx, s, e.stdout, o.DumpOptions)
	done()
	printWarnings(e, s)
	return derr // damage (exit 3) or a write error (exit 2)
}
