// Command rwfloor is the least work any rewrite of a Consul snapshot
// archive must do: inflate the archive (klauspost/compress's gzip reader, as
// decode uses) and deflate the same bytes again with the settings `snaptool
// rewrite` uses (klauspost/pgzip, default level, encode.ParallelBlockSize
// blocks, GOMAXPROCS of them at once), to io.Discard. Nothing is decoded,
// hashed or written. `make bench` times `snaptool rewrite` against it.
//
// Usage: rwfloor FILE...   (prints "<inflated bytes> <deflated bytes>" per file)
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/pgzip"
	"github.com/snaptool/snaptool/encode"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rwfloor FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		in, out, err := floor(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "rwfloor: %s: %v\n", path, err)
			os.Exit(2)
		}
		fmt.Printf("%d %d\n", in, out)
	}
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func floor(path string) (inflated, deflated int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return 0, 0, err
	}
	var c counter
	zw, err := pgzip.NewWriterLevel(&c, gzip.DefaultCompression)
	if err != nil {
		return 0, 0, err
	}
	if err := zw.SetConcurrency(encode.ParallelBlockSize, runtime.GOMAXPROCS(0)); err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(zw, zr)
	if err != nil {
		return n, c.n, err
	}
	err = zw.Close()
	return n, c.n, err
}
