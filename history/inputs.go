package history

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// Expand turns the command line's FILE... | DIR into the inputs of Run. A
// file is kept as given. A directory that is itself a snapshot (it holds
// state.bin) is one input; a data dir (raft/snapshots inside) stands for
// its snapshots; otherwise the directory's entries are the series: every
// regular file that starts with the gzip magic or is named *.snap (an
// empty or cut .snap is still a backup, and is reported damaged), and
// every subdirectory holding a state.bin (a data-dir snapshot). Other
// files (Consul's inspect output, READMEs) are skipped. Entries are sorted
// by name; Run orders them by Index.
func Expand(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		if isFile(filepath.Join(a, "state.bin")) {
			out = append(out, a)
			continue
		}
		dir := a
		if d := filepath.Join(a, "raft", "snapshots"); isDir(d) {
			dir = d
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			switch {
			case e.IsDir():
				if isFile(filepath.Join(p, "state.bin")) {
					found = append(found, p)
				}
			case e.Type().IsRegular():
				if strings.HasSuffix(e.Name(), ".snap") || gzipMagic(p) {
					found = append(found, p)
				}
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no snapshots (*.snap, gzip archives or data-dir snapshot directories)", a)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func gzipMagic(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [2]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && decode.HasGzipMagic(b[:])
}
