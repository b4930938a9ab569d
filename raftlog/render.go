package raftlog

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// WriteText writes one line per entry: index, time, type, op, targets, by.
// Renderers proper belong to report/; this is the interim form.
func WriteText(w io.Writer, e *Entry) error {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(e.Index, 10))
	b.WriteString("  ")
	if e.AppendedAt.IsZero() {
		b.WriteString("-")
	} else {
		b.WriteString(e.AppendedAt.UTC().Format(time.RFC3339Nano))
	}
	b.WriteString("  ")
	typ := e.MsgType
	if typ == "" {
		typ = e.LogType
	}
	if e.IgnoreUnknown {
		typ += "+ignore-unknown"
	}
	b.WriteString(safeText(typ))
	b.WriteString("  ")
	b.WriteString(orDash(safeText(e.Op)))
	b.WriteString("  ")
	var ts []string
	for _, t := range e.Targets {
		s := t.ID
		if s == "" && t.Name != "" {
			s = "name=" + t.Name
		}
		if t.Op != "" {
			s = t.Op + " " + s
		}
		ts = append(ts, safeText(s))
	}
	b.WriteString(orDash(strings.Join(ts, ", ")))
	b.WriteString("  ")
	if e.Token == nil {
		b.WriteString("-")
	} else {
		b.WriteString(safeText(e.Token.Label()))
	}
	if e.Err != "" {
		b.WriteString("  error: ")
		b.WriteString(safeText(e.Err))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the entry as one JSON line. encoding/json escapes
// control characters; HTML escaping is off so fingerprints stay readable.
func WriteJSON(w io.Writer, e *Entry) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// safeText replaces control, bidi and other format characters (and
// invalid UTF-8) so that input strings cannot drive a terminal.
// TODO: switch to decode.SafeText once it lands (issue 10).
func safeText(s string) string {
	clean := true
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			b.WriteString(`\ufffd`)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", max(0, 4-len(h))) + h)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
