package main

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
)

// params is everything that determines the output; equal params give
// byte-identical archives.
type params struct {
	Seed             uint64
	KV               int
	ValueSize        int
	Nodes            int
	ServicesPerNode  int
	ChecksPerService int
	Tokens           int
	Sessions         int
	Tombstones       int
	Datacenter       string
	Time             time.Time

	// The change set that turns A into B (0 changes = A).
	ChangeSeed uint64
	Changes    int
}

// changeSet splits the requested number of changes across kinds.
type changeSet struct {
	kvModify, kvDelete, kvAdd, checkFlip, tokenAdd int
}

func (p *params) changeSet() changeSet {
	n := p.Changes
	if n <= 0 {
		return changeSet{}
	}
	c := changeSet{
		kvModify:  n * 50 / 100,
		kvDelete:  n * 20 / 100,
		kvAdd:     n * 20 / 100,
		checkFlip: n * 5 / 100,
	}
	c.tokenAdd = n - c.kvModify - c.kvDelete - c.kvAdd - c.checkFlip
	// Never touch more records than exist.
	c.kvModify = min(c.kvModify, p.KV)
	c.kvDelete = min(c.kvDelete, p.KV-c.kvModify)
	c.checkFlip = min(c.checkFlip, p.Nodes*p.ServicesPerNode*p.ChecksPerService)
	return c
}

func (c changeSet) total() int { return c.kvModify + c.kvDelete + c.kvAdd + c.checkFlip + c.tokenAdd }

// KV prefixes (two levels, so `inspect -kvdetails` has groups) and their weights.
var kvPrefixes = []struct {
	prefix string
	weight int
}{
	{"app/api/", 9}, {"app/billing/", 5}, {"app/checkout/", 4}, {"app/search/", 6},
	{"app/web/", 10}, {"config/global/", 3}, {"config/services/", 12}, {"feature-flags/web/", 4},
	{"feature-flags/api/", 3}, {"locks/jobs/", 2}, {"service/cache/", 6}, {"service/db/", 8},
	{"service/queue/", 5}, {"tenants/acme/", 7}, {"tenants/globex/", 6}, {"vault/core/", 4},
	{"vault/logical/", 5}, {"vault/sys/", 3},
}

var serviceNames = []string{"api", "auth", "billing", "cache", "checkout", "db", "frontend", "ingest",
	"metrics", "payments", "queue", "search", "session", "storage", "users", "web"}

var words = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
	"juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
	"uniform", "victor", "whiskey", "xray", "yankee", "zulu", "cluster", "region", "primary", "replica",
	"timeout", "retry", "backoff", "endpoint", "service", "healthy", "enabled", "disabled", "version",
	"deploy", "canary", "stable", "rollout", "shard", "tenant", "quota", "limit", "window", "batch",
	"stream", "cache", "ttl", "owner", "team", "oncall", "pager", "metrics", "latency", "p99", "budget"}

type prefixPlan struct {
	prefix       string
	count, added int
	first        int // global ordinal of the first key
}

// gen produces one snapshot's records in Consul's order (docs/FORMAT.md §6).
type gen struct {
	p   params
	cs  changeSet
	pcg *rand.PCG
	rng *rand.Rand
	buf []byte

	prefixes []prefixPlan
	perm     permutation // KV ordinal → change class
	checks   permutation
	baseLast uint64 // LastIndex of A
	next     uint64 // next change index (B)
	maxIdx   map[string]uint64
}

// permutation maps i in [0,n) to a pseudo-random position, bijectively.
type permutation struct{ n, mul, add uint64 }

func newPermutation(n int, seed uint64) permutation {
	if n <= 0 {
		return permutation{}
	}
	p := permutation{n: uint64(n), add: seed % uint64(n)}
	m := uint64(2654435761) % p.n
	for m == 0 || gcd(m, p.n) != 1 {
		m++
		if m >= p.n {
			m = 1
		}
	}
	p.mul = m
	return p
}

