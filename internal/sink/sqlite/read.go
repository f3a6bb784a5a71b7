package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// Rows returns every row of table ordered by Id (see sink.Reader).
func (s *Sink) Rows(ctx context.Context, table schema.TableName, columns []record.Column) ([]record.Record, error) {
	var out []record.Record
	err := s.Scan(ctx, table, columns, func(r record.Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Scan streams the rows of table ordered by Id to fn, in the form Rows
// returns them, holding one row at a time (see sink.Scanner). fn must not
// use the sink: the only connection is busy reading.
func (s *Sink) Scan(ctx context.Context, table schema.TableName, columns []record.Column, fn func(record.Record) error) error {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return fmt.Errorf("sqlite sink: %w", err)
	}
	cols, err := s.columns(ctx, table)
	if err != nil {
		return err
	}
	var sel strings.Builder
	fmt.Fprintf(&sel, "SELECT %s, %s", quote(schema.ColID), quote(schema.ColVersion))
	for _, c := range columns {
		if _, ok := cols[c.Name]; !ok && !sink.IsSinkTime(c.Name) {
			return &sink.UnknownColumnError{Table: table, Column: c.Name}
		}
		fmt.Fprintf(&sel, ", %s", quote(c.Name))
	}
	fmt.Fprintf(&sel, " FROM %s ORDER BY %s", qualified(table), quote(schema.ColID))
	rows, err := s.db.QueryContext(ctx, sel.String())
	if err != nil {
		return fmt.Errorf("sqlite sink: read %s: %w", table, err)
	}
	defer rows.Close()
	cells := make([]any, 2+len(columns))
	ptrs := make([]any, len(cells))
	for i := range cells {
		ptrs[i] = &cells[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("sqlite sink: read %s: %w", table, err)
		}
		id, err := text(cells[0])
		if err != nil {
			return fmt.Errorf("sqlite sink: read %s: Id: %w", table, err)
		}
		r := record.Record{ID: strings.ToLower(id), Values: make([]record.Value, len(columns))}
		if v, ok := cells[1].(int64); ok {
			r.Version = v
		}
		for i, c := range columns {
			if r.Values[i], err = value(c.Kind, cells[2+i]); err != nil {
				return fmt.Errorf("sqlite sink: read %s record %s column %s: %w", table, r.ID, c.Name, err)
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite sink: read %s: %w", table, err)
	}
	return nil
}

// Count is the number of rows of table.
func (s *Sink) Count(ctx context.Context, table schema.TableName) (int64, error) {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return 0, fmt.Errorf("sqlite sink: %w", err)
	}
	if _, err := s.columns(ctx, table); err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+qualified(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite sink: count %s: %w", table, err)
	}
	return n, nil
}

// Tombstones returns the tombstone version per id of table.
func (s *Sink) Tombstones(ctx context.Context, table schema.TableName) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT "Id", "VersionNumber" FROM `+qualified(s.opts.Tombstones())+` WHERE "TableName" = ?`, table.Name)
	if err != nil {
		return nil, fmt.Errorf("sqlite sink: tombstones of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("sqlite sink: tombstones of %s: %w", table, err)
		}
		out[id] = v
	}
	return out, rows.Err()
}

// DeleteLog returns the delete log ordered by RecordId and VersionNumber;
// empty when the sink does not write one.
func (s *Sink) DeleteLog(ctx context.Context) ([]sink.DeleteLogEntry, error) {
	if !s.opts.WriteDeleteLog {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT "Id", "EntityName", "RecordId", "SinkDeleteTime", "VersionNumber" FROM `+
		qualified(s.opts.DeleteLog())+` ORDER BY "RecordId", "VersionNumber"`)
	if err != nil {
		return nil, fmt.Errorf("sqlite sink: read delete log: %w", err)
	}
	defer rows.Close()
	var out []sink.DeleteLogEntry
	for rows.Next() {
		var e sink.DeleteLogEntry
		var at string
		if err := rows.Scan(&e.ID, &e.EntityName, &e.RecordID, &at, &e.VersionNumber); err != nil {
			return nil, fmt.Errorf("sqlite sink: read delete log: %w", err)
		}
		if e.SinkDeleteTime, err = time.Parse(TimeLayout, at); err != nil {
			return nil, fmt.Errorf("sqlite sink: read delete log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
