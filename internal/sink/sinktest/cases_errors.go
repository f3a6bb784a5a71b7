package sinktest

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/errclass"
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

// testErrors: what fails a whole Apply (the table is behind the batch, or
// the batch's columns are malformed) names the problem, has its class, and
// writes nothing.
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
	tests := []struct {
		name  string
		table schema.TableName
		b     record.Batch
		class errclass.Class
		check func(t *testing.T, err error)
	}{
		{"unknown column", f.table.TableName, withCol("nosuchcolumn", record.String, record.StringValue("x")), errclass.Schema, func(t *testing.T, err error) {
			e := errorAs[*sink.UnknownColumnError](t, err)
			if e.Column != "nosuchcolumn" || e.Table.Name != "account" {
				t.Errorf("UnknownColumnError %+v", e)
			}
			if !strings.Contains(err.Error(), "nosuchcolumn") || !strings.Contains(err.Error(), "account") {
				t.Errorf("message %q must name the column and the table", err)
			}
		}},
		{"missing table", schema.TableName{Name: "nosuchtable"}, f.batch(good), errclass.Schema, func(t *testing.T, err error) {
			e := errorAs[*sink.NoTableError](t, err)
			if e.Table.Name != "nosuchtable" {
				t.Errorf("NoTableError %+v", e)
			}
		}},
		{"a column listed twice", f.table.TableName, withCol("name", record.String, record.StringValue("x")), errclass.Record, func(t *testing.T, err error) {
			if e := errorAs[*sink.BatchError](t, err); e.Column != "name" {
				t.Errorf("BatchError names column %q, want name", e.Column)
			}
		}},
		{"a column of another kind than the table's", f.table.TableName, func() record.Batch {
			b := f.batch(nil)
			b.Columns = []record.Column{{Name: "numberofemployees", Kind: record.String}}
			return b
		}(), errclass.Record, func(t *testing.T, err error) {
			if e := errorAs[*sink.BatchError](t, err); e.Column != "numberofemployees" {
				t.Errorf("BatchError names column %q, want numberofemployees", e.Column)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.s.Apply(ctx, tc.table, tc.b)
			if err == nil {
				t.Fatal("Apply succeeded, want an error")
			}
			tc.check(t, err)
			if c := errclass.Of(err); c != tc.class {
				t.Errorf("class %s, want %s", c, tc.class)
			}
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

// testRejected: one bad record never fails its neighbours. Records Prepare
// refuses and records the destination refuses (a CHECK constraint) are
// rejected alone, each with its error; every other change of the batch is
// written.
func testRejected(t *testing.T, open Opener) {
	ctx := t.Context()
	col := func(f *fixture, name string) int {
		for i, c := range f.cols {
			if c.Name == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	// assertRejected checks the rejections are exactly want (id → delete?),
	// each of class record with an error that quotes no value.
	assertRejected := func(t *testing.T, res sink.Result, want map[string]bool, secret string) {
		t.Helper()
		got := map[string]bool{}
		for _, r := range res.Rejected {
			got[r.ID] = r.Delete
			if r.Err == nil || r.Class != errclass.Record || errclass.Of(r.Err) != errclass.Record {
				t.Errorf("rejection of %s: %v, class %s (errclass %s); want a record-class error", r.ID, r.Err, r.Class, errclass.Of(r.Err))
			} else if secret != "" && strings.Contains(r.Err.Error(), secret) {
				t.Errorf("rejection of %s quotes the value: %v", r.ID, r.Err)
			}
		}
		if len(got) != len(res.Rejected) || !maps.Equal(got, want) {
			t.Fatalf("rejected %v, want %v", res.Rejected, want)
		}
	}

	t.Run("refused before writing", func(t *testing.T) {
		f := newFixture(t, open, sink.Options{}, Account("account"))
		const secret = "personal data 0xC0FFEE"
		ups := f.recs(rv{1, 1}, rv{2, 1}, rv{3, 1}, rv{4, 1}, rv{5, 1}, rv{6, 1}, rv{7, 1}, rv{8, 1})
		ups[1].Values = ups[1].Values[1:]                                                     // not aligned
		ups[2].ID = "42"                                                                      // not a GUID
		ups[3].Values[col(f, "revenue")] = record.IntValue(1)                                 // wrong kind
		ups[4].Values[col(f, "revenue")] = record.DecimalValue("1,5")                         // not a decimal
		ups[5].Values[col(f, "ownerid")] = record.GUIDValue("not-a-guid")                     // not a GUID value
		ups[6].Values[col(f, "name")] = record.StringValue(secret + strings.Repeat("x", 160)) // longer than varchar(160)
		dels := []record.Delete{del(20, 5), {ID: "x'; drop table account; --", Version: 5}}
		res, err := f.s.Apply(ctx, f.table.TableName, f.batch(ups, dels...))
		if err != nil {
			t.Fatalf("Apply = %v, want the good records written and the bad ones rejected", err)
		}
		want := map[string]bool{guid(2): false, "42": false, guid(4): false, guid(5): false, guid(6): false, guid(7): false, "x'; drop table account; --": true}
		written := []record.Record{ups[0], ups[7]}
		if !slices.ContainsFunc(res.Rejected, func(r sink.Rejection) bool { return r.ID == guid(7) }) {
			// SQLite declares lengths but keeps text whole: the long value
			// is written as it came, never cut.
			delete(want, guid(7))
			written = append(written, ups[6])
		}
		assertRejected(t, res, want, secret)
		for _, r := range res.Rejected {
			var be *sink.BatchError
			if !errors.As(r.Err, &be) {
				t.Errorf("rejection of %s: %v, want a *sink.BatchError", r.ID, r.Err)
			}
			if r.ID == guid(4) && be != nil && be.Column != "revenue" || r.ID == guid(7) && be != nil && be.Column != "name" {
				t.Errorf("rejection of %s names column %q", r.ID, be.Column)
			}
		}
		assertResult(t, "rejected", res, sink.Result{Upserted: len(written), Deleted: 1, Rejected: make([]sink.Rejection, len(want))})
		f.assertRows(t, written)
		f.assertTombstones(t, map[string]int64{guid(20): 5})
	})

	t.Run("refused by the destination", func(t *testing.T) {
		f := newFixture(t, open, sink.Options{}, Account("account"))
		emp := col(f, "numberofemployees")
		const refused = -7
		if err := f.s.Refuse(ctx, f.table.TableName, "numberofemployees", refused); err != nil {
			t.Fatal(err)
		}
		bad := func(r record.Record) record.Record {
			r.Values = append([]record.Value(nil), r.Values...)
			r.Values[emp] = record.IntValue(refused)
			return r
		}
		// 100 new records; the first, the 38th and the last are refused.
		ups := upserts(f.cols, 0, 100, 1)
		for _, i := range []int{0, 37, 99} {
			ups[i] = bad(ups[i])
		}
		res, err := f.s.Apply(ctx, f.table.TableName, f.batch(ups))
		if err != nil {
			t.Fatalf("Apply with three refused records = %v, want the other 97 written", err)
		}
		assertRejected(t, res, map[string]bool{guid(0): false, guid(37): false, guid(99): false}, "")
		for _, r := range res.Rejected {
			if r.Version != 1 {
				t.Errorf("rejection of %s at version %d, want 1", r.ID, r.Version)
			}
		}
		assertResult(t, "three refused", res, sink.Result{Upserted: 97, Rejected: make([]sink.Rejection, 3)})
		want := append(slices.Clone(ups[1:37]), ups[38:99]...)
		f.assertRows(t, want)

		// Updates: a refused update leaves the stored row as it was; the
		// deletes and other updates of the batch go through.
		upd := []record.Record{bad(f.rec(rv{1, 2})), f.rec(rv{2, 2}), f.rec(rv{0, 2})}
		res, err = f.s.Apply(ctx, f.table.TableName, f.batch(upd, del(3, 5), del(50, 5)))
		if err != nil {
			t.Fatal(err)
		}
		assertRejected(t, res, map[string]bool{guid(1): false}, "")
		assertResult(t, "updates", res, sink.Result{Upserted: 2, Deleted: 2, Rejected: make([]sink.Rejection, 1)})
		want = slices.DeleteFunc(want, func(r record.Record) bool { return r.ID == guid(2) || r.ID == guid(3) || r.ID == guid(50) })
		want = append(want, upd[1], upd[2])
		f.assertRows(t, want)

		// Every record refused: all rejected, nothing written, no error.
		all := []record.Record{bad(f.rec(rv{4, 3})), bad(f.rec(rv{200, 1}))}
		res, err = f.s.Apply(ctx, f.table.TableName, f.batch(all))
		if err != nil {
			t.Fatal(err)
		}
		assertRejected(t, res, map[string]bool{guid(4): false, guid(200): false}, "")
		assertResult(t, "all refused", res, sink.Result{Rejected: make([]sink.Rejection, 2)})
		f.assertRows(t, want)

		// Sent again once they are fixed, they are written.
		fixed := []record.Record{f.rec(rv{1, 2}), f.rec(rv{4, 3}), f.rec(rv{200, 1})}
		assertResult(t, "fixed", f.apply(t, f.batch(fixed)), sink.Result{Upserted: 3})
	})
}
