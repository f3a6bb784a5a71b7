package sinktest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// testBackfill: after a column is added, rows read again for it come back
// at their own version in a batch with Overwrite set. Such an upsert
// replaces a stored row of the same version (filling the new column) and
// an older one, never a newer row, and never passes a tombstone at or above
// its version; a batch without Overwrite still drops an equal version.
// SinkCreatedOn stays the row's first write. Checked for batches of every
// column and for narrower ones (the table keeps a removed attribute's
// column, which a dialect may write by another path).
func testBackfill(t *testing.T, open Opener) {
	s := open(t, sink.Options{})
	for _, narrow := range []bool{false, true} {
		name := fmt.Sprintf("backfill%v", narrow)
		t.Run(fmt.Sprintf("narrow=%v", narrow), func(t *testing.T) {
			f := addFixture(t, s, Account(name))
			// Before the column: rows 1, 2 and 3, row 4 deleted at 5.
			f.apply(t, f.batch(f.recs(rv{1, 1}, rv{2, 2}, rv{3, 3}, rv{4, 1})))
			f.apply(t, f.batch(nil, del(4, 5)))
			created := f.sinkTimes(t)

			f2 := addFixture(t, s, evolved(name, func(e *dataverse.Entity) {
				if narrow {
					e.Attributes = append(e.Attributes, attr("new_kept", dataverse.TypeString, maxLen(20)))
				}
				e.Attributes = append(e.Attributes, attr("new_region", dataverse.TypeString, maxLen(40)))
			}))
			if narrow {
				// The kept column's attribute is gone again: batches carry
				// every column but it.
				f2 = addFixture(t, s, evolved(name, func(e *dataverse.Entity) {
					e.Attributes = append(e.Attributes, attr("new_region", dataverse.TypeString, maxLen(40)))
				}))
			}
			region := len(f2.cols) - 1
			if f2.cols[region].Name != "new_region" {
				t.Fatalf("last column %s, want new_region", f2.cols[region].Name)
			}
			read := func(n int, v int64, r string) record.Record {
				rec := record.Record{ID: guid(n), Version: v, Values: values(f2.cols, n+10*int(v))}
				rec.Values[region] = record.StringValue(r)
				return rec
			}
			before := func(n int, v int64) record.Record {
				r := f.rec(rv{n, v})
				r.Values = append(r.Values, record.NullValue())
				return r
			}
			// Rows written before the column read back null in it.
			f2.assertRows(t, []record.Record{before(1, 1), before(2, 2), before(3, 3)})

			backfill := f2.batch([]record.Record{
				read(1, 1, "EMEA"), // same version: filled
				read(2, 1, "APAC"), // older than the stored row: dropped
				read(3, 4, "AMER"), // newer: written as any upsert
				read(4, 5, "gone"), // at the tombstone: stays deleted
				read(5, 1, "LATAM"),
			})
			backfill.Overwrite = true
			want := []record.Record{read(1, 1, "EMEA"), before(2, 2), read(3, 4, "AMER"), read(5, 1, "LATAM")}
			assertResult(t, "backfill", f2.apply(t, backfill), sink.Result{Upserted: 3, Skipped: 2})
			f2.assertRows(t, want)
			f2.assertTombstones(t, map[string]int64{guid(4): 5})
			// Idempotent: the same backfill again rewrites the same values.
			assertResult(t, "backfill again", f2.apply(t, backfill), sink.Result{Upserted: 3, Skipped: 2})
			f2.assertRows(t, want)
			times := f2.sinkTimes(t)
			for _, n := range []int{1, 3} {
				if got, was := times[guid(n)][0], created[guid(n)][0]; !got.Equal(was) {
					t.Errorf("row %d: SinkCreatedOn %v after the backfill, was %v", n, got, was)
				}
			}

			// Without Overwrite an equal version is dropped as before.
			plain := f2.batch([]record.Record{read(1, 1, "other")})
			assertResult(t, "plain upsert at the same version", f2.apply(t, plain), sink.Result{Skipped: 1})
			// A late narrower upsert of an older version never undoes it.
			assertResult(t, "late older upsert", f.apply(t, f.batch(f.recs(rv{3, 3}))), sink.Result{Skipped: 1})
			f2.assertRows(t, want)
		})
	}
}

// testTableColumns: SchemaReader lists the data columns as the table holds
// them, without the system columns, before and after a column is added;
// a missing table is a *sink.NoTableError.
func testTableColumns(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	ctx := t.Context()
	have, err := f.s.TableColumns(ctx, f.table.TableName)
	if err != nil {
		t.Fatal(err)
	}
	names := func(cols []schema.Column) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = c.Name
		}
		return out
	}
	if got, want := fmt.Sprint(names(have)), fmt.Sprint(names(f.table.Columns)); got != want {
		t.Fatalf("TableColumns = %s, want %s", got, want)
	}
	day := func(k record.Kind) bool { return k == record.Date || k == record.DateTime } // stored alike
	for i, c := range have {
		if k := f.table.Columns[i].Type.Kind; c.Type.Kind != k && !(day(k) && day(c.Type.Kind)) {
			t.Errorf("column %s: kind %s, want %s", c.Name, c.Type.Kind, f.table.Columns[i].Type.Kind)
		}
	}
	f2 := addFixture(t, f.s, evolved("account", func(e *dataverse.Entity) {
		e.Attributes = append(e.Attributes, attr("new_region", dataverse.TypeString, maxLen(40)))
	}))
	if have, err = f.s.TableColumns(ctx, f2.table.TableName); err != nil || len(have) != len(f2.table.Columns) || have[len(have)-1].Name != "new_region" {
		t.Fatalf("after adding new_region: %v, %v", names(have), err)
	}
	_, err = f.s.TableColumns(ctx, schema.TableName{Schema: f.table.Schema, Name: "nosuchtable"})
	if !errors.Is(err, sink.ErrNoTable) {
		t.Fatalf("TableColumns of a missing table = %v, want a *sink.NoTableError", err)
	}
}
