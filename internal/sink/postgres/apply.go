package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// stageName is the staging table of a batch shape: a temporary table per
// connection, target table and column types, kept (ON COMMIT DELETE ROWS)
// so that a batch costs no catalog writes. The types are in the name, so a
// widened column gets a new staging table.
func stageName(table schema.TableName, names []string, cols map[string]schema.ColumnType) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s.%s", table.Schema, table.Name)
	for _, n := range names[2:] {
		fmt.Fprintf(h, "|%s %s", n, cols[n])
	}
	return fmt.Sprintf("dataexport_stage_%016x", h.Sum64())
}

// Apply writes b to table (see sink.BatchApplier), each write one
// transaction: deletes first, in one statement, then the upserts. A batch
// that carries every data column of the table (the usual case) is written
// by replace: one statement removes the rows it supersedes, one COPY writes
// the new versions. A narrower batch (the table kept columns of removed
// attributes) goes through a staging table and one version-guarded
// INSERT … ON CONFLICT, which leaves the other columns alone. Deletes
// before upserts gives the same result as any other order, since each side
// is guarded by the other's version. A COPY that stops at a record says at
// which line: the write fails with a *sink.FailedAt, so that Isolate
// retries around that record.
func (s *Sink) Apply(ctx context.Context, table schema.TableName, b record.Batch) (sink.Result, error) {
	table = s.resolve(table)
	entity := b.Entity
	if entity == "" {
		entity = table.Name
	}
	return s.cols.Apply(ctx, table, b, s.freshColumns, func(ctx context.Context, p sink.Prepared, cols map[string]schema.ColumnType) (sink.Result, error) {
		return s.write(ctx, table, entity, p, cols)
	})
}

func (s *Sink) write(ctx context.Context, table schema.TableName, entity string, p sink.Prepared, cols map[string]schema.ColumnType) (sink.Result, error) {
	var res sink.Result
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		// Writers of one table take turns: a statement's snapshot must see
		// a concurrent batch's tombstones, or a late upsert racing a delete
		// could bring the row back. Each batch is set-based, so the wait is
		// one batch at most.
		if err := lockForWrite(ctx, tx, table); err != nil {
			return err
		}
		var err error
		if res.Deleted, err = s.applyDeletes(ctx, tx, table, entity, p.Deletes, now); err != nil {
			return err
		}
		full := len(p.Columns) == len(cols)
		if full && len(p.Upserts) > 0 {
			// The cached column list may be stale (another process added or
			// dropped a column); under the lock the table cannot change, so
			// read the names again before a write that would blank a column
			// it missed.
			if full, err = s.columnsAre(ctx, tx, table, cols); err != nil {
				return err
			}
			if !full {
				s.cols.Forget(table)
			}
		}
		if full {
			res.Upserted, err = s.replace(ctx, tx, table, p, now)
		} else {
			res.Upserted, err = s.applyUpserts(ctx, tx, table, p, cols, now)
		}
		return err
	})
	if err != nil {
		return sink.Result{}, fmt.Errorf("postgres sink: apply to %s: %w", table, err)
	}
	return res, nil
}

