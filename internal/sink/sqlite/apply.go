package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// Apply writes b to table (see sink.BatchApplier): each write is one
// transaction, deletes first, then version-guarded upserts in one
// statement reading the batch through the feed. Deletes before upserts gives
// the same result as any other order, since each side is guarded by the
// other's version.
func (s *Sink) Apply(ctx context.Context, table schema.TableName, b record.Batch) (sink.Result, error) {
	table = s.resolve(table)
	entity := b.Entity
	if entity == "" {
		entity = table.Name
	}
	return s.cols.Apply(ctx, table, b, s.columns, func(ctx context.Context, p sink.Prepared, _ map[string]schema.ColumnType) (sink.Result, error) {
		return s.write(ctx, table, entity, p)
	})
}

func (s *Sink) write(ctx context.Context, table schema.TableName, entity string, p sink.Prepared) (sink.Result, error) {
	var res sink.Result
	now := time.Now().UTC().Format(TimeLayout)
	// The upserts' parameters are made before the one connection is taken:
	// while another batch holds it, this one converts its values.
	vals := upsertArgs(p)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("sqlite sink: apply to %s: %w", table, err)
	}
	if res.Deleted, err = s.applyDeletes(ctx, tx, table, entity, p.Deletes, now); err != nil {
		return sink.Result{}, rollback(tx, err)
	}
	if res.Upserted, res.Rejected, err = s.applyUpserts(ctx, tx, table, p, vals, now); err != nil {
		return sink.Result{}, rollback(tx, err)
	}
	if err := tx.Commit(); err != nil {
		return sink.Result{}, fmt.Errorf("sqlite sink: apply to %s: commit: %w", table, err)
	}
	return res, nil
}

// upsertArgs are the parameters of p's upserts, row after row: id,
// version, then the columns.
func upsertArgs(p sink.Prepared) []any {
	per := 2 + len(p.Columns)
	vals := make([]any, 0, len(p.Upserts)*per)
	for _, r := range p.Upserts {
		vals = append(vals, r.ID, r.Version)
		for _, v := range r.Values {
			vals = append(vals, arg(v))
		}
	}
	return vals
}

// applyUpserts writes p's upserts with one statement reading them through
// the feed (feed.go). A record the database refuses (a constraint, a
// trigger raising ABORT) fails that statement, which SQLite undoes alone;
// the rows are then written again in chunks of bound parameters, where a
// refused record is found and rejected (chunkUpserts).
func (s *Sink) applyUpserts(ctx context.Context, tx *sql.Tx, table schema.TableName, p sink.Prepared, vals []any, now string) (int, []sink.Rejection, error) {
	if len(p.Upserts) == 0 {
		return 0, nil, nil
	}
	n, err := s.feedUpserts(ctx, tx, table, p, vals, now)
	switch {
	case err == nil:
		return n, nil, nil
	case errclass.Of(err) != errclass.Record:
		return 0, nil, err
	case !s.stillOpen(ctx, tx):
		// A trigger's RAISE(ROLLBACK) ended the transaction: nothing of
		// it stands, so the write fails with the record's error and
		// Isolate splits it into transactions of their own.
		return 0, nil, rolledBack(table, err)
	}
	return s.chunkUpserts(ctx, tx, table, p, vals, now)
}

func (s *Sink) feedUpserts(ctx context.Context, tx *sql.Tx, table schema.TableName, p sink.Prepared, vals []any, now string) (int, error) {
	per := 2 + len(p.Columns)
	if _, err := tx.ExecContext(ctx, feedCreateSQL(per)); err != nil {
		return 0, fmt.Errorf("sqlite sink: apply to %s: creating the rows feed: %w", table, err)
	}
	h, release := addFeed(vals, per)
	defer release()
	out, err := tx.ExecContext(ctx, upsertSQL(table, s.opts.Tombstones(), p.Columns, feedSource(per), p.Overwrite), now, now, h, table.Name)
	if err != nil {
		return 0, fmt.Errorf("sqlite sink: apply to %s: upsert: %w", table, err)
	}
	c, _ := out.RowsAffected()
	return int(c), nil
}

