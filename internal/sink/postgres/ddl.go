package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// readColumns lists the data columns of t (system columns left out), or nil
// if t does not exist.
func readColumns(ctx context.Context, q queryer, t schema.TableName) ([]schema.Column, error) {
	rows, err := q.Query(ctx, `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale
FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: columns of %s: %w", t, err)
	}
	defer rows.Close()
	var out []schema.Column
	found := false
	for rows.Next() {
		found = true
		var name, dataType string
		var length, precision, scale *int32
		if err := rows.Scan(&name, &dataType, &length, &precision, &scale); err != nil {
			return nil, fmt.Errorf("postgres sink: columns of %s: %w", t, err)
		}
		if isSystem(name) {
			continue
		}
		ct, err := parseType(dataType, length, precision, scale)
		if err != nil {
			return nil, fmt.Errorf("postgres sink: %s column %s: %w", t, name, err)
		}
		out = append(out, schema.Column{Name: name, Type: ct})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres sink: columns of %s: %w", t, err)
	}
	if found && out == nil {
		out = []schema.Column{}
	}
	return out, nil
}

func isSystem(name string) bool {
	for _, c := range schema.SystemColumns {
		if lower(c.Name) == name {
			return true
		}
	}
	return false
}

// lockTable serialises DDL on one table across sinks and processes.
func lockTable(ctx context.Context, tx pgx.Tx, t schema.TableName) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, lockKey(t))
	return err
}

// lockKey names a table's advisory lock, the same for every writer.
func lockKey(t schema.TableName) string { return "dataexport:" + t.Schema + "." + t.Name }

// EnsureTable creates t, adds its missing columns and widens columns t
// declares wider (ALTER COLUMN … TYPE). A kind change is a
// *schema.IncompatibleChangeError and changes nothing.
func (s *Sink) EnsureTable(ctx context.Context, t schema.Table) error {
	t.TableName = s.resolve(t.TableName)
	if err := t.Check(); err != nil {
		return fmt.Errorf("postgres sink: %w", err)
	}
	defer s.cols.Forget(t.TableName)
	var stmts []string
	view := s.labelViewOf(t.TableName, t.Labels)
	var viewErr error
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, t.TableName); err != nil {
			return err
		}
		// The label view is made again around the table's DDL. Failing
		// that (a view of the user's own reads it) keeps the old view and
		// the table follows its metadata all the same, unless a column the
		// view reads must change type: PostgreSQL's error then says why.
		keepView := inSavepoint(ctx, tx, func(tx pgx.Tx) error { return dropLabelView(ctx, tx, view) })
		existing, err := readColumns(ctx, tx, t.TableName)
		if err != nil {
			return err
		}
		if stmts, err = ensureSQL(t, existing); err != nil {
			return err
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		viewErr = keepView
		if keepView == nil && t.Labels != nil {
			viewErr = inSavepoint(ctx, tx, func(tx pgx.Tx) error { return createLabelView(ctx, tx, view, t.TableName, t.Labels) })
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres sink: ensure %s: %w", t.TableName, err)
	}
	if len(stmts) > 0 {
		s.pool.bump()
		s.opts.Log().InfoContext(ctx, "postgres sink: table ensured", "table", t.TableName.String(), "statements", len(stmts))
	}
	if viewErr != nil {
		s.opts.Log().WarnContext(ctx, "postgres sink: label view not made again; the table is up to date", "table", t.TableName.String(), "view", view.String(), "err", viewErr)
	}
	return nil
}

// ensureSQL is the DDL that brings a table with existing data columns (nil:
// no table) to t.
func ensureSQL(t schema.Table, existing []schema.Column) ([]string, error) {
	if existing == nil {
		q, err := createSQL(t)
		return []string{q}, err
	}
	plan, err := schema.PlanChanges(existing, t)
	if err != nil {
		return nil, err
	}
	// One ALTER TABLE with every action: the table is rewritten at most once.
	var actions []string
	for _, c := range plan.Add {
		ts, err := typeSQL(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		actions = append(actions, fmt.Sprintf("ADD COLUMN IF NOT EXISTS %s %s", ident(c.Name), ts))
	}
	for _, w := range plan.Widen {
		ts, err := typeSQL(w.To)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", w.Column, err)
		}
		actions = append(actions, fmt.Sprintf("ALTER COLUMN %s TYPE %s", ident(w.Column), ts))
	}
	if len(actions) == 0 {
		return nil, nil
	}
	return []string{fmt.Sprintf("ALTER TABLE %s\n\t%s", qualified(t.TableName), strings.Join(actions, ",\n\t"))}, nil
}

// createSQL is the CREATE TABLE statement of t.
func createSQL(t schema.Table) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", qualified(t.TableName))
	fmt.Fprintf(&b, "\t%s uuid NOT NULL PRIMARY KEY", ident(schema.ColID))
	sys := schema.SystemColumns[1:]
	for _, c := range append(sys[:len(sys):len(sys)], t.Columns...) {
		ts, err := typeSQL(c.Type)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", c.Name, err)
		}
		fmt.Fprintf(&b, ",\n\t%s %s", ident(c.Name), ts)
	}
	b.WriteString("\n)")
	return b.String(), nil
}

// DropTable drops an entity's table and its tombstones: the explicit cleanup
// for an entity removed from the profile (nothing is dropped implicitly).
func (s *Sink) DropTable(ctx context.Context, table schema.TableName) error {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return fmt.Errorf("postgres sink: %w", err)
	}
	defer s.cols.Forget(table)
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, table); err != nil {
			return err
		}
		if err := dropLabelView(ctx, tx, s.labelViewOf(table, nil)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+qualified(table)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+qualified(s.opts.Tombstones())+` WHERE tablename = $1`, table.Name); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM `+qualified(s.opts.Keys())+` WHERE tablename = $1`, table.Name)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres sink: drop %s: %w", table, err)
	}
	s.pool.bump()
	s.opts.Log().InfoContext(ctx, "postgres sink: table dropped", "table", table.String())
	return nil
}

