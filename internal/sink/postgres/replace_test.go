package postgres

import (
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// replace deletes and re-inserts a changed row: SinkCreatedOn must survive
// it, SinkModifiedOn must move only for rows that changed, and a stale
// upsert must leave its row as it was.
func TestReplaceKeepsSinkCreatedOn(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, testConnString(), &sink.Options{Schema: freshSchema(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tbl := accountTable(t, s)
	if err := s.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	var cols []record.Column
	for _, f := range dataverse.Fields(sinktest.Account("account")) {
		cols = append(cols, f.Column)
	}
	type stamps struct{ created, modified time.Time }
	read := func() map[string]stamps {
		out := map[string]stamps{}
		err := s.pool.with(ctx, func(c *pgx.Conn) error {
			rows, err := c.Query(ctx, "SELECT "+quote(schema.ColID)+"::text, "+quote(schema.ColSinkCreatedOn)+", "+quote(schema.ColSinkModifiedOn)+" FROM "+qualified(tbl.TableName))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				var st stamps
				if err := rows.Scan(&id, &st.created, &st.modified); err != nil {
					return err
				}
				out[id] = st
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	first := sinktest.BenchRows(cols, 0, 10, 5)
	if _, err := s.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: first}); err != nil {
		t.Fatal(err)
	}
	before := read()
	if len(before) != 10 {
		t.Fatalf("%d rows after the first batch; want 10", len(before))
	}
	// The next batch must get a later clock reading than the first.
	for !time.Now().UTC().Truncate(time.Microsecond).After(before[first[0].ID].modified) {
		time.Sleep(time.Microsecond)
	}
	next := append(sinktest.BenchRows(cols, 0, 5, 6), sinktest.BenchRows(cols, 5, 5, 4)...)
	res, err := s.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: next})
	if err != nil || res.Upserted != 5 || res.Skipped != 5 {
		t.Fatalf("Apply = %+v, %v; want 5 upserted, 5 skipped", res, err)
	}
	after := read()
	for i, r := range next {
		b, a := before[r.ID], after[r.ID]
		if !a.created.Equal(b.created) {
			t.Errorf("row %d: SinkCreatedOn %v became %v", i, b.created, a.created)
		}
		changed := i < 5
		if moved := a.modified.After(b.modified); moved != changed {
			t.Errorf("row %d: SinkModifiedOn %v → %v; want moved=%v", i, b.modified, a.modified, changed)
		}
	}
}

// Two sinks on one database: one adds a column and fills it; the other, its
// column list cached from before, writes a newer version of the row. The
// new column must keep its value (delete-and-COPY would blank it).
func TestStaleColumnCacheKeepsNewColumn(t *testing.T) {
	ctx := t.Context()
	opts := &sink.Options{Schema: freshSchema(t), Logger: slog.New(slog.DiscardHandler)}
	a, err := Open(ctx, testConnString(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, testConnString(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
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
