package raftlog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/raftlog"
)

const (
	secretOps    = "11111111-aaaa-bbbb-cccc-000000000001"
	secretDeploy = "22222222-aaaa-bbbb-cccc-000000000002"
	secretSnap   = "33333333-aaaa-bbbb-cccc-000000000003"
	secretNobody = "44444444-aaaa-bbbb-cccc-000000000004"
	accOps       = "a1aaaaaa-0000-0000-0000-000000000001"
	accDeploy    = "a2aaaaaa-0000-0000-0000-000000000002"
	accSnap      = "a3aaaaaa-0000-0000-0000-000000000003"
	signingKey   = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----"
)

type want struct {
	index   uint64
	logType string
	msgType string
	op      string
	targets []string // "Type id" or "Type op id"
	by      string   // Who.Description; "-" for no caller
}

// scenario is a log with one entry of every request shape the tests cover.
func scenario(t *testing.T) ([]*raft.Log, []want) {
	kv := func(op, key, token string, extra ...func(*encode.DirEntry)) []byte {
		d := encode.DirEntry{Key: key, Value: []byte("v-" + key), Flags: 42}
		for _, f := range extra {
			f(&d)
		}
		return cmd(t, decode.TypeKVS, KVSRequest{Datacenter: "dc1", Op: op, DirEnt: d, WriteRequest: WriteRequest{token}})
	}
	withSession := func(d *encode.DirEntry) { d.Session = "sess-1" }
	withCAS := func(d *encode.DirEntry) { d.ModifyIndex = 4 }
	logs := []*raft.Log{
		{Type: raft.LogNoop},
		{Type: raft.LogConfiguration, Data: raft.EncodeConfiguration(raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: "srv-1", Address: "127.0.0.1:8300"}}})},
		{Data: cmd(t, decode.TypeACLToken, ACLTokenBatchSetRequest{Tokens: []*encode.ACLToken{
			{AccessorID: accOps, SecretID: secretOps, Description: "ops team", CreateTime: t0},
			{AccessorID: accDeploy, SecretID: secretDeploy, Description: "deploy bot", CreateTime: t0},
		}, CAS: false})},
		{Data: kv("set", "app/config", secretOps)},
		{Data: kv("cas", "app/config", secretDeploy, withCAS)},
		{Data: kv("delete", "app/old", secretOps)},
		{Data: kv("delete-tree", "app/tmp/", "")},
		{Data: kv("lock", "service/leader", secretSnap, withSession)},
		{Data: kv("unlock", "service/leader", secretSnap, withSession)},
		{Data: cmd(t, decode.TypeTxn, TxnRequest{Datacenter: "dc1", Ops: []TxnOp{
			{KV: &TxnKVOp{Verb: "set", DirEnt: encode.DirEntry{Key: "txn/a", Value: []byte("1")}}},
			{KV: &TxnKVOp{Verb: "delete", DirEnt: encode.DirEntry{Key: "txn/b"}}},
			{Node: &TxnNodeOp{Verb: "set", Node: Node{Node: "db1", Address: "10.0.0.9"}}},
			{Service: &TxnServiceOp{Verb: "set", Node: "db1", Service: encode.NodeService{ID: "pg-1", Service: "postgres"}}},
		}, WriteRequest: WriteRequest{secretDeploy}})},
		{Data: cmd(t, decode.TypeRegister, encode.RegisterRequest{Datacenter: "dc1", Node: "web1", Address: "10.0.0.1",
			Service: &encode.NodeService{ID: "web-1", Service: "web", Port: 80},
			Checks:  []*encode.HealthCheck{{Node: "web1", CheckID: "service:web-1", Name: "web alive", Status: "passing", ServiceID: "web-1", ServiceName: "web"}},
			Token:   secretOps})},
		{Data: cmd(t, decode.TypeDeregister, DeregisterRequest{Datacenter: "dc1", Node: "web1", ServiceID: "web-1", WriteRequest: WriteRequest{secretOps}})},
		{Data: cmd(t, decode.TypeDeregister, DeregisterRequest{Datacenter: "dc1", Node: "web1", WriteRequest: WriteRequest{secretOps}})},
		{Data: cmd(t, decode.TypeSession, SessionRequest{Datacenter: "dc1", Op: "create", Session: encode.Session{ID: "sess-1", Node: "web1", Behavior: "release", TTL: "30s"}, WriteRequest: WriteRequest{secretDeploy}})},
		{Data: cmd(t, decode.TypeSession, SessionRequest{Datacenter: "dc1", Op: "destroy", Session: encode.Session{ID: "sess-1"}, WriteRequest: WriteRequest{secretDeploy}})},
		{Data: cmd(t, decode.TypeACLPolicy, ACLPolicyBatchSetRequest{Policies: []*ACLPolicy{{ID: "pol-1", Name: "kv-rw", Rules: `key_prefix "" { policy = "write" }`}}})},
		{Data: configEntryRequest(t, "service-defaults", "upsert", map[string]any{"Kind": "service-defaults", "Name": "web", "Protocol": "http"}, secretDeploy)},
		{Data: cmd(t, decode.TypePreparedQuery, PreparedQueryRequest{Datacenter: "dc1", Op: "create", Query: &PreparedQuery{ID: "pq-1", Name: "near-web", Token: secretOps}, WriteRequest: WriteRequest{secretOps}})},
		{Data: kv("set", "who/unknown", secretNobody)},
		{Data: append([]byte{128 | 99}, cmd(t, 0, map[string]any{"Future": true})[1:]...)},
		{Data: cmd(t, decode.TypeConnectCA, CARequest{Op: "set-roots", Datacenter: "dc1", Index: 1, Roots: []*CARoot{{ID: "root-1", Name: "Consul CA", RootCert: "CERT", SigningKey: signingKey, Active: true}}})},
		{Data: cmd(t, decode.TypeACLTokenDelete, map[string]any{"TokenIDs": []string{accDeploy}})},
		{Type: raft.LogBarrier},
	}
	wants := []want{
		{1, "noop", "", "", nil, "-"},
		{2, "configuration", "", "configuration", []string{"RaftServer voter srv-1"}, "-"},
		{3, "command", "ACLToken", "set", []string{"ACLToken " + accOps, "ACLToken " + accDeploy}, "-"},
		{4, "command", "KVS", "set", []string{"KVS app/config"}, "ops team"},
		{5, "command", "KVS", "cas", []string{"KVS app/config"}, "deploy bot"},
		{6, "command", "KVS", "delete", []string{"KVS app/old"}, "ops team"},
		{7, "command", "KVS", "delete-tree", []string{"KVS app/tmp/"}, "Anonymous Token"},
		{8, "command", "KVS", "lock", []string{"KVS service/leader"}, "from snapshot"},
		{9, "command", "KVS", "unlock", []string{"KVS service/leader"}, "from snapshot"},
		{10, "command", "Txn", "txn", []string{"KVS kv:set txn/a", "KVS kv:delete txn/b", "Register node:set node:db1", "Register service:set service:db1/pg-1"}, "deploy bot"},
		{11, "command", "Register", "register", []string{"Register node:web1", "Register service:web1/web-1", "Register check:web1/service:web-1"}, "ops team"},
		{12, "command", "Deregister", "deregister-service", []string{"Register service:web1/web-1"}, "ops team"},
		{13, "command", "Deregister", "deregister-node", []string{"Register node:web1"}, "ops team"},
		{14, "command", "Session", "create", []string{"Session sess-1"}, "deploy bot"},
		{15, "command", "Session", "destroy", []string{"Session sess-1"}, "deploy bot"},
		{16, "command", "ACLPolicy", "set", []string{"ACLPolicy pol-1"}, "-"},
		{17, "command", "ConfigEntry", "upsert", []string{"ConfigEntry service-defaults/web"}, "deploy bot"},
		{18, "command", "PreparedQuery", "create", []string{"PreparedQuery pq-1"}, "ops team"},
		{19, "command", "KVS", "set", []string{"KVS who/unknown"}, ""},
		{20, "command", "Unknown(99)", "unknown", nil, "-"},
		{21, "command", "ConnectCA", "set-roots", []string{"ConnectCA root-1"}, "Anonymous Token"},
		{22, "command", "ACLTokenDelete", "delete", []string{"ACLToken " + accDeploy}, "-"},
		{23, "barrier", "", "", nil, "-"},
	}
	return logs, wants
}

