package decode

import (
	"path/filepath"
	"testing"
)

// BenchmarkView: what the secrets policy costs on top of the typed decode
// and Tree, over every non-KV record of the real fixture (KV records are
// not masked). Compare tree (no Mask) with view (View, masked).
func BenchmarkView(b *testing.B) {
	s, err := Open(filepath.Join(fixtureDir, "after.snap"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	type rv struct {
		t MessageType
		v []byte
	}
	var recs []rv
	for s.Next() {
		if r := s.Record(); r.Type != TypeKVS && r.Type != TypeTombstone {
			recs = append(recs, rv{r.Type, append([]byte(nil), r.Value()...)})
		}
	}
	s.Close()
	b.Run("tree", func(b *testing.B) {
		for b.Loop() {
			for _, r := range recs {
				if d, err := DecodeValueOf(r.t, r.v); err == nil {
					_ = Tree(d.Data)
				}
			}
		}
	})
	b.Run("view", func(b *testing.B) {
		for b.Loop() {
			for _, r := range recs {
				_, _ = View(r.t, r.v, false)
			}
		}
	})
}

func BenchmarkIsSecretKey(b *testing.B) {
	keys := []string{"CheckID", "CreateIndex", "Definition", "ExposedPort", "Interval", "ModifyIndex", "Name", "Node",
		"Notes", "Output", "ServiceTags", "Status", "TaggedAddresses", "SecretID", "X-Consul-Token", "TokenLocality"}
	for b.Loop() {
		for _, k := range keys {
			IsSecretKey(k)
		}
	}
}
