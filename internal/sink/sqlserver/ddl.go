package sqlserver

import (
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// Every generator here returns statements that are safe to run again: each
// one checks the catalog first (OBJECT_ID, COL_LENGTH, sys.columns), so a
// crash between two of them leaves nothing that a rerun cannot finish.

// column is a rendered column: quoted name and SQL type.
type column struct {
	Name string // unquoted
	Type string // e.g. nvarchar(160)
	Want schema.ColumnType
}

// columnsOf renders the data columns of t, rejecting names that collide with
// the system columns (SQL Server compares names case-insensitively).
func columnsOf(t schema.Table) ([]column, error) {
	seen := map[string]bool{}
	for _, c := range schema.SystemColumns {
		seen[strings.ToLower(c.Name)] = true
	}
	out := make([]column, 0, len(t.Columns))
	for _, c := range t.Columns {
		if err := checkIdent(c.Name); err != nil {
			return nil, fmt.Errorf("table %s: column: %w", t.TableName, err)
		}
		k := strings.ToLower(c.Name)
		if seen[k] {
			return nil, fmt.Errorf("table %s: column %q collides with another or a system column: %w", t.TableName, c.Name, ErrIdentifier)
		}
		seen[k] = true
		typ, err := sqlType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t.TableName, c.Name, err)
		}
		out = append(out, column{Name: c.Name, Type: typ, Want: c.Type})
	}
	return out, nil
}

// schemaStmt creates the schema when it is missing. CREATE SCHEMA must be
// alone in its batch, hence EXEC.
func schemaStmt(schemaName string) string {
	return fmt.Sprintf("IF SCHEMA_ID(%s) IS NULL\n    EXEC(%s);", ql(schemaName), ql("CREATE SCHEMA "+qi(schemaName)))
}

// createTableStmt creates the entity table: Id (DES primary key, constraint
// EPK[schema].[table]), the Sink columns, versionnumber and the data columns.
func createTableStmt(name schema.TableName, cols []column) string {
	var b strings.Builder
	fmt.Fprintf(&b, "IF OBJECT_ID(%s, N'U') IS NULL\nCREATE TABLE %s (\n", qobj(name), qn(name))
	fmt.Fprintf(&b, "    %s uniqueidentifier NOT NULL,\n", qi(schema.ColID))
	fmt.Fprintf(&b, "    %s datetime NULL,\n", qi(schema.ColSinkCreatedOn))
	fmt.Fprintf(&b, "    %s datetime NULL,\n", qi(schema.ColSinkModifiedOn))
	fmt.Fprintf(&b, "    %s bigint NULL,\n", qi(schema.ColVersion))
	for _, c := range cols {
		fmt.Fprintf(&b, "    %s %s NULL,\n", qi(c.Name), c.Type)
	}
	fmt.Fprintf(&b, "    CONSTRAINT %s PRIMARY KEY CLUSTERED (%s)\n);", qi(pkName(name)), qi(schema.ColID))
	return b.String()
}

// addColumnStmt adds a column the table lacks.
func addColumnStmt(name schema.TableName, c column) string {
	return fmt.Sprintf("IF COL_LENGTH(%s, %s) IS NULL\n    ALTER TABLE %s ADD %s %s NULL;",
		qobj(name), ql(c.Name), qn(name), qi(c.Name), c.Type)
}

// widenColumnStmt alters a column that is narrower than wanted; nil when the
// kind has nothing to widen. It never narrows: the condition only matches a
// stored column that cannot hold every value of the wanted type.
func widenColumnStmt(name schema.TableName, c column) string {
	var cond string
	switch c.Want.Kind {
	case record.String:
		if c.Type == "nvarchar(max)" {
			cond = "[max_length] <> -1"
		} else {
			cond = fmt.Sprintf("[max_length] <> -1 AND [max_length] < %d", 2*c.Want.Length)
		}
	case record.Int:
		if !c.Want.IsBigInt() {
			return ""
		}
		cond = "[system_type_id] IN (48, 52, 56)" // tinyint, smallint, int
	case record.Decimal:
		cond = fmt.Sprintf("[system_type_id] IN (106, 108) AND [scale] < %d", c.Want.Scale)
	default:
		return ""
	}
	return fmt.Sprintf("IF EXISTS (SELECT 1 FROM sys.columns WHERE [object_id] = OBJECT_ID(%s) AND [name] = %s AND %s)\n    ALTER TABLE %s ALTER COLUMN %s %s NULL;",
		qobj(name), ql(c.Name), cond, qn(name), qi(c.Name), c.Type)
}

// tableStmts (the script form; EnsureTable reads the catalog and plans
// instead) creates t if missing, then adds missing columns and widens
// narrower ones. Nothing is ever dropped.
func tableStmts(t schema.TableName, cols []column) []string {
	out := []string{createTableStmt(t, cols)}
	for _, c := range cols {
		out = append(out, addColumnStmt(t, c))
	}
	for _, c := range cols {
		if s := widenColumnStmt(t, c); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sharedTableStmts creates the tombstone table (one per destination, keyed
// by table name and id, as in the other dialects), the table of staged
// keys (sink.Sweeper) and, when the profile writes it, DES's DeleteLog.
func sharedTableStmts(n naming, writeDeleteLog bool) []string {
	tb := n.tombstone()
	out := []string{schemaStmt(n.schema), fmt.Sprintf(`IF OBJECT_ID(%s, N'U') IS NULL
CREATE TABLE %s (
    [TableName] nvarchar(128) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [VersionNumber] bigint NOT NULL,
    [DeletedOn] datetime NOT NULL,
    CONSTRAINT %s PRIMARY KEY CLUSTERED ([TableName], [Id])
);`, qobj(tb), qn(tb), qi(pkName(tb))), keysTableStmt(n)}
	if writeDeleteLog {
		dl := n.deleteLog()
		out = append(out, fmt.Sprintf(`IF OBJECT_ID(%s, N'U') IS NULL
CREATE TABLE %s (
    [Id] uniqueidentifier NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [RecordId] nvarchar(64) NULL,
    [SinkDeleteTime] datetime NULL,
    [VersionNumber] bigint NULL,
    CONSTRAINT %s PRIMARY KEY CLUSTERED ([Id])
);`, qobj(dl), qn(dl), qi(pkName(dl))))
	}
	return out
}
