package postgres

import (
	"log/slog"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// twoSinks opens two sinks on one fresh schema, as two processes would;
// they close with the test.
func twoSinks(t *testing.T) (a, b *Sink) {
	t.Helper()
	opts := &sink.Options{Schema: freshSchema(t), Logger: slog.New(slog.DiscardHandler)}
	for _, s := range []**Sink{&a, &b} {
		var err error
		if *s, err = Open(t.Context(), testConnString(), opts); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*s).Close() })
	}
	return a, b
}

// Two sinks on one database: one adds a column and fills it; the other, its
// column list cached from before, writes a newer version of the row. The
// new column must keep its value (delete-and-COPY would blank it).
func TestStaleColumnCacheKeepsNewColumn(t *testing.T) {
	ctx := t.Context()
	a, b := twoSinks(t)
	tbl := accountTable(t, a)
	if err := a.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	var cols []record.Column
	for _, f := range dataverse.Fields(sinktest.Account("account")) {
		cols = append(cols, f.Column)
	}
	if _, err := b.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: sinktest.BenchRows(cols, 0, 3, 1)}); err != nil {
		t.Fatal(err)
	}

	wide := tbl
	wide.Columns = append(append([]schema.Column(nil), tbl.Columns...), schema.Column{Name: "new_x", Type: schema.ColumnType{Kind: record.String, Length: 20}})
	if err := a.EnsureTable(ctx, wide); err != nil {
		t.Fatal(err)
	}
	wideCols := append(append([]record.Column(nil), cols...), record.Column{Name: "new_x", Kind: record.String})
	r := sinktest.BenchRows(cols, 1, 1, 2)[0]
	r.Values = append(r.Values, record.StringValue("kept"))
	if _, err := a.Apply(ctx, tbl.TableName, record.Batch{Columns: wideCols, Upserts: []record.Record{r}}); err != nil {
		t.Fatal(err)
	}

	newer := sinktest.BenchRows(cols, 1, 1, 3)
	if res, err := b.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: newer}); err != nil || res.Upserted != 1 {
		t.Fatalf("Apply with the old column list = %+v, %v; want 1 upserted", res, err)
	}
	got, err := a.Rows(ctx, tbl.TableName, wideCols)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range got {
		if row.ID != r.ID {
			continue
		}
		if row.Version != 3 || row.Values[len(row.Values)-1] != record.StringValue("kept") {
			t.Fatalf("row after the stale writer: version %d, new_x %+v; want version 3 and new_x kept", row.Version, row.Values[len(row.Values)-1])
		}
		return
	}
	t.Fatalf("row %s is missing", r.ID)
}

// Another process re-creates a table with another column kind, or widens a
// column: this sink's cached columns (and a staging table named after their
// types) are stale, and at most one Apply may fail before it reads them
// again.
func TestStaleColumnCacheRecovers(t *testing.T) {
	ctx := t.Context()
	a, b := twoSinks(t)
	tn := schema.TableName{Name: "acct"}
	table := func(cols ...schema.Column) schema.Table {
		return schema.Table{TableName: tn, Entity: "acct", Columns: cols}
	}
	const id = "00000000-0000-4000-8000-000000000001"
	// A record refused on stale column types (too long for the cached
	// length) counts as a failure: it is retried like one.
	apply := func(v int64, cols []record.Column, vals ...record.Value) error {
		res, err := a.Apply(ctx, tn, record.Batch{Columns: cols, Upserts: []record.Record{{ID: id, Version: v, Values: vals}}})
		if err == nil && len(res.Rejected) > 0 {
			err = res.Rejected[0].Err
		}
		return err
	}
	twice := func(what string, v int64, cols []record.Column, vals ...record.Value) {
		t.Helper()
		if err := apply(v, cols, vals...); err == nil {
			return
		}
		if err := apply(v, cols, vals...); err != nil {
			t.Fatalf("%s: the second Apply failed too, the stale column list was not read again: %v", what, err)
		}
	}
	str := []record.Column{{Name: "x", Kind: record.String}}
	if err := b.EnsureTable(ctx, table(schema.Column{Name: "x", Type: schema.StringType(10)})); err != nil {
		t.Fatal(err)
	}
	if err := apply(1, str, record.StringValue("a")); err != nil {
		t.Fatal(err)
	}
	// Re-created with another kind.
	if err := b.DropTable(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureTable(ctx, table(schema.Column{Name: "x", Type: schema.IntType()}, schema.Column{Name: "kept", Type: schema.StringType(5)})); err != nil {
		t.Fatal(err)
	}
	twice("kind change", 2, []record.Column{{Name: "x", Kind: record.Int}, {Name: "kept", Kind: record.String}}, record.IntValue(7), record.StringValue("k"))
	// Widened, written by a narrow batch (the staging path, its staging
	// table named after the cached types).
	if err := b.EnsureTable(ctx, table(schema.Column{Name: "x", Type: schema.IntType()}, schema.Column{Name: "kept", Type: schema.StringType(50)})); err != nil {
		t.Fatal(err)
	}
	if err := apply(3, []record.Column{{Name: "kept", Kind: record.String}}, record.StringValue("short")); err != nil {
		t.Fatal(err)
	}
	twice("widened column", 4, []record.Column{{Name: "kept", Kind: record.String}}, record.StringValue("now longer than five"))
}