// RemovedColumns lists the data columns of t's table that t does not
// declare (see sink.ColumnDropper).
func (s *Sink) RemovedColumns(ctx context.Context, t schema.Table) ([]string, error) {
	t.TableName = s.resolve(t.TableName)
	var have []schema.Column
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		var err error
		have, err = readColumns(ctx, c, t.TableName)
		return err
	})
	if err != nil {
		return nil, err
	}
	if have == nil {
		return nil, &sink.NoTableError{Table: t.TableName}
	}
	return sink.Removed(have, t), nil
}

// TableColumns lists the data columns of table as stored (see
// sink.SchemaReader).
func (s *Sink) TableColumns(ctx context.Context, table schema.TableName) ([]schema.Column, error) {
	table = s.resolve(table)
	var have []schema.Column
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		var err error
		have, err = readColumns(ctx, c, table)
		return err
	})
	if err != nil {
		return nil, err
	}
	if have == nil {
		return nil, &sink.NoTableError{Table: table}
	}
	return have, nil
}

// DropColumns drops columns of removed attributes (see sink.ColumnDropper),
// under the table's writer lock so no batch is half-way through.
func (s *Sink) DropColumns(ctx context.Context, t schema.Table, names []string) error {
	t.TableName = s.resolve(t.TableName)
	if err := t.Check(); err != nil {
		return fmt.Errorf("postgres sink: %w", err)
	}
	defer s.cols.Forget(t.TableName)
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, t.TableName); err != nil {
			return err
		}
		have, err := readColumns(ctx, tx, t.TableName)
		if err != nil {
			return err
		}
		if have == nil {
			return &sink.NoTableError{Table: t.TableName}
		}
		if err := sink.CheckDrop(t, sink.Removed(have, t), names); err != nil {
			return err
		}
		drops := make([]string, len(names))
		for i, n := range names {
			drops[i] = "DROP COLUMN " + ident(n)
		}
		view := s.labelViewOf(t.TableName, t.Labels)
		if err := dropLabelView(ctx, tx, view); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, "ALTER TABLE "+qualified(t.TableName)+" "+strings.Join(drops, ", ")); err != nil {
			return err
		}
		if t.Labels == nil {
			return nil
		}
		return createLabelView(ctx, tx, view, t.TableName, t.Labels)
	})
	if err != nil {
		return fmt.Errorf("postgres sink: drop columns of %s: %w", t.TableName, err)
	}
	s.opts.Log().InfoContext(ctx, "postgres sink: columns dropped", "table", t.TableName.String(), "columns", names)
	return nil
}
