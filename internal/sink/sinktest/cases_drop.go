package sinktest

import (
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
)

// testDropTable: dropping a removed entity's table takes its rows and
// tombstones, leaves other tables alone, and lets the entity be re-added
// from scratch.
func testDropTable(t *testing.T, open Opener) {
	s := open(t, sink.Options{})
	d, ok := s.(sink.TableDropper)
	if !ok {
		t.Skipf("%T does not implement sink.TableDropper", s)
	}
	a := addFixture(t, s, Account("account"))
	c := addFixture(t, s, Account("contact"))
	a.apply(t, a.batch(a.recs(rv{1, 1}, rv{2, 1}), del(3, 4)))
	c.apply(t, c.batch(c.recs(rv{1, 1}), del(3, 4)))
	if err := d.DropTable(t.Context(), a.table.TableName); err != nil {
		t.Fatal(err)
	}
	_, err := s.Count(t.Context(), a.table.TableName)
	errorAs[*sink.NoTableError](t, err)
	c.assertRows(t, c.recs(rv{1, 1}))
	c.assertTombstones(t, map[string]int64{guid(3): 4})

	a = addFixture(t, s, Account("account"))
	a.assertTombstones(t, map[string]int64{})
	assertResult(t, "re-added", a.apply(t, a.batch(a.recs(rv{3, 1}))), sink.Result{Upserted: 1})
	a.assertRows(t, []record.Record{a.rec(rv{3, 1})})
}
