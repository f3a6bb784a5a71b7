package sqlserver

import (
	"context"
	"fmt"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// rowsSQL selects Id, versionnumber and columns of t, ordered by the id's
// text: SQL Server orders uniqueidentifier by its last byte group first,
// and readers return rows in the order of the lowercase id (the uppercase
// text SQL Server renders sorts the same under a binary collation).
func rowsSQL(t schema.TableName, columns []record.Column) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s, %s", qi(schema.ColID), qi(schema.ColVersion))
	for _, c := range columns {
		b.WriteString(", " + qi(c.Name))
	}
	fmt.Fprintf(&b, " FROM %s ORDER BY CONVERT(char(36), %s) COLLATE Latin1_General_BIN2;", qn(t), qi(schema.ColID))
	return b.String()
}

// Rows reads every row of table back, ordered by the lowercase id text.
func (s *Sink) Rows(ctx context.Context, table schema.TableName, columns []record.Column) ([]record.Record, error) {
	var out []record.Record
	err := s.Scan(ctx, table, columns, func(r record.Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Scan streams the rows of table to fn in the order and form Rows returns
// them, one row at a time (see sink.Scanner).
func (s *Sink) Scan(ctx context.Context, table schema.TableName, columns []record.Column, fn func(record.Record) error) error {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return fmt.Errorf("sqlserver sink: %w", err)
	}
	have, err := s.columns(ctx, table)
	if err != nil {
		return err
	}
	for _, c := range columns {
		if err := checkIdent(c.Name); err != nil {
			return fmt.Errorf("sqlserver sink: %w", err)
		}
		if _, ok := have[c.Name]; !ok && !sink.IsSinkTime(c.Name) {
			return &sink.UnknownColumnError{Table: table, Column: c.Name}
		}
	}
	rows, err := s.db.QueryContext(ctx, rowsSQL(table, columns))
	if err != nil {
		return fmt.Errorf("sqlserver sink: read %s: %w", table, err)
	}
	defer rows.Close()
	dest := make([]any, len(columns)+2)
	raw := make([]any, len(columns)+2)
	for i := range dest {
		dest[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("sqlserver sink: read %s: %w", table, err)
		}
		id, err := scanGUID(raw[0])
		if err != nil {
			return fmt.Errorf("sqlserver sink: read %s: %w", table, err)
		}
		r := record.Record{ID: id, Values: make([]record.Value, len(columns))}
		if v, ok := raw[1].(int64); ok {
			r.Version = v
		}
		for i, c := range columns {
			if r.Values[i], err = fromDB(raw[i+2], c.Kind); err != nil {
				return fmt.Errorf("sqlserver sink: read %s column %s: %w", table, c.Name, err)
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlserver sink: read %s: %w", table, err)
	}
	return nil
}

// Count is the number of rows of table.
func (s *Sink) Count(ctx context.Context, table schema.TableName) (int64, error) {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return 0, fmt.Errorf("sqlserver sink: %w", err)
	}
	if _, ok := s.cols.Get(table); !ok {
		if _, err := s.columns(ctx, table); err != nil {
			return 0, err
		}
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT_BIG(*) FROM "+qn(table)+";").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlserver sink: count %s: %w", table, err)
	}
	return n, nil
}

// scanGUID turns the driver's 16 mixed-endian bytes into lowercase text.
func scanGUID(v any) (string, error) {
	var u mssql.UniqueIdentifier
	if err := u.Scan(v); err != nil {
		return "", err
	}
	return strings.ToLower(u.String()), nil
}

// fromDB converts a scanned cell to a value of kind k, in the forms
// sink.Reader promises (canonical decimals, lowercase GUIDs, dates at 00:00 UTC).
func fromDB(v any, k record.Kind) (record.Value, error) {
	if v == nil {
		return record.NullValue(), nil
	}
	bad := func() (record.Value, error) { return record.Value{}, fmt.Errorf("cannot read %T as %s", v, k) }
	switch k {
	case record.String:
		if s, ok := v.(string); ok {
			return record.StringValue(s), nil
		}
	case record.Int:
		if i, ok := v.(int64); ok {
			return record.IntValue(i), nil
		}
	case record.Decimal:
		switch d := v.(type) {
		case []byte:
			return record.DecimalValue(sink.CanonicalDecimal(string(d))), nil
		case string:
			return record.DecimalValue(sink.CanonicalDecimal(d)), nil
		}
	case record.Float:
		if f, ok := v.(float64); ok {
			return record.FloatValue(f), nil
		}
	case record.Bool:
		if b, ok := v.(bool); ok {
			return record.BoolValue(b), nil
		}
	case record.DateTime, record.Date:
		if t, ok := v.(time.Time); ok {
			// datetime carries no zone; the sink writes UTC.
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
			if k == record.Date {
				return record.DateValue(t), nil
			}
			return record.DateTimeValue(t), nil
		}
	case record.GUID:
		s, err := scanGUID(v)
		if err != nil {
			return bad()
		}
		return record.GUIDValue(s), nil
	}
	return bad()
}

// Tombstones is the tombstone version per id (lowercase) of table.
func (s *Sink) Tombstones(ctx context.Context, table schema.TableName) (map[string]int64, error) {
	table = s.resolve(table)
	tb := s.names.tombstone()
	rows, err := s.db.QueryContext(ctx, "SELECT [Id], [VersionNumber] FROM "+qn(tb)+" WHERE [TableName] = @p1;", table.Name)
	if err != nil {
		return nil, fmt.Errorf("sqlserver sink: read tombstones: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var raw any
		var v int64
		if err := rows.Scan(&raw, &v); err != nil {
			return nil, fmt.Errorf("sqlserver sink: read tombstones: %w", err)
		}
		id, err := scanGUID(raw)
		if err != nil {
			return nil, fmt.Errorf("sqlserver sink: read tombstones: %w", err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlserver sink: read tombstones: %w", err)
	}
	return out, nil
}

// deleteLogSQL reads DES's delete log in a stable order; nothing when the
// table was never created (the profile does not write it).
func deleteLogSQL(dl schema.TableName) string {
	return fmt.Sprintf("IF OBJECT_ID(%s, N'U') IS NOT NULL\n    SELECT [Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber] FROM %s ORDER BY [RecordId], [VersionNumber];",
		qobj(dl), qn(dl))
}

// DeleteLog is the delete log, ordered by RecordId then VersionNumber.
func (s *Sink) DeleteLog(ctx context.Context) ([]sink.DeleteLogEntry, error) {
	rows, err := s.db.QueryContext(ctx, deleteLogSQL(s.names.deleteLog()))
	if err != nil {
		return nil, fmt.Errorf("sqlserver sink: read delete log: %w", err)
	}
	defer rows.Close()
	var out []sink.DeleteLogEntry
	for rows.Next() {
		var raw any
		var e sink.DeleteLogEntry
		var entity, recordID *string
		var when *time.Time
		var ver *int64
		if err := rows.Scan(&raw, &entity, &recordID, &when, &ver); err != nil {
			return nil, fmt.Errorf("sqlserver sink: read delete log: %w", err)
		}
		if e.ID, err = scanGUID(raw); err != nil {
			return nil, fmt.Errorf("sqlserver sink: read delete log: %w", err)
		}
		if entity != nil {
			e.EntityName = *entity
		}
		if recordID != nil {
			e.RecordID = *recordID
		}
		if when != nil {
			t := *when
			e.SinkDeleteTime = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		}
		if ver != nil {
			e.VersionNumber = *ver
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlserver sink: read delete log: %w", err)
	}
	return out, nil
}
