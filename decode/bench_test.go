package decode_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/snaptool/snaptool/decode"
)

// Benchmarks for the record scanner and the typed decode, on records a real
// Consul wrote (fixtures/consul-1.13.9/before.snap and Consul's
// backupWithKV.snap), repeated into a state.bin of about 32 MiB. They report
// ns and allocations per record; `make bench` measures whole commands.
//
//	go test -run '^$' -bench . -benchmem ./decode

type benchInput struct {
	state   []byte              // header + records, ChunkingState last
	archive []byte              // gzip(tar(meta.json, state.bin, SHA256SUMS)) of state
	records int                 // records in state
	byType  map[string][][]byte // a copy of each distinct fixture record's Raw, by type name
}

var (
	benchOnce sync.Once
	bench     benchInput
)

func loadBench(b *testing.B) *benchInput {
	benchOnce.Do(func() {
		bench.byType = map[string][][]byte{}
		var header []byte
		var recs [][]byte
		var chunking []byte
		for _, path := range []string{"../fixtures/consul-1.13.9/before.snap", "../fixtures/consul-testdata/backupWithKV.snap"} {
			s, err := decode.Open(path, decode.Options{})
			if err != nil {
				panic(err)
			}
			h, err := s.Header()
			if err != nil {
				panic(err)
			}
			if header == nil {
				header = h.Raw
			}
			for s.Next() {
				rec := s.Record()
				raw := append([]byte(nil), rec.Raw...)
				if rec.Type == decode.TypeChunkingState {
					chunking = raw
					continue
				}
				recs = append(recs, raw)
				bench.byType[rec.Name()] = append(bench.byType[rec.Name()], raw)
			}
			if err := s.Err(); err != nil {
				panic(err)
			}
			s.Close()
		}
		st := append([]byte(nil), header...)
		for len(st) < 32<<20 {
			for _, r := range recs {
				st = append(st, r...)
				bench.records++
			}
		}
		bench.state = append(st, chunking...)
		bench.records++
		bench.archive = benchArchive(bench.state)
	})
	return &bench
}

func benchArchive(state []byte) []byte {
	meta := []byte(fmt.Sprintf(`{"Version":1,"ID":"2-1-1","Index":1,"Term":2,"Peers":null,"Configuration":{"Servers":null},"ConfigurationIndex":0,"Size":%d}`+"\n", len(state)))
	ms, ss := sha256.Sum256(meta), sha256.Sum256(state)
	sums := []byte(fmt.Sprintf("%x  meta.json\n%x  state.bin\n", ms, ss))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range []struct {
		name string
		b    []byte
	}{{"meta.json", meta}, {"state.bin", state}, {"SHA256SUMS", sums}} {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o600, Size: int64(len(m.b)), ModTime: time.Unix(1, 0)}); err != nil {
			panic(err)
		}
		if _, err := tw.Write(m.b); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// perRecord reports ns/record and allocs/record for b.N passes over records records.
func perRecord(b *testing.B, records int, run func()) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(records) * float64(b.N)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
}

// BenchmarkStreamScan: the bare record scanner over state.bin in memory.
func BenchmarkStreamScan(b *testing.B) {
	in := loadBench(b)
	b.SetBytes(int64(len(in.state)))
	b.ReportAllocs()
	perRecord(b, in.records, func() {
		s := decode.NewStream(bytes.NewReader(in.state), decode.Options{})
		n := 0
		for s.Next() {
			n++
		}
		if s.Err() != nil || n != in.records {
			b.Fatalf("%d records, %v", n, s.Err())
		}
	})
}

// BenchmarkArchiveScan: the whole archive path (inflate, tar, SHA-256 both
// members, scan every record, check SHA256SUMS). SetBytes is state.bin's size.
func BenchmarkArchiveScan(b *testing.B) {
	in := loadBench(b)
	b.SetBytes(int64(len(in.state)))
	b.ReportAllocs()
	perRecord(b, in.records, func() {
		s := decode.NewArchive(bytes.NewReader(in.archive), decode.Options{})
		n := 0
		for s.Next() {
			n++
		}
		s.Close()
		if s.Err() != nil || n != in.records || s.Integrity() != decode.Verified {
			b.Fatalf("%d records, %v, %v", n, s.Integrity(), s.Err())
		}
	})
}

// BenchmarkKVKey: the zero-allocation KV field read (KVFields) that
// inspect's KV details, dump's fast path and diff's KV pairs use.
func BenchmarkKVKey(b *testing.B) {
	in := loadBench(b)
	recs := in.byType["KVS"]
	b.ReportAllocs()
	perRecord(b, len(recs), func() {
		for _, raw := range recs {
			rec := decode.Record{Type: decode.TypeKVS, Raw: raw}
			if e, ok := decode.KVFields(&rec); !ok || e.Key == nil {
				b.Fatal("no key")
			}
		}
	})
}

// BenchmarkIdentity: Identity of every distinct fixture record (dump's id).
func BenchmarkIdentity(b *testing.B) {
	in := loadBench(b)
	var recs []decode.Record
	for _, raws := range in.byType {
		for _, raw := range raws {
			recs = append(recs, decode.Record{Type: decode.MessageType(raw[0]), Raw: raw})
		}
	}
	b.ReportAllocs()
	perRecord(b, len(recs), func() {
		for i := range recs {
			if _, err := decode.Identity(&recs[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeAll: the generic msgpack decoder over every record.
func BenchmarkDecodeAll(b *testing.B) {
	in := loadBench(b)
	var all [][]byte
	for _, rs := range in.byType {
		all = append(all, rs...)
	}
	b.ReportAllocs()
	perRecord(b, len(all), func() {
		for _, raw := range all {
			if _, err := decode.DecodeAll(raw[1:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodeRecord: typed decode, per record type.
func BenchmarkDecodeRecord(b *testing.B) {
	in := loadBench(b)
	for _, name := range []string{"KVS", "Register", "ACLToken", "Session", "Index", "ConfigEntry", "Tombstone", "ConnectCA", "Peering"} {
		recs := in.byType[name]
		if len(recs) == 0 {
			continue
		}
		b.Run(name, func(b *testing.B) {
			var size int
			for _, r := range recs {
				size += len(r)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			perRecord(b, len(recs), func() {
				for _, raw := range recs {
					rec := decode.Record{Type: decode.MessageType(raw[0]), Raw: raw}
					if _, err := decode.DecodeRecord(&rec); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkCheckRecord: the allocation-free typed check verify can use.
func BenchmarkCheckRecord(b *testing.B) {
	in := loadBench(b)
	for _, name := range []string{"KVS", "Register", "ACLToken", "Session", "Index"} {
		recs := in.byType[name]
		if len(recs) == 0 {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			perRecord(b, len(recs), func() {
				for _, raw := range recs {
					rec := decode.Record{Type: decode.MessageType(raw[0]), Raw: raw}
					if err := decode.CheckRecord(&rec); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkRaftIndexes: verify's index walk over every distinct fixture record.
func BenchmarkRaftIndexes(b *testing.B) {
	in := loadBench(b)
	var recs []decode.Record
	for _, raws := range in.byType {
		for _, raw := range raws {
			recs = append(recs, decode.Record{Type: decode.MessageType(raw[0]), Raw: raw})
		}
	}
	b.ReportAllocs()
	var sum uint64
	perRecord(b, len(recs), func() {
		for i := range recs {
			decode.RaftIndexes(&recs[i], func(_ string, v uint64) { sum += v })
		}
	})
}
