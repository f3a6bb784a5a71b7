package sync

import (
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
)

// The lag is the newest change that arrived: rows the destination refused
// do not count, and a batch refused whole, or a full read's page, has none.
func TestChangeLag(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	row := func(id string, ago time.Duration) record.Record {
		return record.Record{ID: id, Values: []record.Value{{Kind: record.String, S: "x"}, record.DateTimeValue(now.Add(-ago))}}
	}
	msg := func(kind Kind, rows ...record.Record) *Message {
		return &Message{Kind: kind, Batch: record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}, {Name: modifiedOn, Kind: record.DateTime}}, Upserts: rows}}
	}
	tests := []struct {
		name     string
		m        *Message
		rejected []sink.Rejection
		want     time.Duration
		ok       bool
	}{
		{"newest change", msg(KindDelta, row("A", 9*time.Second), row("B", 2*time.Second)), nil, 2 * time.Second, true},
		{"the newest refused", msg(KindDelta, row("A", 9*time.Second), row("B", 2*time.Second)), []sink.Rejection{{ID: "b"}}, 9 * time.Second, true},
		{"all refused", msg(KindDelta, row("A", 9*time.Second)), []sink.Rejection{{ID: "a"}}, 0, false},
		{"a refused delete of the same id", msg(KindDelta, row("A", 9*time.Second)), []sink.Rejection{{ID: "a", Delete: true}}, 9 * time.Second, true},
		{"a full read's page", msg(KindInitial, row("A", time.Hour)), nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := changeLag(tt.m, now, tt.rejected)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: %v %t, want %v %t", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
