package decode_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/snaptool/snaptool/decode"
)

// endlessGzip is a gzip stream that carries tarData and then zeros that
// never end, as a pipe would deliver it. Close stops it.
func endlessGzip(tarData []byte) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		zw := gzip.NewWriter(pw)
		if _, err := zw.Write(tarData); err != nil {
			return
		}
		zeros := make([]byte, 64<<10)
		for {
			if _, err := zw.Write(zeros); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

// repeatReader repeats b forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

// TestTrailingDataIsBounded: what follows the tar's end is read up to
// decode.MaxTrailing, then reported; an input that never ends ends with a
// finding, not a hang.
func TestTrailingDataIsBounded(t *testing.T) {
	f := loadFixture(t, fixtureBasic)
	emptyMember := gz(t, nil)
	half := len(f.tar) / 2
	cases := []struct {
		name  string
		input func() io.ReadCloser
		want  error
		msg   string
	}{
		{
			name:  "endless zeros inside the gzip stream after the tar's end",
			input: func() io.ReadCloser { return endlessGzip(f.tar) },
			want:  decode.ErrTrailingData,
			msg:   "more than 1048576 uncompressed bytes after the tar's end",
		},
		{
			name: "endless empty gzip members after the gzip stream",
			input: func() io.ReadCloser {
				return io.NopCloser(io.MultiReader(bytes.NewReader(f.raw), &repeatReader{b: emptyMember}))
			},
			want: decode.ErrTrailingData,
			msg:  "inflate to nothing",
		},
		{
			name: "endless garbage after the gzip stream",
			input: func() io.ReadCloser {
				return io.NopCloser(io.MultiReader(bytes.NewReader(f.raw), &repeatReader{b: []byte("garbage")}))
			},
			want: decode.ErrTrailingGarbage,
			msg:  "bytes (not read further) after the end of the gzip stream",
		},
		{
			name: "2 MiB of empty gzip members inside the archive",
			input: func() io.ReadCloser {
				var b []byte
				b = append(b, gz(t, f.tar[:half])...)
				for len(b) < 3<<20 {
					b = append(b, emptyMember...)
				}
				return io.NopCloser(bytes.NewReader(append(b, gz(t, f.tar[half:])...)))
			},
			want: decode.ErrGzip,
			msg:  "inflate to nothing",
		},
		{
			name: "a few empty gzip members inside the archive are fine, as in Consul",
			input: func() io.ReadCloser {
				b := append(gz(t, f.tar[:half]), bytes.Repeat(emptyMember, 100)...)
				return io.NopCloser(bytes.NewReader(append(b, gz(t, f.tar[half:])...)))
			},
		},
		{
			name: "just under the cap is counted exactly",
			input: func() io.ReadCloser {
				return io.NopCloser(bytes.NewReader(gz(t, append(append([]byte(nil), f.tar...), make([]byte, decode.MaxTrailing)...))))
			},
			want: decode.ErrTrailingData,
			msg:  "1048576 unread uncompressed bytes remain",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.input()
			defer in.Close()
			r := runGuarded(t, c.name, func() *result {
				s := decode.NewArchive(in, decode.Options{})
				defer s.Close()
				return drain(s)
			})
			if c.want == nil {
				if r.err != nil {
					t.Fatalf("unexpected error: %v", r.err)
				}
				return
			}
			if !errors.Is(r.err, c.want) || !strings.Contains(r.err.Error(), c.msg) {
				t.Fatalf("got %v, want %v saying %q", r.err, c.want, c.msg)
			}
			if r.records == 0 {
				t.Errorf("no records read")
			}
		})
	}
}
