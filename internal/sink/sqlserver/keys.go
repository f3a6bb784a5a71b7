package sqlserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// keys is the table of staged keys (see sink.Sweeper).
func (n naming) keys() schema.TableName { return n.shared(sink.KeysTable) }

// stageScanKeys is the session temp table a page of keys is bulk copied into.
const stageScanKeys = "#dataexport_scan"

// keysTableStmt creates the table of staged keys.
func keysTableStmt(n naming) string {
	k := n.keys()
	return fmt.Sprintf(`IF OBJECT_ID(%s, N'U') IS NULL
CREATE TABLE %s (
    [TableName] nvarchar(128) NOT NULL,
    [ScanId] nvarchar(32) NOT NULL,
    [Id] uniqueidentifier NOT NULL,
    [StagedOn] datetime NOT NULL,
    CONSTRAINT %s PRIMARY KEY CLUSTERED ([TableName], [ScanId], [Id])
);`, qobj(k), qn(k), qi(pkName(k)))
}

// scanKeysSQL selects every key of t, in no order: ordering by the id's
// text (as Rows does) would sort the whole table.
func scanKeysSQL(t schema.TableName) string {
	return fmt.Sprintf("SELECT %s, ISNULL(%s, 0) FROM %s;", qi(schema.ColID), qi(schema.ColVersion), qn(t))
}

// ScanKeys streams the id and version of every row of table (see
// sink.KeyScanner).
func (s *Sink) ScanKeys(ctx context.Context, table schema.TableName, fn func(id string, version int64) error) error {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return fmt.Errorf("sqlserver sink: %w", err)
	}
	if _, err := s.columns(ctx, table); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, scanKeysSQL(table))
	if err != nil {
		return fmt.Errorf("sqlserver sink: scan keys of %s: %w", table, err)
	}
	defer rows.Close()
	var raw any
	var v int64
	for rows.Next() {
		if err := rows.Scan(&raw, &v); err != nil {
			return fmt.Errorf("sqlserver sink: scan keys of %s: %w", table, err)
		}
		id, err := scanGUID(raw)
		if err != nil {
			return fmt.Errorf("sqlserver sink: scan keys of %s: %w", table, err)
		}
		if err := fn(id, v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlserver sink: scan keys of %s: %w", table, err)
	}
	return nil
}

func hasRowsSQL(t schema.TableName) string {
	return fmt.Sprintf("SELECT CASE WHEN EXISTS (SELECT 1 FROM %s) THEN 1 ELSE 0 END AS [HasRows];", qn(t))
}

// HasRows reports whether table holds a row (see sink.Sweeper).
func (s *Sink) HasRows(ctx context.Context, table schema.TableName) (bool, error) {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return false, fmt.Errorf("sqlserver sink: %w", err)
	}
	if _, err := s.columns(ctx, table); err != nil {
		var nt *sink.NoTableError
		if errors.As(err, &nt) {
			return false, nil
		}
		return false, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, hasRowsSQL(table)).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlserver sink: read %s: %w", table, err)
	}
	return n == 1, nil
}

// stageScanKeysStmt creates the temp table a page of keys is bulk copied
// into (no parameters: see stage.go).
const stageScanKeysStmt = "CREATE TABLE [" + stageScanKeys + "] ([Id] uniqueidentifier NOT NULL);"

// stageKeysSQL moves the bulk-copied keys into key set scan of t, skipping
// those it holds, and returns how many were new.
func stageKeysSQL(keys, t schema.TableName, scan string) string {
	var b strings.Builder
	b.WriteString(batchHeader)
	fmt.Fprintf(&b, "INSERT INTO %s ([TableName], [ScanId], [Id], [StagedOn])\n", qn(keys))
	fmt.Fprintf(&b, "    SELECT DISTINCT %s, %s, [s].[Id], GETUTCDATE() FROM %s AS [s]\n", ql(t.Name), ql(scan), qi(stageScanKeys))
	fmt.Fprintf(&b, "    WHERE NOT EXISTS (SELECT 1 FROM %s AS [k] WHERE [k].[TableName] = %s AND [k].[ScanId] = %s AND [k].[Id] = [s].[Id]);\n", qn(keys), ql(t.Name), ql(scan))
	b.WriteString("SELECT @@ROWCOUNT AS [Staged];")
	return b.String()
}

