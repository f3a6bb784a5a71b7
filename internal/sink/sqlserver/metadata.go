package sqlserver

import (
	"context"
	"fmt"
	"strings"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// metadataTableStmts creates the six metadata tables that DES created on
// profile activation, <prefix>_<name>, in the layouts of schema.MetadataTables
// (found in a database DES created): heaps, except AttributeMetadata's Id key.
func metadataTableStmts(n naming) ([]string, error) {
	out := []string{schemaStmt(n.schema)}
	for _, m := range schema.MetadataTables() {
		name := n.shared(m.Name)
		cols := make([]string, 0, len(m.Columns)+1)
		for _, c := range m.Columns {
			typ, err := sqlType(c.Type)
			if err != nil {
				return nil, fmt.Errorf("metadata table %s column %s: %w", m.Name, c.Name, err)
			}
			null := " NULL"
			if c.Name == m.PrimaryKey {
				null = " NOT NULL"
			}
			cols = append(cols, qi(c.Name)+" "+typ+null)
		}
		if m.PrimaryKey != "" {
			cols = append(cols, fmt.Sprintf("CONSTRAINT %s PRIMARY KEY CLUSTERED (%s)", qi(pkName(name)), qi(m.PrimaryKey)))
		}
		out = append(out, fmt.Sprintf("IF OBJECT_ID(%s, N'U') IS NULL\nCREATE TABLE %s (\n    %s\n);",
			qobj(name), qn(name), strings.Join(cols, ",\n    ")))
	}
	return out, nil
}

// Staging tables of ReplaceMetadata. The key column takes the database's
// collation: a temp table otherwise gets tempdb's, and comparing the two
// fails when they differ.
const (
	stageKeys     = "#dataexport_keys"
	stageMeta     = "#dataexport_meta"
	stageKeysStmt = "CREATE TABLE [" + stageKeys + "] ([Key] nvarchar(4000) COLLATE DATABASE_DEFAULT NOT NULL);"
)

func metadataColumns(m schema.MetadataTable) []string {
	out := make([]string, len(m.Columns))
	for i, c := range m.Columns {
		out[i] = c.Name
	}
	return out
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = qi(n)
	}
	return strings.Join(q, ", ")
}

// deleteMetadataSQL removes the stored rows of the staged keys.
func deleteMetadataSQL(t schema.TableName, m schema.MetadataTable) string {
	return fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT [Key] FROM %s);", qn(t), qi(m.Key), qi(stageKeys))
}

// stageMetadataStmt creates the row staging table with the table's types.
func stageMetadataStmt(t schema.TableName, m schema.MetadataTable) string {
	return fmt.Sprintf("SELECT TOP (0) %s INTO %s FROM %s;", quoteList(metadataColumns(m)), qi(stageMeta), qn(t))
}

func insertMetadataSQL(t schema.TableName, m schema.MetadataTable) string {
	cols := quoteList(metadataColumns(m))
	return fmt.Sprintf("INSERT INTO %s (%s)\n    SELECT %s FROM %s;", qn(t), cols, cols, qi(stageMeta))
}

func readMetadataSQL(t schema.TableName, m schema.MetadataTable) string {
	cols := quoteList(metadataColumns(m))
	return fmt.Sprintf("SELECT %s FROM %s ORDER BY %s;", cols, qn(t), cols)
}

// EnsureMetadataTables creates DES's six metadata tables, <prefix>_<name>.
func (s *Sink) EnsureMetadataTables(ctx context.Context) error {
	stmts, err := metadataTableStmts(s.names)
	if err != nil {
		return fmt.Errorf("sqlserver sink: %w", err)
	}
	if err := s.execAll(ctx, s.db, stmts); err != nil {
		return fmt.Errorf("sqlserver sink: create metadata tables: %w", err)
	}
	return nil
}

