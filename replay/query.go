package replay

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/snaptool/snaptool/decode"
)

// Prepared queries as Consul 1.13's state store changes them
// (agent/consul/state/prepared_query.go): preparedQuerySetTxn for create
// and update, preparedQueryDeleteTxn for delete and for the queries bound
// to a destroyed session. A query is persisted as the structs.PreparedQuery
// the request carries, with the state store's CreateIndex and ModifyIndex:
// the record is the request's Query map, field by field, with those two
// replaced. Templates (Template.Type set) are not replayed: the state store
// compiles them and may refuse one.

// preparedQuery applies a PreparedQueryRequest.
func (s *state) preparedQuery(idx uint64, body []byte) string {
	req, ok := decode.MapFields(body)
	if !ok {
		return "prepared query request is not a msgpack map"
	}
	qraw := fieldRaw(req, "Query")
	if qraw == nil || decode.IsNil(qraw) {
		return "prepared query request without Query (Consul's FSM would fail on it)"
	}
	if _, err := decode.DecodeValueOf(decode.TypePreparedQuery, qraw); err != nil {
		return "the request's Query does not decode as a PreparedQuery: " + err.Error()
	}
	// The body aliases the log's memory map: the record keeps a copy.
	f, ok := decode.MapFields(append([]byte(nil), qraw...))
	if !ok {
		return "the request's Query is not a map"
	}
	if enterprise(f) {
		return "prepared query in an Enterprise namespace or partition"
	}
	var err error
	switch op := fieldStr(req, "Op"); op {
	case "create", "update":
		err = s.preparedQuerySet(idx, f)
	case "delete":
		s.preparedQueryDelete(idx, fieldStr(f, "ID"))
	default:
		err = fmt.Errorf("unknown prepared query operation %q", op) // Consul's FSM: an error, no change
	}
	return s.outcome(err)
}

var uuidRE = regexp.MustCompile(`(?i)^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$`)

// preparedQuerySet is preparedQuerySetTxn.
func (s *state) preparedQuerySet(idx uint64, f []decode.Field) error {
	q := newRow(decode.TypePreparedQuery, f)
	id, name, session := q.str("ID"), q.str("Name"), q.str("Session")
	if id == "" {
		return errors.New("missing query ID")
	}
	if tmpl, ok := decode.MapFields(fieldRaw(f, "Template")); ok && fieldStr(tmpl, "Type") != "" {
		return unrepro("prepared query %s is a template: the state store compiles it (not replayed)", id)
	}
	existing := s.queries[strings.ToLower(id)]
	if existing != nil {
		q.create, q.modify = existing.create, idx
	} else {
		q.create, q.modify = idx, idx
	}
	if name != "" {
		for _, other := range s.queries {
			if strings.EqualFold(other.str("Name"), name) && (existing == nil || !strings.EqualFold(existing.str("ID"), other.str("ID"))) {
				return fmt.Errorf("name '%s' aliases an existing query name", name)
			}
		}
	}
	if uuidRE.MatchString(name) && s.queries[strings.ToLower(name)] != nil {
		return fmt.Errorf("name '%s' aliases an existing query ID", name)
	}
	if session != "" && s.sessions[session] == nil {
		return fmt.Errorf("invalid session %q", session)
	}
	set(s, decode.TypePreparedQuery, s.queries, strings.ToLower(id), q, false)
	s.setIndex("prepared-queries", idx)
	return nil
}

// preparedQueryDelete is preparedQueryDeleteTxn.
func (s *state) preparedQueryDelete(idx uint64, id string) {
	key := strings.ToLower(id)
	if s.queries[key] == nil {
		return
	}
	set(s, decode.TypePreparedQuery, s.queries, key, nil, true)
	s.setIndex("prepared-queries", idx)
}
