package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// The binary COPY writes what the table holds (the sinktest suite checks
// every kind); these cover its edges: a value a column cannot hold fails
// its own record alone, and a column of a type it does not encode (a
// DBA's change) falls back to pgx's COPY.
func TestBinaryCopyEdges(t *testing.T) {
	ctx := t.Context()
	var cols []record.Column
	for _, f := range dataverse.Fields(sinktest.Account("account")) {
		cols = append(cols, f.Column)
	}
	column := func(t *testing.T, tbl schema.Table, pick func(schema.ColumnType) bool) int {
		for j, c := range cols {
			if tc := tbl.Column(c.Name); tc != nil && pick(tc.Type) {
				return j
			}
		}
		t.Fatal("the account table has no such column")
		return -1
	}
	exec := func(t *testing.T, s *Sink, q string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, testConnString())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		s.cols.Forget(s.resolve(schema.TableName{Name: "account"}))
		s.pool.bump()
	}
	t.Run("integer overflow fails its record alone", func(t *testing.T) {
		s, _ := twoSinks(t)
		tbl := accountTable(t, s)
		if err := s.EnsureTable(ctx, tbl); err != nil {
			t.Fatal(err)
		}
		j := column(t, tbl, func(c schema.ColumnType) bool { return c.Kind == record.Int && !c.IsBigInt() })
		rows := sinktest.BenchRows(cols, 0, 3, 1)
		rows[1].Values[j] = record.IntValue(1 << 40)
		res, err := s.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: rows})
		if err != nil || res.Upserted != 2 || len(res.Rejected) != 1 || res.Rejected[0].ID != rows[1].ID {
			t.Fatalf("Apply = %+v, %v; want 2 upserted and %s refused", res, err, rows[1].ID)
		}
	})
	t.Run("a date column falls back to pgx", func(t *testing.T) {
		s, _ := twoSinks(t)
		tbl := accountTable(t, s)
		if err := s.EnsureTable(ctx, tbl); err != nil {
			t.Fatal(err)
		}
		j := column(t, tbl, func(c schema.ColumnType) bool { return c.Kind == record.DateTime })
		exec(t, s, fmt.Sprintf("DROP VIEW %s", qualified(s.resolve(schema.TableName{Name: "account_labels"}))))
		exec(t, s, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE date", qualified(s.resolve(tbl.TableName)), ident(cols[j].Name)))
		rows := sinktest.BenchRows(cols, 0, 3, 1)
		res, err := s.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: rows})
		if err != nil || res.Upserted != 3 || len(res.Rejected) != 0 {
			t.Fatalf("Apply = %+v, %v; want 3 upserted", res, err)
		}
		conn, err := pgx.Connect(ctx, testConnString())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int
		if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IS NOT NULL", qualified(s.resolve(tbl.TableName)), ident(cols[j].Name))).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d rows with a date, %v; want 3", n, err)
		}
	})
}
