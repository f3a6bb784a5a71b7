package sinktest

import (
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

func testCreate(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	ctx := t.Context()
	if err := f.s.EnsureTable(ctx, f.table); err != nil {
		t.Fatalf("second EnsureTable must be a no-op: %v", err)
	}
	if n, err := f.s.Count(ctx, f.table.TableName); err != nil || n != 0 {
		t.Fatalf("Count = %d, %v; want 0", n, err)
	}
	f.assertRows(t, nil)
	// Attributes that are not fields must not have become columns.
	for _, name := range []string{"versionnumber", "owneriddsc", "industrycodename", "virtualthing", "secret"} {
		_, err := f.s.Rows(ctx, f.table.TableName, []record.Column{{Name: name, Kind: record.String}})
		e := errorAs[*sink.UnknownColumnError](t, err)
		if e.Column != name {
			t.Errorf("UnknownColumnError names %q, want %q", e.Column, name)
		}
	}
}

// evolved is Account with attributes changed by mod.
func evolved(name string, mod func(e *dataverse.Entity)) *dataverse.Entity {
	e := Account(name)
	mod(e)
	return e
}

func setAttr(e *dataverse.Entity, name string, mod func(a *dataverse.Attribute)) {
	a := e.Attribute(name)
	if a == nil {
		panic("no attribute " + name)
	}
	mod(a)
}

func testAddColumn(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	old := f.apply(t, f.batch(upserts(f.cols, 0, 3, 1)))
	assertResult(t, "before evolution", old, sink.Result{Upserted: 3})

	e2 := evolved("account", func(e *dataverse.Entity) {
		e.Attributes = append(e.Attributes,
			attr("new_code", dataverse.TypeString, maxLen(50)),
			attr("new_managerid", dataverse.TypeLookup, targets("systemuser")),
			attr("new_score", dataverse.TypeDecimal, precision(3)),
		)
	})
	f2 := addFixture(t, f.s, e2)
	want := make([]record.Record, 0, 4)
	for _, r := range upserts(f.cols, 0, 3, 1) {
		// Rows written before the columns existed read back null there.
		r.Values = append(r.Values, record.NullValue(), record.NullValue(), record.NullValue(), record.NullValue())
		want = append(want, r)
	}
	f2.assertRows(t, want)

	r := record.Record{ID: guid(3), Version: 1, Values: values(f2.cols, 3)}
	n := len(r.Values)
	r.Values[n-4] = record.StringValue("NEW-1")
	r.Values[n-3] = record.GUIDValue(guid(99))
	r.Values[n-2] = record.StringValue("systemuser")
	r.Values[n-1] = record.DecimalValue("-12.345")
	assertResult(t, "after evolution", f2.apply(t, f2.batch([]record.Record{r})), sink.Result{Upserted: 1})
	f2.assertRows(t, append(want, r))

	// A batch with the old, narrower column list still applies and leaves
	// the new columns alone.
	upd := record.Record{ID: guid(3), Version: 2, Values: values(f.cols, 3)}
	assertResult(t, "old column list", f.apply(t, f.batch([]record.Record{upd})), sink.Result{Upserted: 1})
	upd.Values = append(upd.Values, r.Values[n-4:]...)
	f2.assertRows(t, append(want, upd))
}

func testWiden(t *testing.T, open Opener) {
	narrow := evolved("account", func(e *dataverse.Entity) {
		setAttr(e, "name", func(a *dataverse.Attribute) { a.MaxLength = 10 })
		setAttr(e, "revenue", func(a *dataverse.Attribute) { a.Precision = 2 })
		setAttr(e, "numberofemployees", func(a *dataverse.Attribute) { a.Type = dataverse.TypeInteger })
	})
	f := newFixture(t, open, sink.Options{}, narrow)
	small := record.Record{ID: guid(1), Version: 1, Values: values(f.cols, 1)}
	set := func(r *record.Record, col string, v record.Value) {
		for i, c := range f.cols {
			if c.Name == col {
				r.Values[i] = v
				return
			}
		}
		t.Fatalf("no column %s", col)
	}
	set(&small, "name", record.StringValue("short"))
	set(&small, "revenue", record.DecimalValue("1.25"))
	set(&small, "numberofemployees", record.IntValue(7))
	f.apply(t, f.batch([]record.Record{small}))

	wide := evolved("account", func(e *dataverse.Entity) {
		setAttr(e, "name", func(a *dataverse.Attribute) { a.MaxLength = 300 })
		setAttr(e, "revenue", func(a *dataverse.Attribute) { a.Precision = 4 })
		setAttr(e, "numberofemployees", func(a *dataverse.Attribute) { a.Type = dataverse.TypeBigInt })
	})
	f2 := addFixture(t, f.s, wide)
	big := record.Record{ID: guid(2), Version: 1, Values: values(f2.cols, 2)}
	set(&big, "name", record.StringValue(strings.Repeat("ü", 300)))
	set(&big, "revenue", record.DecimalValue("123456789012345678901234567890.1234"))
	set(&big, "numberofemployees", record.IntValue(1<<40))
	assertResult(t, "widened", f2.apply(t, f2.batch([]record.Record{big})), sink.Result{Upserted: 1})
	f2.assertRows(t, []record.Record{small, big})

	// Narrowing again never shrinks a column: existing values survive.
	f3 := addFixture(t, f.s, narrow)
	f3.assertRows(t, []record.Record{small, big})
}

func testIncompatible(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	f.apply(t, f.batch(upserts(f.cols, 0, 2, 1)))
	changed := evolved("account", func(e *dataverse.Entity) {
		setAttr(e, "name", func(a *dataverse.Attribute) { a.Type = dataverse.TypeInteger })
	})
	tbl, err := schema.Map(changed, f.s.Options().TableOptions())
	if err != nil {
		t.Fatal(err)
	}
	err = f.s.EnsureTable(t.Context(), tbl)
	e := errorAs[*schema.IncompatibleChangeError](t, err)
	if e.Column != "name" || e.Table.Name != "account" || e.Old.Kind != record.String || e.New.Kind != record.Int {
		t.Errorf("IncompatibleChangeError %+v, want account.name string→int", e)
	}
	// The table is untouched and still takes the old shape.
	f.assertRows(t, upserts(f.cols, 0, 2, 1))
}

func testPrefix(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{Prefix: "crm"}, Account("account"))
	if f.table.Name != "crm_account" {
		t.Fatalf("table name %q, want crm_account", f.table.Name)
	}
	f.apply(t, f.batch(upserts(f.cols, 0, 3, 1), record.Delete{ID: guid(0), Version: 2}))
	f.assertRows(t, upserts(f.cols, 1, 3, 1))
	f.assertTombstones(t, map[string]int64{guid(0): 2})
}
