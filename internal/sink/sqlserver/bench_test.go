package sqlserver

import (
	"fmt"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// benchRows is a batch of n account rows at version v, every kind present.
func benchRows(n int, v int64) ([]record.Column, []record.Record) {
	cols := make([]record.Column, len(account.Columns))
	for i, c := range account.Columns {
		cols[i] = record.Column{Name: c.Name, Kind: c.Type.Kind}
	}
	base := time.Date(2024, 2, 29, 13, 45, 30, 0, time.UTC)
	recs := make([]record.Record, n)
	for i := range recs {
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		vals := make([]record.Value, len(cols))
		for j, c := range account.Columns {
			switch c.Type.Kind {
			case record.GUID:
				vals[j] = record.GUIDValue(id)
			case record.String:
				vals[j] = record.StringValue(fmt.Sprintf("Contoso %d v%d", i, v))
			case record.Int:
				vals[j] = record.IntValue(int64(i))
			case record.Decimal:
				vals[j] = record.DecimalValue("1234.5")
			case record.Float:
				vals[j] = record.FloatValue(47.64216)
			case record.Bool:
				vals[j] = record.BoolValue(i%2 == 0)
			case record.DateTime:
				vals[j] = record.DateTimeValue(base.Add(time.Duration(i) * time.Second))
			case record.Date:
				vals[j] = record.DateValue(base)
			}
		}
		recs[i] = record.Record{ID: id, Version: v, Values: vals}
	}
	return cols, recs
}

// BenchmarkApplyUpsert measures Apply (bulk copy into staging + one MERGE,
// every row an update to a newer version) against BenchmarkRawCopyIn, a bare
// bulk copy of the same rows into a heap with the table's columns: the gap
// is what the version-guarded MERGE costs.
func BenchmarkApplyUpsert(b *testing.B) {
	conn := liveConn(b)
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openLive(b, conn, sink.Options{Prefix: "crm"})
			ctx := b.Context()
			if err := s.EnsureTable(ctx, account); err != nil {
				b.Fatal(err)
			}
			cols, recs := benchRows(n, 1)
			if _, err := s.Apply(ctx, account.TableName, record.Batch{Entity: "account", Columns: cols, Upserts: recs}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range recs {
					recs[j].Version = int64(i + 2)
				}
				res, err := s.Apply(ctx, account.TableName, record.Batch{Entity: "account", Columns: cols, Upserts: recs})
				if err != nil {
					b.Fatal(err)
				}
				if res.Upserted != n {
					b.Fatalf("upserted %d of %d", res.Upserted, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkRawCopyIn(b *testing.B) {
	conn := liveConn(b)
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := openLive(b, conn, sink.Options{Prefix: "crm"})
			ctx := b.Context()
			if err := s.EnsureTable(ctx, account); err != nil {
				b.Fatal(err)
			}
			heap := schema.TableName{Schema: s.Options().Schema, Name: "rawcopy"}
			if _, err := s.DB().ExecContext(ctx, fmt.Sprintf("SELECT TOP (0) * INTO %s FROM %s;", qn(heap), qn(s.resolve(account.TableName)))); err != nil {
				b.Fatal(err)
			}
			cols, recs := benchRows(n, 1)
			names := []string{schema.ColID, schema.ColVersion}
			types := make([]schema.ColumnType, len(cols))
			for i, c := range cols {
				names = append(names, c.Name)
				types[i] = account.Columns[i].Type
			}
			row := make([]any, len(names))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tx, err := s.DB().BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				stmt, err := tx.PrepareContext(ctx, mssql.CopyIn(heap.Schema+"."+heap.Name, mssql.BulkOptions{Tablock: true}, names...))
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					row[0], _ = guid(r.ID)
					row[1] = r.Version
					for j, v := range r.Values {
						row[j+2] = bulkValue(v, types[j])
					}
					if _, err := stmt.ExecContext(ctx, row...); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := stmt.ExecContext(ctx); err != nil {
					b.Fatal(err)
				}
				stmt.Close()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkGenerateUpsertSQL is the Go-side cost of building the statements
// of one Apply for a 14-column entity; it runs without a server.
func BenchmarkGenerateUpsertSQL(b *testing.B) {
	n := newNaming("dbo", "crm")
	w := writeTarget{Table: n.table(account.TableName), Entity: "account", Tombstone: n.tombstone()}
	names := make([]string, len(account.Columns))
	for i, c := range account.Columns {
		names[i] = c.Name
	}
	for b.Loop() {
		_ = stageUpsertStmt(w.Table, names)
		_ = upsertSQL(w, names, qi(stageTable), false)
		_ = deleteSQL(w, qi(stageIDs))
	}
}

// BenchmarkBulkValues is the Go-side cost of checking and converting the
// values of 1000 rows for bulk copy (twice per value, as Apply does).
func BenchmarkBulkValues(b *testing.B) {
	cols, recs := benchRows(1000, 1)
	types := make([]schema.ColumnType, len(cols))
	for i := range cols {
		types[i] = account.Columns[i].Type
	}
	p := sink.Prepared{Columns: cols, Upserts: recs}
	row := make([]any, len(cols))
	for b.Loop() {
		if err := checkUpserts(p, types); err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			for j, v := range r.Values {
				row[j] = bulkValue(v, types[j])
			}
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
}
