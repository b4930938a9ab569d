package replay

import (
	"os"
	"testing"

	"github.com/snaptool/snaptool/decode"
	fixturepkg "github.com/snaptool/snaptool/internal/fixture"
	"github.com/snaptool/snaptool/internal/fuzzopt"
	"github.com/snaptool/snaptool/raftlog"
)

func TestMain(m *testing.M) { os.Exit(fuzzopt.Main(m)) }

// FuzzApply applies a crafted request (its message type and body) to the
// state of the real halfway snapshot, every record held. It must not
// panic; a request that is refused must leave the state as it was; and
// whatever it changed must come out as records that decode: tables()
// succeeds and every record it writes passes decode's typed check (a
// replayed state.bin verifies). Seeds: every command entry of both
// fixture logs.
func FuzzApply(f *testing.F) {
	dir := fixturepkg.UnpackRaft(f, fixture, f.TempDir())
	_, _, oldest, err := baseSnapshot(dir, 1<<62)
	if err != nil {
		f.Fatal(err)
	}
	baseDir, _, _, err := baseSnapshot(dir, oldest)
	if err != nil {
		f.Fatal(err)
	}
	var base []decode.Record
	s, err := decode.Open(baseDir, decode.Options{})
	if err != nil {
		f.Fatal(err)
	}
	for s.Next() {
		r := *s.Record()
		r.Raw = append([]byte(nil), r.Raw...)
		base = append(base, r)
	}
	s.Close()
	for _, fx := range []string{fixture, "../fixtures/consul-1.14.11/raftlog"} {
		d := fixturepkg.UnpackRaft(f, fx, f.TempDir())
		l, err := raftlog.Open(d, raftlog.Options{NoSnapshot: true})
		if err != nil {
			f.Fatal(err)
		}
		sc := l.Scan(raftlog.Filter{})
		sc.Tree = false
		for sc.Next() {
			e := sc.Entry()
			if mt, ok := e.MessageType(); ok && e.Body() != nil {
				f.Add(uint8(mt), append([]byte(nil), e.Body()...))
			}
		}
		sc.Close()
		l.Close()
	}
	f.Fuzz(func(t *testing.T, mt uint8, body []byte) {
		st := newState()
		in := &interest{all: true}
		for i := range base {
			if err := st.load(&base[i], in); err != nil {
				t.Fatal(err)
			}
		}
		before := stateString(st)
		if why := st.applyRequest(1<<40, decode.MessageType(mt), body); why != "" && stateString(st) != before {
			t.Fatalf("refused (%s) but changed the state", why)
		}
		for _, typ := range []decode.MessageType{decode.TypeKVS, decode.TypeTombstone, decode.TypeSession,
			decode.TypeIndex, decode.TypeRegister, decode.TypeCoordinateBatchUpdate, decode.TypePreparedQuery,
			decode.TypeACLPolicy, decode.TypeACLToken, decode.TypeConfigEntry,
			decode.TypeAutopilot, decode.TypeFederationState, decode.TypeSystemMetadata,
			decode.TypeConnectCA, decode.TypeConnectCAProviderState, decode.TypeConnectCAConfig} {
			st.changed[typ] = true
		}
		tables, err := st.tables()
		if err != nil {
			t.Fatalf("tables: %v", err)
		}
		for typ, tb := range tables {
			for _, raw := range tb.recs {
				if err := decode.CheckRecord(&decode.Record{Type: typ, Raw: raw}); err != nil {
					t.Fatalf("replay wrote a %s record that does not decode: %v\n%x", typ, err, raw)
				}
			}
		}
	})
}
