package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf16"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/shopspring/decimal"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// querierTx is what the write path needs of a transaction.
type querierTx interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// The staging statements are sent without parameters on purpose: a batch
// with parameters runs through sp_executesql, whose temp tables vanish when
// it returns; a plain batch creates them in the session, where the bulk copy
// and the MERGE that follow can see them.

// dropTempStmt clears a staging table a failed batch may have left on a
// pooled connection (a rollback drops it too; this is belt and braces).
func dropTempStmt(name string) string { return "DROP TABLE IF EXISTS " + qi(name) + ";" }

// stageUpsertStmt creates the staging table with the table's own column
// types (SELECT TOP (0) ... INTO copies them exactly, widened ones too), so
// bulk copy converts each value once, straight to the stored type.
func stageUpsertStmt(t schema.TableName, cols []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT TOP (0) %s, %s", qi(schema.ColID), qi(schema.ColVersion))
	for _, c := range cols {
		b.WriteString(", " + qi(c))
	}
	fmt.Fprintf(&b, " INTO %s FROM %s;", qi(stageTable), qn(t))
	return b.String()
}

const stageIDsStmt = "CREATE TABLE [" + stageIDs + "] ([Id] uniqueidentifier NOT NULL, [VersionNumber] bigint NOT NULL);"

// checkUpserts rejects, before anything is sent, the records holding
// values bulk copy would mangle or the server would reject mid-load
// (stopping a load half way leaves the connection mid-stream); types are
// the stored types of p.Columns.
func checkUpserts(p sink.Prepared, types []schema.ColumnType) []sink.Rejection {
	var rej []sink.Rejection
	for i := range p.Upserts {
		r := &p.Upserts[i]
		if err := checkRecord(p, types, r); err != nil {
			rej = append(rej, sink.Rejection{ID: r.ID, Version: r.Version, Err: err, Class: errclass.Record})
		}
	}
	return rej
}

func checkRecord(p sink.Prepared, types []schema.ColumnType, r *record.Record) error {
	if _, err := guid(r.ID); err != nil {
		return &sink.BatchError{Table: p.Table, ID: r.ID, Reason: "id is not a GUID"}
	}
	for j, v := range r.Values {
		if err := checkValue(v, types[j]); err != nil {
			return &sink.BatchError{Table: p.Table, ID: r.ID, Column: p.Columns[j].Name, Reason: err.Error()}
		}
	}
	return nil
}

// copyUpserts streams the checked records into the staging table.
func copyUpserts(ctx context.Context, tx querierTx, p sink.Prepared, types []schema.ColumnType) error {
	names := make([]string, 0, len(p.Columns)+2)
	names = append(names, schema.ColID, schema.ColVersion)
	for _, c := range p.Columns {
		names = append(names, c.Name)
	}
	stmt, err := tx.PrepareContext(ctx, mssql.CopyIn(stageTable, mssql.BulkOptions{Tablock: true}, names...))
	if err != nil {
		return err
	}
	defer stmt.Close()
	row := make([]any, len(names)) // reused: the driver encodes each row before returning
	for i := range p.Upserts {
		r := &p.Upserts[i]
		row[0], _ = guid(r.ID)
		row[1] = r.Version
		for j, v := range r.Values {
			row[j+2] = bulkValue(v, types[j])
		}
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return err
		}
	}
	_, err = stmt.ExecContext(ctx) // no arguments: flush and finish the bulk load
	return err
}

func copyDeletes(ctx context.Context, tx querierTx, dels []record.Delete) error {
	stmt, err := tx.PrepareContext(ctx, mssql.CopyIn(stageIDs, mssql.BulkOptions{Tablock: true}, "Id", "VersionNumber"))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, d := range dels {
		id, err := guid(d.ID)
		if err != nil {
			return fmt.Errorf("delete id is not a GUID: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, id, d.Version); err != nil {
			return err
		}
	}
	_, err = stmt.ExecContext(ctx)
	return err
}

func guid(s string) (mssql.UniqueIdentifier, error) {
	var u mssql.UniqueIdentifier
	err := u.Scan(s)
	return u, err
}

// minDateTime is the first instant SQL Server's datetime holds.
var minDateTime = time.Date(1753, 1, 1, 0, 0, 0, 0, time.UTC)

// checkValue refuses what bulk copy would get wrong, since it encodes
// without the server's checks: an int beyond 32 bits would be cut to its low
// bits, a date before 1753 does not fit datetime, and a string longer than
// its column would fail as an opaque TDS error instead of a BatchError
// naming the column. It allocates nothing for valid values.
func checkValue(v record.Value, ct schema.ColumnType) error {
	switch v.Kind {
	case record.String:
		if ct.Length > 0 && len(v.S) > ct.Length && utf16Len(v.S) > ct.Length {
			return fmt.Errorf("value longer than nvarchar(%d)", ct.Length)
		}
	case record.Int:
		if ct.Kind == record.Int && !ct.IsBigInt() && (v.I < math.MinInt32 || v.I > math.MaxInt32) {
			return fmt.Errorf("value out of range of int")
		}
	case record.Decimal:
		_, err := plainDecimal(v.S, ct.Scale)
		return err
	case record.DateTime, record.Date:
		if v.Time().Before(minDateTime) {
			return fmt.Errorf("value before 1753-01-01, the first day datetime holds")
		}
	case record.GUID:
		if _, err := guid(v.S); err != nil {
			return fmt.Errorf("value is not a GUID")
		}
	case record.Null, record.Float, record.Bool:
	default:
		return fmt.Errorf("value kind %s has no SQL Server encoding", v.Kind)
	}
	return nil
}

// bulkValue is the Go value go-mssqldb's bulk copy encodes for a value that
// passed checkValue: strings for nvarchar and decimal, int64, float64, bool,
// time.Time, and the mixed-endian bytes of a uniqueidentifier.
func bulkValue(v record.Value, ct schema.ColumnType) any {
	switch v.Kind {
	case record.String:
		return v.S
	case record.Int:
		return v.I
	case record.Decimal:
		s, _ := plainDecimal(v.S, ct.Scale)
		return s
	case record.Float:
		return v.Float()
	case record.Bool:
		return v.Bool()
	case record.DateTime, record.Date:
		return v.Time()
	case record.GUID:
		u, _ := guid(v.S)
		return u
	}
	return nil
}

// plainDecimal is s as the driver's decimal encoder reads it: plain digits
// without exponent or '+', and at most scale fractional digits. Extra digits
// are rounded half away from zero, as SQL Server rounds when it converts.
func plainDecimal(s string, scale int) (string, error) {
	if !sink.IsDecimal(s) {
		return "", fmt.Errorf("value is not a decimal number")
	}
	if !strings.ContainsAny(s, "eE+") && fracDigits(s) <= scale {
		return s, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "", fmt.Errorf("value is not a decimal number")
	}
	return d.Round(int32(scale)).String(), nil
}

// utf16Len counts what nvarchar(n) counts: UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func fracDigits(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}
