package raftlog_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/snaptool/snaptool/decode"
	"github.com/snaptool/snaptool/encode"
	"github.com/snaptool/snaptool/raftlog"
)

// go test ./raftlog -run '^$' -bench . -benchtime 1x
//
// The benchmark log is generated once per size into bench/out/raftlog/ (git
// ignored, as make bench's other inputs; about 330 MB for 1 M entries;
// delete it to regenerate) with raft-boltdb v2's own writer: a mix of KV sets and
// deletes, catalog registers, sessions, transactions and token writes, as
// a busy Consul server's log looks.
var benchEntries = flag.Int("raftlog.entries", 1_000_000, "entries in the benchmark raft.db")

func benchDB(b *testing.B) string {
	b.Helper()
	n := *benchEntries
	dir := filepath.Join("..", "bench", "out", "raftlog", "v1-"+strconv.Itoa(n))
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "raft"), 0o700); err != nil {
		b.Fatal(err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft", "raft.db"), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	secrets := []string{"", "11111111-aaaa-bbbb-cccc-000000000001", "22222222-aaaa-bbbb-cccc-000000000002"}
	batch := make([]*raft.Log, 0, 4096)
	flush := func() {
		if err := store.StoreLogs(batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	value := bytes.Repeat([]byte("x"), 64)
	for i := 1; i <= n; i++ {
		tok := secrets[i%3]
		var data []byte
		switch k := i % 20; {
		case i == 1:
			data = cmd(b, decode.TypeACLToken, ACLTokenBatchSetRequest{Tokens: []*encode.ACLToken{
				{AccessorID: "acc-1", SecretID: secrets[1], Description: "ops team"},
				{AccessorID: "acc-2", SecretID: secrets[2], Description: "deploy bot"}}})
		case k < 12:
			data = cmd(b, decode.TypeKVS, KVSRequest{Datacenter: "dc1", Op: "set", DirEnt: encode.DirEntry{Key: fmt.Sprintf("app/%d/config/%d", i%97, i), Value: value, Flags: 1}, WriteRequest: WriteRequest{tok}})
		case k < 14:
			data = cmd(b, decode.TypeKVS, KVSRequest{Datacenter: "dc1", Op: "delete", DirEnt: encode.DirEntry{Key: fmt.Sprintf("app/%d/config/%d", i%97, i-20)}, WriteRequest: WriteRequest{tok}})
		case k < 17:
			node := fmt.Sprintf("node-%d", i%500)
			data = cmd(b, decode.TypeRegister, encode.RegisterRequest{Datacenter: "dc1", Node: node, Address: "10.0.0.1",
				Service: &encode.NodeService{ID: fmt.Sprintf("web-%d", i%7), Service: "web", Port: 8080, Tags: []string{"v1"}},
				Checks:  []*encode.HealthCheck{{Node: node, CheckID: "serfHealth", Name: "Serf Health Status", Status: "passing"}}, Token: tok})
		case k < 18:
			data = cmd(b, decode.TypeSession, SessionRequest{Datacenter: "dc1", Op: "create", Session: encode.Session{ID: fmt.Sprintf("sess-%d", i), Node: "node-1", Behavior: "release", TTL: "30s"}, WriteRequest: WriteRequest{tok}})
		default:
			data = cmd(b, decode.TypeTxn, TxnRequest{Datacenter: "dc1", Ops: []TxnOp{
				{KV: &TxnKVOp{Verb: "set", DirEnt: encode.DirEntry{Key: fmt.Sprintf("txn/%d/a", i), Value: value}}},
				{KV: &TxnKVOp{Verb: "delete", DirEnt: encode.DirEntry{Key: fmt.Sprintf("txn/%d/b", i)}}},
			}, WriteRequest: WriteRequest{tok}})
		}
		batch = append(batch, &raft.Log{Index: uint64(i), Term: 2, Type: raft.LogCommand, Data: data, AppendedAt: t0.Add(time.Duration(i) * time.Millisecond)})
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

// procStatus reads a "VmHWM:"-style line of /proc/self/status in MiB.
func procStatus(key string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// resetPeak resets VmHWM (Linux: writing 5 to clear_refs) so that the peak
// belongs to the benchmarked read, not to the generator, and drops the
// file's pages from this process by opening fresh (the page cache stays
// warm: these are warm-cache figures).
func resetPeak() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	baseFile = procStatus("RssFile")
	mmapPeak = 0 // each benchmark's own peak (it carried the previous one's)
}

// baseFile is the file-backed RSS before the read: the test binary's text.
var baseFile float64

// cpuTime is this process's user+system CPU time: the machine is shared,
// so CPU per entry is the figure to compare, wall time is reported beside it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mmapPeak is the largest RssFile seen just before raft.db was unmapped.
var mmapPeak float64

func sampleMmap() { mmapPeak = max(mmapPeak, procStatus("RssFile")) }

func reportMem(b *testing.B, entries int64, cpu time.Duration) {
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(entries), "cpu-ns/entry")
	b.ReportMetric(procStatus("VmHWM"), "peakRSS-MiB")
	b.ReportMetric(mmapPeak, "mmapRSS-MiB") // peak file-backed resident pages (sampled before each unmap): raft.db's map and the binary's text
	b.ReportMetric(procStatus("VmHWM")-mmapPeak, "anonRSS-MiB")
	b.ReportMetric(baseFile, "binaryRSS-MiB") // of mmapRSS, the binary's own pages
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkFloor is the least any reader must do: iterate the logs bucket
// in a read-only transaction and touch every value, decoding nothing.
func BenchmarkFloor(b *testing.B) {
	dir := benchDB(b)
	resetPeak()
	cpu0 := cpuTime()
	b.ResetTimer()
	var n int64
	for range b.N {
		db, err := bolt.Open(filepath.Join(dir, "raft", "raft.db"), 0o400, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		var sum byte
		db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket([]byte("logs")).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if len(v) > 0 {
					sum ^= v[len(v)-1]
				}
				n++
			}
			sampleMmap()
			return nil
		})
		db.Close()
		_ = sum
	}
	reportMem(b, n, cpuTime()-cpu0)
}

func benchScan(b *testing.B, tree bool, out func(io.Writer, *raftlog.Entry) error) {
	dir := benchDB(b)
	raftlog.SetRemapHook(sampleMmap)
	defer raftlog.SetRemapHook(nil)
	resetPeak()
	cpu0 := cpuTime()
	b.ResetTimer()
	var n int64
	for range b.N {
		l, err := raftlog.Open(dir, raftlog.Options{NoSnapshot: true})
		if err != nil {
			b.Fatal(err)
		}
		s := l.Scan(raftlog.Filter{})
		s.Tree = tree
		w := bufio.NewWriter(io.Discard)
		for s.Next() {
			n++
			if out != nil {
				if err := out(w, s.Entry()); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := s.Err(); err != nil {
			b.Fatal(err)
		}
		sampleMmap()
		s.Close()
		l.Close()
	}
	reportMem(b, n, cpuTime()-cpu0)
}

// BenchmarkScanTimeline decodes every entry to op, identities and caller.
func BenchmarkScanTimeline(b *testing.B) { benchScan(b, false, raftlog.WriteText) }

// BenchmarkScanJSON adds the masked request tree and writes JSON lines.
func BenchmarkScanJSON(b *testing.B) { benchScan(b, true, raftlog.WriteJSON) }
