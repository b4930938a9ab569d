package rewrite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"github.com/snaptool/snaptool/internal/fuzzopt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// The benchmarks compare Run with its floor (bench/rwfloor): inflating the
// archive and deflating the same bytes with the same pgzip settings. The
// input is about 34 MB of state.bin shaped like snapgen's (JSON-like KV
// values of about 500 bytes). `make bench` runs the 135 MB comparison
// through the real binary.

var (
	benchOnce sync.Once
	benchPath string
	benchSize int64
	benchDir  string
)

func benchArchive(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rewrite-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		r := rand.New(rand.NewPCG(1, 2))
		words := []string{"service", "region", "enabled", "replicas", "image", "timeout", "owner", "team", "tier", "version"}
		pr, pw := io.Pipe()
		gen := func(w io.Writer) (int64, error) {
			sw, err := encode.NewStateWriter(w, 50000)
			if err != nil {
				return 0, err
			}
			r = rand.New(rand.NewPCG(1, 2))
			for i := 0; i < 60000; i++ {
				var v bytes.Buffer
				v.WriteByte('{')
				for v.Len() < 250+r.IntN(500) {
					fmt.Fprintf(&v, "%q:%q,", words[r.IntN(len(words))], fmt.Sprintf("%x", r.Uint64()))
				}
				v.WriteByte('}')
				e := &encode.DirEntry{Key: fmt.Sprintf("app/%03d/%06d", i%300, i), Value: v.Bytes(), CreateIndex: uint64(i + 1), ModifyIndex: uint64(i + 1)}
				if err := sw.WriteRecord(decode.TypeKVS, e); err != nil {
					return 0, err
				}
			}
			if err := sw.WriteRecord(decode.TypeChunkingState, &encode.ChunkingState{ChunkMap: map[uint64][]encode.ChunkInfo{}}); err != nil {
				return 0, err
			}
			return sw.Size(), sw.Flush()
		}
		size, err := gen(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		go func() { _, err := gen(pw); pw.CloseWithError(err) }()
		benchPath = filepath.Join(dir, "bench.snap")
		f, err := os.Create(benchPath)
		if err != nil {
			b.Fatal(err)
		}
		meta := raft.SnapshotMeta{Version: 1, ID: "2-50000-1", Index: 50000, Term: 2, Size: size}
		if err := encode.WriteArchive(f, meta, pr, encode.ArchiveOptions{Parallel: runtime.GOMAXPROCS(0)}); err != nil {
			b.Fatal(err)
		}
		f.Close()
		benchSize = size
	})
	if benchPath == "" {
		b.Skip("bench archive not generated")
	}
	return benchPath
}

func BenchmarkRewrite(b *testing.B) {
	path := benchArchive(b)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := Run(context.Background(), path, io.Discard, Options{Archive: encode.ArchiveOptions{Parallel: runtime.GOMAXPROCS(0)}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFloor is bench/rwfloor: inflate, then deflate with pgzip.
func BenchmarkFloor(b *testing.B) {
	path := benchArchive(b)
	b.SetBytes(benchSize)
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
		if err != nil {
			b.Fatal(err)
		}
		zw, _ := pgzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
		zw.SetConcurrency(encode.ParallelBlockSize, runtime.GOMAXPROCS(0))
		if _, err := io.Copy(zw, zr); err != nil {
			b.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// TestMain sets the fuzzing defaults for whole-snapshot inputs
// (internal/fuzzopt) and removes the benchmark's files afterwards.
func TestMain(m *testing.M) {
	code := fuzzopt.Main(m)
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}
