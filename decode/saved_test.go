package decode

import (
	"testing"
	"time"
)

func TestSavedTime(t *testing.T) {
	for _, c := range []struct {
		id   string
		want string // RFC 3339, "" when not ok
	}{
		{"2-162-1795548439390", "2026-11-24T19:27:19.39Z"},
		{"1-13-1583959427154", "2020-03-11T20:43:47.154Z"},
		{"", ""},
		{"2-162", ""},
		{"2-162-abc", ""},
		{"x-162-1795548439390", ""},
		{"2-162-1795548439390-1", ""},
		{"2-162-12", ""},                             // 1970: not a snapshot time
		{"2-162-99999999999999999", ""},              // beyond year 9999
		{"2-162--1795548439390", ""},                 // negative
		{"2-162-1795548439390\n", ""},                // trailing junk
		{"18446744073709551616-1-1795548439390", ""}, // term overflows
	} {
		m := &Meta{}
		m.ID = c.id
		got, ok := m.SavedTime()
		if c.want == "" {
			if ok {
				t.Errorf("%q: got %v, want not ok", c.id, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339Nano) != c.want || got.Location() != time.UTC {
			t.Errorf("%q: got %v %v, want %s", c.id, got, ok, c.want)
		}
	}
	var m *Meta
	if _, ok := m.SavedTime(); ok {
		t.Error("nil Meta: ok")
	}
}
