package sqlserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// RemovedColumns lists, sorted, the data columns of t's table that t does
// not declare (see sink.ColumnDropper); a missing table is a
// *sink.NoTableError.
func (s *Sink) RemovedColumns(ctx context.Context, t schema.Table) ([]string, error) {
	t.TableName = s.resolve(t.TableName)
	if err := t.Check(); err != nil {
		return nil, fmt.Errorf("sqlserver sink: %w", err)
	}
	have, err := readDBColumns(ctx, s.db, tableColumnsQuery, qn(t.TableName))
	if err != nil {
		return nil, fmt.Errorf("sqlserver sink: read columns of %s: %w", t.TableName, err)
	}
	if len(have) == 0 {
		return nil, &sink.NoTableError{Table: t.TableName}
	}
	return removedColumns(have, t), nil
}

// removedColumns is sink.Removed with SQL Server's case-insensitive names:
// a stored column that a declared one matches in another case is that
// declared column (EnsureTable's COL_LENGTH check found it and added
// nothing), so it is never listed, let alone dropped. System columns are
// left out, in any case, by dataColumns.
func removedColumns(have []dbColumn, t schema.Table) []string {
	declared := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		declared[strings.ToLower(c.Name)] = true
	}
	var extra []schema.Column
	for _, c := range dataColumns(have) {
		if !declared[strings.ToLower(c.Name)] {
			extra = append(extra, c)
		}
	}
	return sink.Removed(extra, t)
}

// DropColumns drops columns of removed attributes (see sink.ColumnDropper)
// in one transaction under the table's schema lock, then brings <table>Type
// and the procedures in line with the remaining columns through the same
// path as EnsureTable (which also adds what t declares and the table
// lacks). A name that RemovedColumns would not report is a
// *sink.DropColumnError naming it, and nothing is dropped.
func (s *Sink) DropColumns(ctx context.Context, t schema.Table, names []string) error {
	t, o, cols, err := s.checkTable(t)
	if err != nil {
		return err
	}
	defer s.cols.Forget(t.TableName)

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlserver sink: drop columns of %s: %w", t.TableName, err)
	}
	dropped, err := s.dropColumnsIn(ctx, tx, t, o, cols, names)
	if err != nil {
		return rollback(tx, fmt.Errorf("sqlserver sink: drop columns of %s: %w", t.TableName, err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlserver sink: drop columns of %s: commit: %w", t.TableName, err)
	}
	s.log.InfoContext(ctx, "sqlserver sink: columns dropped", "table", t.TableName.String(), "columns", dropped)
	// The view does not stop a drop (it is not schema-bound) but reads the
	// columns by name: made again without them.
	s.makeLabelView(ctx, t)
	return nil
}

// dropColumnsIn is DropColumns' work inside its transaction q; it returns
// the columns dropped.
func (s *Sink) dropColumnsIn(ctx context.Context, q querier, t schema.Table, o objects, cols []column, names []string) ([]string, error) {
	if err := lockTable(ctx, q, t.TableName); err != nil {
		return nil, err
	}
	have, err := readDBColumns(ctx, q, tableColumnsQuery, qn(t.TableName))
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	if len(have) == 0 {
		return nil, &sink.NoTableError{Table: t.TableName}
	}
	if err := sink.CheckDrop(t, removedColumns(have, t), names); err != nil {
		return nil, err
	}
	// Sorted and once each: a name repeated in DROP COLUMN is an error.
	drop := slices.Compact(slices.Sorted(slices.Values(names)))
	if err := s.execAll(ctx, q, []string{dropColumnsStmt(t.TableName, drop)}); err != nil {
		return nil, err
	}
	return drop, s.ensureLocked(ctx, q, t, o, cols)
}

// dropColumnsStmt drops columns that exist. Unlike the generators in ddl.go
// it has no catalog guard: DropColumns runs it under the table's schema
// lock right after reading the catalog, and an IF would only hide a bug.
//
// SQL Server refuses to drop a column that a default or check constraint,
// an index, a foreign key, user-created statistics or a schema-bound view
// depends on. This package creates none on data columns (the only
// constraint is the primary key on Id); one that a DBA added makes the
// statement fail with SQL Server's error naming the object, and the
// transaction rolls back with nothing dropped.
func dropColumnsStmt(t schema.TableName, names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = qi(n)
	}
	return fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s;", qn(t), strings.Join(quoted, ", "))
}
