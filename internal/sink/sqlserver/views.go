package sqlserver

import (
	"context"
	"fmt"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// labelSQL spells label view expressions in T-SQL. A multi-select label
// is concatenated from nvarchar(max) so that a long list is not cut at
// 4,000 characters.
var labelSQL = sink.LabelSQL{
	Ident: qi, Str: ql, True: "1", False: "0", Concat: "+",
	Open: "CAST(N'' AS nvarchar(max))",
	// STUFF of an empty string is NULL.
	Rest: func(s string) string { return "STUFF(" + s + ", 1, 2, N'')" },
}

// labelViewStmt creates or alters lv over table, whose columns are cols
// (all, in order). CREATE OR ALTER keeps the grants on the view and the
// views of the user's that read it.
func labelViewStmt(view, table schema.TableName, cols []string, lv *schema.LabelView) string {
	return fmt.Sprintf("CREATE OR ALTER VIEW %s AS\nSELECT\n\t%s\nFROM %s;", qn(view), labelSQL.Select(sink.LabelViewItems(cols, lv)), qn(table))
}

// makeLabelView creates or alters t's label view after the table's DDL
// committed, in a batch of its own (CREATE VIEW must be alone in one). A
// failure (a login without CREATE VIEW, a table of the user's by that
// name) is logged: the table is up to date all the same.
func (s *Sink) makeLabelView(ctx context.Context, t schema.Table) {
	if t.Labels == nil {
		return
	}
	view := t.Labels.Name
	if view.Schema == "" {
		view.Schema = t.Schema
	}
	have, err := readDBColumns(ctx, s.db, tableColumnsQuery, qn(t.TableName))
	if err == nil {
		cols := make([]string, len(have))
		for i, c := range have {
			cols[i] = c.Name
		}
		_, err = s.db.ExecContext(ctx, labelViewStmt(view, t.TableName, cols, t.Labels))
	}
	if err != nil {
		s.log.WarnContext(ctx, "sqlserver sink: label view not made; the table is up to date", "table", t.TableName.String(), "view", view.String(), "err", err)
	}
}
