package sink

import (
	"context"
	"fmt"
	"slices"

	"github.com/dataexport/dataexport/internal/schema"
)

// ColumnDropper drops the columns of removed attributes, which EnsureTable
// keeps (as DES did): the explicit cleanup, never automatic.
type ColumnDropper interface {
	// RemovedColumns lists, sorted, the data columns of t's table that t does
	// not declare. System columns (Id, SinkCreatedOn, SinkModifiedOn,
	// versionnumber) are never listed. A missing table is a *NoTableError.
	RemovedColumns(ctx context.Context, t schema.Table) ([]string, error)
	// DropColumns drops the named columns of t's table in one transaction.
	// Every name must be one RemovedColumns reports; otherwise (a column t
	// declares, a system column, an unknown column) it returns an error naming
	// the column and drops nothing.
	DropColumns(ctx context.Context, t schema.Table, names []string) error
}

// Removed is the sorted names of have (a table's data columns) that t does
// not declare.
func Removed(have []schema.Column, t schema.Table) []string {
	declared := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		declared[c.Name] = true
	}
	var out []string
	for _, c := range have {
		if !declared[c.Name] && !isSystemColumn(c.Name) {
			out = append(out, c.Name)
		}
	}
	slices.Sort(out)
	return out
}

// CheckDrop refuses names that are not all among removed, naming the first
// that is not.
func CheckDrop(t schema.Table, removed, names []string) error {
	if len(names) == 0 {
		return &DropColumnError{Table: t.TableName, Reason: "no column named"}
	}
	for _, n := range names {
		if slices.Contains(removed, n) {
			continue
		}
		why := "is not a column of the table"
		switch {
		case isSystemColumn(n):
			why = "is a system column"
		case slices.ContainsFunc(t.Columns, func(c schema.Column) bool { return c.Name == n }):
			why = "belongs to an attribute the entity still has"
		}
		return &DropColumnError{Table: t.TableName, Column: n, Reason: why}
	}
	return nil
}

func isSystemColumn(name string) bool {
	return slices.ContainsFunc(schema.SystemColumns, func(c schema.Column) bool { return c.Name == name })
}

// DropColumnError refuses a DropColumns call; nothing was dropped.
type DropColumnError struct {
	Table  schema.TableName
	Column string
	Reason string
}

func (e *DropColumnError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("table %s: cannot drop columns: %s", e.Table, e.Reason)
	}
	return fmt.Sprintf("table %s: cannot drop column %s: it %s", e.Table, e.Column, e.Reason)
}
