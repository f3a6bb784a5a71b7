package postgres

import (
	"fmt"
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

// BenchmarkUpsert measures Apply of account-shaped batches (42 columns)
// into an empty table (insert) or over older versions of every row
// (update), beside a raw COPY of the same rows into an empty table of the
// same layout, and reports both rates and their ratio.
//
//	go test ./internal/sink/postgres -run '^$' -bench Upsert -benchtime 20x
func BenchmarkUpsert(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		for _, mode := range []string{"insert", "update"} {
			b.Run(fmt.Sprintf("batch=%d/%s", n, mode), func(b *testing.B) { benchUpsert(b, n, mode) })
		}
	}
}

func benchUpsert(b *testing.B, n int, mode string) {
	ctx := b.Context()
	s, err := Open(ctx, testConnString(), &sink.Options{Schema: freshSchema(b), Logger: slog.New(slog.DiscardHandler)})
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
	names := []string{schema.ColID, schema.ColSinkCreatedOn, schema.ColSinkModifiedOn, schema.ColVersion}
	for _, c := range cols {
		names = append(names, c.Name)
	}
	exec := func(q string) {
		if err := s.pool.with(ctx, func(c *pgx.Conn) error { _, err := c.Exec(ctx, q); return err }); err != nil {
			b.Fatal(err)
		}
	}
	var rawTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		exec("TRUNCATE " + qualified(tbl.TableName) + ", " + qualified(s.opts.Tombstones()))
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
		exec("TRUNCATE " + qualified(raw.TableName))
		start := time.Now()
		err = s.pool.with(ctx, func(c *pgx.Conn) error {
			now := time.Now().UTC()
			_, err := c.CopyFrom(ctx, pgx.Identifier{raw.Schema, raw.Name}, names, &rawSource{rows: rows, now: now, vals: make([]any, len(names))})
			return err
		})
		rawTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	up := float64(n*b.N) / b.Elapsed().Seconds()
	rw := float64(n*b.N) / rawTime.Seconds()
	b.ReportMetric(up, "rows/s")
	b.ReportMetric(rw, "raw_rows/s")
	b.ReportMetric(up/rw, "upsert/raw")
}

// rawSource is the plain bulk load: every row as it is, with the same value
// conversion as Apply.
type rawSource struct {
	rows []record.Record
	i    int
	now  time.Time
	vals []any
}

func (r *rawSource) Next() bool { r.i++; return r.i <= len(r.rows) }

func (r *rawSource) Values() ([]any, error) {
	rec := &r.rows[r.i-1]
	id, err := uuidOf(rec.ID)
	if err != nil {
		return nil, err
	}
	r.vals[0], r.vals[1], r.vals[2], r.vals[3] = id, r.now, r.now, rec.Version
	return r.vals, putValues(r.vals[4:], rec)
}

func (r *rawSource) Err() error { return nil }

// BenchmarkBadRecord compares a 5,000-row batch holding one record the
// database refuses (a CHECK constraint) with the same batch clean, both
// into an empty table.
//
//	go test ./internal/sink/postgres -run '^$' -bench BadRecord -benchtime 10x
func BenchmarkBadRecord(b *testing.B) {
	const n = 5000
	for _, pos := range []int{0, n / 2, n - 1} {
		b.Run(fmt.Sprintf("batch=%d/bad=%d", n, pos), func(b *testing.B) {
			ctx := b.Context()
			s, err := Open(ctx, testConnString(), &sink.Options{Schema: freshSchema(b), Logger: slog.New(slog.DiscardHandler)})
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
				if err := s.pool.with(ctx, func(c *pgx.Conn) error {
					_, err := c.Exec(ctx, "TRUNCATE "+qualified(tbl.TableName))
					return err
				}); err != nil {
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
//	go test ./internal/sink/postgres -run '^$' -bench Sweep -benchtime 3x
func BenchmarkSweep(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, testConnString(), &sink.Options{Schema: freshSchema(b), WriteDeleteLog: true, Logger: slog.New(slog.DiscardHandler)})
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
		if err := s.pool.with(ctx, func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, "TRUNCATE "+qualified(tbl.TableName)+", "+qualified(s.opts.Tombstones())+", "+qualified(s.opts.Keys())+", "+qualified(s.opts.DeleteLog()))
			return err
		}); err != nil {
			b.Fatal(err)
		}
	})
}
