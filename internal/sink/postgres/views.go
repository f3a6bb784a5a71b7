package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// labelSQL spells label view expressions in PostgreSQL.
var labelSQL = sink.LabelSQL{
	Ident: ident, Str: literal, True: "true", False: "false", Concat: "||",
	Rest: func(s string) string { return "NULLIF(substr(" + s + ", 3), '')" },
}

// literal is a string literal (standard_conforming_strings, the default
// since PostgreSQL 9.1: only the quote is doubled).
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// labelViewOf is the label view that goes with table: t's own, else the
// name the sink's template gives it.
func (s *Sink) labelViewOf(table schema.TableName, lv *schema.LabelView) schema.TableName {
	if lv != nil {
		v := lv.Name
		if v.Schema == "" {
			v.Schema = table.Schema
		}
		return v
	}
	return s.opts.LabelViewOf(table)
}

// labelViewSQL creates lv over table, whose columns are cols (all, in order).
func labelViewSQL(view, table schema.TableName, cols []string, lv *schema.LabelView) string {
	return fmt.Sprintf("CREATE VIEW %s AS\nSELECT\n\t%s\nFROM %s", qualified(view), labelSQL.Select(sink.LabelViewItems(cols, lv)), qualified(table))
}

// tableColumns lists every column of t, in table order.
func tableColumns(ctx context.Context, q queryer, t schema.TableName) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, t.Schema, t.Name)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// dropLabelView drops the label view of table in tx. PostgreSQL alters and
// drops no column a view reads, so the view goes before the table's DDL
// and is made again after it. Anything else of that name (a table of
// another entity, say) is not a label view and stays.
func dropLabelView(ctx context.Context, tx pgx.Tx, view schema.TableName) error {
	var isView bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'v')`, view.Schema, lower(view.Name)).Scan(&isView)
	if err != nil || !isView {
		return err
	}
	_, err = tx.Exec(ctx, "DROP VIEW "+qualified(view))
	return err
}

// createLabelView makes lv over table as the table now is, in tx.
func createLabelView(ctx context.Context, tx pgx.Tx, view, table schema.TableName, lv *schema.LabelView) error {
	cols, err := tableColumns(ctx, tx, table)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, labelViewSQL(view, table, cols, lv))
	return err
}

// inSavepoint runs fn in a savepoint of tx: its failure is undone and
// returned without aborting tx.
func inSavepoint(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(sp); err != nil {
		return errors.Join(err, sp.Rollback(ctx))
	}
	return sp.Commit(ctx)
}
