package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// labelSQL spells label view expressions in SQLite (booleans are 0 and 1).
var labelSQL = sink.LabelSQL{
	Ident: quote, Str: literal, True: "1", False: "0", Concat: "||",
	Rest: func(s string) string { return "NULLIF(substr(" + s + ", 3), '')" },
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// labelViewOf is the label view that goes with table: lv's, else the
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

// labelViewSQL creates lv over table, whose columns are cols (all, in
// order). The table is named without its schema: a view in main reads
// main's tables.
func labelViewSQL(view, table schema.TableName, cols []string, lv *schema.LabelView) string {
	return fmt.Sprintf("CREATE VIEW %s AS\nSELECT\n\t%s\nFROM %s", qualified(view), labelSQL.Select(sink.LabelViewItems(cols, lv)), quote(table.Name))
}

// tableColumns lists every column of t, in table order.
func tableColumns(ctx context.Context, q querier, t schema.TableName) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_info(?, ?) ORDER BY cid`, t.Name, t.Schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// dropLabelView drops a label view. SQLite drops no column a view reads,
// so the view goes before the table's DDL and is made again after it.
func dropLabelView(ctx context.Context, q querier, view schema.TableName) error {
	// Anything else of that name (another entity's table) stays.
	rows, err := q.QueryContext(ctx, `SELECT 1 FROM sqlite_schema WHERE type = 'view' AND name = ?`, view.Name)
	if err != nil {
		return err
	}
	isView := rows.Next()
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || !isView {
		return err
	}
	_, err = q.ExecContext(ctx, "DROP VIEW "+qualified(view))
	return err
}

// createLabelView makes lv over table as the table now is.
func createLabelView(ctx context.Context, q querier, view, table schema.TableName, lv *schema.LabelView) error {
	cols, err := tableColumns(ctx, q, table)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, labelViewSQL(view, table, cols, lv))
	return err
}

// inSavepoint runs fn inside a savepoint of q's transaction: its failure
// is undone and returned without aborting the transaction.
func inSavepoint(ctx context.Context, q querier, fn func() error) error {
	if _, err := q.ExecContext(ctx, "SAVEPOINT dataexport_view"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		_, rerr := q.ExecContext(ctx, "ROLLBACK TO dataexport_view")
		_, perr := q.ExecContext(ctx, "RELEASE dataexport_view")
		return errors.Join(err, rerr, perr)
	}
	_, err := q.ExecContext(ctx, "RELEASE dataexport_view")
	return err
}
