package decode

import (
	"reflect"
	"testing"
)

// TestCheckTargetsMatchDecodeRecord keeps checkTargets in step with
// DecodeValueOf: for every type byte, the struct DecodeValueOf fills is the
// one CheckRecord walks against.
func TestCheckTargetsMatchDecodeRecord(t *testing.T) {
	for i := 0; i < 256; i++ {
		mt := MessageType(i)
		var val []byte
		switch mt {
		case TypeCoordinateBatchUpdate:
			val = []byte{0x90}
		case TypePeering, TypePeeringTrustBundle, TypePeeringSecret, TypeResource, TypeConfigEntry:
			continue // second-level decodes: CheckRecord always takes DecodeRecord's path
		default:
			val = []byte{0x80}
		}
		d, err := DecodeValueOf(mt, val)
		if err != nil {
			t.Fatalf("type %d: %v", i, err)
		}
		got := reflect.TypeOf(d.Data).Elem()
		want, ok := checkTargets[mt]
		if _, unknown := d.Data.(*Unknown); unknown {
			if ok {
				t.Errorf("type %d (%s): decodes generically but checkTargets has %v", i, mt, want)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("type %d (%s): DecodeRecord fills %v, checkTargets has %v", i, mt, got, want)
		}
	}
}
