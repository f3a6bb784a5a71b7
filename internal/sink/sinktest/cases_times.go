package sinktest

import (
	"fmt"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// sinkTimes reads SinkCreatedOn and SinkModifiedOn of every row, through
// the same Reader as the data columns.
func (f *fixture) sinkTimes(t *testing.T) map[string][2]time.Time {
	t.Helper()
	rows, err := f.s.Rows(t.Context(), f.table.TableName, []record.Column{
		{Name: schema.ColSinkCreatedOn, Kind: record.DateTime}, {Name: schema.ColSinkModifiedOn, Kind: record.DateTime},
	})
	if err != nil {
		t.Fatalf("reading %s and %s: %v", schema.ColSinkCreatedOn, schema.ColSinkModifiedOn, err)
	}
	out := make(map[string][2]time.Time, len(rows))
	for _, r := range rows {
		out[r.ID] = [2]time.Time{r.Values[0].Time(), r.Values[1].Time()}
	}
	return out
}

// testSinkTimes: SinkCreatedOn is set once, when the row is first written;
// SinkModifiedOn moves with every write that changes the row and stays put
// when an upsert is dropped (stale or equal version). Checked for batches of
// every column and for narrower ones.
func testSinkTimes(t *testing.T, open Opener) {
	s := open(t, sink.Options{})
	for _, narrow := range []bool{false, true} {
		name := fmt.Sprintf("times%v", narrow)
		t.Run(fmt.Sprintf("narrow=%v", narrow), func(t *testing.T) {
			f := addFixture(t, s, Account(name))
			if narrow {
				addFixture(t, s, evolved(name, func(e *dataverse.Entity) {
					e.Attributes = append(e.Attributes, attr("new_kept", dataverse.TypeString, maxLen(20)))
				}))
			}
			assertResult(t, "insert", f.apply(t, f.batch(f.recs(rv{1, 1}, rv{2, 1}))), sink.Result{Upserted: 2})
			first := f.sinkTimes(t)
			for id, ts := range first {
				if ts[0].IsZero() || !ts[0].Equal(ts[1]) {
					t.Fatalf("row %s after insert: created %v, modified %v; want both set and equal", id, ts[0], ts[1])
				}
			}
			// Let the clock pass the stored stamps (SQL Server datetime ticks are 1/300 s).
			for !time.Now().After(first[guid(1)][1].Add(10 * time.Millisecond)) {
				time.Sleep(time.Millisecond)
			}
			assertResult(t, "update one, stale other", f.apply(t, f.batch(f.recs(rv{1, 2}, rv{2, 1}))), sink.Result{Upserted: 1, Skipped: 1})
			second := f.sinkTimes(t)
			if a, b := first[guid(1)], second[guid(1)]; !b[0].Equal(a[0]) || !b[1].After(a[1]) {
				t.Errorf("updated row: created %v → %v, modified %v → %v; want created kept, modified later", a[0], b[0], a[1], b[1])
			}
			if a, b := first[guid(2)], second[guid(2)]; a != b {
				t.Errorf("row of a dropped upsert: %v → %v; want both times unchanged", a, b)
			}
		})
	}
}
