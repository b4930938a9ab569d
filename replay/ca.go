package replay

import (
	"errors"
	"fmt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// The Connect CA tables as Consul 1.13's state store changes them
// (agent/consul/state/connect_ca.go, through the FSM's
// ApplyConnectCAOperationFromRequest): set-config (CAS when the config's
// ModifyIndex is set; an empty ClusterID keeps the current one),
// set-roots (CAS on the roots table's index; the roots are replaced whole,
// each keeping its CreateIndex), set-roots-config (both, as two
// transactions), set-provider-state, delete-provider-state,
// increment-provider-serial, and the leaf certificates' increment-index.
// Replay holds the three tables whole when the log writes one of them. The
// records are the request's structs, field by field, with the raft indexes
// set (rowRec, as meta.go's tables).

var caTables = []decode.MessageType{decode.TypeConnectCA, decode.TypeConnectCAProviderState, decode.TypeConnectCAConfig}

// connectCA applies a CARequest.
func (s *state) connectCA(idx uint64, body []byte) string {
	for _, t := range caTables {
		if !s.rowsHeld[t] {
			return "the Connect CA tables were not loaded" // not reached: interest loads them
		}
	}
	req, ok := decode.MapFields(append([]byte(nil), body...)) // the body aliases the log's memory map
	if !ok {
		return "CA request is not a msgpack map"
	}
	var err error
	switch op := fieldStr(req, "Op"); op {
	case "set-config":
		err = s.memdbErr(func() error { return s.caSetConfig(idx, req) })
	case "set-roots":
		err = s.memdbErr(func() error { return s.caSetRoots(idx, req) })
	case "set-roots-config":
		// Two transactions: the roots stay set when the config's CAS fails.
		if err = s.memdbErr(func() error { return s.caSetRoots(idx, req) }); err == nil {
			err = s.memdbErr(func() error { return s.caSetConfig(idx, req) })
		}
	case "set-provider-state":
		err = s.caProviderState(idx, req, false)
	case "delete-provider-state":
		err = s.caProviderState(idx, req, true)
	case "increment-provider-serial":
		last := uint64(0)
		if r := s.index["connect-ca-builtin-serial"]; r != nil {
			last = r.value
		} else if r := s.index["connect-ca-builtin"]; r != nil {
			last = r.value // serials were once the provider table's raft indexes
		}
		s.setIndex("connect-ca-builtin-serial", last+1)
	default:
		err = fmt.Errorf("invalid CA operation %q", op)
	}
	return s.outcome(err)
}

// memdbErr runs op as one memdb transaction: all of its changes, or none
// when it fails.
func (s *state) memdbErr(op func() error) error {
	s.undo = []func(){}
	err := op()
	undo := s.undo
	s.undo = nil
	if err != nil {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	return err
}

// caSetConfig is CASetConfig, or CACheckAndSetConfig when the config
// carries a ModifyIndex.
func (s *state) caSetConfig(idx uint64, req []decode.Field) error {
	cfg, ok := decode.MapFields(fieldRaw(req, "Config"))
	if !ok {
		return unrepro("CA request without a Config map")
	}
	if _, err := decode.DecodeValueOf(decode.TypeConnectCAConfig, encode.AppendMap(nil, cfg)); err != nil {
		return unrepro("the Config does not decode as a CAConfiguration: %v", err)
	}
	t := decode.TypeConnectCAConfig
	existing := s.rows[t][""]
	if cidx := fieldUint(cfg, "ModifyIndex"); cidx != 0 {
		if (existing != nil && existing.modify != cidx) || existing == nil {
			return errors.New("ModifyIndex did not match existing")
		}
	}
	r := &rowRec{t: t, f: cfg, create: idx, modify: idx}
	if existing != nil {
		r.create = existing.create
		if fieldStr(cfg, "ClusterID") == "" {
			r.f = with(cfg, map[string][]byte{"ClusterID": fieldRaw(existing.f, "ClusterID")})
		}
	}
	set(s, t, s.rows[t], "", r, false)
	return nil
}

// caSetRoots is caRootSetCASTxn.
func (s *state) caSetRoots(idx uint64, req []decode.Field) error {
	t := decode.TypeConnectCA
	var roots [][]decode.Field
	if err := eachMap(fieldRaw(req, "Roots"), func(f []decode.Field) error {
		if _, err := decode.DecodeValueOf(t, encode.AppendMap(nil, f)); err != nil {
			return unrepro("a root does not decode as a CARoot: %v", err)
		}
		roots = append(roots, f)
		return nil
	}); err != nil {
		return err
	}
	active := 0
	for _, f := range roots {
		if fieldBool(f, "Active") {
			active++
		}
	}
	if active != 1 {
		return errors.New("there must be exactly one active CA")
	}
	cur := uint64(0)
	if r := s.index["connect-ca-roots"]; r != nil {
		cur = r.value
	}
	if cur != fieldUint(req, "Index") {
		return nil // a stale CAS: nothing changes, and Consul answers true
	}
	next := map[string]*rowRec{}
	for _, f := range roots {
		id := fieldStr(f, "ID")
		if id == "" {
			return errors.New("missing CA root ID")
		}
		r := &rowRec{t: t, f: f, create: idx, modify: idx}
		if existing := s.rows[t][id]; existing != nil {
			r.create = existing.create
		}
		next[id] = r
	}
	for id := range s.rows[t] {
		set(s, t, s.rows[t], id, nil, true)
	}
	for id, r := range next {
		set(s, t, s.rows[t], id, r, false)
	}
	s.setIndex("connect-ca-roots", idx)
	return nil
}

// caProviderState is CASetProviderState and CADeleteProviderState.
func (s *state) caProviderState(idx uint64, req []decode.Field, del bool) error {
	ps, ok := decode.MapFields(fieldRaw(req, "ProviderState"))
	if !ok {
		return unrepro("CA request without a ProviderState map")
	}
	t := decode.TypeConnectCAProviderState
	if _, err := decode.DecodeValueOf(t, encode.AppendMap(nil, ps)); err != nil {
		return unrepro("the ProviderState does not decode as a CAConsulProviderState: %v", err)
	}
	id := fieldStr(ps, "ID")
	existing := s.rows[t][id]
	if del {
		if existing == nil {
			return nil
		}
		set(s, t, s.rows[t], id, nil, true)
	} else {
		r := &rowRec{t: t, f: ps, create: idx, modify: idx}
		if existing != nil {
			r.create = existing.create
		}
		set(s, t, s.rows[t], id, r, false)
	}
	s.setIndex("connect-ca-builtin", idx)
	return nil
}
