package replay

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// Prepared queries as Consul 1.13's state store changes them
// (agent/consul/state/prepared_query.go): preparedQuerySetTxn for create
// and update, preparedQueryDeleteTxn for delete and for the queries bound
// to a destroyed session. A query is persisted as the structs.PreparedQuery
// the request carries, with the state store's CreateIndex and ModifyIndex:
// the record is the request's Query map, field by field, with those two
// replaced. Templates (Template.Type set) are not replayed: the state store
// compiles them and may refuse one.

type queryRec struct {
	f                 []decode.Field
	raw               []byte // the base record, until the query changes
	id, name, session string
	create, modify    uint64
}

func newQuery(f []decode.Field) *queryRec {
	return &queryRec{f: f, id: fieldStr(f, "ID"), name: fieldStr(f, "Name"), session: fieldStr(f, "Session"),
		create: fieldUint(f, "CreateIndex"), modify: fieldUint(f, "ModifyIndex")}
}

func (q *queryRec) record() []byte {
	return recordOf(decode.TypePreparedQuery, q.raw, q.f, q.create, q.modify)
}

// recordOf is a held record of type t: raw while it is the base
// snapshot's, else its fields with CreateIndex and ModifyIndex set.
func recordOf(t decode.MessageType, raw []byte, f []decode.Field, create, modify uint64) []byte {
	if raw != nil {
		return raw
	}
	f = with(f, map[string][]byte{"CreateIndex": mpUint(create), "ModifyIndex": mpUint(modify)})
	return encode.AppendMap([]byte{byte(t)}, f)
}

// baseFields copies a base snapshot's record and reads its map's fields
// (aliasing the copy).
func baseFields(rec *decode.Record) ([]byte, []decode.Field, error) {
	raw := append([]byte(nil), rec.Raw...)
	f, ok := decode.MapFields(raw[1:])
	if !ok {
		return nil, nil, fmt.Errorf("%s record %d at offset %d: %w", rec.Type, rec.N, rec.Offset, decode.ErrTypedDecode)
	}
	return raw, f, nil
}

// loadQuery holds a PreparedQuery record of the base snapshot.
func (s *state) loadQuery(rec *decode.Record) error {
	raw, f, err := baseFields(rec)
	if err != nil {
		return err
	}
	if enterprise(f) {
		return fmt.Errorf("%w: prepared query %s has Enterprise fields", errNotCE, fieldStr(f, "ID"))
	}
	q := newQuery(f)
	q.raw = raw
	s.queries[strings.ToLower(q.id)] = q
	k, err := decode.Keys(rec)
	if err != nil {
		return err
	}
	s.known[rec.Type][k.Identity] = true
	return nil
}

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
	q := newQuery(f)
	if q.id == "" {
		return errors.New("missing query ID")
	}
	if tmpl, ok := decode.MapFields(fieldRaw(f, "Template")); ok && fieldStr(tmpl, "Type") != "" {
		return unrepro("prepared query %s is a template: the state store compiles it (not replayed)", q.id)
	}
	existing := s.queries[strings.ToLower(q.id)]
	if existing != nil {
		q.create, q.modify = existing.create, idx
	} else {
		q.create, q.modify = idx, idx
	}
	if q.name != "" {
		for _, other := range s.queries {
			if strings.EqualFold(other.name, q.name) && (existing == nil || !strings.EqualFold(existing.id, other.id)) {
				return fmt.Errorf("name '%s' aliases an existing query name", q.name)
			}
		}
	}
	if uuidRE.MatchString(q.name) && s.queries[strings.ToLower(q.name)] != nil {
		return fmt.Errorf("name '%s' aliases an existing query ID", q.name)
	}
	if q.session != "" && s.sessions[q.session] == nil {
		return fmt.Errorf("invalid session %q", q.session)
	}
	set(s, decode.TypePreparedQuery, s.queries, strings.ToLower(q.id), q, false)
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
