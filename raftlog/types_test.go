package raftlog_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/raftlog"
)

// Protobuf for the peering entries (structs.EncodeProto: the type byte,
// then the message).
func pbLen(field int, b []byte) []byte {
	out := binary.AppendUvarint(nil, uint64(field<<3|2))
	out = binary.AppendUvarint(out, uint64(len(b)))
	return append(out, b...)
}

func pbStr(field int, s string) []byte { return pbLen(field, []byte(s)) }

func pbVarint(field int, v uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, uint64(field<<3)), v)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func proto(mt decode.MessageType, msg []byte) []byte { return append([]byte{byte(mt)}, msg...) }

type m = map[string]any

// TestRequestTypes covers the request shapes TestEntries does not: every
// other type a CE 1.13/1.14 server applies.
func TestRequestTypes(t *testing.T) {
	const (
		bootSecret   = "b00b00b0-0000-0000-0000-00000000b007"
		legacySecret = "1e9ac700-0000-0000-0000-00000000000a"
		estSecret    = "establishment-secret-0001"
		streamSecret = "active-stream-secret-0002"
		jwt          = "eyJhbGciOiJSUzI1NiJ9.service-account-jwt"
		caKey        = "ca-provider-private-key-0003"
	)
	cases := []struct {
		data    []byte
		msgType string
		op      string
		targets []string
		by      string
	}{
		{cmd(t, decode.TypeACLBootstrap, m{"Token": m{"AccessorID": "acc-boot", "SecretID": bootSecret, "Description": "Bootstrap Token (Global Management)"}, "ResetIndex": 0}),
			"ACLBootstrap", "bootstrap", []string{"ACLToken acc-boot"}, "-"},
		{cmd(t, decode.TypeKVS, m{"Op": "set", "DirEnt": m{"Key": "after/boot"}, "Token": bootSecret}),
			"KVS", "set", []string{"KVS after/boot"}, "Bootstrap Token (Global Management)"},
		{cmd(t, decode.TypeACL, m{"Op": "set", "ACL": m{"ID": legacySecret, "Name": "legacy", "Type": "client"}, "Token": bootSecret}),
			"ACL", "set", []string{"ACL " + "sha256:" + sha16(legacySecret)}, "Bootstrap Token (Global Management)"},
		{cmd(t, decode.TypeIntention, m{"Op": "create", "Intention": m{"ID": "int-1", "SourceName": "web", "DestinationName": "db", "Action": "allow"}, "Token": ""}),
			"Intention", "create", []string{"Intention int-1"}, "Anonymous Token"},
		{cmd(t, decode.TypeIntention, m{"Op": "upsert", "Mutation": m{"Destination": m{"Name": "db"}, "Source": m{"Name": "web"}, "Value": m{"Action": "deny"}}, "Token": ""}),
			"Intention", "upsert", []string{"ConfigEntry source:web service-intentions/db"}, "Anonymous Token"},
		{cmd(t, decode.TypeAutopilot, m{"Config": m{"CleanupDeadServers": true}, "CAS": false, "Token": ""}),
			"Autopilot", "set-config", []string{"Autopilot singleton"}, "Anonymous Token"},
		{cmd(t, decode.TypeCoordinateBatchUpdate, []any{m{"Node": "n1", "Coord": m{"Vec": []float64{0.1}}}, m{"Node": "n2", "Segment": "alpha"}}),
			"CoordinateBatchUpdate", "update", []string{"CoordinateBatchUpdate n1", "CoordinateBatchUpdate n2/alpha"}, "-"},
		{cmd(t, decode.TypeTombstone, m{"Op": "reap", "ReapIndex": 77, "Token": ""}),
			"Tombstone", "reap", []string{"Tombstone reap<=77"}, "Anonymous Token"},
		{cmd(t, decode.TypeSystemMetadata, m{"Op": "upsert", "Entry": m{"Key": "virtual-ips", "Value": "true"}}),
			"SystemMetadata", "upsert", []string{"SystemMetadata virtual-ips"}, "-"},
		{cmd(t, decode.TypeFederationState, m{"Op": "upsert", "State": m{"Datacenter": "dc2"}, "Token": ""}),
			"FederationState", "upsert", []string{"FederationState dc2"}, "Anonymous Token"},
		{cmd(t, decode.TypeACLPolicyDelete, m{"PolicyIDs": []string{"pol-1", "pol-2"}}),
			"ACLPolicyDelete", "delete", []string{"ACLPolicy pol-1", "ACLPolicy pol-2"}, "-"},
		{cmd(t, decode.TypeACLRole, m{"Roles": []any{m{"ID": "role-1", "Name": "ops"}}}),
			"ACLRole", "set", []string{"ACLRole role-1"}, "-"},
		{cmd(t, decode.TypeACLRoleDelete, m{"RoleIDs": []string{"role-1"}}),
			"ACLRoleDelete", "delete", []string{"ACLRole role-1"}, "-"},
		{cmd(t, decode.TypeACLBindingRule, m{"BindingRules": []any{m{"ID": "br-1", "AuthMethod": "minikube"}}}),
			"ACLBindingRule", "set", []string{"ACLBindingRule br-1"}, "-"},
		{cmd(t, decode.TypeACLBindingRuleDelete, m{"BindingRuleIDs": []string{"br-1"}}),
			"ACLBindingRuleDelete", "delete", []string{"ACLBindingRule br-1"}, "-"},
		{cmd(t, decode.TypeACLAuthMethod, m{"AuthMethods": []any{m{"Name": "minikube", "Type": "kubernetes", "Config": m{"ServiceAccountJWT": jwt, "Host": "https://k8s"}}}}),
			"ACLAuthMethod", "set", []string{"ACLAuthMethod minikube"}, "-"},
		{cmd(t, decode.TypeACLAuthMethodDelete, m{"AuthMethodNames": []string{"minikube"}}),
			"ACLAuthMethodDelete", "delete", []string{"ACLAuthMethod minikube"}, "-"},
		{cmd(t, decode.TypeConnectCA, m{"Op": "set-config", "Config": m{"ClusterID": "c1", "Provider": "consul", "Config": m{"PrivateKey": caKey}}, "Token": ""}),
			"ConnectCA", "set-config", []string{"ConnectCAConfig singleton"}, "Anonymous Token"},
		{cmd(t, decode.TypeConnectCALeaf, m{"Op": "increment-index", "Token": ""}),
			"ConnectCALeaf", "increment-index", nil, "Anonymous Token"},
		{proto(decode.TypePeering, cat(
			pbLen(1, cat(pbStr(1, "peer-uuid-1"), pbStr(2, "other-dc"), pbVarint(6, 1))),
			pbLen(2, cat(pbStr(1, "peer-uuid-1"), pbLen(2, pbStr(1, estSecret)))))),
			"Peering", "write", []string{"Peering peer-uuid-1"}, "-"},
		{proto(decode.TypePeeringTerminateByID, pbStr(1, "peer-uuid-1")),
			"Unknown(37)", "terminate", []string{"Peering peer-uuid-1"}, "-"},
		{proto(decode.TypePeeringTrustBundle, pbLen(1, cat(pbStr(1, "other.consul"), pbStr(2, "other-dc"), pbStr(4, "PEM")))),
			"PeeringTrustBundle", "write", []string{"PeeringTrustBundle other-dc"}, "-"},
		{proto(decode.TypePeeringTrustBundleDel, pbStr(1, "other-dc")),
			"PeeringTrustBundleDelete", "delete", []string{"PeeringTrustBundle other-dc"}, "-"},
		{proto(decode.TypePeeringSecret, cat(pbStr(1, "peer-uuid-1"), pbLen(5, pbStr(1, streamSecret)))),
			"PeeringSecret", "establish", []string{"PeeringSecret peer-uuid-1"}, "-"},
		{proto(decode.TypePeeringDelete, pbStr(1, "other-dc")),
			"PeeringDelete", "delete", []string{"Peering "}, "-"},
	}
	var logs []*raft.Log
	for _, c := range cases {
		logs = append(logs, &raft.Log{Data: c.data})
	}
	dir := writeDB(t, t.TempDir(), logs)
	l, err := raftlog.Open(dir, raftlog.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := l.Scan(raftlog.Filter{})
	defer s.Close()
	var all bytes.Buffer
	i := 0
	for ; s.Next(); i++ {
		e, c := s.Entry(), cases[i]
		raftlog.WriteJSON(&all, e)
		by := "-"
		if e.Token != nil {
			by = e.Token.Description
		}
		if e.Err != "" || e.MsgType != c.msgType || e.Op != c.op || !reflect.DeepEqual(targetStrings(e), c.targets) || by != c.by {
			t.Errorf("entry %d: %s %s %q by %q err %q\n want %s %s %q by %q", e.Index, e.MsgType, e.Op, targetStrings(e), by, e.Err, c.msgType, c.op, c.targets, c.by)
		}
	}
	if i != len(cases) {
		t.Fatalf("%d entries, want %d (%v)", i, len(cases), s.Err())
	}
	for _, secret := range []string{bootSecret, legacySecret, estSecret, streamSecret, jwt, caKey} {
		if bytes.Contains(all.Bytes(), []byte(secret)) {
			t.Errorf("secret %q in JSON output", secret)
		}
	}
	if !bytes.Contains(all.Bytes(), []byte(`"Op":"generate-token"`)) || !bytes.Contains(all.Bytes(), []byte(`"name":"other-dc"`)) {
		t.Errorf("peering write: secrets operation or peer name missing:\n%s", all.String())
	}
}

func sha16(s string) string { return sha256hex(s)[:16] }

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestChunks splits a large KV set into three go-raftchunking chunks (with
// another entry between them) and leaves an op incomplete across a term
// change: the completing chunk carries the whole request.
func TestChunks(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000)
	data := cmd(t, decode.TypeKVS, KVSRequest{Op: "set", DirEnt: encodeDirEnt("big/value", big), WriteRequest: WriteRequest{""}})
	third := len(data) / 3
	parts := [][]byte{data[:third], data[third : 2*third], data[2*third:]}
	ci := func(op, seq, n uint64) []byte { return cat(pbVarint(1, op), pbVarint(2, seq), pbVarint(3, n)) }
	logs := []*raft.Log{
		{Term: 2, Data: parts[0][:10], Extensions: ci(1, 0, 2)}, // op 1: never completed (term changes)
		{Term: 3, Data: parts[0], Extensions: ci(7, 0, 3)},
		{Term: 3, Data: cmd(t, decode.TypeKVS, KVSRequest{Op: "delete", DirEnt: encodeDirEnt("other", nil)})},
		{Term: 3, Data: parts[2], Extensions: ci(7, 2, 3)},
		{Term: 3, Data: parts[1], Extensions: ci(7, 1, 3)},
	}
	dir := writeDB(t, t.TempDir(), logs)
	l, err := raftlog.Open(dir, raftlog.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, f := range []raftlog.Filter{{}, {Key: "big/value"}, {SinceIndex: 5}} {
		s := l.Scan(f)
		var got []string
		for s.Next() {
			e := s.Entry()
			got = append(got, e.Op+" "+e.Chunk+" "+strings.Join(targetStrings(e), ",")+" "+e.Err)
		}
		s.Close()
		want := []string{
			"chunk op 1 part 1/2  ",
			"chunk op 7 part 1/3  ",
			"delete  KVS other ",
			"chunk op 7 part 3/3  ",
			"set op 7 part 2/3 KVS big/value ",
		}
		switch {
		case f.Key != "":
			want = want[4:]
		case f.SinceIndex != 0:
			want = want[4:]
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("filter %+v:\n got %q\nwant %q", f, got, want)
		}
	}
}

func encodeDirEnt(key string, v []byte) encode.DirEntry { return encode.DirEntry{Key: key, Value: v} }
