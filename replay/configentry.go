package replay

import (
	"errors"
	"fmt"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// Config entries as Consul 1.13's state store changes them
// (agent/consul/state/config_entry.go): upsert, upsert-cas, delete and
// delete-cas of service-defaults and proxy-defaults entries, while the
// snapshot (and the log so far) holds no entry of a kind that takes part
// in discovery-chain, gateway, intention or export validation
// (service-router, -splitter, -resolver, ingress- and terminating-gateway,
// service-intentions, exported-services): without those, Consul's
// validateProposedConfigEntryInGraph compiles only the entry's own plain
// chain, which cannot fail, and nothing beyond the entry and the
// config-entries Index row changes. Every other case is refused, as are
// service-defaults with a Destination (gateway mappings).
//
// A config entry is persisted as a ConfigEntryRequest in its own binary
// form (a msgpack string holding the kind, then the request's map) with
// Op, Datacenter and Token empty and the entry's CreateIndex and
// ModifyIndex set: the record is the log entry's, field by field, with
// those replaced.

var (
	simpleKinds = map[string]bool{"service-defaults": true, "proxy-defaults": true}
	graphKinds  = map[string]bool{"service-router": true, "service-splitter": true, "service-resolver": true,
		"ingress-gateway": true, "terminating-gateway": true, "service-intentions": true, "exported-services": true}
)

// ceRec is one config entry: the kind's bytes and the request's fields.
type ceRec struct {
	kindRaw        []byte
	outer, entry   []decode.Field
	raw            []byte // the base record, until it changes
	kind, name     string
	create, modify uint64
}

func ceKey(kind, name string) string { return strings.ToLower(kind) + "/" + strings.ToLower(name) }

// parseConfigEntry splits a ConfigEntryRequest's binary form: value is the
// msgpack string a record or log entry holds. The fields alias a copy.
func parseConfigEntry(value []byte) (*ceRec, error) {
	v, err := decode.DecodeAll(value)
	if err != nil || (v.Kind != decode.Str && v.Kind != decode.Bin) {
		return nil, errors.New("a config entry is not a wrapped ConfigEntryRequest")
	}
	payload := append([]byte(nil), v.Bytes...)
	end := decode.ValueEnd(payload, 0)
	if end < 0 || !isStr(payload[:end]) {
		return nil, errors.New("a config entry without its kind")
	}
	outer, ok := decode.MapFields(payload[end:])
	if !ok {
		return nil, errors.New("a config entry request that is not a map")
	}
	for _, f := range outer {
		switch f.Name {
		case "Op", "Datacenter", "Entry", "Token":
		default:
			return nil, fmt.Errorf("a config entry request with the field %s (not replayed)", f.Name)
		}
	}
	entry, ok := decode.MapFields(fieldRaw(outer, "Entry"))
	if !ok {
		return nil, errors.New("a config entry request whose Entry is not a map")
	}
	kv, _ := decode.DecodeAll(payload[:end])
	r := &ceRec{kindRaw: payload[:end], outer: outer, entry: entry, kind: kv.String(), name: fieldStr(entry, "Name"),
		create: fieldUint(entry, "CreateIndex"), modify: fieldUint(entry, "ModifyIndex")}
	return r, nil
}

func (r *ceRec) record() []byte {
	if r.raw != nil {
		return r.raw
	}
	entry := encode.AppendMap(nil, with(r.entry, map[string][]byte{"CreateIndex": mpUint(r.create), "ModifyIndex": mpUint(r.modify)}))
	payload := encode.AppendMap(append([]byte(nil), r.kindRaw...),
		with(r.outer, map[string][]byte{"Op": mpStr(""), "Datacenter": mpStr(""), "Token": mpStr(""), "Entry": entry}))
	return append([]byte{byte(decode.TypeConfigEntry)}, mpStr(string(payload))...)
}

// loadConfigEntry notes what replay must know of every config entry (a
// gateway, a graph kind) and holds them all when the log has a config
// entry write.
func (s *state) loadConfigEntry(rec *decode.Record, in *interest) error {
	id, err := decode.Identity(rec)
	if err != nil {
		return err
	}
	kind, _, _ := strings.Cut(id, "/")
	if kind == "ingress-gateway" || kind == "terminating-gateway" {
		s.cat.gateways = true
	}
	if graphKinds[kind] {
		s.configGraph = true
	}
	if !in.all && !in.configs {
		return nil
	}
	r, err := parseConfigEntry(rec.Value())
	if err != nil {
		return fmt.Errorf("ConfigEntry record %d at offset %d: %w", rec.N, rec.Offset, err)
	}
	r.raw = append([]byte(nil), rec.Raw...)
	s.configs[ceKey(r.kind, r.name)] = r
	s.known[rec.Type][id] = true
	return nil
}

// configEntry applies a ConfigEntryRequest.
func (s *state) configEntry(idx uint64, body []byte) string {
	if _, err := decode.DecodeValueOf(decode.TypeConfigEntry, body); err != nil {
		return "the request does not decode as a ConfigEntryRequest: " + err.Error()
	}
	r, err := parseConfigEntry(body)
	if err != nil {
		return err.Error()
	}
	if enterprise(r.entry) {
		return "config entry in an Enterprise namespace or partition"
	}
	if !simpleKinds[r.kind] {
		return fmt.Sprintf("config entries of kind %q are not replayed (their validation and side tables)", r.kind)
	}
	if s.configGraph {
		return "the snapshot has discovery-chain, gateway, intention or exported-services entries: validating a config entry against them is not replayed"
	}
	if d := fieldRaw(r.entry, "Destination"); d != nil && !decode.IsNil(d) {
		return "service-defaults with a Destination (gateway mappings) are not replayed"
	}
	if !s.configsHeld {
		return "the config entries were not loaded" // not reached: interest loads them
	}
	key := ceKey(r.kind, r.name)
	existing := s.configs[key]
	var err2 error
	switch op := fieldStr(r.outer, "Op"); op {
	case "upsert":
		err2 = s.ensureConfigEntry(idx, key, r, existing)
	case "upsert-cas":
		cidx := fieldUint(r.entry, "ModifyIndex")
		if (cidx == 0 && existing != nil) || (cidx != 0 && existing == nil) || (existing != nil && cidx != 0 && cidx != existing.modify) {
			return "" // not done: Consul answers false, nothing changes
		}
		err2 = s.ensureConfigEntry(idx, key, r, existing)
	case "delete":
		s.deleteConfigEntry(idx, key)
	case "delete-cas":
		if existing == nil || existing.modify != fieldUint(r.entry, "ModifyIndex") {
			return ""
		}
		s.deleteConfigEntry(idx, key)
	default:
		err2 = fmt.Errorf("invalid config entry operation type: %v", op)
	}
	return s.outcome(err2)
}

// ensureConfigEntry is ensureConfigEntryTxn for a simple kind.
func (s *state) ensureConfigEntry(idx uint64, key string, r, existing *ceRec) error {
	if r.name == "" || r.kind == "" {
		return errors.New("missing config entry kind or name") // memdb: errMissingValueForIndex
	}
	if existing != nil {
		r.create = existing.create
	} else {
		r.create = idx
	}
	r.modify = idx
	set(s, decode.TypeConfigEntry, s.configs, key, r, false)
	s.indexMax("config-entries", idx)
	return nil
}

// deleteConfigEntry is deleteConfigEntryTxn for a simple kind.
func (s *state) deleteConfigEntry(idx uint64, key string) {
	if s.configs[key] == nil {
		return
	}
	set(s, decode.TypeConfigEntry, s.configs, key, nil, true)
	s.setIndex("config-entries", idx)
}
