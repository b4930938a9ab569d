package replay

import (
	"errors"
	"fmt"
	"strings"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// ACL policies and tokens as Consul 1.13's state store changes them
// (agent/consul/state/acl.go, acl_oss.go): ACLPolicyBatchSet and Delete,
// ACLTokenBatchSet and Delete, ACLBootstrap, each batch all or nothing.
// A policy or token is persisted as the struct the request carries, with
// the state store's CreateIndex and ModifyIndex, and a token's policy links
// named after the policies they point to (resolveTokenPolicyLinks): the
// record is the request's map, field by field, with those replaced. Not
// replayed: legacy tokens (Rules), tokens with role links or an auth method
// (their tables are not held), tokens without a Hash (the state store would
// compute one), and a change of the global-management policy's rules (the
// state store checks them against its binary's).

const (
	globalManagementID = "00000000-0000-0000-0000-000000000001"
	anonymousTokenID   = "00000000-0000-0000-0000-000000000002"
)

// acl applies an ACL entry of type mt.
func (s *state) acl(idx uint64, mt decode.MessageType, body []byte) string {
	if !s.aclHeld {
		return "the ACL policies were not loaded" // not reached: interest loads them for every ACL entry
	}
	req, ok := decode.MapFields(append([]byte(nil), body...)) // the body aliases the log's memory map
	if !ok {
		return mt.String() + " request is not a msgpack map"
	}
	return s.memdbTxn(func() error {
		switch mt {
		case decode.TypeACLPolicy:
			return eachMap(fieldRaw(req, "Policies"), func(f []decode.Field) error { return s.aclPolicySet(idx, f) })
		case decode.TypeACLPolicyDelete:
			return eachStr(fieldRaw(req, "PolicyIDs"), func(id string) error { return s.aclPolicyDelete(idx, id) })
		case decode.TypeACLToken:
			opts := tokenOpts{cas: fieldBool(req, "CAS"), allowMissing: fieldBool(req, "AllowMissingLinks"),
				prohibitUnprivileged: fieldBool(req, "ProhibitUnprivileged"), fromReplication: fieldBool(req, "FromReplication")}
			return eachMap(fieldRaw(req, "Tokens"), func(f []decode.Field) error { return s.aclTokenSet(idx, f, opts) })
		case decode.TypeACLTokenDelete:
			return eachStr(fieldRaw(req, "TokenIDs"), func(id string) error { return s.aclTokenDelete(idx, id) })
		case decode.TypeACLBootstrap:
			return s.aclBootstrap(idx, req)
		}
		return unrepro("%s entries are not replayed", mt)
	})
}

// eachMap calls fn with the fields of each map of the msgpack array raw
// (nil: none).
func eachMap(raw []byte, fn func([]decode.Field) error) error {
	if raw == nil || decode.IsNil(raw) {
		return nil
	}
	els, ok := decode.ArrayValues(raw)
	if !ok {
		return unrepro("not an array of maps")
	}
	for _, el := range els {
		f, ok := decode.MapFields(el)
		if !ok {
			return unrepro("not an array of maps")
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// eachStr calls fn with each string of the msgpack array raw.
func eachStr(raw []byte, fn func(string) error) error {
	if raw == nil || decode.IsNil(raw) {
		return nil
	}
	els, ok := decode.ArrayValues(raw)
	if !ok {
		return unrepro("not an array of strings")
	}
	for _, el := range els {
		if !isStr(el) {
			return unrepro("not an array of strings")
		}
		v, _ := decode.DecodeAll(el)
		if err := fn(v.String()); err != nil {
			return err
		}
	}
	return nil
}

// aclPolicySet is aclPolicySetTxn.
func (s *state) aclPolicySet(idx uint64, f []decode.Field) error {
	if _, err := decode.DecodeValueOf(decode.TypeACLPolicy, encode.AppendMap(nil, f)); err != nil {
		return unrepro("the policy does not decode as an ACLPolicy: %v", err)
	}
	if enterprise(f) {
		return unrepro("policy in an Enterprise namespace or partition")
	}
	p := newRow(decode.TypeACLPolicy, f)
	id, name := p.str("ID"), p.str("Name")
	if id == "" {
		return errors.New("missing ACL policy ID")
	}
	if name == "" {
		return errors.New("missing ACL policy name")
	}
	existing := s.policies[strings.ToLower(id)]
	if existing != nil && strings.EqualFold(id, globalManagementID) {
		if !sameFields(existing.f, f, "Rules") {
			return unrepro("the global-management policy's rules change: the state store checks them against its own binary's")
		}
		if raw := fieldRaw(f, "Datacenters"); raw != nil && !decode.IsNil(raw) {
			if els, ok := decode.ArrayValues(raw); ok && len(els) > 0 {
				return errors.New("changing the Datacenters of the builtin global-management policy is not permitted")
			}
		}
	}
	for _, other := range s.policies {
		if strings.EqualFold(other.str("Name"), name) && !strings.EqualFold(other.str("ID"), id) {
			return fmt.Errorf("a policy with name %q already exists", name)
		}
	}
	if existing != nil {
		p.create, p.modify = existing.create, idx
	} else {
		p.create, p.modify = idx, idx
	}
	set(s, decode.TypeACLPolicy, s.policies, strings.ToLower(id), p, false)
	s.indexMax("acl-policies", idx)
	return nil
}

// aclPolicyDelete is aclPolicyDeleteTxn by ID.
func (s *state) aclPolicyDelete(idx uint64, id string) error {
	key := strings.ToLower(id)
	if s.policies[key] == nil {
		return nil
	}
	if key == globalManagementID {
		return errors.New("deletion of the builtin global-management policy is not permitted")
	}
	set(s, decode.TypeACLPolicy, s.policies, key, nil, true)
	s.indexMax("acl-policies", idx)
	return nil
}

type tokenOpts struct {
	cas, allowMissing, prohibitUnprivileged, fromReplication bool
}

// aclTokenSet is aclTokenSetTxn.
func (s *state) aclTokenSet(idx uint64, f []decode.Field, o tokenOpts) error {
	if _, err := decode.DecodeValueOf(decode.TypeACLToken, encode.AppendMap(nil, f)); err != nil {
		return unrepro("the token does not decode as an ACLToken: %v", err)
	}
	if enterprise(f) {
		return unrepro("token in an Enterprise namespace or partition")
	}
	t := newRow(decode.TypeACLToken, f)
	accessor, secret := t.str("AccessorID"), t.str("SecretID")
	if secret == "" {
		return errors.New("missing ACL token SecretID")
	}
	if accessor == "" {
		return errors.New("missing ACL token AccessorID")
	}
	if o.fromReplication && fieldBool(f, "Local") {
		return errors.New("cannot replicate local tokens")
	}
	if fieldStr(f, "Rules") != "" {
		return unrepro("legacy token (Rules) %s", accessor)
	}
	original := s.tokens[secret]
	if !s.tokensAll && !s.tokensHeld[secret] && original == nil {
		return unrepro("token %s was not loaded", accessor) // not reached: interest names it
	}
	if o.cas {
		switch {
		case t.modify == 0 && original != nil,
			t.modify != 0 && original == nil,
			t.modify != 0 && t.modify != original.modify:
			return nil // set-if-unset or stale: this token is skipped, the batch goes on
		}
	}
	// resolveTokenPolicyLinks: each link named after its policy.
	valid := 0
	links := fieldRaw(f, "Policies")
	if links != nil && !decode.IsNil(links) {
		els, ok := decode.ArrayValues(links)
		if !ok {
			return unrepro("token Policies is not an array")
		}
		out := make([][]byte, 0, len(els))
		for _, el := range els {
			lf, ok := decode.MapFields(el)
			if !ok {
				return unrepro("token policy link is not a map")
			}
			id := fieldStr(lf, "ID")
			if id == "" {
				return errors.New("encountered a Token with policies linked by Name in the state store")
			}
			if p := s.policies[strings.ToLower(id)]; p != nil {
				lf = with(lf, map[string][]byte{"Name": mpStr(p.str("Name"))})
				valid++
			} else if !o.allowMissing {
				return fmt.Errorf("no such policy with ID: %s", id)
			}
			out = append(out, encode.AppendMap(nil, lf))
		}
		t.f = with(t.f, map[string][]byte{"Policies": encode.AppendArray(nil, out)})
	}
	if roles := fieldRaw(f, "Roles"); roles != nil && !decode.IsNil(roles) {
		if els, _ := decode.ArrayValues(roles); len(els) > 0 {
			return unrepro("token %s links roles (the role table is not replayed)", accessor)
		}
	}
	if fieldStr(f, "AuthMethod") != "" && !o.fromReplication {
		return unrepro("token %s comes from an auth method (not replayed)", accessor)
	}
	identities := 0
	if err := eachMap(fieldRaw(f, "ServiceIdentities"), func(sf []decode.Field) error {
		identities++
		if fieldStr(sf, "ServiceName") == "" {
			return errors.New("encountered a Token with an empty service identity name in the state store")
		}
		return nil
	}); err != nil {
		return err
	}
	if err := eachMap(fieldRaw(f, "NodeIdentities"), func(nf []decode.Field) error {
		identities++
		if fieldStr(nf, "NodeName") == "" || fieldStr(nf, "Datacenter") == "" {
			return errors.New("encountered a Token with an empty node identity name or datacenter in the state store")
		}
		return nil
	}); err != nil {
		return err
	}
	if o.prohibitUnprivileged && valid == 0 && identities == 0 {
		return errors.New("token has no privileges")
	}
	if original != nil {
		if orig := original.str("AccessorID"); orig != "" && !strings.EqualFold(accessor, orig) {
			return errors.New("the ACL Token AccessorID field is immutable")
		}
		t.create, t.modify = original.create, idx
	} else {
		t.create, t.modify = idx, idx
	}
	if h := fieldRaw(f, "Hash"); h == nil || decode.IsNil(h) || isEmptyBytes(h) {
		return unrepro("token %s has no Hash: the state store computes one (not replayed)", accessor)
	}
	set(s, decode.TypeACLToken, s.tokens, secret, t, false)
	s.indexMax("acl-tokens", idx)
	return nil
}

func isEmptyBytes(raw []byte) bool {
	v, err := decode.DecodeAll(raw)
	return err == nil && (v.Kind == decode.Bin || v.Kind == decode.Str) && len(v.Bytes) == 0
}

// aclTokenDelete is aclTokenDeleteTxn by AccessorID.
func (s *state) aclTokenDelete(idx uint64, accessor string) error {
	var secret string
	found := false
	for sec, t := range s.tokens {
		if strings.EqualFold(t.str("AccessorID"), accessor) {
			secret, found = sec, true
		}
	}
	if !found {
		if !s.tokensAll && !s.accessorsHeld[strings.ToLower(accessor)] {
			return unrepro("token %s was not loaded", accessor) // not reached: interest names it
		}
		return nil
	}
	if strings.EqualFold(accessor, anonymousTokenID) {
		return errors.New("deletion of the builtin anonymous token is not permitted")
	}
	set(s, decode.TypeACLToken, s.tokens, secret, nil, true)
	s.indexMax("acl-tokens", idx)
	return nil
}

// aclBootstrap is ACLBootstrap.
func (s *state) aclBootstrap(idx uint64, req []decode.Field) error {
	reset := fieldUint(req, "ResetIndex")
	if r := s.index["acl-token-bootstrap"]; r != nil {
		if reset == 0 {
			return errors.New("ACL bootstrap no longer allowed")
		}
		if reset != r.value {
			return errors.New("invalid ACL bootstrap reset index")
		}
	}
	tok, ok := decode.MapFields(fieldRaw(req, "Token"))
	if !ok {
		return unrepro("bootstrap request without a Token map")
	}
	if err := s.aclTokenSet(idx, tok, tokenOpts{}); err != nil {
		return err
	}
	s.setIndex("acl-token-bootstrap", idx)
	return nil
}
