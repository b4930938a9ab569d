package decode

import (
	"errors"
	"fmt"
)

// Member names inside a snapshot archive.
const (
	MemberMeta  = "meta.json"
	MemberState = "state.bin"
	MemberSums  = "SHA256SUMS"
)

// Sentinel errors. Errors returned by this package wrap one of these (or an
// I/O error) and can be tested with errors.Is.
var (
	ErrNotGzip          = errors.New("gzip header damaged")
	ErrGzip             = errors.New("gzip stream damaged")
	ErrTar              = errors.New("tar stream damaged")
	ErrUnexpectedMember = errors.New("unexpected file in snapshot")
	ErrDuplicateMember  = errors.New("duplicate file in snapshot")
	ErrMissingMember    = errors.New("file missing from snapshot")
	ErrTrailingData     = errors.New("unread bytes after the tar archive")
	ErrTrailingGarbage  = errors.New("trailing garbage")
	ErrChecksumMismatch = errors.New("SHA-256 mismatch")
	ErrChecksumList     = errors.New("SHA256SUMS malformed")
	ErrMissingHash      = errors.New("SHA256SUMS has no hash for file")
	ErrUnlistedHash     = errors.New("SHA256SUMS lists a file that is not in the snapshot")
	ErrMeta             = errors.New("not valid JSON")
	ErrSizeMismatch     = errors.New("Size does not match the state.bin length")
	ErrMetaVersion      = errors.New("Version not supported by raft")
	ErrCRCMismatch      = errors.New("CRC-64 mismatch")
	ErrTooLarge         = errors.New("archive member too large")
	ErrMemberType       = errors.New("tar member is not a regular file")
)

// RecordError locates a failure inside state.bin: "state.bin record 3
// (KVS) at offset 150" is byte 150 of state.bin. N is the 1-based record
// number (0 with TypeKnown false for the header). The scanner, DecodeRecord,
// Keys and Identity return it; callers find the position with errors.As
// and add only what they know beyond the record (which input it was).
type RecordError struct {
	Member    string
	Offset    int64
	N         int64
	Type      MessageType
	TypeKnown bool // Type was read
	Err       error
}

// Error is terminal-safe (SafeText): the member name and the wrapped
// message may carry strings from the input.
func (e *RecordError) Error() string {
	if e.N == 0 && !e.TypeKnown {
		return SafeText(fmt.Sprintf("%s header at offset %d: %v", e.Member, e.Offset, e.Err))
	}
	if e.TypeKnown {
		return SafeText(fmt.Sprintf("%s record %d (%s) at offset %d: %v", e.Member, e.N, e.Type, e.Offset, e.Err))
	}
	return SafeText(fmt.Sprintf("%s record %d at offset %d: %v", e.Member, e.N, e.Offset, e.Err))
}

func (e *RecordError) Unwrap() error { return e.Err }

// recordErr locates err at rec.
func recordErr(rec *Record, err error) error {
	if rec == nil {
		return err
	}
	return &RecordError{Member: MemberState, Offset: rec.Offset, N: rec.N, Type: rec.Type, TypeKnown: true, Err: err}
}

// typedErr is the error of a record value b that validValue rejects:
// DecodeAll's, located at rec.
func typedErr(rec *Record, b []byte) error {
	_, err := DecodeAll(b)
	if err == nil { // validValue and DecodeAll disagree (FuzzValidValue guards this)
		err = ErrTruncated
	}
	return recordErr(rec, fmt.Errorf("%w: %s: %w", ErrTypedDecode, rec.Type, err))
}

// ArchiveError locates a failure in the archive layers (gzip, tar, members,
// checksums, meta.json). Offset is a byte offset in the gzip output (the
// uncompressed tar stream), or in the input file when InFile is set; -1
// when unknown. Error says which.
type ArchiveError struct {
	Layer  string // "gzip", "tar", "checksums", "meta.json", "crc"
	Member string
	Offset int64
	InFile bool // Offset counts the input file's bytes (the compressed stream)
	Err    error
}

// Error is terminal-safe (SafeText): member names and meta.json fields
// come from the input. A member named like the layer is not repeated.
func (e *ArchiveError) Error() string {
	where := e.Layer
	if e.Member != "" && e.Member != e.Layer {
		where += " (" + e.Member + ")"
	}
	if e.Offset >= 0 {
		stream := "the gzip output"
		if e.InFile {
			stream = "the file"
		}
		where += fmt.Sprintf(" at byte %d of %s", e.Offset, stream)
	}
	return SafeText(where + ": " + e.Err.Error())
}

func (e *ArchiveError) Unwrap() error { return e.Err }

// IsDamage reports whether err says the input is damaged (as opposed to a
// usage or I/O problem such as a missing file).
func IsDamage(err error) bool {
	var re *RecordError
	var ae *ArchiveError
	return errors.As(err, &re) || errors.As(err, &ae) || errors.Is(err, ErrTypedDecode)
}
