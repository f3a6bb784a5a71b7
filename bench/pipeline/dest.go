package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/postgres"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	_ "modernc.org/sqlite"
)

// destination is one database the pipeline writes to, with the same
// database's own bulk paths as the baseline.
type destination interface {
	name() string
	// profile is DESTINATION_TYPE and DESTINATION_CONNECTION for the runner.
	profile() (typ, conn string)
	// baseline loads the same rows, a page at a time from memory, by the
	// database's bulk paths into fresh tables of the pipeline's layout; it
	// returns the seconds spent in the staged upsert and in the plain load.
	// pass names the tables' schema or file, one per pass.
	baseline(ctx context.Context, pass string, tables []schema.Table, pages func(yield func(entity string, p *dataverse.ChangesPage) error) error) (upsert, load time.Duration, err error)
	count(ctx context.Context, table string) (int64, error)
	// markers returns, for rows whose column starts with prefix, the value
	// and SinkModifiedOn by id.
	markers(ctx context.Context, table, column, prefix string) (map[string]marked, error)
	// backends are the database's server processes serving this benchmark
	// (none for SQLite: it runs inside the runner).
	backends(ctx context.Context) []int
	close()
}

type marked struct {
	value    string
	modified time.Time
}

// ---- PostgreSQL ----

type pgDest struct {
	admin, url, db string
	conn           *pgx.Conn
}

// newPG creates a database of its own (so that plan settings and the
// backends measured are the benchmark's alone).
func newPG(ctx context.Context, adminURL, id string, customPlans bool) (*pgDest, error) {
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL (%s; scripts/postgres.sh starts the machine's): %w", redactURL(adminURL), err)
	}
	defer admin.Close(ctx)
	d := &pgDest{admin: adminURL, db: "dxbench_" + id}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+d.db); err != nil {
		return nil, err
	}
	if customPlans {
		if _, err := admin.Exec(ctx, "ALTER DATABASE "+d.db+" SET plan_cache_mode = force_custom_plan"); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + d.db
	d.url = u.String()
	if d.conn, err = pgx.Connect(ctx, d.url); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *pgDest) name() string                { return "postgres" }
func (d *pgDest) profile() (typ, conn string) { return "postgres", d.url }

func (d *pgDest) close() {
	ctx := context.Background()
	d.conn.Close(ctx)
	if admin, err := pgx.Connect(ctx, d.admin); err == nil {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+d.db+" WITH (FORCE)")
		admin.Close(ctx)
	}
}