// chunkUpserts writes p's upserts in chunks of bound parameters. A chunk
// the database refuses for a record's sake is written again row by row
// within the same transaction, since SQLite undoes only the failed
// statement: the refused rows are rejected, the others written, for 32
// single-row statements at most per bad record.
func (s *Sink) chunkUpserts(ctx context.Context, tx *sql.Tx, table schema.TableName, p sink.Prepared, vals []any, now string) (int, []sink.Rejection, error) {
	// Rows go in chunks of up to chunkRows per statement: each statement
	// costs a call through database/sql and the driver, each value a bind.
	per := 2 + len(p.Columns)
	chunk := max(1, min(chunkRows, maxParams/per))
	var full, one *sql.Stmt
	defer func() {
		for _, st := range []*sql.Stmt{full, one} {
			if st != nil {
				st.Close()
			}
		}
	}()
	args := make([]any, 3+chunk*per)
	args[0], args[1] = now, now
	// exec writes upserts [from, to).
	exec := func(stmt *sql.Stmt, from, to int) (int, error) {
		a := args[:3+(to-from)*per]
		a[len(a)-1] = table.Name
		copy(a[2:], vals[from*per:to*per])
		out, err := stmt.ExecContext(ctx, a...)
		if err != nil {
			return 0, err
		}
		c, _ := out.RowsAffected()
		return int(c), nil
	}
	prepare := func(rows int) (*sql.Stmt, error) {
		st, err := tx.PrepareContext(ctx, upsertSQL(table, s.opts.Tombstones(), p.Columns, valuesSource(rows, per), p.Overwrite))
		if err != nil {
			return nil, fmt.Errorf("sqlite sink: apply to %s: prepare upsert: %w", table, err)
		}
		return st, nil
	}
	n := 0
	var rejected []sink.Rejection
	for start := 0; start < len(p.Upserts); start += chunk {
		end := min(start+chunk, len(p.Upserts))
		rows := p.Upserts[start:end]
		stmt := full
		if len(rows) < chunk || full == nil {
			var err error
			if stmt, err = prepare(len(rows)); err != nil {
				return 0, nil, err
			}
			if len(rows) == chunk {
				full = stmt
			} else {
				defer stmt.Close()
			}
		}
		c, err := exec(stmt, start, end)
		if err == nil {
			n += c
			continue
		}
		if errclass.Of(err) != errclass.Record {
			return 0, nil, fmt.Errorf("sqlite sink: apply to %s: upsert: %w", table, err)
		}
		if !s.stillOpen(ctx, tx) {
			return 0, nil, rolledBack(table, err)
		}
		if one == nil {
			if one, err = prepare(1); err != nil {
				return 0, nil, err
			}
		}
		for i, r := range rows {
			c, err := exec(one, start+i, start+i+1)
			switch {
			case err == nil:
				n += c
			case errclass.Of(err) == errclass.Record:
				if !s.stillOpen(ctx, tx) {
					return 0, nil, rolledBack(table, err)
				}
				rejected = append(rejected, sink.Rejection{ID: r.ID, Version: r.Version, Class: errclass.Record,
					Err: fmt.Errorf("sqlite sink: apply to %s: record %s: %w", table, r.ID, err)})
			default:
				return 0, nil, fmt.Errorf("sqlite sink: apply to %s: upsert: %w", table, err)
			}
		}
	}
	return n, rejected, nil
}

// stillOpen reports whether tx survived a failed statement: SQLite undoes
// only the statement on a constraint failure (ABORT), but a trigger may
// roll the whole transaction back (RAISE(ROLLBACK)), after which statements
// would run outside it. BEGIN tells: SQLite refuses it within a
// transaction; outside one it starts a new one, which the caller's
// rollback ends. (A savepoint held for the same proof made SQLite copy
// every page the transaction touched to its sub-journal.)
func (s *Sink) stillOpen(ctx context.Context, tx *sql.Tx) bool {
	_, err := tx.ExecContext(ctx, "BEGIN")
	return err != nil && strings.Contains(err.Error(), "within a transaction")
}

// rolledBack is the error of a write whose transaction a trigger's
// RAISE(ROLLBACK) ended on a record's error (see stillOpen).
func rolledBack(table schema.TableName, err error) error {
	return fmt.Errorf("sqlite sink: apply to %s: upsert (transaction rolled back): %w", table, err)
}

// Chunking of upserts: rows per statement, and SQLite's limit on
// parameters (SQLITE_MAX_VARIABLE_NUMBER, 32766 since 3.32).
const (
	chunkRows = 32
	maxParams = 32766 - 3
)

// rowSource is where an upsert statement reads its rows: a VALUES list of
// bound parameters or the feed.
type rowSource struct {
	from  string             // the FROM item, aliased v
	where string             // the source's own condition, with its parameters
	col   func(k int) string // a row's k-th value (id, version, columns), from 0
}

// valuesSource is a VALUES list of rows rows of per anonymous parameters:
// the driver looks a numbered one up by a linear scan, which made a
// statement of 1,400 parameters cost more than its rows.
func valuesSource(rows, per int) rowSource {
	var vals strings.Builder
	vals.WriteString("(VALUES\n")
	for r := range rows {
		if r > 0 {
			vals.WriteString(",\n")
		}
		vals.WriteString("(")
		for j := range per {
			if j > 0 {
				vals.WriteString(", ")
			}
			vals.WriteString("?")
		}
		vals.WriteString(")")
	}
	vals.WriteString(")")
	return rowSource{from: vals.String(), col: func(k int) string { return fmt.Sprintf("v.column%d", k+1) }}
}

// feedSource is the feed table of width per; its parameter is the handle.
func feedSource(per int) rowSource {
	return rowSource{from: feedName(per), where: "v.h = ? AND ", col: func(k int) string { return fmt.Sprintf("v.c%d", k) }}
}

