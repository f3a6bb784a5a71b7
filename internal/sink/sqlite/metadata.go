package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

func (s *Sink) metaName(name string) schema.TableName {
	return s.opts.TableOptions().TableName(name)
}

// EnsureMetadataTables creates the DES metadata tables that are missing.
func (s *Sink) EnsureMetadataTables(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite sink: metadata tables: %w", err)
	}
	for _, m := range schema.MetadataTables() {
		if _, err := tx.ExecContext(ctx, metadataCreateSQL(s.metaName(m.Name), m)); err != nil {
			return rollback(tx, fmt.Errorf("sqlite sink: create %s: %w", m.Name, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite sink: metadata tables: %w", err)
	}
	return nil
}

func metadataCreateSQL(name schema.TableName, m schema.MetadataTable) string {
	var cols []string
	for _, c := range m.Columns {
		ts, _ := typeSQL(c.Type) // metadata layouts use only mapped kinds
		def := quote(c.Name) + " " + ts
		if c.Name == m.PrimaryKey {
			def += " NOT NULL PRIMARY KEY"
		}
		cols = append(cols, def)
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n\t%s\n)", qualified(name), strings.Join(cols, ",\n\t"))
}

// ReplaceMetadata replaces the rows of every set's keys in one transaction.
func (s *Sink) ReplaceMetadata(ctx context.Context, sets []schema.MetadataRows) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite sink: replace metadata: %w", err)
	}
	for _, set := range sets {
		if err := s.replaceSet(ctx, tx, set); err != nil {
			return rollback(tx, fmt.Errorf("sqlite sink: replace %s: %w", set.Table.Name, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite sink: replace metadata: %w", err)
	}
	return nil
}

func (s *Sink) replaceSet(ctx context.Context, tx *sql.Tx, set schema.MetadataRows) error {
	m, ok := sink.MetadataTable(set.Table.Name)
	if !ok {
		return fmt.Errorf("not a metadata table")
	}
	name := qualified(s.metaName(m.Name))
	del, err := tx.PrepareContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s = ?", name, quote(m.Key)))
	if err != nil {
		return err
	}
	defer del.Close()
	for _, k := range set.Keys {
		if _, err := del.ExecContext(ctx, k); err != nil {
			return err
		}
	}
	if len(set.Rows) == 0 {
		return nil
	}
	names := make([]string, len(m.Columns))
	marks := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		names[i], marks[i] = quote(c.Name), "?"
	}
	ins, err := tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", name, strings.Join(names, ", "), strings.Join(marks, ", ")))
	if err != nil {
		return err
	}
	defer ins.Close()
	args := make([]any, len(m.Columns))
	for _, r := range set.Rows {
		if len(r) != len(m.Columns) {
			return fmt.Errorf("row of %d values for %d columns", len(r), len(m.Columns))
		}
		for i, v := range r {
			args[i] = arg(v)
		}
		if _, err := ins.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// ReadMetadata returns the rows of one metadata table ordered by every column.
func (s *Sink) ReadMetadata(ctx context.Context, name string) ([][]record.Value, error) {
	m, ok := sink.MetadataTable(name)
	if !ok {
		return nil, fmt.Errorf("sqlite sink: %q is not a metadata table", name)
	}
	names := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		names[i] = quote(c.Name)
	}
	list := strings.Join(names, ", ")
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", list, qualified(s.metaName(m.Name)), list))
	if err != nil {
		return nil, fmt.Errorf("sqlite sink: read %s: %w", name, err)
	}
	defer rows.Close()
	var out [][]record.Value
	cells := make([]any, len(m.Columns))
	ptrs := make([]any, len(cells))
	for i := range cells {
		ptrs[i] = &cells[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("sqlite sink: read %s: %w", name, err)
		}
		r := make([]record.Value, len(cells))
		for i, c := range m.Columns {
			if r[i], err = value(c.Type.Kind, cells[i]); err != nil {
				return nil, fmt.Errorf("sqlite sink: read %s column %s: %w", name, c.Name, err)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
