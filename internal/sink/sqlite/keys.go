package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// keysTableSQL creates the table of staged keys (see sink.Sweeper).
func keysTableSQL(keys schema.TableName) string {
	return "CREATE TABLE IF NOT EXISTS " + qualified(keys) + ` (
	"TableName" TEXT NOT NULL,
	"ScanId" TEXT NOT NULL,
	"Id" UUID_TEXT NOT NULL,
	"StagedOn" DATETIME_TEXT NOT NULL,
	PRIMARY KEY ("TableName", "ScanId", "Id")
)`
}

// ScanKeys streams the id and version of every row of table (see
// sink.KeyScanner). fn must not use the sink: the only connection is busy
// reading.
func (s *Sink) ScanKeys(ctx context.Context, table schema.TableName, fn func(id string, version int64) error) error {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return fmt.Errorf("sqlite sink: %w", err)
	}
	if _, err := s.columns(ctx, table); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT %s, coalesce(%s, 0) FROM %s`, quote(schema.ColID), quote(schema.ColVersion), qualified(table)))
	if err != nil {
		return fmt.Errorf("sqlite sink: scan keys of %s: %w", table, err)
	}
	defer rows.Close()
	var id string
	var v int64
	for rows.Next() {
		if err := rows.Scan(&id, &v); err != nil {
			return fmt.Errorf("sqlite sink: scan keys of %s: %w", table, err)
		}
		if err := fn(strings.ToLower(id), v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite sink: scan keys of %s: %w", table, err)
	}
	return nil
}

// HasRows reports whether table holds a row (see sink.Sweeper).
func (s *Sink) HasRows(ctx context.Context, table schema.TableName) (bool, error) {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return false, fmt.Errorf("sqlite sink: %w", err)
	}
	if _, err := s.columns(ctx, table); err != nil {
		var nt *sink.NoTableError
		if errors.As(err, &nt) {
			return false, nil
		}
		return false, err
	}
	var found bool
	if err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+qualified(table)+")").Scan(&found); err != nil {
		return false, fmt.Errorf("sqlite sink: read %s: %w", table, err)
	}
	return found, nil
}

// keysPerStatement bounds the rows of one staging INSERT (4 parameters each).
const keysPerStatement = 500

// StageKeys adds ids to a key set (see sink.Sweeper), in one transaction.
func (s *Sink) StageKeys(ctx context.Context, table schema.TableName, scan string, ids []string) (int, error) {
	table = s.resolve(table)
	if len(ids) == 0 {
		return 0, nil
	}
	for _, id := range ids {
		if !sink.IsGUID(id) {
			return 0, fmt.Errorf("sqlite sink: stage keys of %s: id %q is not a GUID", table, id)
		}
	}
	now := time.Now().UTC().Format(TimeLayout)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite sink: stage keys of %s: %w", table, err)
	}
	n := 0
	for start := 0; start < len(ids); start += keysPerStatement {
		chunk := ids[start:min(start+keysPerStatement, len(ids))]
		var q strings.Builder
		q.WriteString(`INSERT OR IGNORE INTO ` + qualified(s.opts.Keys()) + ` ("TableName", "ScanId", "Id", "StagedOn") VALUES `)
		args := make([]any, 0, 4*len(chunk))
		for i, id := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?)")
			args = append(args, table.Name, scan, strings.ToLower(id), now)
		}
		res, err := tx.ExecContext(ctx, q.String(), args...)
		if err != nil {
			return 0, rollback(tx, fmt.Errorf("sqlite sink: stage keys of %s: %w", table, err))
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite sink: stage keys of %s: %w", table, err)
	}
	return n, nil
}

// sweepWhere selects the rows a sweep removes; parameters: version, table
// name, scan id.
func sweepWhere(keys schema.TableName) string {
	v, id := quote(schema.ColVersion), quote(schema.ColID)
	return fmt.Sprintf(`(t.%[1]s <= ? OR t.%[1]s IS NULL) AND NOT EXISTS (SELECT 1 FROM %[3]s k WHERE k."TableName" = ? AND k."ScanId" = ? AND k."Id" = t.%[2]s)`,
		v, id, qualified(keys))
}

// sweepStmts are the statements of a sweep, in order: log, tombstones,
// delete (SQLite has no RETURNING into another statement, so each selects
// the same rows under the transaction's write lock). The delete log's ids
// are random version-4 UUIDs made by the statement.
func sweepStmts(table, tombs, keys schema.TableName, deleteLog *schema.TableName) []string {
	where := sweepWhere(keys)
	var out []string
	if deleteLog != nil {
		out = append(out, fmt.Sprintf(`INSERT INTO %s ("Id", "EntityName", "RecordId", "SinkDeleteTime", "VersionNumber")
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) %% 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
	?, t.%s, ?, ? FROM %s t WHERE %s`, qualified(*deleteLog), quote(schema.ColID), qualified(table), where))
	}
	out = append(out, fmt.Sprintf(`INSERT INTO %s ("TableName", "Id", "VersionNumber", "DeletedOn")
