package decode

import (
	"io"
	"os"
)

// progressReader reports bytes read to Options.Progress.
type progressReader struct {
	r           io.Reader
	read, total int64
	last        int64
	fn          func(read, total int64)
}

const progressStep = 1 << 20

// withProgress wraps an input file for Options.Progress (a no-op without it).
func withProgress(f *os.File, opts Options) io.Reader {
	if opts.Progress == nil {
		return f
	}
	total := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		total = st.Size()
	}
	return &progressReader{r: f, total: total, fn: opts.Progress}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.read-p.last >= progressStep || (err != nil && p.read != p.last) {
		p.last = p.read
		p.fn(p.read, p.total)
	}
	return n, err
}
