// Package sqlite is the embedded destination (modernc.org/sqlite, pure Go).
//
// Storage: strings, GUIDs (lowercase), decimals (their exact text) and
// datetimes ("2006-01-02 15:04:05.000000", UTC, microseconds) are TEXT;
// integers and booleans (0/1) are INTEGER. Declared types keep the DES type
// for introspection and choose the right affinity, e.g. VARCHAR(160),
// DECIMAL_TEXT(38,2), UUID_TEXT, DATETIME_TEXT. SQLite does not enforce
// lengths, so widening a column needs no DDL and is not done.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// DefaultSchema is the only schema an SQLite sink writes to.
const DefaultSchema = "main"

// Sink writes to one SQLite database file.
type Sink struct {
	db   *sql.DB
	opts sink.Options
	cols sink.ColumnCache
}

// Every capability (sink/capabilities_test.go holds the matrix).
var _ sink.Destination = (*Sink)(nil)

// Open opens (creating if needed) the database at path and creates the
// sink's own tables and the DES metadata tables. o may be nil. Schema must be empty or "main": SQLite has
// no other schemas without ATTACH.
func Open(ctx context.Context, path string, o *sink.Options) (*Sink, error) {
	var opts sink.Options
	if o != nil {
		opts = *o
	}
	// Settings an operator must change: configuration errors.
	if err := opts.Validate(); err != nil {
		return nil, errclass.With(errclass.Configuration, fmt.Errorf("sqlite sink: %w", err))
	}
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	if opts.Schema != DefaultSchema {
		return nil, errclass.With(errclass.Configuration, fmt.Errorf("sqlite sink: %w", &schema.NameError{What: "schema", Name: opts.Schema, Reason: "SQLite supports only schema main"}))
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, errclass.With(errclass.Configuration, errors.New("sqlite sink: the database path must be non-empty, without '?' or '#'"))
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: a commit is on disk before Apply returns and the queue message
	// is deleted. NORMAL (WAL's usual) may lose the last commits on power
	// loss, after their messages are gone: one fsync per batch is cheap.
	q.Add("_pragma", "synchronous(FULL)")
	// Take the write lock when a transaction starts: Apply reads versions
	// and tombstones and must not see them change before it writes.
	q.Add("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite sink: open: %w", err)
	}
	// One connection: SQLite has one writer anyway, and this keeps
	// transactions from waiting on each other's locks.
	db.SetMaxOpenConns(1)
	s := &Sink{db: db, opts: opts}
	// DES created the metadata tables on activation; opening the sink is
	// ours.
	if err := s.createOwnTables(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.EnsureMetadataTables(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Options are the options the sink runs with, Schema resolved.
func (s *Sink) Options() sink.Options { return s.opts }

// Close closes the database.
func (s *Sink) Close() error { return s.db.Close() }

// DB is the underlying database, for tools and benchmarks.
func (s *Sink) DB() *sql.DB { return s.db }

func (s *Sink) resolve(t schema.TableName) schema.TableName {
	if t.Schema == "" {
		t.Schema = s.opts.Schema
	}
	return t
}

func (s *Sink) createOwnTables(ctx context.Context) error {
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + qualified(s.opts.Tombstones()) + ` (
	"TableName" TEXT NOT NULL,
	"Id" UUID_TEXT NOT NULL,
	"VersionNumber" BIGINT NOT NULL,
	"DeletedOn" DATETIME_TEXT NOT NULL,
	PRIMARY KEY ("TableName", "Id")
)`,
		keysTableSQL(s.opts.Keys()),
	}
	if s.opts.WriteDeleteLog {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+qualified(s.opts.DeleteLog())+` (
	"Id" UUID_TEXT NOT NULL PRIMARY KEY,
	"EntityName" VARCHAR(64),
	"RecordId" VARCHAR(64),
	"SinkDeleteTime" DATETIME_TEXT,
	"VersionNumber" BIGINT
)`)
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite sink: create own tables: %w", err)
		}
	}
	return nil
}

// columns reads the data columns of t and caches them, or returns a
// *sink.NoTableError.
func (s *Sink) columns(ctx context.Context, t schema.TableName) (map[string]schema.ColumnType, error) {
	list, err := readColumns(ctx, s.db, t)
	if err != nil {
		return nil, err
	}
	if list == nil {
		return nil, &sink.NoTableError{Table: t}
	}
	c := make(map[string]schema.ColumnType, len(list))
	for _, col := range list {
		// SQLite keeps a text value whole whatever length the column
		// declares, and widening declares nothing new (no ALTER COLUMN):
		// the declared length is not a bound here.
		if col.Type.Kind == record.String {
			col.Type.Length = 0
		}
		c[col.Name] = col.Type
	}
	s.cols.Put(t, c)
	return c, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rollback ends tx after a failure, keeping the first error.
func rollback(tx *sql.Tx, err error) error {
	if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
		return errors.Join(err, rerr)
	}
	return err
}
