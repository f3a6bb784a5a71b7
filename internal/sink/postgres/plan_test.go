package postgres

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// scans is a table's sequential and index scans so far, from
// pg_stat_user_tables, read on the sink's own connection after forcing its
// pending statistics out (a backend flushes them at most once a second
// otherwise).
func scans(t *testing.T, s *Sink, table schema.TableName) (seq, idx, tuples int64) {
	t.Helper()
	ctx := t.Context()
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			return err
		}
		return c.QueryRow(ctx, `SELECT seq_scan, coalesce(idx_scan, 0), coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
			FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
			table.Schema, table.Name).Scan(&seq, &idx, &tuples)
	})
	if err != nil {
		t.Fatal(err)
	}
	return seq, idx, tuples
}

// The delete-and-COPY, staged and delete statements find rows by primary
// key at any execution count and table size, whether or not autovacuum has
// analysed the table: a plan cached while the table was small must not
// scan the whole table once it has grown. On one connection (one statement
// cache), the table starts empty and takes eight rounds of small batches
// (updates, new rows, a narrower batch, deletes: every statement past the
// plan cache's five custom plans), then grows to 30,000 rows; eight more
// rounds must use the primary key and make no sequential scan at all.
// Autovacuum is off for the table, so nothing re-plans the statements
// behind the test's back. Then page-sized batches (5,000 ids), which the
// planner would serve with a scan of the whole table, must probe too.
func TestWritesUseThePrimaryKey(t *testing.T) {
	for _, analyzed := range []bool{false, true} {
		name := "never analysed"
		if analyzed {
			name = "analysed while empty"
		}
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s, err := Open(ctx, testConnString(), &sink.Options{Schema: freshSchema(t), MaxConnections: 1, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			e := sinktest.BenchAccount()
			var cols []record.Column
			for _, f := range dataverse.Fields(e) {
				cols = append(cols, f.Column)
			}
			tbl, err := schema.Map(e, s.Options().TableOptions())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.EnsureTable(ctx, tbl); err != nil {
				t.Fatal(err)
			}
			err = s.pool.with(ctx, func(c *pgx.Conn) error {
				q := fmt.Sprintf("ALTER TABLE %s SET (autovacuum_enabled = false)", qualified(tbl.TableName))
				if analyzed {
					q += "; ANALYZE " + qualified(tbl.TableName)
				}
				_, err := c.Exec(ctx, q)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			apply := func(b record.Batch) sink.Result {
				t.Helper()
				b.Entity = "account"
				res, err := s.Apply(ctx, tbl.TableName, b)
				if err != nil || len(res.Rejected) > 0 {
					t.Fatalf("Apply = %+v, %v", res.Counts(), err)
				}
				return res
			}
			const big = 10_000
			narrow := cols[:5]
			// round i writes updates spread over the first n rows and ten
			// new rows (ids from 5*big up), a narrower batch (the staged
			// path) and deletes, each statement once.
			round := func(i, n int) {
				t.Helper()
				var ups []record.Record
				for k := 0; k < n; k += max(1, n/50) {
					ups = append(ups, sinktest.BenchRows(cols, k, 1, int64(100+i))...)
				}
				ups = append(ups, sinktest.BenchRows(cols, 5*big+10*i, 10, 1)...)
				if res := apply(record.Batch{Columns: cols, Upserts: ups}); res.Upserted != len(ups) {
					t.Fatalf("round %d: %d of %d upserts written", i, res.Upserted, len(ups))
				}
				var nups []record.Record
				for _, r := range sinktest.BenchRows(cols, 5*big+10*i, 5, 1000+int64(i)) {
					r.Values = r.Values[:len(narrow)]
					nups = append(nups, r)
				}
				if res := apply(record.Batch{Columns: narrow, Upserts: nups}); res.Upserted != len(nups) {
					t.Fatalf("round %d: %d of %d narrow upserts written", i, res.Upserted, len(nups))
				}
				var dels []record.Delete
				for k := range 5 {
					dels = append(dels, record.Delete{ID: sinktest.BenchRows(cols, 5*big+10*i+5+k, 1, 1)[0].ID, Version: 2000})
				}
				if res := apply(record.Batch{Deletes: dels}); res.Deleted != len(dels) {
					t.Fatalf("round %d: %d of %d deletes", i, res.Deleted, len(dels))
				}
			}
			// While the table is small, every statement runs more often
			// than the plan cache's five custom plans.
			apply(record.Batch{Columns: cols, Upserts: sinktest.BenchRows(cols, 0, 100, 1)})
			for i := range 8 {
				round(i, 100)
			}
			// The table grows.
			for i := range 3 {
				apply(record.Batch{Columns: cols, Upserts: sinktest.BenchRows(cols, 100+i*big, big, 1)})
			}
			seq0, idx0, _ := scans(t, s, tbl.TableName)
			for i := 8; i < 16; i++ {
				round(i, 3*big)
			}
			seq1, idx1, tup1 := scans(t, s, tbl.TableName)
			t.Logf("later batches: %d sequential scans, %d index scans", seq1-seq0, idx1-idx0)
			if seq1 != seq0 || idx1 == idx0 {
				t.Fatalf("the later batches made %d sequential scans and %d index scans of %s; want none and some", seq1-seq0, idx1-idx0, tbl.TableName)
			}
			// Page-sized batches (a Dataverse page: 5,000 records), where
			// the planner would rather scan the whole table and hash the
			// batch than probe 5,000 times: updates spread over the table
			// and new rows, a narrower batch, deletes.
			const page = 5000
			var ups []record.Record
			for k := 0; len(ups) < page/2; k += 5 {
				ups = append(ups, sinktest.BenchRows(cols, 100+k, 1, 500)...)
			}
			ups = append(ups, sinktest.BenchRows(cols, 7*big, page/2, 1)...)
			if res := apply(record.Batch{Columns: cols, Upserts: ups}); res.Upserted != len(ups) {
				t.Fatalf("page: %d of %d upserts written", res.Upserted, len(ups))
			}
			var nups []record.Record
			for _, r := range sinktest.BenchRows(cols, 100+big, page, 600) {
				r.Values = r.Values[:len(narrow)]
				nups = append(nups, r)
			}
			if res := apply(record.Batch{Columns: narrow, Upserts: nups}); res.Upserted != len(nups) {
				t.Fatalf("page: %d of %d narrow upserts written", res.Upserted, len(nups))
			}
			var dels []record.Delete
			for _, r := range sinktest.BenchRows(cols, 100+2*big, page, 1) {
				dels = append(dels, record.Delete{ID: r.ID, Version: 700})
			}
			if res := apply(record.Batch{Deletes: dels}); res.Deleted != len(dels) {
				t.Fatalf("page: %d of %d deletes", res.Deleted, len(dels))
			}
			seq2, idx2, tup2 := scans(t, s, tbl.TableName)
			t.Logf("page-sized batches: %d sequential scans, %d index scans, %d rows read", seq2-seq1, idx2-idx1, tup2-tup1)
			if seq2 != seq1 || idx2 == idx1 {
				t.Fatalf("the page-sized batches made %d sequential scans and %d index scans of %s; want none and some", seq2-seq1, idx2-idx1, tbl.TableName)
			}
			// Probes read the rows the batches name (each at most twice:
			// the write and its check), not the table: a full index scan
			// would read the table's 40,000 rows per statement.
			if read, most := tup2-tup1, int64(2*(len(ups)+len(nups)+len(dels))); read > most {
				t.Fatalf("the page-sized batches read %d rows of %s; want at most %d", read, tbl.TableName, most)
			}
		})
	}
}
