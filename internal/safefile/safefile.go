// Package safefile writes output files without ever touching an input:
// content goes to a temp file in the destination directory, which is
// renamed over the destination only when complete, and removed on every
// error path. A destination that is one of the inputs is refused.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrIsInput means the destination is one of the command's input files.
var ErrIsInput = errors.New("refusing to overwrite an input file")

// Write creates path atomically with the bytes write produces. inputs are
// the paths the command reads; if path is the same file as any of them
// (compared by inode, so links and relative paths are caught), nothing is
// written.
func Write(path string, inputs []string, write func(w io.Writer) error) (err error) {
	if st, serr := os.Stat(path); serr == nil {
		for _, in := range inputs {
			if ist, ierr := os.Stat(in); ierr == nil && os.SameFile(st, ist) {
				return fmt.Errorf("%w: %s", ErrIsInput, path)
			}
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