func targetStrings(e *raftlog.Entry) []string {
	var out []string
	for _, tg := range e.Targets {
		s := tg.Type
		if tg.Op != "" {
			s += " " + tg.Op
		}
		out = append(out, s+" "+tg.ID)
	}
	return out
}

func openScenario(t *testing.T, opts raftlog.Options) (*raftlog.Log, []want) {
	t.Helper()
	logs, wants := scenario(t)
	dir := writeDB(t, t.TempDir(), logs)
	writeDataDirSnapshot(t, dir, 1, encode.ACLToken{AccessorID: accSnap, SecretID: secretSnap, Description: "from snapshot"})
	l, err := raftlog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, wants
}

func TestEntries(t *testing.T) {
	l, wants := openScenario(t, raftlog.Options{})
	if l.SnapshotTokens != 1 {
		t.Errorf("snapshot tokens = %d from %q, want 1", l.SnapshotTokens, l.SnapshotPath)
	}
	s := l.Scan(raftlog.Filter{})
	defer s.Close()
	var got []raftlog.Entry
	for s.Next() {
		got = append(got, *s.Entry())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(wants) {
		t.Fatalf("%d entries, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		e := &got[i]
		t.Run(strings.ReplaceAll(e.MsgType+"_"+e.Op, "/", "_"), func(t *testing.T) {
			if e.Err != "" {
				t.Errorf("index %d: error %s", e.Index, e.Err)
			}
			if e.Index != w.index || e.LogType != w.logType || e.MsgType != w.msgType || e.Op != w.op {
				t.Errorf("entry = %d %s %s %s, want %d %s %s %s", e.Index, e.LogType, e.MsgType, e.Op, w.index, w.logType, w.msgType, w.op)
			}
			if got := targetStrings(e); !reflect.DeepEqual(got, w.targets) {
				t.Errorf("index %d targets = %q, want %q", e.Index, got, w.targets)
			}
			by := "-"
			if e.Token != nil {
				by = e.Token.Description
			}
			if by != w.by {
				t.Errorf("index %d by %q, want %q", e.Index, by, w.by)
			}
			if want := t0.Add(wantSeconds(w.index)); !e.AppendedAt.Equal(want) {
				t.Errorf("index %d appended at %v, want %v", e.Index, e.AppendedAt, want)
			}
		})
	}
	// Specific checks.
	if e := got[18]; e.Token == nil || e.Token.Resolved || e.Token.Masked != decode.Fingerprint(secretNobody) || e.Token.Accessor != "" {
		t.Errorf("unknown token: %+v", e.Token)
	}
	if e := got[3]; e.Token.Accessor != accOps || e.Token.Masked != decode.Fingerprint(secretOps) {
		t.Errorf("ops token: %+v", e.Token)
	}
	if e := got[6]; e.Token.Accessor != raftlog.AnonymousAccessor {
		t.Errorf("anonymous: %+v", e.Token)
	}
	if e := got[19]; !e.IgnoreUnknown || e.MsgTypeNum == nil || *e.MsgTypeNum != 99 {
		t.Errorf("ignore-unknown entry: %+v", e)
	}
	// Every secret is masked in the JSON of every entry.
	var all bytes.Buffer
	for i := range got {
		if err := raftlog.WriteJSON(&all, &got[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, secret := range []string{secretOps, secretDeploy, secretSnap, secretNobody, "MHcCAQEE"} {
		if bytes.Contains(all.Bytes(), []byte(secret)) {
			t.Errorf("secret %q in JSON output", secret)
		}
	}
	for _, fp := range []string{decode.Fingerprint(secretOps), decode.Fingerprint(signingKey)} {
		if !bytes.Contains(all.Bytes(), []byte(fp)) {
			t.Errorf("fingerprint %s missing from JSON output", fp)
		}
	}
	// The KV entry's request carries the typed DirEntry as dump shows it.
	var kvLine map[string]any
	line, _ := json.Marshal(&got[3])
	if err := json.Unmarshal(line, &kvLine); err != nil {
		t.Fatal(err)
	}
	dirEnt := kvLine["request"].(map[string]any)["DirEnt"].(map[string]any)
	if dirEnt["Key"] != "app/config" || dirEnt["Value"] != "di1hcHAvY29uZmln" || dirEnt["Flags"] != 42.0 {
		t.Errorf("DirEnt tree = %v", dirEnt)
	}
}

func wantSeconds(i uint64) time.Duration { return time.Duration(i) * time.Second }

func TestShowSecrets(t *testing.T) {
	l, _ := openScenario(t, raftlog.Options{ShowSecrets: true})
	s := l.Scan(raftlog.Filter{})
	defer s.Close()
	var all bytes.Buffer
	for s.Next() {
		raftlog.WriteJSON(&all, s.Entry())
	}
	for _, secret := range []string{secretOps, secretDeploy, "MHcCAQEE"} {
		if !bytes.Contains(all.Bytes(), []byte(secret)) {
			t.Errorf("--show-secrets: %q not shown", secret)
		}
	}
}

func TestFilters(t *testing.T) {
	l, _ := openScenario(t, raftlog.Options{})
	cases := []struct {
		name string
		f    raftlog.Filter
		want []uint64
	}{
		{"since-until index", raftlog.Filter{SinceIndex: 4, UntilIndex: 6}, []uint64{4, 5, 6}},
		{"since-until time", raftlog.Filter{Since: t0.Add(20e9), Until: t0.Add(21e9)}, []uint64{20, 21}},
		{"type", raftlog.Filter{Types: []decode.MessageType{decode.TypeSession}}, []uint64{14, 15}},
		{"kv prefix", raftlog.Filter{KVPrefix: "txn/"}, []uint64{10}},
		{"key", raftlog.Filter{Key: "app/config"}, []uint64{4, 5}},
		{"node", raftlog.Filter{Node: "db1"}, []uint64{10}},
		{"service by name", raftlog.Filter{Service: "web"}, []uint64{11}},
		{"service by id", raftlog.Filter{Service: "web-1"}, []uint64{11, 12}},
		{"token description", raftlog.Filter{Token: "Deploy Bot"}, []uint64{5, 10, 14, 15, 17}},
		{"token accessor prefix", raftlog.Filter{Token: accOps[:2]}, []uint64{4, 6, 11, 12, 13, 18}},
		{"token and since", raftlog.Filter{Token: "from snapshot", SinceIndex: 9}, []uint64{9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := l.Scan(c.f)
			defer s.Close()
			var got []uint64
			for s.Next() {
				got = append(got, s.Entry().Index)
				if s.Entry().Request == nil && s.Entry().MsgType != "" {
					t.Errorf("index %d: selected without its request tree", s.Entry().Index)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	// Token writes before SinceIndex still resolve later callers.
	s := l.Scan(raftlog.Filter{SinceIndex: 4, UntilIndex: 4})
	defer s.Close()
	if !s.Next() || s.Entry().Token.Description != "ops team" {
		t.Errorf("since index: caller not resolved from an earlier token write")
	}
}

func TestSummaryAndText(t *testing.T) {
	l, _ := openScenario(t, raftlog.Options{})
	s := l.Scan(raftlog.Filter{})
	defer s.Close()
	var sum raftlog.Summary
	var text bytes.Buffer
	for s.Next() {
		sum.Add(s.Entry())
		if err := raftlog.WriteText(&text, s.Entry()); err != nil {
			t.Fatal(err)
		}
	}
	if sum.Entries != 23 || sum.FirstIndex != 1 || sum.LastIndex != 23 {
		t.Errorf("summary %+v", sum)
	}
	byType := map[string]int64{}
	for _, c := range sum.ByType() {
		byType[c.Key] = c.Entries
	}
	if byType["KVS"] != 7 || byType["Session"] != 2 || byType["noop"] != 1 {
		t.Errorf("by type %v", byType)
	}
	byOp := map[string]int64{}
	for _, c := range sum.ByOp() {
		byOp[c.Key+"/"+c.Op] = c.Entries
	}
	if byOp["KVS/set"] != 2 || byOp["Deregister/deregister-node"] != 1 {
		t.Errorf("by op %v", byOp)
	}
	byTok := map[string]int64{}
	for _, c := range sum.ByToken() {
		byTok[c.Key] = c.Entries
	}
	if byTok["ops team"] != 6 || byTok["deploy bot"] != 5 || byTok["Anonymous Token"] != 2 {
		t.Errorf("by token %v", byTok)
	}
	lines := strings.Split(strings.TrimSpace(text.String()), "\n")
	if len(lines) != 23 {
		t.Fatalf("%d text lines", len(lines))
	}
	if want := "4  2026-11-29T10:00:04Z  KVS  set  app/config  ops team"; lines[3] != want {
		t.Errorf("text line\n got %q\nwant %q", lines[3], want)
	}
	if want := "20  2026-11-29T10:00:20Z  Unknown(99)+ignore-unknown  unknown  -  -"; lines[19] != want {
		t.Errorf("text line\n got %q\nwant %q", lines[19], want)
	}
}

func TestTextIsSafe(t *testing.T) {
	logs := []*raft.Log{{Data: cmd(t, decode.TypeKVS, KVSRequest{Op: "set\x1b[2J", DirEnt: encode.DirEntry{Key: "evil\x1b]0;title\x07\u202ekey"}})}}
	dir := writeDB(t, t.TempDir(), logs)
	l, err := raftlog.Open(dir, raftlog.Options{NoSnapshot: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := l.Scan(raftlog.Filter{})
	defer s.Close()
	var out, js bytes.Buffer
	for s.Next() {
		raftlog.WriteText(&out, s.Entry())
		raftlog.WriteJSON(&js, s.Entry())
	}
	for _, o := range []string{out.String(), js.String()} {
		for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
			if strings.Contains(o, bad) {
				t.Errorf("output contains %q: %q", bad, o)
			}
		}
	}
	if !strings.Contains(out.String(), `evil\x1b]0;title\a\u202ekey`) {
		t.Errorf("escaped key not shown: %q", out.String())
	}
}

func TestInputForms(t *testing.T) {
	logs, _ := scenario(t)
	dir := writeDB(t, t.TempDir(), logs)
	for _, p := range []string{dir, filepath.Join(dir, "raft"), filepath.Join(dir, "raft", "raft.db")} {
		l, err := raftlog.Open(p, raftlog.Options{NoSnapshot: true})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		first, last, n, err := l.Bounds()
		if err != nil || first != 1 || last != 23 || n != 23 {
			t.Errorf("%s: bounds %d %d %d %v", p, first, last, n, err)
		}
		c, err := l.Conf()
		if err != nil || c.CurrentTerm != 2 {
			t.Errorf("%s: conf %+v %v", p, c, err)
		}
		l.Close()
	}
	for _, bad := range []string{t.TempDir(), filepath.Join(dir, "raft", "nope.db")} {
		if _, err := raftlog.Open(bad, raftlog.Options{}); err == nil {
			t.Errorf("%s: opened", bad)
		}
	}
	empty := filepath.Join(t.TempDir(), "raft.db")
	writeFile(t, empty, nil)
	if _, err := raftlog.Open(empty, raftlog.Options{}); !errors.Is(err, raftlog.ErrNotRaftLog) {
		t.Errorf("empty file: %v, want ErrNotRaftLog", err)
	}
}

func TestSnapshotOption(t *testing.T) {
	logs, _ := scenario(t)
	dir := writeDB(t, t.TempDir(), logs)
	// No snapshot in the data dir: the lock/unlock callers stay unresolved.
	l, err := raftlog.Open(dir, raftlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.SnapshotErr == nil || l.SnapshotPath != "" {
		t.Errorf("no snapshot: SnapshotErr %v, path %q", l.SnapshotErr, l.SnapshotPath)
	}
	s := l.Scan(raftlog.Filter{SinceIndex: 8, UntilIndex: 8})
	if !s.Next() || s.Entry().Token.Resolved || s.Entry().Token.Masked != decode.Fingerprint(secretSnap) {
		t.Errorf("unresolved caller: %+v", s.Entry().Token)
	}
	s.Close()
	l.Close()
	// An explicit snapshot elsewhere resolves them.
	other := t.TempDir()
	writeDataDirSnapshot(t, other, 1, encode.ACLToken{AccessorID: accSnap, SecretID: secretSnap, Description: "from snapshot"})
	l, err = raftlog.Open(dir, raftlog.Options{Snapshot: other})
	if err != nil {
		t.Fatal(err)
	}
	s = l.Scan(raftlog.Filter{SinceIndex: 8, UntilIndex: 8})
	if !s.Next() || s.Entry().Token.Description != "from snapshot" || s.Entry().Token.Accessor != accSnap {
		t.Errorf("explicit snapshot: %+v", s.Entry().Token)
	}
	s.Close()
	l.Close()
	if _, err := raftlog.Open(dir, raftlog.Options{Snapshot: filepath.Join(other, "missing.snap")}); err == nil {
		t.Errorf("a missing explicit snapshot opened")
	}
}
