package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

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
// returns them, holding one row at a time (see sink.Scanner).
func (s *Sink) Scan(ctx context.Context, table schema.TableName, columns []record.Column, fn func(record.Record) error) error {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return fmt.Errorf("postgres sink: %w", err)
	}
	cols, err := s.freshColumns(ctx, table)
	if err != nil {
		return err
	}
	var sel strings.Builder
	fmt.Fprintf(&sel, "SELECT %s::text, %s", ident(schema.ColID), ident(schema.ColVersion))
	for _, c := range columns {
		if _, ok := cols[c.Name]; !ok && !sink.IsSinkTime(c.Name) {
			return &sink.UnknownColumnError{Table: table, Column: c.Name}
		}
		fmt.Fprintf(&sel, ", %s::text", ident(c.Name))
	}
	fmt.Fprintf(&sel, " FROM %s ORDER BY %s", qualified(table), ident(schema.ColID))
	cells := make([]*string, len(columns))
	dest := make([]any, 2+len(columns))
	err = s.pool.query(ctx, sel.String(), nil, func(rows pgx.Rows) error {
		var r record.Record
		dest[0], dest[1] = &r.ID, &r.Version
		for i := range cells {
			dest[2+i] = &cells[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		r.Values = make([]record.Value, len(columns))
		for i, c := range columns {
			var err error
			if r.Values[i], err = value(c.Kind, cells[i]); err != nil {
				return fmt.Errorf("record %s column %s: %w", r.ID, c.Name, err)
			}
		}
		return fn(r)
	})
	if err != nil {
		return fmt.Errorf("postgres sink: read %s: %w", table, err)
	}
	return nil
}

// Count is the number of rows of table.
func (s *Sink) Count(ctx context.Context, table schema.TableName) (int64, error) {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return 0, fmt.Errorf("postgres sink: %w", err)
	}
	if _, err := s.freshColumns(ctx, table); err != nil {
		return 0, err
	}
	var n int64
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT count(*) FROM "+qualified(table)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres sink: count %s: %w", table, err)
	}
	return n, nil
}

// Tombstones returns the tombstone version per id of table.
func (s *Sink) Tombstones(ctx context.Context, table schema.TableName) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.pool.query(ctx, `SELECT id::text, versionnumber FROM `+qualified(s.opts.Tombstones())+` WHERE tablename = $1`,
		[]any{s.resolve(table).Name}, func(rows pgx.Rows) error {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			out[id] = v
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres sink: tombstones of %s: %w", table, err)
	}
	return out, nil
}

// DeleteLog returns the delete log ordered by RecordId and VersionNumber;
// empty when the sink does not write one.
func (s *Sink) DeleteLog(ctx context.Context) ([]sink.DeleteLogEntry, error) {
	if !s.opts.WriteDeleteLog {
		return nil, nil
	}
	var out []sink.DeleteLogEntry
	err := s.pool.query(ctx, `SELECT id::text, entityname, recordid, sinkdeletetime, versionnumber FROM `+
		qualified(s.opts.DeleteLog())+` ORDER BY recordid, versionnumber`, nil, func(rows pgx.Rows) error {
		var e sink.DeleteLogEntry
		if err := rows.Scan(&e.ID, &e.EntityName, &e.RecordID, &e.SinkDeleteTime, &e.VersionNumber); err != nil {
			return err
		}
		e.SinkDeleteTime = e.SinkDeleteTime.UTC()
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres sink: read delete log: %w", err)
	}
	return out, nil
}

// freshColumns reads the data columns of table, refreshing the cache.
func (s *Sink) freshColumns(ctx context.Context, table schema.TableName) (map[string]schema.ColumnType, error) {
	var cols map[string]schema.ColumnType
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		var err error
		cols, err = s.columns(ctx, c, table)
		return err
	})
	return cols, err
}
