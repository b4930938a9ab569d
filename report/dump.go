package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/snaptool/snaptool/decode"
)

// DumpOptions select and shape dump's records. The zero value dumps every
// record with secrets masked.
type DumpOptions struct {
	// Types keeps only records of these types (empty keeps all).
	Types []decode.MessageType
	// KVPrefix, when set, keeps only KVS and Tombstone records whose Key
	// starts with it.
	KVPrefix string
	// IDGlob, when set, keeps only records whose identity matches it: "*"
	// matches any run of characters (including "/"), "?" any one character,
	// everything else itself.
	IDGlob string
	// ShowSecrets turns masking off.
	ShowSecrets bool
	// NoHeader leaves out the first SnapshotHeader line.
	NoHeader bool
}

// DumpStats counts what Dump did.
type DumpStats struct {
	Records      int64 // records read
	Written      int64 // record lines written
	DecodeErrors int64 // records written with an "error" field
}

// ErrDumpDecode is wrapped by Dump's error when some records could not be
// typed-decoded (they were still written, with an "error" field). It wraps
// decode.ErrTypedDecode, so decode.IsDamage reports it as damage.
var ErrDumpDecode = fmt.Errorf("some records could not be decoded: %w", decode.ErrTypedDecode)

// DumpLine is one line of dump's output. JSON keys:
//
//	n       1-based record number
//	offset  byte offset of the record's type byte in state.bin
//	size    the record's encoded length: type byte + value (the header is
//	        not counted, unlike inspect's first record), so offset+size is
//	        the next record's offset
//	type    Consul's display name of the type, Unknown(N) when it has none
//	id      the record's identity (decode.Identity), "" when it cannot be read
//	data    the typed record with Consul's field names (decode.Tree), fields
//	        the decoder did not know included; []byte as standard base64;
//	        times RFC 3339 with nanoseconds; secrets masked unless asked.
//	        KVS and Tombstone records get "ValueText" after "Value" when the
//	        value is valid UTF-8.
//	error   present when the record could not be typed-decoded; data is
//	        then the generic msgpack value (secret-looking keys masked)
//	raw     base64 of the record's bytes, present only when not even the
//	        generic value could be decoded
//
// The first line describes the snapshot: {"type":"SnapshotHeader",
// "form", "size" (header bytes), "data":{"LastIndex", "Meta"}}, Meta being
// meta.json (raft's SnapshotMeta; null when meta.json follows state.bin or
// could not be read).
type DumpLine struct {
	N      int64  `json:"n"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	Data   any    `json:"data"`
	Error  string `json:"error,omitempty"`
	Raw    []byte `json:"raw,omitempty"`
}

type dumpHeader struct {
	Type string         `json:"type"`
	Form string         `json:"form"`
	Size int64          `json:"size"`
	Data dumpHeaderData `json:"data"`
}

type dumpHeaderData struct {
	LastIndex uint64
	Meta      *decode.Meta
}

// Dump writes s as JSON lines to w, one record at a time. It returns the
// stream's errors (joined) and ErrDumpDecode when some records could not
// be typed-decoded; a write error stops it at once.
func Dump(s *decode.Snapshot, w io.Writer, o DumpOptions) (DumpStats, error) {
	var st DumpStats
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)

	var types [256]bool
	for _, t := range o.Types {
		types[t] = true
	}
	if !o.NoHeader {
		if h, err := s.Header(); err == nil {
			var size int64
			if sm := s.Stream(); sm != nil {
				size = sm.HeaderLen()
			}
			if err := enc.Encode(dumpHeader{Type: "SnapshotHeader", Form: s.Form.String(), Size: size,
				Data: dumpHeaderData{LastIndex: h.LastIndex, Meta: s.Meta()}}); err != nil {
				return st, fmt.Errorf("writing: %w", err)
			}
		}
	}
	for s.Next() {
		rec := s.Record()
		st.Records++
		if len(o.Types) > 0 && !types[rec.Type] {
			continue
		}
		if o.KVPrefix != "" {
			if rec.Type != decode.TypeKVS && rec.Type != decode.TypeTombstone {
				continue
			}
			if key, ok := kvKey(rec.Value()); !ok || !strings.HasPrefix(key, o.KVPrefix) {
				continue
			}
		}
		line := DumpLine{N: rec.N, Offset: rec.Offset, Size: int64(len(rec.Raw)), Type: rec.Type.String()}
		id, idErr := decode.Identity(rec)
		line.ID = id
		if o.IDGlob != "" && (idErr != nil || !globMatch(o.IDGlob, id)) {
			continue
		}
		d, err := decode.DecodeRecord(rec)
		if err != nil {
			st.DecodeErrors++
			line.Error = err.Error()
			v, gerr := decode.DecodeAll(rec.Value())
			if gerr != nil {
				line.Raw = append([]byte(nil), rec.Raw...)
			} else {
				line.Data = genericData(rec.Type, v.Interface(), o.ShowSecrets)
			}
		} else {
			if !o.ShowSecrets {
				decode.MaskSecrets(d)
			}
			line.Data = decode.Tree(d.Data)
			if rec.Type == decode.TypeKVS || rec.Type == decode.TypeTombstone {
				addValueText(line.Data)
			}
		}
		if err := enc.Encode(&line); err != nil {
			return st, fmt.Errorf("writing: %w", err)
		}
		st.Written++
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("writing: %w", err)
	}
	var errs []error
	errs = append(errs, s.Errors()...)
	if st.DecodeErrors > 0 {
		errs = append(errs, fmt.Errorf("%d record(s): %w", st.DecodeErrors, ErrDumpDecode))
	}
	return st, errors.Join(errs...)
}

// addValueText puts a "ValueText" string after "Value" when the value is valid UTF-8.
func addValueText(data any) {
	o, ok := data.(*decode.Object)
	if !ok {
		return
	}
	for i, k := range o.Keys {
		if k != "Value" {
			continue
		}
		b, ok := o.Values[i].([]byte)
		if !ok || b == nil || !utf8.Valid(b) {
			return
		}
		o.Keys = append(o.Keys[:i+1], append([]string{"ValueText"}, o.Keys[i+1:]...)...)
		o.Values = append(o.Values[:i+1], append([]any{string(b)}, o.Values[i+1:]...)...)
		return
	}
}

// genericData is the fallback data of a record that did not decode to its
// type. Secrets cannot be found by field type there, so secret-looking keys
// are masked, and the opaque payloads of types that carry secrets inside
// are masked whole.
func genericData(t decode.MessageType, v any, show bool) any {
	if show {
		return v
	}
	switch t {
	case decode.TypePeeringSecret:
		return maskOpaque(v)
	case decode.TypeACL:
		if m, ok := v.(map[string]any); ok {
			if id, ok := m["ID"].(string); ok {
				m["ID"] = decode.Fingerprint(id)
			}
		}
	}
	return maskGeneric(v)
}

func maskOpaque(v any) any {
	switch x := v.(type) {
	case string:
		return decode.Fingerprint(x)
	case []byte:
		return decode.Fingerprint(string(x))
	case nil:
		return nil
	}
	b, _ := json.Marshal(v)
	return decode.Fingerprint(string(b))
}

var secretSuffixes = []string{"secret", "secretid", "password", "privatekey", "private_key", "signingkey",
	"token", "jwt", "apikey", "credentials", "key_pem", "keypem"}

func maskGeneric(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			l := strings.ToLower(k)
			secret := false
			for _, s := range secretSuffixes {
				if strings.HasSuffix(l, s) {
					secret = true
					break
				}
			}
			switch ev := e.(type) {
			case string:
				if secret || strings.Contains(ev, "PRIVATE KEY") {
					x[k] = decode.Fingerprint(ev)
				}
			case []byte:
				if secret {
					x[k] = decode.Fingerprint(string(ev))
				}
			default:
				x[k] = maskGeneric(e)
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = maskGeneric(x[i])
		}
		return x
	case string:
		if strings.Contains(x, "PRIVATE KEY") {
			return decode.Fingerprint(x)
		}
	}
	return v
}

// globMatch reports whether s matches pattern: "*" matches any run of
// characters including "/", "?" exactly one character (rune).
func globMatch(pattern, s string) bool {
	// Iterative matcher with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	pr, sr := []rune(pattern), []rune(s)
	for i < len(sr) {
		switch {
		case p < len(pr) && (pr[p] == '?' || pr[p] == sr[i]) && pr[p] != '*':
			p++
			i++
		case p < len(pr) && pr[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pr) && pr[p] == '*' {
		p++
	}
	return p == len(pr)
}
