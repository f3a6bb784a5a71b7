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

func (s *Sink) metaName(name string) schema.TableName {
	return s.opts.TableOptions().TableName(name)
}

// EnsureMetadataTables creates the DES metadata tables that are missing.
func (s *Sink) EnsureMetadataTables(ctx context.Context) error {
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "dataexport:"+s.opts.Schema); err != nil {
			return err
		}
		for _, m := range schema.MetadataTables() {
			if _, err := tx.Exec(ctx, metadataCreateSQL(s.metaName(m.Name), m)); err != nil {
				return fmt.Errorf("create %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres sink: metadata tables: %w", err)
	}
	return nil
}

func metadataCreateSQL(name schema.TableName, m schema.MetadataTable) string {
	var cols []string
	for _, c := range m.Columns {
		ts, _ := typeSQL(c.Type) // metadata layouts use only mapped kinds
		def := ident(c.Name) + " " + ts
		if c.Name == m.PrimaryKey {
			def += " NOT NULL PRIMARY KEY"
		}
		cols = append(cols, def)
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n\t%s\n)", qualified(name), strings.Join(cols, ",\n\t"))
}

// ReplaceMetadata replaces the rows of every set's keys in one transaction:
// one DELETE per table, then COPY.
func (s *Sink) ReplaceMetadata(ctx context.Context, sets []schema.MetadataRows) error {
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		// Writers of the metadata tables take turns: two pollers replacing
		// the same entity's rows would both delete nothing, then both insert.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "dataexport:metadata:"+s.opts.Schema); err != nil {
			return err
		}
		for _, set := range sets {
			m, ok := sink.MetadataTable(set.Table.Name)
			if !ok {
				return fmt.Errorf("%q is not a metadata table", set.Table.Name)
			}
			name := s.metaName(m.Name)
			if _, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s = ANY($1::text[])", qualified(name), ident(m.Key)), set.Keys); err != nil {
				return fmt.Errorf("replace %s: %w", m.Name, err)
			}
			if len(set.Rows) == 0 {
				continue
			}
			names := make([]string, len(m.Columns))
			for i, c := range m.Columns {
				names[i] = c.Name
			}
			rows := make([][]any, len(set.Rows))
			for i, r := range set.Rows {
				if len(r) != len(m.Columns) {
					return fmt.Errorf("replace %s: row of %d values for %d columns", m.Name, len(r), len(m.Columns))
				}
				rows[i] = make([]any, len(r))
				for j, v := range r {
					var err error
					if rows[i][j], err = arg(v); err != nil {
						return fmt.Errorf("replace %s column %s: %w", m.Name, m.Columns[j].Name, err)
					}
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{name.Schema, lower(name.Name)}, lowerAll(names), pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("replace %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres sink: replace metadata: %w", err)
	}
	return nil
}

// ReadMetadata returns the rows of one metadata table ordered by every column.
func (s *Sink) ReadMetadata(ctx context.Context, name string) ([][]record.Value, error) {
	m, ok := sink.MetadataTable(name)
	if !ok {
		return nil, fmt.Errorf("postgres sink: %q is not a metadata table", name)
	}
	sel := make([]string, len(m.Columns))
	order := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		sel[i], order[i] = ident(c.Name)+"::text", ident(c.Name)
	}
	var out [][]record.Value
	cells := make([]*string, len(m.Columns))
	dest := make([]any, len(cells))
	for i := range cells {
		dest[i] = &cells[i]
	}
	q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s", strings.Join(sel, ", "), qualified(s.metaName(m.Name)), strings.Join(order, ", "))
	err := s.pool.query(ctx, q, nil, func(rows pgx.Rows) error {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		r := make([]record.Value, len(cells))
		for i, c := range m.Columns {
			var err error
			if r[i], err = value(c.Type.Kind, cells[i]); err != nil {
				return fmt.Errorf("column %s: %w", c.Name, err)
			}
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres sink: read %s: %w", name, err)
	}
	return out, nil
}