func (p permutation) at(i int) uint64 {
	if p.n == 0 {
		return 0
	}
	return (uint64(i)%p.n*p.mul + p.add) % p.n
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func newGen(p params) *gen {
	g := &gen{p: p, cs: p.changeSet(), pcg: rand.NewPCG(p.Seed, 0)}
	g.rng = rand.New(g.pcg)
	total := 0
	for _, w := range kvPrefixes {
		total += w.weight
	}
	assigned := 0
	for i, w := range kvPrefixes {
		n := p.KV * w.weight / total
		if i == len(kvPrefixes)-1 {
			n = p.KV - assigned
		}
		g.prefixes = append(g.prefixes, prefixPlan{prefix: w.prefix, count: n, first: assigned})
		assigned += n
	}
	for a := 0; a < g.cs.kvAdd; a++ {
		g.prefixes[a%len(g.prefixes)].added++
	}
	sort.Slice(g.prefixes, func(i, j int) bool { return g.prefixes[i].prefix < g.prefixes[j].prefix })
	g.perm = newPermutation(p.KV, p.ChangeSeed*7919+1)
	g.checks = newPermutation(p.Nodes*p.ServicesPerNode*p.ChecksPerService, p.ChangeSeed*104729+3)
	g.baseLast = g.countA() + 10
	g.next = g.baseLast + 1
	return g
}

// countA is the number of raft indexes A's records use (one per record).
func (g *gen) countA() uint64 {
	p := g.p
	return uint64(p.Nodes*(1+p.ServicesPerNode*(1+p.ChecksPerService)) + p.Sessions + p.Tokens + p.KV + p.Tombstones)
}

// lastIndex is the header's LastIndex and meta.json's Index.
func (g *gen) lastIndex() uint64 { return g.baseLast + uint64(g.cs.total()) }

func (g *gen) seed(a, b uint64) { g.pcg.Seed(g.p.Seed^a*0x9e3779b97f4a7c15, b) }

func (g *gen) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := g.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (g *gen) word() string { return words[g.rng.IntN(len(words))] }

func (g *gen) bump(table string, idx uint64) {
	if idx > g.maxIdx[table] {
		g.maxIdx[table] = idx
	}
}

// write emits the whole record stream.
func (g *gen) write(sw *encode.StateWriter) error {
	g.maxIdx = map[string]uint64{}
	g.next = g.baseLast + 1
	idx := uint64(10) // A's running raft index
	if err := g.writeCatalog(sw, &idx); err != nil {
		return err
	}
	if err := g.writeSessions(sw, &idx); err != nil {
		return err
	}
	if err := g.writeTokens(sw, &idx); err != nil {
		return err
	}
	deleted, err := g.writeKV(sw, &idx)
	if err != nil {
		return err
	}
	if err := g.writeTombstones(sw, &idx, deleted); err != nil {
		return err
	}
	if err := sw.WriteRecord(decode.TypeAutopilot, &encode.AutopilotConfig{
		CleanupDeadServers: true, LastContactThreshold: 200 * time.Millisecond, MaxTrailingLogs: 250,
		ServerStabilizationTime: 10 * time.Second, CreateIndex: 5, ModifyIndex: 5,
	}); err != nil {
		return err
	}
	if err := g.writeIndexes(sw); err != nil {
		return err
	}
	return sw.WriteRecord(decode.TypeChunkingState, &encode.ChunkingState{ChunkMap: map[uint64][]encode.ChunkInfo{}})
}

func (g *gen) writeCatalog(sw *encode.StateWriter, idx *uint64) error {
	p := g.p
	checkOrd := 0
	type svc struct {
		ns   *encode.NodeService
		port int
	}
	for i := 0; i < p.Nodes; i++ {
		g.seed(1, uint64(i))
		name := fmt.Sprintf("node-%06d", i)
		addr := fmt.Sprintf("10.%d.%d.%d", (i>>16)&0xff, (i>>8)&0xff, i&0xff)
		nodeIdx := *idx
		*idx++
		node := encode.RegisterRequest{
			Datacenter: p.Datacenter, ID: g.uuid(), Node: name, Address: addr,
			TaggedAddresses: encode.StringMap{"lan", addr, "wan", fmt.Sprintf("198.51.%d.%d", (i>>8)&0xff, i&0xff)},
			NodeMeta:        encode.StringMap{"rack", "r" + strconv.Itoa(i%16), "zone", "zone-" + string(rune('a'+i%3))},
			CreateIndex:     nodeIdx, ModifyIndex: nodeIdx,
		}
		g.bump("nodes", nodeIdx)
		if err := sw.WriteRecord(decode.TypeRegister, &node); err != nil {
			return err
		}
		svcs := make([]svc, 0, p.ServicesPerNode)
		for j := 0; j < p.ServicesPerNode; j++ {
			sn := serviceNames[(i+j*5)%len(serviceNames)]
			port := 8000 + j*10 + g.rng.IntN(10)
			si := *idx
			*idx++
			tags := []string{"v" + strconv.Itoa(1+g.rng.IntN(3)), g.word()}
			ns := &encode.NodeService{
				ID: fmt.Sprintf("%s-%d", sn, j), Service: sn, Tags: tags, Address: addr, Port: port,
				Meta:    encode.StringMap{"version", "1." + strconv.Itoa(g.rng.IntN(20)), "team", "team-" + g.word()},
				Weights: &encode.Weights{Passing: 1, Warning: 1}, CreateIndex: si, ModifyIndex: si,
			}
			g.bump("services", si)
			g.bump("service."+sn, si)
			svcs = append(svcs, svc{ns, port})
		}
		sort.Slice(svcs, func(a, b int) bool { return svcs[a].ns.ID < svcs[b].ns.ID })
		for _, s := range svcs {
			r := node
			r.Service = s.ns
			if err := sw.WriteRecord(decode.TypeRegister, &r); err != nil {
				return err
			}
		}
		var checks []*encode.HealthCheck
		for _, s := range svcs {
			for c := 0; c < p.ChecksPerService; c++ {
				ci := *idx
				*idx++
				id := "service:" + s.ns.ID
				if p.ChecksPerService > 1 {
					id += ":" + strconv.Itoa(c+1)
				}
				hc := &encode.HealthCheck{
					Node: name, CheckID: id, Name: "Service '" + s.ns.Service + "' check", Status: "passing",
					ServiceID: s.ns.ID, ServiceName: s.ns.Service, ServiceTags: s.ns.Tags, CreateIndex: ci, ModifyIndex: ci,
				}
				switch c % 3 {
				case 0:
					hc.Type = "http"
					hc.Definition.HTTP = fmt.Sprintf("http://%s:%d/health", addr, s.port)
					hc.Definition.Interval, hc.Definition.Timeout = 10*time.Second, time.Second
					hc.Interval, hc.Timeout = "10s", "1s"
					hc.Output = "HTTP GET " + hc.Definition.HTTP + ": 200 OK Output: ok"
				case 1:
					hc.Type = "tcp"
					hc.Definition.TCP = fmt.Sprintf("%s:%d", addr, s.port)
					hc.Definition.Interval, hc.Definition.Timeout = 15*time.Second, 2*time.Second
					hc.Interval, hc.Timeout = "15s", "2s"
					hc.Output = "TCP connect " + hc.Definition.TCP + ": Success"
				default:
					hc.Type = "ttl"
					hc.Definition.TTL = 30 * time.Second
					hc.Output = "last heartbeat ok"
				}
				if g.rng.IntN(50) == 0 {
					hc.Status = "warning"
				}
				if g.checks.at(checkOrd) < uint64(g.cs.checkFlip) {
					// B: the check flipped state.
					if hc.Status == "passing" {
						hc.Status = "critical"
					} else {
						hc.Status = "passing"
					}
					hc.Output = "changed"
					hc.ModifyIndex = g.next
					g.next++
				}
				checkOrd++
				g.bump("checks", hc.ModifyIndex)
				checks = append(checks, hc)
			}
		}
		sort.Slice(checks, func(a, b int) bool { return checks[a].CheckID < checks[b].CheckID })
		for _, hc := range checks {
			r := node
			r.Check = hc
			if err := sw.WriteRecord(decode.TypeRegister, &r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gen) writeSessions(sw *encode.StateWriter, idx *uint64) error {
	list := make([]*encode.Session, 0, g.p.Sessions)
	for k := 0; k < g.p.Sessions; k++ {
		g.seed(2, uint64(k))
		si := *idx
		*idx++
		node := ""
		if g.p.Nodes > 0 {
			node = fmt.Sprintf("node-%06d", k%g.p.Nodes)
		}
		list = append(list, &encode.Session{
			ID: g.uuid(), Name: "lock-" + serviceNames[k%len(serviceNames)] + "-" + strconv.Itoa(k), Node: node,
			LockDelay: 15 * time.Second, Behavior: "release", CreateIndex: si, ModifyIndex: si,
		})
		g.bump("sessions", si)
	}
	sort.Slice(list, func(a, b int) bool { return list[a].ID < list[b].ID })
	for _, s := range list {
		if err := sw.WriteRecord(decode.TypeSession, s); err != nil {
			return err
		}
	}
	return nil
}

// sessionID is the ID of session k (same derivation as writeSessions).
func (g *gen) sessionID(k int) string {
	g.seed(2, uint64(k))
	return g.uuid()
}

func (g *gen) writeTokens(sw *encode.StateWriter, idx *uint64) error {
	n := g.p.Tokens + g.cs.tokenAdd
	list := make([]*encode.ACLToken, 0, n)
	for t := 0; t < n; t++ {
		g.seed(3, uint64(t))
		var ti uint64
		if t < g.p.Tokens {
			ti = *idx
			*idx++
		} else {
			ti = g.next
			g.next++
		}
		sn := serviceNames[t%len(serviceNames)]
		hash := make([]byte, 32)
		for i := range hash {
			hash[i] = byte(g.rng.Uint32())
		}
		tok := &encode.ACLToken{
			AccessorID: g.uuid(), SecretID: g.uuid(), Description: "token for " + sn + " " + strconv.Itoa(t),
			ServiceIdentities: []encode.ACLServiceIdentity{{ServiceName: sn}},
			CreateTime:        g.p.Time.Add(-time.Duration(n-t) * time.Minute).UTC(),
			Hash:              hash, CreateIndex: ti, ModifyIndex: ti,
		}
		g.bump("acl-tokens", ti)
		list = append(list, tok)
	}
	sort.Slice(list, func(a, b int) bool { return list[a].SecretID < list[b].SecretID })
	for _, t := range list {
		if err := sw.WriteRecord(decode.TypeACLToken, t); err != nil {
			return err
		}
	}
	return nil
}

// value writes a JSON-like value of about size bytes into g.buf.
func (g *gen) value(key string, size int) []byte {
	b := g.buf[:0]
	b = append(b, `{"key":"`...)
	b = append(b, key...)
	b = append(b, `","id":"`...)
	b = strconv.AppendUint(b, g.rng.Uint64(), 16)
	b = append(b, `","enabled":`...)
	b = strconv.AppendBool(b, g.rng.IntN(4) != 0)
	b = append(b, `,"replicas":`...)
	b = strconv.AppendInt(b, int64(1+g.rng.IntN(9)), 10)
	b = append(b, `,"owner":"team-`...)
	b = append(b, g.word()...)
	b = append(b, `","settings":{"timeout":"`...)
	b = strconv.AppendInt(b, int64(1+g.rng.IntN(60)), 10)
	b = append(b, `s","endpoint":"http://10.`...)
	b = strconv.AppendInt(b, int64(g.rng.IntN(256)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(g.rng.IntN(256)), 10)
	b = append(b, `.1:8080/`...)
	b = append(b, g.word()...)
	b = append(b, `"},"description":"`...)
	for len(b) < size-2 {
		b = append(b, g.word()...)
		b = append(b, ' ')
	}
	b = append(b, `"}`...)
	g.buf = b
	return b
}

func (g *gen) valueSize() int {
	vs := g.p.ValueSize
	if vs <= 0 {
		return 0
	}
	return vs/2 + g.rng.IntN(vs+1)
}

func (g *gen) writeKV(sw *encode.StateWriter, idx *uint64) ([]encode.DirEntry, error) {
	var deleted []encode.DirEntry
	nMod, nDel := uint64(g.cs.kvModify), uint64(g.cs.kvModify+g.cs.kvDelete)
	addOrd := 0
	for _, pp := range g.prefixes {
		locks := pp.prefix == "locks/jobs/"
		for k := 0; k < pp.count; k++ {
			ord := pp.first + k
			ki := *idx
			*idx++
			key := pp.prefix + "k" + fmt.Sprintf("%07d", k)
			e := encode.DirEntry{Key: key, CreateIndex: ki, ModifyIndex: ki}
			modified := false
			if c := g.perm.at(ord); g.p.Changes > 0 && c < nDel {
				if c >= nMod {
					deleted = append(deleted, encode.DirEntry{Key: key, ModifyIndex: g.next})
					g.next++
					continue
				}
				modified = true
				e.ModifyIndex = g.next
				g.next++
			}
			if locks && g.p.Sessions > 0 && k%2 == 0 {
				e.Session = g.sessionID(k / 2 % g.p.Sessions)
				e.LockIndex = 1
			}
			if modified {
				g.seed(5^g.p.ChangeSeed<<8, uint64(ord))
			} else {
				g.seed(4, uint64(ord))
			}
			e.Flags = uint64(g.rng.IntN(2))
			e.Value = g.value(key, g.valueSize())
			g.bump("kvs", e.ModifyIndex)
			if err := sw.WriteRecord(decode.TypeKVS, &e); err != nil {
				return nil, err
			}
		}
		for a := 0; a < pp.added; a++ {
			key := pp.prefix + "n" + fmt.Sprintf("%07d", a)
			g.seed(6^g.p.ChangeSeed<<8, uint64(addOrd))
			addOrd++
			e := encode.DirEntry{Key: key, CreateIndex: g.next, ModifyIndex: g.next}
			g.next++
			e.Value = g.value(key, g.valueSize())
			g.bump("kvs", e.ModifyIndex)
			if err := sw.WriteRecord(decode.TypeKVS, &e); err != nil {
				return nil, err
			}
		}
	}
	return deleted, nil
}

func (g *gen) writeTombstones(sw *encode.StateWriter, idx *uint64, deleted []encode.DirEntry) error {
	for t := 0; t < g.p.Tombstones; t++ {
		ti := *idx
		*idx++
		deleted = append(deleted, encode.DirEntry{Key: fmt.Sprintf("tmp/deleted/k%07d", t), ModifyIndex: ti})
	}
	sort.Slice(deleted, func(a, b int) bool { return deleted[a].Key < deleted[b].Key })
	for i := range deleted {
		g.bump("tombstones", deleted[i].ModifyIndex)
		if err := sw.WriteRecord(decode.TypeTombstone, &deleted[i]); err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) writeIndexes(sw *encode.StateWriter) error {
	keys := make([]string, 0, len(g.maxIdx))
	for k := range g.maxIdx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := sw.WriteRecord(decode.TypeIndex, &encode.IndexEntry{Key: k, Value: g.maxIdx[k]}); err != nil {
			return err
		}
	}
	return nil
}
