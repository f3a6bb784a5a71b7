package postgres

import (
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// A concurrent writer may insert an id between copyNew's check and its
// COPY: the primary key refuses the copy, the savepoint undoes it, and the
// transaction goes on through the general path.
func TestCopyIntoConflictFallsBack(t *testing.T) {
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
	rows := sinktest.BenchRows(cols, 0, 100, 1)
	if _, err := s.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: rows[50:51]}); err != nil {
		t.Fatal(err)
	}
	newer := sinktest.BenchRows(cols, 0, 100, 2)
	p, err := sink.Prepare(tbl.TableName, record.Batch{Columns: cols, Upserts: newer}, mustColumns(t, s, tbl))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	err = s.pool.tx(ctx, func(tx pgx.Tx) error {
		n, ok, err := s.copyInto(ctx, tx, tbl.TableName, p, now)
		if err != nil || ok || n != 0 {
			t.Fatalf("copyInto over an existing id = %d, %v, %v; want a fallback", n, ok, err)
		}
		// The transaction is still usable.
		n, err = s.applyUpserts(ctx, tx, tbl.TableName, p, mustColumns(t, s, tbl), now)
		if err != nil || n != 100 {
			t.Fatalf("applyUpserts after fallback = %d, %v; want 100", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Count(ctx, tbl.TableName); err != nil || c != 100 {
		t.Fatalf("Count = %d, %v; want 100", c, err)
	}
}
