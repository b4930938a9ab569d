// Command hostilegen writes the crafted archives of internal/hostile, for
// scripts/hostile-mem.sh.
//
// Usage:
//
//	hostilegen -list
//	hostilegen -class NAME -scale N -side 0|1 -o FILE
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/snaptool/snaptool/internal/hostile"
)

func main() {
	list := flag.Bool("list", false, "print the class names, one a line")
	class := flag.String("class", "", "class name (see -list)")
	scale := flag.Int("scale", 1, "size multiplier (1, 4, 16, …)")
	side := flag.Int("side", 0, "0 for the A side, 1 for B")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *list {
		for _, c := range hostile.Classes() {
			fmt.Printf("%s\t%s\n", c.Name, c.What)
		}
		return
	}
	c, ok := hostile.Lookup(*class)
	if !ok || *out == "" || (*side != 0 && *side != 1) {
		fmt.Fprintln(os.Stderr, "usage: hostilegen -class NAME -scale N -side 0|1 -o FILE (or -list)")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err == nil {
		err = c.Write(f, *scale, *side)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hostilegen: %v\n", err)
		os.Exit(1)
	}
}
