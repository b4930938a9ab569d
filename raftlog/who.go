package raftlog

import (
	"fmt"

	"github.com/snaptool/snaptool/decode"
)

// AnonymousAccessor is the AccessorID of Consul's anonymous token, the
// token of a request that carries none.
const AnonymousAccessor = "00000000-0000-0000-0000-000000000002"

// Who is the caller of a request, from its Token field. The secret itself
// is never output unless ShowSecrets: Masked is decode.Fingerprint of it.
type Who struct {
	Accessor    string `json:"accessor"`
	Description string `json:"description"`
	Masked      string `json:"masked,omitempty"`
	Secret      string `json:"secret,omitempty"` // only with ShowSecrets
	// Resolved is false when no snapshot token and no earlier token write
	// of the log had this secret.
	Resolved bool `json:"resolved"`
}

// Label is the short form for text output: the description, else the
// accessor, else the fingerprint.
func (w *Who) Label() string {
	switch {
	case w == nil:
		return "-"
	case w.Description != "":
		return w.Description
	case w.Accessor != "":
		return w.Accessor
	case w.Masked != "":
		return "unknown token " + w.Masked
	}
	return "?"
}

type tokenInfo struct{ accessor, description string }

// tokenTable maps token secrets to their accessor and description. It
// holds secrets in memory only; nothing of it is output but through Who.
type tokenTable struct {
	bySecret map[string]tokenInfo
}

func newTokenTable() *tokenTable { return &tokenTable{bySecret: map[string]tokenInfo{}} }

func (t *tokenTable) learn(secret, accessor, description string) {
	if secret == "" {
		return
	}
	t.bySecret[secret] = tokenInfo{accessor, description}
}

// who resolves a request's Token field.
func (t *tokenTable) who(secret string, show bool) *Who {
	if secret == "" {
		return &Who{Accessor: AnonymousAccessor, Description: "Anonymous Token", Resolved: true}
	}
	w := &Who{Masked: decode.Fingerprint(secret)}
	if show {
		w.Secret = secret
	}
	if ti, ok := t.bySecret[secret]; ok {
		w.Accessor, w.Description, w.Resolved = ti.accessor, ti.description, true
	}
	return w
}

// loadSnapshot reads the ACLToken records of the snapshot at path (any
// input decode.Open takes; a directory means its newest data-dir snapshot).
// It returns the number of tokens and the snapshot's name.
func (t *tokenTable) loadSnapshot(path string) (int, string, error) {
	s, err := decode.Open(path, decode.Options{})
	if err != nil {
		return 0, "", err
	}
	defer s.Close()
	n := 0
	for s.Next() {
		rec := s.Record()
		if rec.Type != decode.TypeACLToken {
			continue
		}
		d, err := decode.DecodeRecord(rec)
		if err != nil {
			return n, s.Name, fmt.Errorf("%s: record %d: %w", s.Name, s.Stream().Count(), err)
		}
		if tok, ok := d.Data.(*decode.ACLToken); ok {
			t.learn(tok.SecretID, tok.AccessorID, tok.Description)
			n++
		}
	}
	if err := s.Err(); err != nil {
		return n, s.Name, err
	}
	return n, s.Name, nil
}