// lockForWrite takes the table's writer lock (lockTable) and, for this
// transaction only, prices sequential scans out, in the same round trip.
//
// Why: a batch is a page of up to 5,000 ids. Against a table of a few
// hundred thousand rows the planner prices 5,000 random index probes above
// one sequential scan and a hash join (random_page_cost assumes a disk; the
// table is cached), so each batch read the whole table: the cost of a page
// grew with the table, and a full read of 1,000,000 rows spent about 100 s
// of database CPU where the staged upsert spends 20. The statements name
// the batch's ids wherever they read the table (= ANY($1)), so a probe per
// id is a plan they always have (TestWritesUseThePrimaryKey). The staging
// table is still scanned whole, as it must be; with sequential scans
// priced out its plan looks expensive enough to be JIT-compiled, which
// costs more than the statement, hence jit off.
func lockForWrite(ctx context.Context, tx pgx.Tx, t schema.TableName) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1)),
	set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)`, lockKey(t))
	return err
}

// copyLine finds the line a COPY stopped at in its error ("COPY account,
// line 3, column name"): line n is the n-th row sent, from 1.
var copyLine = regexp.MustCompile(`^COPY .*, line (\d+)(?:,|$)`)

// failedAt wraps a record-class error of a COPY whose n-th row (from 1)
// is row(n-1) of the batch's upserts, as a *sink.FailedAt; other errors are
// returned as they are.
func failedAt(err error, row func(i int) (int, bool)) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || errclass.Of(err) != errclass.Record {
		return err
	}
	m := copyLine.FindStringSubmatch(pe.Where)
	if m == nil {
		return err
	}
	n, perr := strconv.Atoi(m[1])
	if perr != nil {
		return err
	}
	i, ok := row(n - 1)
	if !ok {
		return err
	}
	return &sink.FailedAt{Index: i, Err: err}
}

func (s *Sink) applyUpserts(ctx context.Context, tx pgx.Tx, table schema.TableName, p sink.Prepared, cols map[string]schema.ColumnType, now time.Time) (int, error) {
	if len(p.Upserts) == 0 {
		return 0, nil
	}
	names := make([]string, 0, 2+len(p.Columns))
	names = append(names, schema.ColID, schema.ColVersion)
	for _, c := range p.Columns {
		names = append(names, c.Name)
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = ident(n)
	}
	// The staging table takes its column types from the target, so COPY
	// checks every value against the real column (lengths, int range).
	stage := stageName(table, names, cols)
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s ON COMMIT DELETE ROWS AS SELECT %s FROM %s WITH NO DATA",
		ident(stage), strings.Join(quoted, ", "), qualified(table))); err != nil {
		return 0, fmt.Errorf("create staging table: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stage}, lowerAll(names), &stageSource{rows: p.Upserts, vals: make([]any, len(names))}); err != nil {
		// The staging table has the target's types: a value the column
		// cannot hold stops the COPY at its line.
		return 0, fmt.Errorf("copy to staging table: %w", failedAt(err, func(i int) (int, bool) { return i, 0 <= i && i < len(p.Upserts) }))
	}
	tag, err := tx.Exec(ctx, upsertSQL(table, s.opts.Tombstones(), stage, quoted, p.Overwrite), now, table.Name)
	if err != nil {
		return 0, fmt.Errorf("upsert: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// upsertSQL moves the staging rows into table: rows without a tombstone at
// least as new are inserted, and on conflict update the stored row only if
// it is older (with overwrite, not newer: a backfill). The tombstone check is a scalar subquery, one primary-key
// probe per row: as NOT EXISTS the planner may hash every tombstone of the
// table for each batch, a cost that grows with the deletes ever seen. $1 is now, $2 the table name in the tombstone table.
// cols are the quoted staging columns: Id, versionnumber, data columns.
func upsertSQL(table, tombs schema.TableName, stage string, cols []string, overwrite bool) string {
	var sel, sets strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&sel, ", s.%s", c)
	}
	for _, c := range cols[2:] {
		fmt.Fprintf(&sets, ", %s = EXCLUDED.%s", c, c)
	}
	id, v := ident(schema.ColID), ident(schema.ColVersion)
	return fmt.Sprintf(`INSERT INTO %s AS t (%s, %s, %s)
