package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
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
// Memory is bounded by the largest record. The returned errors are the
// snapshot's (damage, checksum) and any record that failed to decode; the
// JSON written is complete and valid even then.
func KVExport(s *decode.Snapshot, prefix string, w io.Writer) (KVExportResult, []error) {
	var res KVExportResult
	var errs []error
	prefix = NormalizeKVKey(prefix)
	bw := bufio.NewWriterSize(w, 64<<10)
	var werr error
	write := func(b []byte) {
		if werr == nil {
			_, werr = bw.Write(b)
		}
	}
	for s.Next() {
		rec := s.Record()
		if rec.Type != decode.TypeKVS {
			continue
		}
		e, n, err := kvEntry(rec, prefix)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e == nil {
			continue
		}
		b, err := json.MarshalIndent(e, "\t", "\t")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		b = decode.EscapeJSON(b[:0:0], b) // C1 and bidi in keys as \u escapes: the same JSON to consul kv import
		if res.Entries == 0 {
			write([]byte("[\n\t"))
		} else {
			write([]byte(",\n\t"))
		}
		write(b)
		res.Entries++
		res.ValueBytes += n
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
		return res, append([]error{fmt.Errorf("writing KV export: %w", werr)}, errs...)
	}
	return res, append(append([]error(nil), s.Errors()...), errs...)
}

// kvEntry converts a KVS record if its key starts with prefix (nil otherwise).
func kvEntry(rec *decode.Record, prefix string) (*KVEntry, int64, error) {
	d, err := decode.DecodeRecord(rec)
	if err != nil {
		return nil, 0, err // a *decode.RecordError: it carries the record's position
	}
	x, ok := d.Data.(*decode.DirEntry)
	if !ok {
		return nil, 0, fmt.Errorf("record %d (%s) at offset %d: decoded as %T", rec.N, rec.Type, rec.Offset, d.Data)
	}
	if !strings.HasPrefix(x.Key, prefix) {
		return nil, 0, nil
	}
	return &KVEntry{
		Key:       x.Key,
		Flags:     x.Flags,
		Value:     base64.StdEncoding.EncodeToString(x.Value),
		Namespace: x.Namespace,
		Partition: x.Partition,
	}, int64(len(x.Value)), nil
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
// default namespace and partition). Only the
// matching value is kept in memory. Errors are the snapshot's and a
// failure to decode the matching record.
func KVGet(s *decode.Snapshot, key string) (*KVValue, []error) {
	key = NormalizeKVKey(key)
	kb := []byte(key)
	res := &KVValue{Key: key}
	var errs []error
	for s.Next() {
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
			errs = append(errs, err) // a *decode.RecordError
			continue
		}
		if x, ok := d.Data.(*decode.DirEntry); ok && x.Key == key && isDefault(x.Namespace) && isDefault(x.Partition) {
			res.Found = true
			res.Flags = x.Flags
			res.Value = append([]byte{}, x.Value...)
		}
	}
	return res, append(append([]error(nil), s.Errors()...), errs...)
}

// isDefault reports whether a namespace or partition is the default one.
func isDefault(s string) bool { return s == "" || s == "default" }
