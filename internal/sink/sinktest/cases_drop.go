package sinktest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// testDropTable: dropping a removed entity's table takes its rows and
// tombstones, leaves other tables alone, and lets the entity be re-added
// from scratch.
func testDropTable(t *testing.T, open Opener) {
	s := open(t, sink.Options{})
	var d sink.TableDropper = s
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

// testDropColumns: the columns of removed attributes stay (as DES kept
// them) until an explicit DropColumns, which refuses anything but those
// columns and leaves every other value in place.
func testDropColumns(t *testing.T, open Opener) {
	s := open(t, sink.Options{})
	var d sink.ColumnDropper = s
	ctx := t.Context()
	wide := addFixture(t, s, evolved("account", func(e *dataverse.Entity) {
		e.Attributes = append(e.Attributes,
			attr("new_gone", dataverse.TypeString, maxLen(20)),
			attr("new_alsogone", dataverse.TypeInteger))
	}))
	rows := upserts(wide.cols, 0, 3, 1)
	assertResult(t, "wide rows", wide.apply(t, wide.batch(rows)), sink.Result{Upserted: 3})
	f := addFixture(t, s, Account("account")) // the attributes are gone from the metadata

	removed, err := d.RemovedColumns(ctx, f.table)
	if err != nil || !slices.Equal(removed, []string{"new_alsogone", "new_gone"}) {
		t.Fatalf("RemovedColumns = %q, %v; want [new_alsogone new_gone]", removed, err)
	}
	for _, bad := range []struct{ name, why string }{
		{"name", "still has"}, {schema.ColVersion, "system"}, {"new_nosuch", "not a column"},
	} {
		err := d.DropColumns(ctx, f.table, []string{"new_gone", bad.name})
		var de *sink.DropColumnError
		if !errors.As(err, &de) || de.Column != bad.name || !strings.Contains(err.Error(), bad.why) {
			t.Errorf("DropColumns(%s) = %v; want a *sink.DropColumnError naming it (%s)", bad.name, err, bad.why)
		}
	}
	if again, err := d.RemovedColumns(ctx, f.table); err != nil || !slices.Equal(again, removed) {
		t.Fatalf("after refused drops RemovedColumns = %q, %v; nothing may be dropped", again, err)
	}

	if err := d.DropColumns(ctx, f.table, []string{"new_gone"}); err != nil {
		t.Fatal(err)
	}
	if left, err := d.RemovedColumns(ctx, f.table); err != nil || !slices.Equal(left, []string{"new_alsogone"}) {
		t.Fatalf("after the drop RemovedColumns = %q, %v; want [new_alsogone]", left, err)
	}
	// The other values are untouched, and writing goes on.
	want := upserts(f.cols, 0, 3, 1)
	f.assertRows(t, want)
	newer := upserts(f.cols, 0, 1, 2)
	assertResult(t, "after the drop", f.apply(t, f.batch(newer)), sink.Result{Upserted: 1})
	f.assertRows(t, append(newer, want[1:]...))

	missing := f.table
	missing.Name = "account_missing"
	if _, err := d.RemovedColumns(ctx, missing); !errors.Is(err, sink.ErrNoTable) {
		t.Errorf("RemovedColumns of a missing table = %v; want sink.ErrNoTable", err)
	}
}
