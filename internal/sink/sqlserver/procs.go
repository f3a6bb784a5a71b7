package sqlserver

import (
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
)

// DES created two user-defined table types per entity, <table>Type and
// <table>IdType (its cleanup scripts drop them by those names), and
// procedures taking them. We create the same, so a DES user's scripts and
// habits keep working; the procedures run the very MERGE that Apply runs
// over its staging table.

// typeColumns is the column list of <table>Type, the same in the CREATE TYPE
// and in the signature compared against the catalog.
func typeColumns(cols []column) []string {
	out := make([]string, 0, len(cols)+2)
	out = append(out, qi(schema.ColID)+" uniqueidentifier NOT NULL")
	for _, c := range cols {
		out = append(out, qi(c.Name)+" "+c.Type+" NULL")
	}
	return append(out, qi(schema.ColVersion)+" bigint NOT NULL")
}

// typeSignature renders a stored table type's columns like typeColumns, so
// that EnsureTable recreates the type only when it differs.
func typeSignature(have []dbColumn) []string {
	out := make([]string, len(have))
	for i, c := range have {
		null := " NOT NULL"
		if c.Nullable {
			null = " NULL"
		}
		out[i] = qi(c.Name) + " " + c.render() + null
	}
	return out
}

// typeColumnsQuery lists the columns of a user-defined table type (@p1
// schema, @p2 name) in order, for typeSignature.
const typeColumnsQuery = `SELECT c.[name], TYPE_NAME(c.[user_type_id]), c.[max_length], c.[precision], c.[scale], c.[is_nullable]
FROM sys.table_types AS tt
INNER JOIN sys.columns AS c ON c.[object_id] = tt.[type_table_object_id]
WHERE tt.[schema_id] = SCHEMA_ID(@p1) AND tt.[name] = @p2
ORDER BY c.[column_id];`

// recreateTypeStmts replaces <table>Type; the procedures that reference it
// must go first (SQL Server refuses to drop a type in use), and procStmts
// recreates them.
func recreateTypeStmts(o objects, cols []column) []string {
	return []string{
		"DROP PROCEDURE IF EXISTS " + qn(o.UpsertProc) + ";",
		"DROP PROCEDURE IF EXISTS " + qn(o.DeleteProc) + ";",
		"DROP TYPE IF EXISTS " + qn(o.Type) + ";",
		fmt.Sprintf("CREATE TYPE %s AS TABLE (\n    %s\n);", qn(o.Type), strings.Join(typeColumns(cols), ",\n    ")),
	}
}

// idTypeStmt creates <table>IdType, whose shape never changes.
func idTypeStmt(o objects) string {
	// Looked up in sys.types by plain schema and name: no quoted-name parsing.
	return fmt.Sprintf("IF NOT EXISTS (SELECT 1 FROM sys.types WHERE [is_table_type] = 1 AND [schema_id] = SCHEMA_ID(%s) AND [name] = %s)\n    CREATE TYPE %s AS TABLE (\n        [Id] uniqueidentifier NOT NULL,\n        [VersionNumber] bigint NOT NULL\n    );",
		ql(o.IDType.Schema), ql(o.IDType.Name), qn(o.IDType))
}

// procStmts (re)defines the two procedures; each CREATE PROCEDURE must be a
// batch of its own.
func procStmts(o objects, w writeTarget, cols []column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return []string{
		fmt.Sprintf("CREATE OR ALTER PROCEDURE %s\n    @rows %s READONLY\nAS\nBEGIN\n%s\nEND;",
			qn(o.UpsertProc), qn(o.Type), indent(upsertSQL(w, names, "@rows", false))),
		fmt.Sprintf("CREATE OR ALTER PROCEDURE %s\n    @ids %s READONLY\nAS\nBEGIN\n%s\nEND;",
			qn(o.DeleteProc), qn(o.IDType), indent(deleteSQL(w, "@ids"))),
	}
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
