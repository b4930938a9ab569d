package report

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/snaptool/snaptool/decode"
)

// prettyPrinter is the table printer with Consul's `consul snapshot
// inspect` layout for Inspect. That layout is Consul's own text/tabwriter
// output (minimum width 8, padding 6, trailing cells outside the columns);
// it is produced with text/tabwriter, the library Consul uses, because
// byte-for-byte equality with Consul is the contract of this format. Every
// other table goes through tablewriter (newTable).
type prettyPrinter struct {
	tablePrinter
}

// Inspect writes FormatPretty's text and a newline, as the consul CLI prints it.
func (p *prettyPrinter) Inspect(r *InspectResult) error {
	s, err := FormatPretty(r)
	if err != nil {
		return err
	}
	_, err = io.WriteString(p.w, s+"\n")
	return err
}

// FormatPretty is Consul's pretty formatter: the same text, byte for byte,
// without a final newline (docs/FORMAT.md §11.4).
func FormatPretty(r *InspectResult) (string, error) {
	var b bytes.Buffer
	t := tabwriter.NewWriter(&b, 8, 8, 6, ' ', 0)
	fmt.Fprintf(t, " ID\t%s", r.Meta.ID)
	fmt.Fprintf(t, "\n Size\t%d", r.Meta.Size)
	fmt.Fprintf(t, "\n Index\t%d", r.Meta.Index)
	fmt.Fprintf(t, "\n Term\t%d", r.Meta.Term)
	fmt.Fprintf(t, "\n Version\t%d", r.Meta.Version)
	fmt.Fprintf(t, "\n")
	fmt.Fprintln(t, "\n Type\tCount\tSize")
	fmt.Fprintf(t, " %s\t%s\t%s", "----", "----", "----")
	for _, s := range r.Stats {
		fmt.Fprintf(t, "\n %s\t%d\t%s", s.Name, s.Count, ByteSize(s.Sum))
	}
	fmt.Fprintf(t, "\n %s\t%s\t%s", "----", "----", "----")
	fmt.Fprintf(t, "\n Total\t\t%s", ByteSize(r.TotalSize))
	if r.StatsKV != nil {
		fmt.Fprintf(t, "\n")
		fmt.Fprintln(t, "\n Key Name\tCount\tSize")
		fmt.Fprintf(t, " %s\t%s\t%s", "----", "----", "----")
		for _, s := range r.StatsKV {
			fmt.Fprintf(t, "\n %s\t%d\t%s", decode.SafeText(s.Name), s.Count, ByteSize(s.Sum)) // a KV prefix: from the input
		}
		fmt.Fprintf(t, "\n %s\t%s\t%s", "----", "----", "----")
		fmt.Fprintf(t, "\n Total\t\t%s", ByteSize(r.TotalSizeKV))
	}
	if err := t.Flush(); err != nil {
		return "", err
	}
	return b.String(), nil
}