// upsertSQL inserts rows unless a tombstone at least as new exists, and on
// conflict updates a row only if the stored version is older (with
// overwrite, not newer: a backfill rewrites a row at its own version). The
// ids of one statement are distinct (Prepare deduplicates). Parameters, in
// order: now twice, the source's (per row its id, version and columns, or
// the feed's handle), the table name.
func upsertSQL(table, tombs schema.TableName, cols []record.Column, src rowSource, overwrite bool) string {
	col := src.col
	var names, sel, sets strings.Builder
	for i, c := range cols {
		q := quote(c.Name)
		fmt.Fprintf(&names, ", %s", q)
		fmt.Fprintf(&sel, ", %s", col(2+i))
		fmt.Fprintf(&sets, ", %s = excluded.%s", q, q)
	}
	v := quote(schema.ColVersion)
	older := "<"
	if overwrite {
		older = "<="
	}
	return fmt.Sprintf(`INSERT INTO %s (%s, %s, %s, %s%s)
SELECT %s, ?, ?, %s%s FROM %s AS v
WHERE %sNOT EXISTS (SELECT 1 FROM %s x WHERE x."TableName" = ? AND x."Id" = %s AND x."VersionNumber" >= %s)
ON CONFLICT (%s) DO UPDATE SET %s = excluded.%s, %s = excluded.%s%s
WHERE %s %s excluded.%s`,
		qualified(table), quote(schema.ColID), quote(schema.ColSinkCreatedOn), quote(schema.ColSinkModifiedOn), v, names.String(),
		col(0), col(1), sel.String(), src.from,
		src.where, qualified(tombs), col(0), col(1),
		quote(schema.ColID), quote(schema.ColSinkModifiedOn), quote(schema.ColSinkModifiedOn), v, v, sets.String(),
		v, older, v)
}

func (s *Sink) applyDeletes(ctx context.Context, tx *sql.Tx, table schema.TableName, entity string, dels []record.Delete, now string) (int, error) {
	if len(dels) == 0 {
		return 0, nil
	}
	if entity == "" {
		entity = table.Name
	}
	del, err := tx.PrepareContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s = ?1 AND %s <= ?2`,
		qualified(table), quote(schema.ColID), quote(schema.ColVersion)))
	if err != nil {
		return 0, fmt.Errorf("sqlite sink: apply to %s: prepare delete: %w", table, err)
	}
	defer del.Close()
	tomb, err := tx.PrepareContext(ctx, fmt.Sprintf(`INSERT INTO %s ("TableName", "Id", "VersionNumber", "DeletedOn") VALUES (?1, ?2, ?3, ?4)
ON CONFLICT ("TableName", "Id") DO UPDATE SET "VersionNumber" = excluded."VersionNumber", "DeletedOn" = excluded."DeletedOn"
WHERE "VersionNumber" < excluded."VersionNumber"`, qualified(s.opts.Tombstones())))
	if err != nil {
		return 0, fmt.Errorf("sqlite sink: apply to %s: prepare tombstone: %w", table, err)
	}
	defer tomb.Close()
	var exists, logIns *sql.Stmt
	if s.opts.WriteDeleteLog {
		if exists, err = tx.PrepareContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s = ?1`, qualified(table), quote(schema.ColID))); err != nil {
			return 0, fmt.Errorf("sqlite sink: apply to %s: prepare: %w", table, err)
		}
		defer exists.Close()
		if logIns, err = tx.PrepareContext(ctx, `INSERT INTO `+qualified(s.opts.DeleteLog())+` ("Id", "EntityName", "RecordId", "SinkDeleteTime", "VersionNumber") VALUES (?, ?, ?, ?, ?)`); err != nil {
			return 0, fmt.Errorf("sqlite sink: apply to %s: prepare delete log: %w", table, err)
		}
		defer logIns.Close()
	}
	n := 0
	for _, d := range dels {
		r, err := del.ExecContext(ctx, d.ID, d.Version)
		if err != nil {
			return 0, fmt.Errorf("sqlite sink: apply to %s: delete %s: %w", table, d.ID, err)
		}
		removed, _ := r.RowsAffected()
		r, err = tomb.ExecContext(ctx, table.Name, d.ID, d.Version, now)
		if err != nil {
			return 0, fmt.Errorf("sqlite sink: apply to %s: tombstone %s: %w", table, d.ID, err)
		}
		raised, _ := r.RowsAffected()
		if removed == 0 && raised == 0 {
			continue
		}
		n++
		if logIns == nil {
			continue
		}
		// Log deletes of rows that are gone, not stale deletes of a row
		// that a newer upsert keeps.
		if removed == 0 {
			var c int
			if err := exists.QueryRowContext(ctx, d.ID).Scan(&c); err != nil {
				return 0, fmt.Errorf("sqlite sink: apply to %s: %w", table, err)
			}
			if c > 0 {
				continue
			}
		}
		if _, err := logIns.ExecContext(ctx, uuid.NewString(), entity, d.ID, now, d.Version); err != nil {
			return 0, fmt.Errorf("sqlite sink: apply to %s: delete log %s: %w", table, d.ID, err)
		}
	}
	return n, nil
}