// ReplaceMetadata replaces, in one transaction, the stored rows of every
// set's keys with the set's rows: keys and rows are bulk-copied into
// staging tables, then one DELETE and one INSERT ... SELECT per table.
func (s *Sink) ReplaceMetadata(ctx context.Context, sets []schema.MetadataRows) error {
	for _, set := range sets {
		if err := checkMetadataRows(set); err != nil {
			return fmt.Errorf("sqlserver sink: replace %s: %w", set.Table.Name, err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlserver sink: replace metadata: %w", err)
	}
	// Writers of the metadata tables take turns: two pollers replacing the
	// same entity's rows would both delete nothing, then both insert.
	if _, err := tx.ExecContext(ctx, applockSQL, "dataexport:metadata:"+s.names.schema); err != nil {
		return rollback(tx, fmt.Errorf("sqlserver sink: replace metadata: %w", err))
	}
	for _, set := range sets {
		if err := s.replaceSet(ctx, tx, set); err != nil {
			return rollback(tx, fmt.Errorf("sqlserver sink: replace %s: %w", set.Table.Name, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlserver sink: replace metadata: commit: %w", err)
	}
	return nil
}

// checkMetadataRows refuses, before anything is sent, a set this sink
// cannot write: an unknown table, rows not aligned with its columns, values
// of another kind or that do not fit.
func checkMetadataRows(set schema.MetadataRows) error {
	m, ok := sink.MetadataTable(set.Table.Name)
	if !ok {
		return fmt.Errorf("not a metadata table")
	}
	for i, r := range set.Rows {
		if len(r) != len(m.Columns) {
			return fmt.Errorf("row %d: %d values for %d columns", i, len(r), len(m.Columns))
		}
		for j, v := range r {
			c := m.Columns[j]
			if v.Kind != record.Null && v.Kind != c.Type.Kind {
				return fmt.Errorf("row %d column %s: value of kind %s in a %s column", i, c.Name, v.Kind, c.Type.Kind)
			}
			if err := checkValue(v, c.Type); err != nil {
				return fmt.Errorf("row %d column %s: %w", i, c.Name, err)
			}
		}
	}
	return nil
}

func (s *Sink) replaceSet(ctx context.Context, tx querierTx, set schema.MetadataRows) error {
	m, _ := sink.MetadataTable(set.Table.Name)
	t := s.names.shared(m.Name)
	if len(set.Keys) > 0 {
		if err := s.execAll(ctx, tx, []string{dropTempStmt(stageKeys), stageKeysStmt}); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, mssql.CopyIn(stageKeys, mssql.BulkOptions{Tablock: true}, "Key"))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, k := range set.Keys {
			if _, err := stmt.ExecContext(ctx, k); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return err
		}
		if err := s.execAll(ctx, tx, []string{deleteMetadataSQL(t, m), dropTempStmt(stageKeys)}); err != nil {
			return err
		}
	}
	if len(set.Rows) == 0 {
		return nil
	}
	if err := s.execAll(ctx, tx, []string{dropTempStmt(stageMeta), stageMetadataStmt(t, m)}); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, mssql.CopyIn(stageMeta, mssql.BulkOptions{Tablock: true}, metadataColumns(m)...))
	if err != nil {
		return err
	}
	defer stmt.Close()
	row := make([]any, len(m.Columns))
	for _, r := range set.Rows {
		for j, v := range r {
			row[j] = bulkValue(v, m.Columns[j].Type)
		}
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return err
	}
	return s.execAll(ctx, tx, []string{insertMetadataSQL(t, m), dropTempStmt(stageMeta)})
}

// ReadMetadata returns the rows of one metadata table ordered by every column.
func (s *Sink) ReadMetadata(ctx context.Context, name string) ([][]record.Value, error) {
	m, ok := sink.MetadataTable(name)
	if !ok {
		return nil, fmt.Errorf("sqlserver sink: %q is not a metadata table", name)
	}
	rows, err := s.db.QueryContext(ctx, readMetadataSQL(s.names.shared(m.Name), m))
	if err != nil {
		return nil, fmt.Errorf("sqlserver sink: read %s: %w", name, err)
	}
	defer rows.Close()
	var out [][]record.Value
	cells := make([]any, len(m.Columns))
	ptrs := make([]any, len(cells))
	for i := range cells {
		ptrs[i] = &cells[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("sqlserver sink: read %s: %w", name, err)
		}
		r := make([]record.Value, len(cells))
		for i, c := range m.Columns {
			if r[i], err = fromDB(cells[i], c.Type.Kind); err != nil {
				return nil, fmt.Errorf("sqlserver sink: read %s column %s: %w", name, c.Name, err)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlserver sink: read %s: %w", name, err)
	}
	return out, nil
}