SELECT ?, t.%s, ?, ? FROM %s t WHERE %s
ON CONFLICT ("TableName", "Id") DO UPDATE SET "VersionNumber" = excluded."VersionNumber", "DeletedOn" = excluded."DeletedOn"
WHERE "VersionNumber" < excluded."VersionNumber"`, qualified(tombs), quote(schema.ColID), qualified(table), where))
	out = append(out, fmt.Sprintf(`DELETE FROM %s AS t WHERE %s`, qualified(table), where))
	return out
}

// Sweep removes the rows the source no longer has (see sink.Sweeper).
func (s *Sink) Sweep(ctx context.Context, table schema.TableName, sp sink.SweepSpec) (int, error) {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return 0, fmt.Errorf("sqlite sink: %w", err)
	}
	if err := sp.Check(); err != nil {
		return 0, fmt.Errorf("sqlite sink: %w", err)
	}
	if _, err := s.columns(ctx, table); err != nil {
		return 0, err
	}
	entity := sp.Entity
	if entity == "" {
		entity = table.Name
	}
	var dl *schema.TableName
	if s.opts.WriteDeleteLog {
		t := s.opts.DeleteLog()
		dl = &t
	}
	now := time.Now().UTC().Format(TimeLayout)
	// BEGIN IMMEDIATE (the sink's _txlock): the write lock is held from
	// the count to the delete.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite sink: sweep %s: %w", table, err)
	}
	var holds int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+qualified(s.opts.Keys())+` WHERE "TableName" = ? AND "ScanId" = ?`, table.Name, sp.Scan).Scan(&holds); err != nil {
		return 0, rollback(tx, fmt.Errorf("sqlite sink: sweep %s: %w", table, err))
	}
	if holds < sp.Staged {
		return 0, rollback(tx, &sink.IncompleteScanError{Table: table, Scan: sp.Scan, Staged: sp.Staged, Holds: holds})
	}
	where := []any{sp.Version, table.Name, sp.Scan}
	stmts := sweepStmts(table, s.opts.Tombstones(), s.opts.Keys(), dl)
	var res sql.Result
	for i, q := range stmts {
		var args []any
		switch {
		case i == len(stmts)-1: // delete
			args = where
		case dl != nil && i == 0: // delete log
			args = append([]any{entity, now, sp.Version}, where...)
		default: // tombstones
			args = append([]any{table.Name, sp.Version, now}, where...)
		}
		if res, err = tx.ExecContext(ctx, q, args...); err != nil {
			return 0, rollback(tx, fmt.Errorf("sqlite sink: sweep %s: %w", table, err))
		}
	}
	removed, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite sink: sweep %s: commit: %w", table, err)
	}
	return int(removed), nil
}

// ClearKeys removes abandoned or used key sets (see sink.Sweeper).
func (s *Sink) ClearKeys(ctx context.Context, table schema.TableName, scan string, before time.Time) error {
	table = s.resolve(table)
	if scan == "" && before.IsZero() {
		return nil
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM `+qualified(s.opts.Keys())+` WHERE "TableName" = ? AND ("ScanId" = ? OR "StagedOn" < ?)`,
		table.Name, scan, before.UTC().Format(TimeLayout)); err != nil {
		return fmt.Errorf("sqlite sink: clear staged keys of %s: %w", table, err)
	}
	return nil
}
