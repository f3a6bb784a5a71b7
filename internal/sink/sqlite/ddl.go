package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// readColumns lists the data columns of t (system columns left out), or nil
// if t does not exist.
func readColumns(ctx context.Context, q querier, t schema.TableName) ([]schema.Column, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?, ?) ORDER BY cid`, t.Name, t.Schema)
	if err != nil {
		return nil, fmt.Errorf("sqlite sink: columns of %s: %w", t, err)
	}
	defer rows.Close()
	var out []schema.Column
	found := false
	for rows.Next() {
		found = true
		var name, decl string
		if err := rows.Scan(&name, &decl); err != nil {
			return nil, fmt.Errorf("sqlite sink: columns of %s: %w", t, err)
		}
		if isSystem(name) {
			continue
		}
		ct, err := parseType(decl)
		if err != nil {
			return nil, fmt.Errorf("sqlite sink: %s column %s: %w", t, name, err)
		}
		out = append(out, schema.Column{Name: name, Type: ct})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite sink: columns of %s: %w", t, err)
	}
	if found && out == nil {
		out = []schema.Column{}
	}
	return out, nil
}

func isSystem(name string) bool {
	for _, c := range schema.SystemColumns {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

// EnsureTable creates t or adds its missing columns. Widening needs no DDL
// in SQLite (lengths are not enforced, decimals are text); a kind change
// is a *schema.IncompatibleChangeError.
func (s *Sink) EnsureTable(ctx context.Context, t schema.Table) error {
	t.TableName = s.resolve(t.TableName)
	if err := t.Check(); err != nil {
		return fmt.Errorf("sqlite sink: %w", err)
	}
	if t.Schema != DefaultSchema {
		return fmt.Errorf("sqlite sink: %w", &schema.NameError{What: "schema", Name: t.Schema, Reason: "SQLite supports only schema main"})
	}
	defer s.cols.Forget(t.TableName)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite sink: ensure %s: %w", t.TableName, err)
	}
	// The label view is made again around the table's DDL; failing that
	// (its name taken by a table of the user's) leaves the table to
	// follow its metadata all the same.
	view := s.labelViewOf(t.TableName, t.Labels)
	viewErr := inSavepoint(ctx, tx, func() error { return dropLabelView(ctx, tx, view) })
	existing, err := readColumns(ctx, tx, t.TableName)
	if err != nil {
		return rollback(tx, err)
	}
	var stmts []string
	if existing == nil {
		q, err := createSQL(t)
		if err != nil {
			return rollback(tx, err)
		}
		stmts = append(stmts, q)
	} else {
		plan, err := schema.PlanChanges(existing, t)
		if err != nil {
			return rollback(tx, fmt.Errorf("sqlite sink: %w", err))
		}
		for _, c := range plan.Add {
			ts, err := typeSQL(c.Type)
			if err != nil {
				return rollback(tx, fmt.Errorf("sqlite sink: %s column %s: %w", t.TableName, c.Name, err))
			}
			stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", qualified(t.TableName), quote(c.Name), ts))
		}
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return rollback(tx, fmt.Errorf("sqlite sink: ensure %s: %w", t.TableName, err))
		}
	}
	if viewErr == nil && t.Labels != nil {
		viewErr = inSavepoint(ctx, tx, func() error { return createLabelView(ctx, tx, view, t.TableName, t.Labels) })
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite sink: ensure %s: %w", t.TableName, err)
	}
	if len(stmts) > 0 {
		s.opts.Log().InfoContext(ctx, "sqlite sink: table ensured", "table", t.TableName.String(), "statements", len(stmts))
	}
	if viewErr != nil {
		s.opts.Log().WarnContext(ctx, "sqlite sink: label view not made again; the table is up to date", "table", t.TableName.String(), "view", view.String(), "err", viewErr)
	}
	return nil
}

// createSQL is the CREATE TABLE statement of t.
func createSQL(t schema.Table) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", qualified(t.TableName))
	fmt.Fprintf(&b, "\t%s UUID_TEXT NOT NULL PRIMARY KEY", quote(schema.ColID))
	for _, c := range append(schema.SystemColumns[1:len(schema.SystemColumns):len(schema.SystemColumns)], t.Columns...) {
		ts, err := typeSQL(c.Type)
		if err != nil {
			return "", fmt.Errorf("sqlite sink: %s column %s: %w", t.TableName, c.Name, err)
		}
		fmt.Fprintf(&b, ",\n\t%s %s", quote(c.Name), ts)
	}
	b.WriteString("\n)")
	return b.String(), nil
}

// DropTable drops an entity's table and its tombstones: the explicit cleanup
// for an entity removed from the profile (nothing is dropped implicitly).
func (s *Sink) DropTable(ctx context.Context, table schema.TableName) error {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return fmt.Errorf("sqlite sink: %w", err)
	}
	defer s.cols.Forget(table)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite sink: drop %s: %w", table, err)
	}
	if err := dropLabelView(ctx, tx, s.labelViewOf(table, nil)); err != nil {
		return rollback(tx, fmt.Errorf("sqlite sink: drop %s: %w", table, err))
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+qualified(table)); err != nil {
		return rollback(tx, fmt.Errorf("sqlite sink: drop %s: %w", table, err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+qualified(s.opts.Tombstones())+` WHERE "TableName" = ?`, table.Name); err != nil {
		return rollback(tx, fmt.Errorf("sqlite sink: drop %s tombstones: %w", table, err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM `+qualified(s.opts.Keys())+` WHERE "TableName" = ?`, table.Name); err != nil {
		return rollback(tx, fmt.Errorf("sqlite sink: drop %s staged keys: %w", table, err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite sink: drop %s: %w", table, err)
	}
	s.opts.Log().InfoContext(ctx, "sqlite sink: table dropped", "table", table.String())
	return nil
}

// RemovedColumns lists the data columns of t's table that t does not
// declare (see sink.ColumnDropper).
func (s *Sink) RemovedColumns(ctx context.Context, t schema.Table) ([]string, error) {
	t.TableName = s.resolve(t.TableName)
	have, err := readColumns(ctx, s.db, t.TableName)
	if err != nil {
		return nil, err
	}
	if have == nil {
		return nil, &sink.NoTableError{Table: t.TableName}
	}
	return sink.Removed(have, t), nil
}

// DropColumns drops columns of removed attributes (see sink.ColumnDropper).
func (s *Sink) DropColumns(ctx context.Context, t schema.Table, names []string) error {
	t.TableName = s.resolve(t.TableName)
	if err := t.Check(); err != nil {
		return fmt.Errorf("sqlite sink: %w", err)
	}
	defer s.cols.Forget(t.TableName)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite sink: drop columns of %s: %w", t.TableName, err)
	}
	have, err := readColumns(ctx, tx, t.TableName)
	if err != nil {
		return rollback(tx, err)
	}
	if have == nil {
		return rollback(tx, &sink.NoTableError{Table: t.TableName})
	}
	if err := sink.CheckDrop(t, sink.Removed(have, t), names); err != nil {
		return rollback(tx, fmt.Errorf("sqlite sink: %w", err))
	}
	view := s.labelViewOf(t.TableName, t.Labels)
	if err := dropLabelView(ctx, tx, view); err != nil {
		return rollback(tx, fmt.Errorf("sqlite sink: drop columns of %s: %w", t.TableName, err))
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+qualified(t.TableName)+" DROP COLUMN "+quote(n)); err != nil {
			return rollback(tx, fmt.Errorf("sqlite sink: drop column %s of %s: %w", n, t.TableName, err))
		}
	}
	if t.Labels != nil {
		if err := createLabelView(ctx, tx, view, t.TableName, t.Labels); err != nil {
			return rollback(tx, fmt.Errorf("sqlite sink: label view of %s: %w", t.TableName, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite sink: drop columns of %s: %w", t.TableName, err)
	}
	s.opts.Log().InfoContext(ctx, "sqlite sink: columns dropped", "table", t.TableName.String(), "columns", names)
	return nil
}
