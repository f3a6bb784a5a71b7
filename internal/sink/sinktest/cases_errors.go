package sinktest

import (
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

func testDeleteLog(t *testing.T, open Opener) {
	before := time.Now().UTC().Add(-time.Second)
	f := newFixture(t, open, sink.Options{WriteDeleteLog: true}, Account("account"))
	f.apply(t, f.batch(f.recs(rv{1, 1}, rv{2, 1}, rv{3, 10})))
	got := f.apply(t, f.batch(nil, del(1, 5), del(2, 5), del(3, 5), del(4, 5)))
	assertResult(t, "deletes", got, sink.Result{Deleted: 4})
	f.apply(t, f.batch(nil, del(1, 5), del(2, 4))) // replays log nothing
	f.apply(t, f.batch(nil, del(1, 9)))            // a newer delete of a gone row is logged
	after := time.Now().UTC().Add(time.Second)

	log, err := f.s.DeleteLog(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Record 3 outlives its stale delete, so that delete is not logged.
	want := []struct {
		n int
		v int64
	}{{1, 5}, {1, 9}, {2, 5}, {4, 5}}
	if len(log) != len(want) {
		t.Fatalf("delete log has %d entries, want %d: %+v", len(log), len(want), log)
	}
	seen := map[string]bool{}
	for i, w := range want {
		e := log[i]
		if e.RecordID != guid(w.n) || e.VersionNumber != w.v || e.EntityName != "account" {
			t.Errorf("entry %d: %s %s v%d, want account %s v%d", i, e.EntityName, e.RecordID, e.VersionNumber, guid(w.n), w.v)
		}
		if !sink.IsGUID(e.ID) || seen[e.ID] {
			t.Errorf("entry %d: Id %q is not a fresh GUID", i, e.ID)
		}
		seen[e.ID] = true
		if e.SinkDeleteTime.Before(before) || e.SinkDeleteTime.After(after) {
			t.Errorf("entry %d: SinkDeleteTime %s not between %s and %s", i, e.SinkDeleteTime, before, after)
		}
	}
	f.assertRows(t, f.recs(rv{3, 10}))

	// Without the option there is no log.
	g := newFixture(t, open, sink.Options{}, Account("account"))
	g.apply(t, g.batch(g.recs(rv{1, 1}), del(1, 5)))
	if log, err := g.s.DeleteLog(t.Context()); err != nil || len(log) != 0 {
		t.Fatalf("DeleteLog without WriteDeleteLog = %v, %v; want empty", log, err)
	}
}

func testErrors(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	ctx := t.Context()
	good := f.recs(rv{1, 1}, rv{2, 1})
	withCol := func(name string, k record.Kind, v record.Value) record.Batch {
		b := f.batch(nil)
		b.Columns = append(append([]record.Column(nil), f.cols...), record.Column{Name: name, Kind: k})
		for _, r := range good {
			r.Values = append(append([]record.Value(nil), r.Values...), v)
			b.Upserts = append(b.Upserts, r)
		}
		return b
	}
	mutate := func(fn func(b *record.Batch)) record.Batch {
		b := f.batch(f.recs(rv{1, 1}, rv{2, 1}))
		fn(&b)
		return b
	}
	colIndex := func(name string) int {
		for i, c := range f.cols {
			if c.Name == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	tests := []struct {
		name  string
		table schema.TableName
		b     record.Batch
		check func(t *testing.T, err error)
	}{
		{"unknown column", f.table.TableName, withCol("nosuchcolumn", record.String, record.StringValue("x")), func(t *testing.T, err error) {
			e := errorAs[*sink.UnknownColumnError](t, err)
			if e.Column != "nosuchcolumn" || e.Table.Name != "account" {
				t.Errorf("UnknownColumnError %+v", e)
			}
			if !strings.Contains(err.Error(), "nosuchcolumn") || !strings.Contains(err.Error(), "account") {
				t.Errorf("message %q must name the column and the table", err)
			}
		}},
		{"missing table", schema.TableName{Name: "nosuchtable"}, f.batch(good), func(t *testing.T, err error) {
			e := errorAs[*sink.NoTableError](t, err)
			if e.Table.Name != "nosuchtable" {
				t.Errorf("NoTableError %+v", e)
			}
		}},
		{"values not aligned", f.table.TableName, mutate(func(b *record.Batch) { b.Upserts[1].Values = b.Upserts[1].Values[1:] }), func(t *testing.T, err error) {
			errorAs[*sink.BatchError](t, err)
		}},
		{"id not a GUID", f.table.TableName, mutate(func(b *record.Batch) { b.Upserts[1].ID = "42" }), func(t *testing.T, err error) {
			errorAs[*sink.BatchError](t, err)
		}},
		{"delete id not a GUID", f.table.TableName, mutate(func(b *record.Batch) { b.Deletes = []record.Delete{{ID: "x'; drop table account; --", Version: 1}} }), func(t *testing.T, err error) {
			errorAs[*sink.BatchError](t, err)
		}},
		{"value of the wrong kind", f.table.TableName, mutate(func(b *record.Batch) { b.Upserts[1].Values[colIndex("revenue")] = record.IntValue(1) }), func(t *testing.T, err error) {
			if e := errorAs[*sink.BatchError](t, err); e.Column != "revenue" {
				t.Errorf("BatchError names column %q, want revenue", e.Column)
			}
		}},
		{"decimal that is not a number", f.table.TableName, mutate(func(b *record.Batch) {
			b.Upserts[1].Values[colIndex("revenue")] = record.DecimalValue("1,5")
		}), func(t *testing.T, err error) {
			errorAs[*sink.BatchError](t, err)
		}},
		{"GUID value that is not a GUID", f.table.TableName, mutate(func(b *record.Batch) {
			b.Upserts[1].Values[colIndex("ownerid")] = record.GUIDValue("not-a-guid")
		}), func(t *testing.T, err error) {
			errorAs[*sink.BatchError](t, err)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Apply(ctx, tc.table, tc.b)
			if err == nil {
				t.Fatal("Apply succeeded, want an error")
			}
			tc.check(t, err)
			// All or nothing: the good records of the batch are not written.
			if n, err := f.s.Count(ctx, f.table.TableName); err != nil || n != 0 {
				t.Fatalf("Count after failed Apply = %d, %v; want 0", n, err)
			}
		})
	}

	t.Run("bad table name", func(t *testing.T) {
		bad := f.table
		bad.Name = `account"; drop table x; --`
		errorAs[*schema.NameError](t, f.s.EnsureTable(ctx, bad))
	})
}