// StageKeys adds ids to a key set (see sink.Sweeper): bulk copied into a
// session temp table, then one INSERT … SELECT, in one transaction.
func (s *Sink) StageKeys(ctx context.Context, table schema.TableName, scan string, ids []string) (int, error) {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return 0, fmt.Errorf("sqlserver sink: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	us := make([]mssql.UniqueIdentifier, len(ids))
	for i, id := range ids {
		var err error
		if us[i], err = guid(id); err != nil || !sink.IsGUID(strings.ToLower(id)) {
			return 0, fmt.Errorf("sqlserver sink: stage keys of %s: id %q is not a GUID", table, id)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlserver sink: stage keys of %s: %w", table, err)
	}
	fail := func(err error) (int, error) {
		return 0, rollback(tx, fmt.Errorf("sqlserver sink: stage keys of %s: %w", table, err))
	}
	if err := s.execAll(ctx, tx, []string{dropTempStmt(stageScanKeys), stageScanKeysStmt}); err != nil {
		return fail(err)
	}
	stmt, err := tx.PrepareContext(ctx, mssql.CopyIn(stageScanKeys, mssql.BulkOptions{Tablock: true}, "Id"))
	if err != nil {
		return fail(err)
	}
	for _, u := range us {
		if _, err := stmt.ExecContext(ctx, u); err != nil {
			stmt.Close()
			return fail(err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return fail(err)
	}
	stmt.Close()
	var n int
	if err := tx.QueryRowContext(ctx, stageKeysSQL(s.names.keys(), table, scan)+"\n"+dropTempStmt(stageScanKeys)).Scan(&n); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlserver sink: stage keys of %s: commit: %w", table, err)
	}
	return n, nil
}

// sweepSQL removes the rows of w.Table that key set scan does not list and
// whose version is not above version, raises their tombstones to version
// and logs them; it answers [Removed] (-1 when the set holds fewer than
// staged keys: then nothing is removed) and [Holds]. The count holds its
// range lock (HOLDLOCK) until the end, so no key of the set can go
// between the count and the delete.
func sweepSQL(w writeTarget, keys schema.TableName, sp sink.SweepSpec) string {
	id, ver := qi(schema.ColID), qi(schema.ColVersion)
	tn, scan, v := ql(w.Table.Name), ql(sp.Scan), strconv.FormatInt(sp.Version, 10)
	var b strings.Builder
	b.WriteString(batchHeader)
	fmt.Fprintf(&b, "DECLARE @holds bigint = (SELECT COUNT_BIG(*) FROM %s WITH (HOLDLOCK) WHERE [TableName] = %s AND [ScanId] = %s);\n", qn(keys), tn, scan)
	b.WriteString("DECLARE @gone TABLE ([Id] uniqueidentifier NOT NULL PRIMARY KEY);\n")
	fmt.Fprintf(&b, "IF @holds >= %d\nBEGIN\n", sp.Staged)
	fmt.Fprintf(&b, "    DELETE [t] OUTPUT DELETED.%s INTO @gone ([Id])\n", id)
	fmt.Fprintf(&b, "        FROM %s AS [t] WITH (HOLDLOCK)\n", qn(w.Table))
	fmt.Fprintf(&b, "        WHERE ([t].%s IS NULL OR [t].%s <= %s)\n", ver, ver, v)
	// No loop join: one that probes the keys per row of the table is what
	// the optimizer may pick from statistics older than the key set.
	fmt.Fprintf(&b, "          AND NOT EXISTS (SELECT 1 FROM %s AS [k] WHERE [k].[TableName] = %s AND [k].[ScanId] = %s AND [k].[Id] = [t].%s)\n", qn(keys), tn, scan, id)
	b.WriteString("        OPTION (HASH JOIN, MERGE JOIN);\n")
	fmt.Fprintf(&b, "    MERGE %s WITH (HOLDLOCK) AS [tb]\n", qn(w.Tombstone))
	fmt.Fprintf(&b, "    USING @gone AS [g] ON [tb].[TableName] = %s AND [tb].[Id] = [g].[Id]\n", tn)
	fmt.Fprintf(&b, "    WHEN MATCHED AND [tb].[VersionNumber] < %s THEN\n", v)
	fmt.Fprintf(&b, "        UPDATE SET [tb].[VersionNumber] = %s, [tb].[DeletedOn] = GETUTCDATE()\n", v)
	b.WriteString("    WHEN NOT MATCHED BY TARGET THEN\n")
	fmt.Fprintf(&b, "        INSERT ([TableName], [Id], [VersionNumber], [DeletedOn]) VALUES (%s, [g].[Id], %s, GETUTCDATE());\n", tn, v)
	if w.DeleteLog != nil {
		fmt.Fprintf(&b, "    INSERT INTO %s ([Id], [EntityName], [RecordId], [SinkDeleteTime], [VersionNumber])\n", qn(*w.DeleteLog))
		fmt.Fprintf(&b, "        SELECT NEWID(), %s, LOWER(CONVERT(nvarchar(36), [g].[Id])), GETUTCDATE(), %s FROM @gone AS [g];\n", ql(w.Entity), v)
	}
	b.WriteString("END;\n")
	fmt.Fprintf(&b, "SELECT CASE WHEN @holds >= %d THEN (SELECT COUNT(*) FROM @gone) ELSE -1 END AS [Removed], @holds AS [Holds];", sp.Staged)
	return b.String()
}

// Sweep removes the rows the source no longer has (see sink.Sweeper).
func (s *Sink) Sweep(ctx context.Context, table schema.TableName, sp sink.SweepSpec) (int, error) {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return 0, fmt.Errorf("sqlserver sink: %w", err)
	}
	if err := sp.Check(); err != nil {
		return 0, fmt.Errorf("sqlserver sink: %w", err)
	}
	if _, err := s.columns(ctx, table); err != nil {
		return 0, err
	}
	entity := sp.Entity
	if entity == "" {
		entity = table.Name
	}
	w := s.writeTarget(table, entity)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlserver sink: sweep %s: %w", table, err)
	}
	var removed, holds int64
	if err := tx.QueryRowContext(ctx, sweepSQL(w, s.names.keys(), sp)).Scan(&removed, &holds); err != nil {
		return 0, rollback(tx, fmt.Errorf("sqlserver sink: sweep %s: %w", table, err))
	}
	if removed < 0 {
		return 0, rollback(tx, &sink.IncompleteScanError{Table: table, Scan: sp.Scan, Staged: sp.Staged, Holds: holds})
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlserver sink: sweep %s: commit: %w", table, err)
	}
	return int(removed), nil
}

// clearKeysSQL removes key set @p1 of t and every set of t staged before @p2.
func clearKeysSQL(keys, t schema.TableName) string {
	return fmt.Sprintf("DELETE FROM %s WHERE [TableName] = %s AND ([ScanId] = @p1 OR [StagedOn] < @p2);", qn(keys), ql(t.Name))
}

// ClearKeys removes abandoned or used key sets (see sink.Sweeper).
func (s *Sink) ClearKeys(ctx context.Context, table schema.TableName, scan string, before time.Time) error {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return fmt.Errorf("sqlserver sink: %w", err)
	}
	if scan == "" && before.IsZero() {
		return nil
	}
	// datetime starts in 1753: an unset bound is that first day.
	if before.Before(minDateTime) {
		before = minDateTime
	}
	if _, err := s.db.ExecContext(ctx, clearKeysSQL(s.names.keys(), table), scan, before.UTC()); err != nil {
		return fmt.Errorf("sqlserver sink: clear staged keys of %s: %w", table, err)
	}
	return nil
}
