package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// tableColumnsQuery lists a table's columns in order (@p1: N'[schema].[name]').
const tableColumnsQuery = `SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.columns AS c
WHERE c.[object_id] = OBJECT_ID(@p1, N'U')
ORDER BY c.[column_id];`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// readDBColumns runs a column query; no rows means no such object.
func readDBColumns(ctx context.Context, q querier, query string, args ...any) ([]dbColumn, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dbColumn
	for rows.Next() {
		var c dbColumn
		var maxLen, prec, scale int64
		if err := rows.Scan(&c.Name, &c.Type, &maxLen, &prec, &scale, &c.Nullable); err != nil {
			return nil, err
		}
		c.MaxLength, c.Precision, c.Scale = int(maxLen), int(prec), int(scale)
		out = append(out, c)
	}
	return out, rows.Err()
}

// columnType maps a stored column back to the neutral model, for
// sink.Prepare and schema.PlanChanges. A type this package never creates
// maps to kind Null, which no batch kind fits.
func (c dbColumn) columnType() schema.ColumnType {
	switch strings.ToLower(c.Type) {
	case "nvarchar", "nchar", "varchar", "char":
		n := c.MaxLength
		if strings.HasPrefix(strings.ToLower(c.Type), "n") {
			n /= 2
		}
		if c.MaxLength < 0 {
			n = 0
		}
		return schema.ColumnType{Kind: record.String, Length: n}
	case "int", "smallint", "tinyint":
		return schema.IntType()
	case "bigint":
		return schema.BigIntType()
	case "decimal", "numeric":
		return schema.ColumnType{Kind: record.Decimal, Precision: c.Precision, Scale: c.Scale}
	case "float", "real":
		return schema.ColumnType{Kind: record.Float}
	case "bit":
		return schema.ColumnType{Kind: record.Bool}
	case "datetime", "datetime2", "smalldatetime", "date":
		return schema.ColumnType{Kind: record.DateTime}
	case "uniqueidentifier":
		return schema.ColumnType{Kind: record.GUID}
	}
	return schema.ColumnType{Kind: record.Null}
}

// dataColumns are the stored columns minus the system columns.
func dataColumns(have []dbColumn) []schema.Column {
	sys := map[string]bool{}
	for _, c := range schema.SystemColumns {
		sys[strings.ToLower(c.Name)] = true
	}
	out := make([]schema.Column, 0, len(have))
	for _, c := range have {
		if sys[strings.ToLower(c.Name)] {
			continue
		}
		out = append(out, schema.Column{Name: c.Name, Type: c.columnType()})
	}
	return out
}

// planStmts turns a change plan into idempotent ALTERs.
func planStmts(t schema.TableName, p schema.Plan) ([]string, error) {
	var out []string
	for _, c := range p.Add {
		typ, err := sqlType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t, c.Name, err)
		}
		out = append(out, addColumnStmt(t, column{Name: c.Name, Type: typ, Want: c.Type}))
	}
	for _, w := range p.Widen {
		typ, err := sqlType(w.To)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t, w.Column, err)
		}
		if s := widenColumnStmt(t, column{Name: w.Column, Type: typ, Want: w.To}); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}