SELECT $1, $1%s FROM %s s
WHERE coalesce((SELECT x.versionnumber FROM %s x WHERE x.tablename = $2 AND x.id = s.%s), -1) < s.%s
ON CONFLICT (%s) DO UPDATE SET %s = EXCLUDED.%s, %s = EXCLUDED.%s%s
WHERE t.%s %s EXCLUDED.%s`,
		qualified(table), ident(schema.ColSinkCreatedOn), ident(schema.ColSinkModifiedOn), strings.Join(cols, ", "),
		sel.String(), ident(stage),
		qualified(tombs), id, v,
		id, ident(schema.ColSinkModifiedOn), ident(schema.ColSinkModifiedOn), v, v, sets.String(),
		v, older(overwrite), v)
}

// older is the comparison a stored row's version must pass to be replaced
// by an upsert: strictly older, or with overwrite (a backfill) not newer.
func older(overwrite bool) string {
	if overwrite {
		return "<="
	}
	return "<"
}

// stageSource feeds prepared records to the staging COPY (Id,
// versionnumber, data columns) one row at a time.
type stageSource struct {
	rows []record.Record
	i    int
	vals []any
}

func (c *stageSource) Next() bool { c.i++; return c.i <= len(c.rows) }

func (c *stageSource) Values() ([]any, error) {
	r := &c.rows[c.i-1]
	id, err := uuidOf(r.ID)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", r.ID, err)
	}
	c.vals[0], c.vals[1] = id, r.Version
	return c.vals, putValues(c.vals[2:], r)
}

func (c *stageSource) Err() error { return nil }

// putValues converts r's values into dst, as COPY arguments.
func putValues(dst []any, r *record.Record) error {
	for j, v := range r.Values {
		var err error
		if dst[j], err = arg(v); err != nil {
			return fmt.Errorf("record %s value %d: %w", r.ID, j, err)
		}
	}
	return nil
}

// deleteSQL removes rows older than their delete and raises tombstones, and
// returns the deletes that did either, with whether they removed the row and
// whether a row existed before ($1 ids, $2 versions, $3 table name, $4 now).
// All parts see the snapshot taken before the statement.
func deleteSQL(table, tombs schema.TableName) string {
	id, v := ident(schema.ColID), ident(schema.ColVersion)
	return fmt.Sprintf(`WITH d AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS d(id, v)),
gone AS (DELETE FROM %[1]s t USING d WHERE t.%[3]s = ANY($1::uuid[]) AND t.%[3]s = d.id AND t.%[4]s <= d.v RETURNING t.%[3]s AS id),
raised AS (INSERT INTO %[2]s AS x (tablename, id, versionnumber, deletedon) SELECT $3, d.id, d.v, $4 FROM d
	ON CONFLICT (tablename, id) DO UPDATE SET versionnumber = EXCLUDED.versionnumber, deletedon = EXCLUDED.deletedon
	WHERE x.versionnumber < EXCLUDED.versionnumber RETURNING x.id AS id)
SELECT d.id::text, d.v, g.id IS NOT NULL, EXISTS (SELECT 1 FROM %[1]s t WHERE t.%[3]s = ANY($1::uuid[]) AND t.%[3]s = d.id)
FROM d LEFT JOIN gone g ON g.id = d.id LEFT JOIN raised r ON r.id = d.id
WHERE g.id IS NOT NULL OR r.id IS NOT NULL`, qualified(table), qualified(tombs), id, v)
}

func (s *Sink) applyDeletes(ctx context.Context, tx pgx.Tx, table schema.TableName, entity string, dels []record.Delete, now time.Time) (int, error) {
	if len(dels) == 0 {
		return 0, nil
	}
	ids := make([]pgtype.UUID, len(dels))
	vers := make([]int64, len(dels))
	for i, d := range dels {
		var err error
		if ids[i], err = uuidOf(d.ID); err != nil {
			return 0, fmt.Errorf("delete %s: %w", d.ID, err)
		}
		vers[i] = d.Version
	}
	rows, err := tx.Query(ctx, deleteSQL(table, s.opts.Tombstones()), ids, vers, table.Name, now)
	if err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	var logIDs []pgtype.UUID
	var logRecs []string
	var logVers []int64
	n := 0
	for rows.Next() {
		var rid string
		var v int64
		var removed, existed bool
		if err := rows.Scan(&rid, &v, &removed, &existed); err != nil {
			rows.Close()
			return 0, fmt.Errorf("delete: %w", err)
		}
		n++
		// Log deletes of rows that are gone, not stale deletes of a row that
		// a newer upsert keeps.
		if removed || !existed {
			logIDs = append(logIDs, pgtype.UUID{Bytes: uuid.New(), Valid: true})
			logRecs = append(logRecs, rid)
			logVers = append(logVers, v)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	if s.opts.WriteDeleteLog && len(logIDs) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO `+qualified(s.opts.DeleteLog())+` (id, entityname, recordid, sinkdeletetime, versionnumber)
SELECT l.id, $2, l.rec, $4, l.v FROM unnest($1::uuid[], $3::text[], $5::bigint[]) AS l(id, rec, v)`,
			logIDs, entity, logRecs, now, logVers); err != nil {
			return 0, fmt.Errorf("delete log: %w", err)
		}
	}
	return n, nil
}