func (d *pgDest) backends(ctx context.Context) []int {
	rows, err := d.conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", d.db)
	if err != nil {
		return nil
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out
}

func (d *pgDest) count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := d.conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM public.%q`, strings.ToLower(table))).Scan(&n)
	if err != nil && strings.Contains(err.Error(), "does not exist") {
		return 0, nil
	}
	return n, err
}

func (d *pgDest) markers(ctx context.Context, table, column, prefix string) (map[string]marked, error) {
	rows, err := d.conn.Query(ctx, fmt.Sprintf(`SELECT id::text, %[1]q, sinkmodifiedon FROM public.%[2]q WHERE %[1]q LIKE $1`, strings.ToLower(column), strings.ToLower(table)), prefix+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]marked{}
	for rows.Next() {
		var id, v string
		var t time.Time
		if err := rows.Scan(&id, &v, &t); err != nil {
			return nil, err
		}
		out[id] = marked{v, t}
	}
	return out, rows.Err()
}

func (d *pgDest) baseline(ctx context.Context, pass string, tables []schema.Table, pages func(yield func(string, *dataverse.ChangesPage) error) error) (time.Duration, time.Duration, error) {
	// The pipeline's exact layout, in two schemas of their own: one for the
	// staged upsert, one for the plain COPY.
	up, cp := "baselineupsert"+pass, "baselinecopy"+pass
	for _, schemaName := range []string{up, cp} {
		if _, err := d.conn.Exec(ctx, "CREATE SCHEMA "+schemaName); err != nil {
			return 0, 0, err
		}
		s, err := postgres.Open(ctx, d.url, &sink.Options{Schema: schemaName, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return 0, 0, err
		}
		for _, t := range tables {
			t.Schema = schemaName
			if err := s.EnsureTable(ctx, t); err != nil {
				s.Close()
				return 0, 0, err
			}
		}
		s.Close()
	}
	var upsert, load time.Duration
	err := pages(func(entity string, p *dataverse.ChangesPage) error {
		t := tableOf(tables, entity)
		names := append([]string{schema.ColID, schema.ColSinkCreatedOn, schema.ColSinkModifiedOn, schema.ColVersion}, columnNames(p.Columns)...)
		now := time.Now().UTC()
		start := time.Now()
		// The sink's PostgreSQL names are lowercase (naming.go).
		for i := range names {
			names[i] = strings.ToLower(names[i])
		}
		if err := d.stagedUpsert(ctx, up, strings.ToLower(t.Name), names, p.Upserts, now); err != nil {
			return fmt.Errorf("staged upsert: %w", err)
		}
		upsert += time.Since(start)
		start = time.Now()
		if err := d.copy(ctx, cp, strings.ToLower(t.Name), names, p.Upserts, now); err != nil {
			return fmt.Errorf("COPY: %w", err)
		}
		load += time.Since(start)
		return nil
	})
	return upsert, load, err
}

// stagedUpsert is the textbook PostgreSQL bulk upsert: COPY into a
// temporary table, then one INSERT … ON CONFLICT DO UPDATE guarded by the
// version, in one transaction.
func (d *pgDest) stagedUpsert(ctx context.Context, schemaName, table string, names []string, rows []record.Record, now time.Time) error {
	tx, err := d.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	target := pgx.Identifier{schemaName, table}.Sanitize()
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE stage (LIKE "+target+") ON COMMIT DROP"); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage"}, names, &pgRows{rows: rows, now: now, vals: make([]any, len(names))}); err != nil {
		return err
	}
	var set []string
	for _, n := range names[2:] { // not Id, not SinkCreatedOn
		set = append(set, fmt.Sprintf("%[1]s = EXCLUDED.%[1]s", pgx.Identifier{n}.Sanitize()))
	}
	q := fmt.Sprintf(`INSERT INTO %s AS t SELECT * FROM stage ON CONFLICT (id) DO UPDATE SET %s WHERE t.versionnumber < EXCLUDED.versionnumber`, target, strings.Join(set, ", "))
	if _, err := tx.Exec(ctx, q); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (d *pgDest) copy(ctx context.Context, schemaName, table string, names []string, rows []record.Record, now time.Time) error {
	tx, err := d.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{schemaName, table}, names, &pgRows{rows: rows, now: now, vals: make([]any, len(names))}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// pgRows feeds records to COPY with the usual Go types.
type pgRows struct {
	rows []record.Record
	i    int
	now  time.Time
	vals []any
}

func (r *pgRows) Next() bool { r.i++; return r.i <= len(r.rows) }
func (r *pgRows) Err() error { return nil }
func (r *pgRows) Values() ([]any, error) {
	rec := &r.rows[r.i-1]
	id, err := uuidOf(rec.ID)
	if err != nil {
		return nil, err
	}
	r.vals[0], r.vals[1], r.vals[2], r.vals[3] = id, r.now, r.now, rec.Version
	for j, v := range rec.Values {
		switch v.Kind {
		case record.Null:
			r.vals[4+j] = nil
		case record.String:
			r.vals[4+j] = v.S
		case record.Decimal:
			var n pgtype.Numeric
			if err := n.Scan(v.S); err != nil {
				return nil, err
			}
			r.vals[4+j] = n
		case record.GUID:
			if r.vals[4+j], err = uuidOf(v.S); err != nil {
				return nil, err
			}
		case record.Int:
			r.vals[4+j] = v.I
		case record.Float:
			r.vals[4+j] = v.Float()
		case record.Bool:
			r.vals[4+j] = v.Bool()
		case record.DateTime, record.Date:
			r.vals[4+j] = v.Time()
		}
	}
	return r.vals, nil
}

func uuidOf(s string) (pgtype.UUID, error) {
	var u pgtype.UUID
	err := u.Scan(s)
	return u, err
}

// ---- SQLite ----

type sqliteDest struct {
	dir  string
	path string
	db   *sql.DB // read-only, for counts and markers
}

func newSQLite(dir string) (*sqliteDest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &sqliteDest{dir: dir, path: filepath.Join(dir, "pipeline.db")}
	return d, nil
}

func (d *sqliteDest) name() string                { return "sqlite" }
func (d *sqliteDest) profile() (typ, conn string) { return "sqlite", d.path }
func (d *sqliteDest) backends(context.Context) []int {
	return nil
}
func (d *sqliteDest) close() {
	if d.db != nil {
		d.db.Close()
	}
}

func (d *sqliteDest) reader() (*sql.DB, error) {
	if d.db != nil {
		return d.db, nil
	}
	if _, err := os.Stat(d.path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+d.path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	d.db = db
	return db, nil
}

func (d *sqliteDest) count(ctx context.Context, table string) (int64, error) {
	db, err := d.reader()
	if err != nil {
		return 0, nil // not created yet
	}
	var n int64
	err = db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %q`, table)).Scan(&n)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return 0, nil
	}
	return n, err
}

