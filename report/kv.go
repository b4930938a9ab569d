package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// KVEntry is one entry of Consul's `consul kv export` format (Consul's
// command/kv/impexp.Entry): the value is standard base64; namespace and
// partition appear only when set (Consul Enterprise).
type KVEntry struct {
	Key       string `json:"key"`
	Flags     uint64 `json:"flags"`
	Value     string `json:"value"`
	Namespace string `json:"namespace,omitempty"`
	Partition string `json:"partition,omitempty"`
}

// KVExportResult counts what KVExport wrote.
type KVExportResult struct {
	Entries int64
	// ValueBytes is the sum of the decoded value lengths.
	ValueBytes int64
}

// NormalizeKVKey strips one leading "/" as `consul kv` does (keys never
// start with one).
func NormalizeKVKey(key string) string {
	return strings.TrimPrefix(key, "/")
}

// KVExport streams every KVS record of s whose key starts with prefix to w,
// byte for byte in the format `consul kv export` writes (a JSON array
// indented with tabs, HTML-escaped like Go's json.MarshalIndent, then a
// newline), so that `consul kv import` reads it; C1 controls and bidi
// characters in keys are \u-escaped (decode.EscapeJSON), the same JSON. Entries are written in
// snapshot order, which is Consul's key order. Tombstones are not exported.
// Memory is bounded by the largest record. The error joins the
// snapshot's (damage, checksum) and those of records that failed to decode
// (the first maxKeptErrors, then a count); the JSON written is complete
// and valid even then. A write error or ctx's cancellation stops it.
func KVExport(ctx context.Context, s *decode.Snapshot, prefix string, w io.Writer) (KVExportResult, error) {
	var res KVExportResult
	var errs recordErrors
	prefix = NormalizeKVKey(prefix)
	bw := bufio.NewWriterSize(w, 64<<10)
	var werr error
	write := func(b []byte) {
		if werr == nil {
			_, werr = bw.Write(b)
		}
	}
	nrec := 0
	for s.Next() {
		if nrec++; nrec%ctxCheckEvery == 0 && ctx.Err() != nil {
			break
		}
		rec := s.Record()
		if rec.Type != decode.TypeKVS {
			continue
		}
		e, value, err := kvEntry(rec, prefix)
		if err != nil {
			errs.add(err)
			continue
		}
		if e == nil {
			continue
		}
		// The entry without its value, then the value streamed into its
		// place: base64 needs no JSON escaping, and a 64 MiB value is not
		// held three more times (as a base64 string, in the encoder's
		// buffer and in MarshalIndent's).
		b, err := json.MarshalIndent(e, "\t", "\t")
		if err != nil {
			errs.add(recordError(rec, err))
			continue
		}
		b = decode.EscapeJSON(b[:0:0], b) // C1 and bidi in keys as \u escapes: the same JSON to consul kv import
		at := bytes.LastIndex(b, []byte(valueField))
		if at < 0 {
			errs.add(recordError(rec, errors.New("no value field in the entry")))
			continue
		}
		at += len(valueField) - 1 // before the closing quote
		if res.Entries == 0 {
			write([]byte("[\n\t"))
		} else {
			write([]byte(",\n\t"))
		}
		write(b[:at])
		if werr == nil {
			enc := base64.NewEncoder(base64.StdEncoding, bw)
			if _, werr = enc.Write(value); werr == nil {
				werr = enc.Close()
			}
		}
		write(b[at:])
		res.Entries++
		res.ValueBytes += int64(len(value))
		if werr != nil {
			break
		}
	}
	if res.Entries == 0 {
		write([]byte("[]\n"))
	} else {
		write([]byte("\n]\n"))
	}
	if werr == nil {
		werr = bw.Flush()
	}
	if werr != nil {
		return res, errors.Join(fmt.Errorf("writing KV export: %w", werr), errs.err())
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, errors.Join(s.Err(), errs.err())
}

// valueField is how MarshalIndent writes KVEntry's empty Value.
const valueField = `"value": ""`

// kvEntry converts a KVS record if its key starts with prefix (nil
// otherwise): the entry with an empty Value, and the value's bytes.
func kvEntry(rec *decode.Record, prefix string) (*KVEntry, []byte, error) {
	d, err := decode.DecodeRecord(rec)
	if err != nil {
		return nil, nil, recordError(rec, err)
	}
	x, ok := d.Data.(*decode.DirEntry)
	if !ok {
		return nil, nil, recordError(rec, fmt.Errorf("decoded as %T", d.Data))
	}
	if !strings.HasPrefix(x.Key, prefix) {
		return nil, nil, nil
	}
	return &KVEntry{Key: x.Key, Flags: x.Flags, Namespace: x.Namespace, Partition: x.Partition}, x.Value, nil
}

// KVValue is the result of KVGet.
type KVValue struct {
	Found bool
	Key   string
	Flags uint64
	Value []byte
	// Entries is the number of KVS records read.
	Entries int64
}

// KVGet reads s to the end (so that its checksums are checked) and returns
// the value stored under key (exact match, leading "/" ignored; in the
// default namespace and partition). Only the matching value is kept in
// memory. The error joins the snapshot's and the failures to decode a
// candidate record (capped); ctx's cancellation stops it.
func KVGet(ctx context.Context, s *decode.Snapshot, key string) (*KVValue, error) {
	key = NormalizeKVKey(key)
	kb := []byte(key)
	res := &KVValue{Key: key}
	var errs recordErrors
	n := 0
	for s.Next() {
		if n++; n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		rec := s.Record()
		if rec.Type != decode.TypeKVS {
			continue
		}
		res.Entries++
		// Cheap pre-filter: the key's bytes must appear in the record.
		if res.Found || !bytes.Contains(rec.Raw, kb) {
			continue
		}
		d, err := decode.DecodeRecord(rec)
		if err != nil {
			errs.add(recordError(rec, err))
			continue
		}
		if x, ok := d.Data.(*decode.DirEntry); ok && x.Key == key && isDefault(x.Namespace) && isDefault(x.Partition) {
			res.Found = true
			res.Flags = x.Flags
			res.Value = append([]byte{}, x.Value...)
		}
	}
	return res, errors.Join(s.Err(), errs.err())
}

// isDefault reports whether a namespace or partition is the default one.
func isDefault(s string) bool { return s == "" || s == "default" }
