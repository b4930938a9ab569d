// Command snapgen writes synthetic Consul snapshot archives at any scale,
// deterministic by seed, for benchmarks and interop tests. The records are
// shaped like Consul 1.13's and come in Consul's order (docs/FORMAT.md §6):
// nodes with their services and checks, sessions, ACL tokens (by SecretID),
// KV entries (by key) with JSON-like values, tombstones, the Autopilot
// config, Index entries and ChunkingState last. --apply-changes SEED/N
// applies a known change set of N changes (KV modified, deleted, added;
// checks flipped; tokens added) to make the "B" side of a diff.
//
// Usage:
//
//	snapgen -o a.snap --seed 1 --kv 200000 --nodes 2000
//	snapgen -o b.snap --seed 1 --kv 200000 --nodes 2000 --apply-changes 7/5000
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/internal/safefile"
	"github.com/spf13/pflag"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `snapgen: write a synthetic Consul snapshot archive (deterministic by --seed).

Usage:
  snapgen -o FILE [flags]

The archive is what ` + "`consul snapshot save`" + ` writes: gzip(tar(meta.json,
state.bin, SHA256SUMS)). It is generated twice in memory-flat streaming
passes: once to learn state.bin's size (the tar header needs it first),
once to write it.`

func run(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("snapgen", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var p params
	out := fs.StringP("out", "o", "", "output archive path (required; written atomically)")
	fs.Uint64Var(&p.Seed, "seed", 1, "seed; equal flags give byte-identical output")
	fs.IntVar(&p.KV, "kv", 1000, "number of KV entries")
	fs.IntVar(&p.ValueSize, "value-size", 512, "mean KV value size in bytes (values vary from half to 1.5 times this)")
	fs.IntVar(&p.Nodes, "nodes", 10, "number of catalog nodes")
	fs.IntVar(&p.ServicesPerNode, "services-per-node", 3, "service instances per node")
	fs.IntVar(&p.ChecksPerService, "checks-per-service", 1, "health checks per service instance")
	fs.IntVar(&p.Tokens, "tokens", 10, "number of ACL tokens")
	fs.IntVar(&p.Sessions, "sessions", 5, "number of sessions (some hold locks under locks/jobs/)")
	fs.IntVar(&p.Tombstones, "tombstones", 0, "number of KV tombstones")
	fs.StringVar(&p.Datacenter, "datacenter", "dc1", "datacenter name in the records")
	changes := fs.String("apply-changes", "", "SEED/N: apply a known change set of N changes (makes a \"B\")")
	when := fs.String("time", "2026-01-01T00:00:00Z", "snapshot time (meta ID, tar mtime, token times), RFC 3339")
	level := fs.Int("level", 0, "gzip level (0 = default, as Consul; 1 = fastest)")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			*help = true
		} else {
			fmt.Fprintf(stderr, "Error: %v\nTry: snapgen --help\n", err)
			return 2
		}
	}
	if *help {
		fmt.Fprintf(stdout, "%s\n\nFlags:\n%s", usage, fs.FlagUsages())
		return 0
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "Error: "+format+"\nTry: snapgen --help\n", a...)
		return 2
	}
	if *out == "" {
		return fail("-o FILE is required")
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"--kv", p.KV}, {"--value-size", p.ValueSize}, {"--nodes", p.Nodes}, {"--services-per-node", p.ServicesPerNode},
		{"--checks-per-service", p.ChecksPerService}, {"--tokens", p.Tokens}, {"--sessions", p.Sessions}, {"--tombstones", p.Tombstones}} {
		if v.n < 0 {
			return fail("%s must not be negative", v.name)
		}
	}
	t, err := time.Parse(time.RFC3339, *when)
	if err != nil {
		return fail("--time: %v", err)
	}
	p.Time = t.UTC()
	if *changes != "" {
		s, n, ok := strings.Cut(*changes, "/")
		seed, err1 := strconv.ParseUint(s, 10, 64)
		cnt, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || cnt < 0 {
			return fail("--apply-changes wants SEED/N, e.g. 7/5000; got %q", *changes)
		}
		p.ChangeSeed, p.Changes = seed, cnt
	}
	if err := generate(*out, p, encode.ArchiveOptions{ModTime: p.Time, Level: *level}); err != nil {
		fmt.Fprintf(stderr, "snapgen: %v\n", err)
		return 2
	}
	return 0
}

// snapshotMeta is the meta.json of a generated snapshot.
func snapshotMeta(g *gen, size int64) raft.SnapshotMeta {
	idx := g.lastIndex()
	return raft.SnapshotMeta{
		Version: 1,
		ID:      fmt.Sprintf("2-%d-%d", idx, g.p.Time.UnixMilli()),
		Index:   idx,
		Term:    2,
		// msgpack ["127.0.0.1:8300"], as raft writes the legacy peers list.
		Peers: append([]byte{0x91, 0xae}, "127.0.0.1:8300"...),
		Configuration: raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: "0e1a5a5e-0000-4000-8000-000000000001", Address: "127.0.0.1:8300",
		}}},
		ConfigurationIndex: 1,
		Size:               size,
	}
}

// generate writes the archive in two deterministic passes: the first
// counts state.bin's bytes, the second streams them into the archive.
func generate(path string, p params, opts encode.ArchiveOptions) error {
	g := newGen(p)
	sw, err := encode.NewStateWriter(io.Discard, g.lastIndex())
	if err != nil {
		return err
	}
	if err := g.write(sw); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	size := sw.Size()
	return safefile.Write(path, nil, func(w io.Writer) error {
		g := newGen(p)
		a, err := encode.NewArchiveWriter(w, snapshotMeta(g, size), opts)
		if err != nil {
			return err
		}
		sw, err := encode.NewStateWriter(a, g.lastIndex())
		if err != nil {
			return err
		}
		if err := g.write(sw); err != nil {
			return err
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		return a.Close()
	})
}