func (d *sqliteDest) markers(ctx context.Context, table, column, prefix string) (map[string]marked, error) {
	db, err := d.reader()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT "Id", %q, "SinkModifiedOn" FROM %q WHERE %q LIKE ?`, column, table, column), prefix+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]marked{}
	for rows.Next() {
		var id, v, ts string
		if err := rows.Scan(&id, &v, &ts); err != nil {
			return nil, err
		}
		t, err := time.Parse(sqlite.TimeLayout, ts)
		if err != nil {
			return nil, err
		}
		out[id] = marked{v, t}
	}
	return out, rows.Err()
}

// baseline: the same rows into a database file of their own with the
// sink's settings (WAL, synchronous=FULL): a version-guarded INSERT … ON
// CONFLICT DO UPDATE and a plain INSERT, one transaction per page, prepared
// statements of 32 rows.
func (d *sqliteDest) baseline(ctx context.Context, pass string, tables []schema.Table, pages func(yield func(string, *dataverse.ChangesPage) error) error) (time.Duration, time.Duration, error) {
	dbs := map[string]*sql.DB{}
	for _, kind := range []string{"upsert", "load"} {
		path := filepath.Join(d.dir, "baseline-"+kind+pass+".db")
		s, err := sqlite.Open(ctx, path, &sink.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return 0, 0, err
		}
		for _, t := range tables {
			if err := s.EnsureTable(ctx, t); err != nil {
				s.Close()
				return 0, 0, err
			}
		}
		s.Close()
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return 0, 0, err
		}
		db.SetMaxOpenConns(1)
		defer db.Close()
		dbs[kind] = db
	}
	var upsert, load time.Duration
	err := pages(func(entity string, p *dataverse.ChangesPage) error {
		t := tableOf(tables, entity)
		names := append([]string{schema.ColID, schema.ColSinkCreatedOn, schema.ColSinkModifiedOn, schema.ColVersion}, columnNames(p.Columns)...)
		now := time.Now().UTC().Format(sqlite.TimeLayout)
		start := time.Now()
		if err := sqliteInsert(ctx, dbs["upsert"], t.Name, names, p.Upserts, now, true); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
		upsert += time.Since(start)
		start = time.Now()
		if err := sqliteInsert(ctx, dbs["load"], t.Name, names, p.Upserts, now, false); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		load += time.Since(start)
		return nil
	})
	return upsert, load, err
}

const sqliteRowsPerStatement = 32

func sqliteInsert(ctx context.Context, db *sql.DB, table string, names []string, rows []record.Record, now string, upsert bool) error {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(names)), ",") + ")"
	stmtSQL := func(n int) string {
		q := fmt.Sprintf("INSERT INTO %q (%s) VALUES %s", table, strings.Join(quoted, ","), strings.TrimSuffix(strings.Repeat(one+",", n), ","))
		if upsert {
			var set []string
			for _, n := range quoted[2:] {
				set = append(set, n+" = excluded."+n)
			}
			q += ` ON CONFLICT ("Id") DO UPDATE SET ` + strings.Join(set, ", ") + " WHERE versionnumber < excluded.versionnumber"
		}
		return q
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	full, err := tx.PrepareContext(ctx, stmtSQL(sqliteRowsPerStatement))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, sqliteRowsPerStatement*len(names))
	for i := 0; i < len(rows); i += sqliteRowsPerStatement {
		chunk := rows[i:min(i+sqliteRowsPerStatement, len(rows))]
		args = args[:0]
		for k := range chunk {
			r := &chunk[k]
			args = append(args, r.ID, now, now, r.Version)
			for _, v := range r.Values {
				args = append(args, sqliteArg(v))
			}
		}
		st := full
		if len(chunk) < sqliteRowsPerStatement {
			if st, err = tx.PrepareContext(ctx, stmtSQL(len(chunk))); err != nil {
				return err
			}
			defer st.Close()
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func sqliteArg(v record.Value) any {
	switch v.Kind {
	case record.String, record.Decimal, record.GUID:
		return v.S
	case record.Int:
		return v.I
	case record.Float:
		return v.Float()
	case record.Bool:
		if v.Bool() {
			return 1
		}
		return 0
	case record.DateTime, record.Date:
		return v.Time().Format(sqlite.TimeLayout)
	}
	return nil
}

func tableOf(tables []schema.Table, entity string) schema.Table {
	for _, t := range tables {
		if t.Name == entity {
			return t
		}
	}
	panic("no table for " + entity)
}

func columnNames(cols []record.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
