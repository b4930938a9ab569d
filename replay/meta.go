package replay

import (
	"errors"
	"fmt"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// The servers' own bookkeeping tables, as Consul 1.13's state store
// changes them: the autopilot configuration (autopilot.go: set, and CAS on
// its ModifyIndex), federation states (federation_state.go: upsert and
// delete by datacenter) and system metadata (system_metadata.go: upsert and
// delete by key). Each is small: replay holds a table whole when the log
// writes it. A record is the request's struct, field by field, with the
// state store's raft indexes set (and, for a federation state, the request
// wrapper Consul persists around it: Op "upsert", Datacenter and Token
// empty, PrimaryModifyIndex defaulting to the write's index).

// rowRec is a held record kept as the fields Consul wrote, with its raft
// indexes: a row of these tables, of the Connect CA's (ca.go), a prepared
// query (query.go), an ACL policy or token (acl.go). What else a caller
// needs of it is read from the fields (str).
type rowRec struct {
	t              decode.MessageType
	f              []decode.Field // the persisted record's fields
	inner          []decode.Field // a federation state's State
	raw            []byte         // the base record, until it changes
	create, modify uint64
	primary        uint64 // a federation state's PrimaryModifyIndex
}

// newRow is a row of type t made from a request's fields f.
func newRow(t decode.MessageType, f []decode.Field) *rowRec {
	return &rowRec{t: t, f: f, create: fieldUint(f, "CreateIndex"), modify: fieldUint(f, "ModifyIndex")}
}

// str is the row's string field name.
func (r *rowRec) str(name string) string { return fieldStr(r.f, name) }

// record is the row's record: the base snapshot's while it is unchanged,
// else its fields with the raft indexes set.
func (r *rowRec) record() []byte {
	if r.raw != nil {
		return r.raw
	}
	idx := map[string][]byte{"CreateIndex": mpUint(r.create), "ModifyIndex": mpUint(r.modify)}
	if r.t != decode.TypeFederationState {
		return encode.AppendMap([]byte{byte(r.t)}, with(r.f, idx))
	}
	idx["PrimaryModifyIndex"] = mpUint(r.primary)
	st := with(r.inner, idx)
	return encode.AppendMap([]byte{byte(r.t)}, with(r.f, map[string][]byte{"State": encode.AppendMap(nil, st)}))
}

// rowKey is the row's key in its table's case-insensitive id index.
func rowKey(t decode.MessageType, f, inner []decode.Field) string {
	switch t {
	case decode.TypeFederationState:
		return strings.ToLower(fieldStr(inner, "Datacenter"))
	case decode.TypeSystemMetadata:
		return strings.ToLower(fieldStr(f, "Key"))
	case decode.TypeConnectCA, decode.TypeConnectCAProviderState, decode.TypeIntention:
		return fieldStr(f, "ID")
	case decode.TypePreparedQuery, decode.TypeACLPolicy:
		return strings.ToLower(fieldStr(f, "ID"))
	case decode.TypeACLToken:
		return fieldStr(f, "SecretID") // the id index is case-sensitive
	}
	return "" // the autopilot and CA configurations: one row
}

// rowTables are the tables replay keeps as rowRecs: this file's and the
// Connect CA's (ca.go).
var rowTables = []decode.MessageType{decode.TypeAutopilot, decode.TypeFederationState, decode.TypeSystemMetadata,
	decode.TypeConnectCA, decode.TypeConnectCAProviderState, decode.TypeConnectCAConfig, decode.TypeIntention}

// heldRows is the table of rowRecs that holds records of type t.
func (s *state) heldRows(t decode.MessageType) map[string]*rowRec {
	switch t {
	case decode.TypePreparedQuery:
		return s.queries
	case decode.TypeACLPolicy:
		return s.policies
	case decode.TypeACLToken:
		return s.tokens
	}
	return s.rows[t]
}

// loadRow holds a record of the base snapshot kept as a rowRec: a
// prepared query, an ACL policy or token, a bookkeeping or CA row.
func (s *state) loadRow(rec *decode.Record) error {
	raw := append([]byte(nil), rec.Raw...)
	f, ok := decode.MapFields(raw[1:])
	if !ok {
		return fmt.Errorf("%s record %d at offset %d: %w", rec.Type, rec.N, rec.Offset, decode.ErrTypedDecode)
	}
	if enterprise(f) {
		return fmt.Errorf("%w: %s record %d has Enterprise fields", errNotCE, rec.Type, rec.N)
	}
	r := &rowRec{t: rec.Type, f: f, raw: raw}
	src := f
	if rec.Type == decode.TypeFederationState {
		if r.inner, ok = decode.MapFields(fieldRaw(f, "State")); !ok {
			return fmt.Errorf("%s record %d at offset %d: %w", rec.Type, rec.N, rec.Offset, decode.ErrTypedDecode)
		}
		src = r.inner
		r.primary = fieldUint(src, "PrimaryModifyIndex")
	}
	r.create, r.modify = fieldUint(src, "CreateIndex"), fieldUint(src, "ModifyIndex")
	s.heldRows(rec.Type)[rowKey(rec.Type, f, r.inner)] = r
	k, err := decode.Keys(rec)
	if err != nil {
		return err
	}
	s.known[rec.Type][k.Identity] = true
	return nil
}

// bookkeepingWrite applies an autopilot, federation state or system
// metadata request.
func (s *state) bookkeepingWrite(idx uint64, mt decode.MessageType, body []byte) string {
	if !s.rowsHeld[mt] {
		return "the " + mt.String() + " table was not loaded" // not reached: interest loads it
	}
	req, ok := decode.MapFields(append([]byte(nil), body...)) // the body aliases the log's memory map
	if !ok {
		return mt.String() + " request is not a msgpack map"
	}
	var err error
	switch mt {
	case decode.TypeAutopilot:
		err = s.autopilotSet(idx, req)
	case decode.TypeFederationState:
		err = s.federationState(idx, req)
	case decode.TypeSystemMetadata:
		err = s.systemMetadata(idx, req)
	}
	return s.outcome(err)
}

// autopilotSet is autopilotSetConfigTxn, with AutopilotCASConfig's check.
func (s *state) autopilotSet(idx uint64, req []decode.Field) error {
	cfg, ok := decode.MapFields(fieldRaw(req, "Config"))
	if !ok {
		return unrepro("autopilot request without a Config map")
	}
	if _, err := decode.DecodeValueOf(decode.TypeAutopilot, encode.AppendMap(nil, cfg)); err != nil {
		return unrepro("the Config does not decode as an AutopilotConfig: %v", err)
	}
	existing := s.rows[decode.TypeAutopilot][""]
	if fieldBool(req, "CAS") && (existing == nil || existing.modify != fieldUint(cfg, "ModifyIndex")) {
		return nil // not done: Consul answers false
	}
	r := &rowRec{t: decode.TypeAutopilot, f: cfg, create: idx, modify: idx}
	if existing != nil {
		r.create = existing.create
	}
	set(s, decode.TypeAutopilot, s.rows[decode.TypeAutopilot], "", r, false)
	return nil
}

// federationState is federationStateSetTxn and federationStateDeleteTxn.
func (s *state) federationState(idx uint64, req []decode.Field) error {
	for _, f := range req {
		switch f.Name {
		case "Datacenter", "Op", "State", "Token":
		default:
			return unrepro("federation state request with the field %s (not replayed)", f.Name)
		}
	}
	st, ok := decode.MapFields(fieldRaw(req, "State"))
	if !ok {
		return unrepro("federation state request without a State map")
	}
	if _, err := decode.DecodeValueOf(decode.TypeFederationState, encode.AppendMap(nil, req)); err != nil {
		return unrepro("the request does not decode as a FederationStateRequest: %v", err)
	}
	t := decode.TypeFederationState
	key := rowKey(t, req, st)
	r := &rowRec{t: t, inner: st, primary: fieldUint(st, "PrimaryModifyIndex"),
		f: with(req, map[string][]byte{"Datacenter": mpStr(""), "Op": mpStr("upsert"), "Token": mpStr("")})}
	if r.primary == 0 {
		r.primary = idx // a write to the primary datacenter's own state
	}
	return s.rowWrite(idx, fieldStr(req, "Op"), key, r, "federation-states", "missing datacenter on federation state")
}

// rowWrite is the upsert (r, CreateIndex kept from the row it replaces)
// or delete of a keyed bookkeeping row, and the table's Index row.
func (s *state) rowWrite(idx uint64, op, key string, r *rowRec, indexRow, missingKey string) error {
	t := r.t
	switch op {
	case "upsert":
		if key == "" {
			return errors.New(missingKey)
		}
		r.create, r.modify = idx, idx
		if existing := s.rows[t][key]; existing != nil {
			r.create = existing.create
		}
		set(s, t, s.rows[t], key, r, false)
	case "delete":
		if s.rows[t][key] == nil {
			return nil
		}
		set(s, t, s.rows[t], key, nil, true)
	default:
		return fmt.Errorf("invalid %s operation type: %v", t, op)
	}
	s.setIndex(indexRow, idx)
	return nil
}

// systemMetadata is systemMetadataSetTxn and systemMetadataDeleteTxn.
func (s *state) systemMetadata(idx uint64, req []decode.Field) error {
	e, ok := decode.MapFields(fieldRaw(req, "Entry"))
	if !ok {
		return unrepro("system metadata request without an Entry map")
	}
	if _, err := decode.DecodeValueOf(decode.TypeSystemMetadata, encode.AppendMap(nil, e)); err != nil {
		return unrepro("the Entry does not decode as a SystemMetadataEntry: %v", err)
	}
	t := decode.TypeSystemMetadata
	return s.rowWrite(idx, fieldStr(req, "Op"), rowKey(t, e, nil), &rowRec{t: t, f: e}, "system-metadata", "missing key on system metadata")
}

// intention applies an IntentionRequest. Only the legacy table's
// delete-all is replayed (LegacyIntentionDeleteAll: the migration to
// service-intentions config entries each server's first leadership
// writes): it empties the table, sets the connect-intentions and
// config-entries Index rows, and the system metadata intention-format =
// config-entry.
func (s *state) intention(idx uint64, body []byte) string {
	req, ok := decode.MapFields(body)
	if !ok {
		return "intention request is not a msgpack map"
	}
	if m := fieldRaw(req, "Mutation"); m != nil && !decode.IsNil(m) {
		return "intention mutations (service-intentions config entries) are not replayed"
	}
	if op := fieldStr(req, "Op"); op != "delete-all" {
		return fmt.Sprintf("legacy intention operation %q is not replayed", op)
	}
	if !s.rowsHeld[decode.TypeIntention] || !s.rowsHeld[decode.TypeSystemMetadata] {
		return "the intention and system metadata tables were not loaded" // not reached: interest loads them
	}
	t := decode.TypeIntention
	for id := range s.rows[t] {
		set(s, t, s.rows[t], id, nil, true)
	}
	s.setIndex("connect-intentions", idx)
	s.setIndex("config-entries", idx)
	e, err := encode.Value(&struct {
		Key, Value               string
		CreateIndex, ModifyIndex uint64
	}{Key: "intention-format", Value: "config-entry"})
	if err != nil {
		return err.Error()
	}
	f, _ := decode.MapFields(e)
	return s.outcome(s.rowWrite(idx, "upsert", "intention-format", &rowRec{t: decode.TypeSystemMetadata, f: f}, "system-metadata", ""))
}
