// Command floor is the bare minimum work any verifier of a Consul snapshot
// archive must do: inflate the gzip stream (with klauspost/compress, the
// same gzip reader snaptool uses), walk the tar members, and SHA-256 each
// member's bytes. Nothing is decoded or compared. `make bench` times
// snaptool against it.
//
// Usage: floor FILE...   (prints "<sha256>  <member>" per member)
package main

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if err := floor(path, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "floor: %s: %v\n", path, err)
			os.Exit(2)
		}
	}
}

func floor(path string, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	buf := make([]byte, 1<<16)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(h, tr, buf); err != nil {
			return err
		}
		fmt.Fprintf(out, "%x  %s\n", h.Sum(nil), hdr.Name)
	}
	_, err = io.Copy(io.Discard, zr)
	return err
}
