package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrNotSnapshot means the input is not a Consul snapshot in any form: not
// a gzip'd tar with snapshot members, not a raw state.bin with its
// meta.json, not a data-dir snapshot. It is not damage (a command exits 2,
// as for a usage error): the input is something else. Errors wrapping it
// are *NotSnapshotError, which says what the input looks like instead.
var ErrNotSnapshot = errors.New("not a Consul snapshot")

// NotSnapshotError is an input that is not a Consul snapshot. Looks says
// what it looks like instead ("JSON text", "an empty file", "a zip
// archive", "a directory with no state.bin and no raft snapshot").
type NotSnapshotError struct {
	Looks string
}

// Error is terminal-safe: Looks may quote the input.
func (e *NotSnapshotError) Error() string {
	return SafeText(fmt.Sprintf("%v: it looks like %s", ErrNotSnapshot, e.Looks))
}

func (e *NotSnapshotError) Unwrap() error { return ErrNotSnapshot }

// sniffLen is how many leading bytes are looked at to tell what an input is.
const sniffLen = 1024

// isGzipStart reports whether head can be the start of a gzip stream: its
// magic, a prefix of it (a file cut inside the magic is a damaged archive,
// not something else), or the magic with one byte damaged.
func isGzipStart(head []byte) bool {
	// One damaged magic byte (a bit flip) leaves the other: still an
	// archive, damaged. No other format starts with either.
	return len(head) >= 1 && head[0] == 0x1f || len(head) >= 2 && head[1] == 0x8b
}

// isStateBinStart reports whether head starts like state.bin: the FSM
// header, a msgpack map whose first key is "LastIndex" (docs/FORMAT.md §4.1).
func isStateBinStart(head []byte) bool {
	return len(head) >= 11 && head[0] == 0x81 && bytes.HasPrefix(head[1:], []byte("\xa9LastIndex"))
}

// describe says what an input that is not a gzip stream looks like, from
// its first bytes (at most sniffLen).
func describe(head []byte) string {
	switch {
	case len(head) == 0:
		return "an empty file"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "a zip archive"
	case bytes.HasPrefix(head, []byte("BZh")):
		return "a bzip2 stream (a snapshot is gzip-compressed)"
	case bytes.HasPrefix(head, []byte("\xfd7zXZ\x00")):
		return "an xz stream (a snapshot is gzip-compressed)"
	case bytes.HasPrefix(head, []byte("\x28\xb5\x2f\xfd")):
		return "a zstd stream (a snapshot is gzip-compressed)"
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return "an uncompressed tar archive (a snapshot is gzip-compressed)"
	case isStateBinStart(head):
		return "a raw state.bin without its meta.json (name it state.bin and put meta.json beside it)"
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		return "an SQLite database"
	case len(head) >= 20 && binary.LittleEndian.Uint32(head[16:20]) == 0xED0CDAED:
		return "a BoltDB file (a raft.db log store, not a snapshot)"
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "an executable (ELF)"
	}
	if looksLikeText(head) {
		return describeText(head)
	}
	n := min(len(head), 4)
	return fmt.Sprintf("binary data that is not gzip (it starts with % x)", head[:n])
}

// looksLikeText: valid UTF-8 (a rune cut at the end of head allowed), no
// NUL and no control character but tab, newline, carriage return and form
// feed.
func looksLikeText(head []byte) bool {
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				return true // cut at the end of the sniffed bytes
			}
			return false
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
		i += size
	}
	return true
}

// describeText names a text input and quotes its start.
func describeText(head []byte) string {
	t := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	t = bytes.TrimLeft(t, " \t\r\n\f")
	kind := "text"
	switch {
	case len(t) == 0:
		return "a text file holding only white space"
	case t[0] == '{' || t[0] == '[':
		kind = "JSON text"
	case t[0] == '<':
		kind = "HTML or XML text"
	}
	// Its first words, white space collapsed (pretty JSON's first line
	// is only "{").
	q := strings.Join(strings.Fields(string(t[:min(len(t), 200)])), " ")
	if utf8.RuneCountInString(q) > 40 {
		q = string([]rune(q)[:40]) + "…"
	}
	return fmt.Sprintf("%s (it starts %q)", kind, q)
}

// describeInflated says what a gzip stream holds when its first inflated
// bytes show it is not a tar archive: a tar header always has NUL bytes
// (the name, mode and size fields are NUL-terminated), text has none.
// It returns "" when head may be a (damaged) tar.
func describeInflated(head []byte) string {
	if len(head) == 0 {
		return "an empty gzip stream"
	}
	if looksLikeText(head) {
		return "gzip-compressed " + describeText(head)
	}
	return ""
}

// HasGzipMagic reports whether head starts with gzip's two magic bytes
// (1f 8b): a file that is, at least by its first bytes, a gzip stream. The
// lenient test that still calls a damaged magic an archive is isGzipStart.
func HasGzipMagic(head []byte) bool {
	return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
}
