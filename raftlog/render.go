package raftlog

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/snaptool/snaptool/decode"
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
	b.WriteString(decode.SafeText(typ))
	b.WriteString("  ")
	b.WriteString(orDash(decode.SafeText(e.Op)))
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
		ts = append(ts, decode.SafeText(s))
	}
	b.WriteString(orDash(strings.Join(ts, ", ")))
	b.WriteString("  ")
	if e.Token == nil {
		b.WriteString("-")
	} else {
		b.WriteString(decode.SafeText(e.Token.Label()))
	}
	if e.Err != "" {
		b.WriteString("  error: ")
		b.WriteString(decode.SafeText(e.Err))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the entry as one JSON line, terminal-safe
// (decode.SafeJSONWriter); HTML escaping is off so fingerprints stay
// readable.
func WriteJSON(w io.Writer, e *Entry) error {
	enc := json.NewEncoder(decode.SafeJSONWriter(w))
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
