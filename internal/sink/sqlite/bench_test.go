package sqlite

import (
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// BenchmarkUpsert measures Apply of account-shaped batches (42 columns)
// into an empty table (insert) or over older versions of every row
// (update), beside a plain one-transaction INSERT of the same rows into an
// empty table of the same layout, and reports both rates and their ratio.
//
//	go test ./internal/sink/sqlite -run '^$' -bench Upsert -benchtime 20x
func BenchmarkUpsert(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		for _, mode := range []string{"insert", "update"} {
			b.Run(fmt.Sprintf("batch=%d/%s", n, mode), func(b *testing.B) { benchUpsert(b, n, mode) })
		}
	}
}

func benchUpsert(b *testing.B, n int, mode string) {
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), &sink.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e := sinktest.BenchAccount()
	var cols []record.Column
	for _, f := range dataverse.Fields(e) {
		cols = append(cols, f.Column)
	}
	tbl, err := schema.Map(e, s.Options().TableOptions())
	if err != nil {
		b.Fatal(err)
	}
	raw := tbl
	raw.Name = "account_raw"
	for _, t := range []schema.Table{tbl, raw} {
		if err := s.EnsureTable(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
	older := sinktest.BenchRows(cols, 0, n, 1)
	rows := sinktest.BenchRows(cols, 0, n, 2)
	batch := record.Batch{Entity: "account", Columns: cols, Upserts: rows}
	names := []string{quote(schema.ColID), quote(schema.ColSinkCreatedOn), quote(schema.ColSinkModifiedOn), quote(schema.ColVersion)}
	for _, c := range cols {
		names = append(names, quote(c.Name))
	}
	exec := func(q string) {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	var rawTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		exec("DELETE FROM " + qualified(tbl.TableName))
		exec("DELETE FROM " + qualified(s.opts.Tombstones()))
		if mode == "update" {
			if _, err := s.Apply(ctx, tbl.TableName, record.Batch{Entity: "account", Columns: cols, Upserts: older}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		res, err := s.Apply(ctx, tbl.TableName, batch)
		b.StopTimer()
		if err != nil || res.Upserted != n {
			b.Fatalf("Apply = %+v, %v; want %d upserted", res, err, n)
		}
		exec("DELETE FROM " + qualified(raw.TableName))
		start := time.Now()
		if err := rawInsert(b, s, names, raw.TableName, rows); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	up := float64(n*b.N) / b.Elapsed().Seconds()
	rw := float64(n*b.N) / rawTime.Seconds()
	b.ReportMetric(up, "rows/s")
	b.ReportMetric(rw, "raw_rows/s")
	b.ReportMetric(up/rw, "upsert/raw")
}

// rawInsert is the plain bulk load, as fast as this driver loads rows: one
// transaction, prepared multi-row INSERTs of rawRowsPerStatement rows (the
// batching of Apply's fallback path), no conflict handling, the same value
// conversion as Apply. Apply itself reads the rows through the feed
// (feed.go), which the driver's bound parameters cannot match.
func rawInsert(b *testing.B, s *Sink, names []string, table schema.TableName, rows []record.Record) error {
	ctx := b.Context()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
	prepare := func(n int) (*sql.Stmt, error) {
		return tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", qualified(table), strings.Join(names, ", "),
			strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")))
	}
	full, err := prepare(rawRowsPerStatement)
	if err != nil {
		return err
	}
	defer full.Close()
	now := time.Now().UTC().Format(TimeLayout)
	args := make([]any, 0, rawRowsPerStatement*len(names))
	for start := 0; start < len(rows); start += rawRowsPerStatement {
		chunk := rows[start:min(start+rawRowsPerStatement, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r.ID, now, now, r.Version)
			for _, v := range r.Values {
				args = append(args, arg(v))
			}
		}
		stmt := full
		if len(chunk) < rawRowsPerStatement {
			if stmt, err = prepare(len(chunk)); err != nil {
				return err
			}
			defer stmt.Close()
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

const rawRowsPerStatement = 32

// BenchmarkBadRecord compares a 5,000-row batch holding one record the
// database refuses with the same batch clean, both into an empty table.
//
//	go test ./internal/sink/sqlite -run '^$' -bench BadRecord -benchtime 10x
func BenchmarkBadRecord(b *testing.B) {
	const n = 5000
	for _, pos := range []int{0, n / 2, n - 1} {
		b.Run(fmt.Sprintf("batch=%d/bad=%d", n, pos), func(b *testing.B) {
			ctx := b.Context()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), &sink.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			e := sinktest.BenchAccount()
			var cols []record.Column
			for _, f := range dataverse.Fields(e) {
				cols = append(cols, f.Column)
			}
			tbl, err := schema.Map(e, s.Options().TableOptions())
			if err != nil {
				b.Fatal(err)
			}
			if err := s.EnsureTable(ctx, tbl); err != nil {
				b.Fatal(err)
			}
			sinktest.BenchBadRecord(b, target{s}, tbl.TableName, cols, n, pos, func() {
				if _, err := s.db.ExecContext(ctx, "DELETE FROM "+qualified(tbl.TableName)); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkSweep measures the sweep that ends a full read over a table of
// 50,000 account rows, 500 of them gone from the source, against the
// read's own writes of the other rows (sinktest.BenchSweep).
//
//	go test ./internal/sink/sqlite -run '^$' -bench Sweep -benchtime 3x
func BenchmarkSweep(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), &sink.Options{WriteDeleteLog: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	e := sinktest.BenchAccount()
	var cols []record.Column
	for _, f := range dataverse.Fields(e) {
		cols = append(cols, f.Column)
	}
	tbl, err := schema.Map(e, s.Options().TableOptions())
	if err != nil {
		b.Fatal(err)
	}
	if err := s.EnsureTable(ctx, tbl); err != nil {
		b.Fatal(err)
	}
	sinktest.BenchSweep(b, s, tbl.TableName, cols, 50_000, 500, func() {
		for _, t := range []schema.TableName{tbl.TableName, s.opts.Tombstones(), s.opts.Keys(), s.opts.DeleteLog()} {
			if _, err := s.db.ExecContext(ctx, "DELETE FROM "+qualified(t)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
