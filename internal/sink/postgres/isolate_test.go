package postgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// failedAt turns the line a COPY stopped at into the batch's record, and
// leaves every other error alone.
func TestFailedAt(t *testing.T) {
	keep := []int{0, 2, 5, 9} // rows the COPY sent, by batch index
	row := func(i int) (int, bool) {
		if i < 0 || i >= len(keep) {
			return 0, false
		}
		return keep[i], true
	}
	pg := func(code, where string) error {
		return fmt.Errorf("copy: %w", &pgconn.PgError{Code: code, Where: where, Message: "x"})
	}
	tests := []struct {
		name string
		err  error
		at   int // -1: no location
	}{
		{"check violation on line 3", pg("23514", "COPY account, line 3"), 5},
		{"value too long on line 1, column named", pg("22001", "COPY account, line 1, column name"), 0},
		{"line beyond what was sent", pg("23514", "COPY account, line 9"), -1},
		{"localised context", pg("23514", "COPY account, Zeile 3"), -1},
		{"not a record error", pg("57P01", "COPY account, line 3"), -1},
		{"no context", pg("23505", ""), -1},
		{"not a server error", errors.New("conn closed"), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failedAt(tt.err, row)
			var fa *sink.FailedAt
			switch {
			case tt.at < 0 && errors.As(got, &fa):
				t.Fatalf("failedAt = %+v, want no location", fa)
			case tt.at < 0 && got != tt.err:
				t.Fatalf("failedAt changed the error: %v", got)
			case tt.at >= 0 && (!errors.As(got, &fa) || fa.Index != tt.at || fa.Delete):
				t.Fatalf("failedAt = %v, want the upsert at %d", got, tt.at)
			case errclass.Of(got) != errclass.Of(tt.err):
				t.Fatalf("class changed: %s", errclass.Of(got))
			}
		})
	}
}

// Records PostgreSQL refuses are isolated on both write paths: delete-and-
// COPY (located by the COPY's line) and the staging table (split), and a
// value the column cannot hold (numeric overflow, found by COPY).
func TestRecordIsolation(t *testing.T) {
	ctx := t.Context()
	s := open(t, sink.Options{}).(target)
	e := sinktest.Account("account")
	tbl := accountTable(t, s.Sink)
	if err := s.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	var cols []record.Column
	for _, f := range dataverse.Fields(e) {
		cols = append(cols, f.Column)
	}
	idx := func(name string) int {
		for i, c := range cols {
			if c.Name == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return 0
	}
	if err := s.Refuse(ctx, tbl.TableName, "numberofemployees", -7); err != nil {
		t.Fatal(err)
	}
	rows := sinktest.BenchRows(cols, 0, 300, 1)
	for i := range rows {
		rows[i].Values[idx("numberofemployees")] = record.IntValue(int64(i))
		rows[i].Values[idx("revenue")] = record.DecimalValue("1.5")
	}
	rows[10].Values[idx("numberofemployees")] = record.IntValue(-7)
	rows[150].Values[idx("revenue")] = record.DecimalValue(strings.Repeat("9", 40)) // beyond numeric(38,2)
	rows[299].Values[idx("numberofemployees")] = record.IntValue(-7)
	check := func(what string, res sink.Result, err error, n int, want ...string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var got []string
		for _, r := range res.Rejected {
			got = append(got, r.ID)
			if errclass.Of(r.Err) != errclass.Record || !strings.Contains(r.Err.Error(), "SQLSTATE") {
				t.Errorf("%s: rejection of %s: %v", what, r.ID, r.Err)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") || res.Upserted != n {
			t.Fatalf("%s: %d written, rejected %v; want %d and %v", what, res.Upserted, got, n, want)
		}
	}
	res, err := s.Apply(ctx, tbl.TableName, record.Batch{Entity: "account", Columns: cols, Upserts: rows})
	check("delete-and-COPY", res, err, 297, rows[10].ID, rows[150].ID, rows[299].ID)

	// The staging path: a batch without the last column.
	narrow := cols[:len(cols)-1]
	var ups []record.Record
	for _, r := range sinktest.BenchRows(cols, 1000, 64, 1) {
		r.Values = r.Values[:len(narrow)]
		r.Values[idx("numberofemployees")] = record.IntValue(1)
		r.Values[idx("revenue")] = record.NullValue()
		ups = append(ups, r)
	}
	ups[40].Values[idx("numberofemployees")] = record.IntValue(-7)
	ups[3].Values[idx("revenue")] = record.DecimalValue(strings.Repeat("9", 40))
	res, err = s.Apply(ctx, tbl.TableName, record.Batch{Entity: "account", Columns: narrow, Upserts: ups})
	check("staged", res, err, 62, ups[3].ID, ups[40].ID)
	if n, err := s.Count(ctx, tbl.TableName); err != nil || n != 297+62 {
		t.Fatalf("Count = %d, %v; want %d", n, err, 297+62)
	}
}
