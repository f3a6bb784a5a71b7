// Package sqlserver is the SQL Server / Azure SQL destination, in the layout
// the Data Export Service created: entity tables with Id, SinkCreatedOn,
// SinkModifiedOn and versionnumber, the <table>Type and <table>IdType table
// types, procedures taking them, the metadata tables and DeleteLog.
//
// Every statement is built by a pure function in this package and pinned by
// a golden file under testdata; the live path runs the shared acceptance
// suite only against a server named by DATAEXPORT_TEST_SQLSERVER.
package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// ErrConnString is returned for a connection string the driver cannot
// parse. The parser's own message is withheld: it may quote the secret.
var ErrConnString = errclass.With(errclass.Configuration, errors.New("sqlserver sink: connection string cannot be parsed"))

// Sink writes to one SQL Server or Azure SQL database.
type Sink struct {
	db    *sql.DB
	opts  sink.Options
	names naming
	log   *slog.Logger
	cols  sink.ColumnCache
}

// Every capability (sink/capabilities_test.go holds the matrix).
var _ sink.Destination = (*Sink)(nil)

// Open connects, checks the connection and creates the sink's own tables
// (tombstones, and DeleteLog when o.WriteDeleteLog). o may be nil; the
// default schema is dbo.
func Open(ctx context.Context, connString string, o *sink.Options) (*Sink, error) {
	var opts sink.Options
	if o != nil {
		opts = *o
	}
	if err := opts.Validate(); err != nil {
		return nil, errclass.With(errclass.Configuration, fmt.Errorf("sqlserver sink: %w", err))
	}
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	connector, err := mssql.NewConnector(connString)
	if err != nil {
		return nil, ErrConnString
	}
	db := sql.OpenDB(connector)
	// Azure SQL closes idle sessions (its gateway after 30 minutes); retire
	// them first rather than meet a dead one.
	db.SetConnMaxIdleTime(5 * time.Minute)
	return open(ctx, db, opts)
}

// open finishes Open on any database handle (tests pass a recording driver).
func open(ctx context.Context, db *sql.DB, opts sink.Options) (*Sink, error) {
	s := &Sink{
		db:    db,
		opts:  opts,
		names: newNaming(opts.Schema, opts.Prefix),
		log:   opts.Log(),
	}
	s.names.labelView = opts.LabelView
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlserver sink: connect: %w", err)
	}
	// A login missing a DES permission fails later, on some DDL; say so now.
	if missing, err := MissingPermissions(ctx, db, opts.Schema); err != nil {
		s.log.DebugContext(ctx, "sqlserver sink: permission check failed", "err", err)
	} else if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, p := range missing {
			names[i] = p.String()
		}
		s.log.WarnContext(ctx, "sqlserver sink: the login lacks permissions the Data Export Service required", "schema", opts.Schema, "missing", names)
	}
	if err := s.execAll(ctx, db, sharedTableStmts(s.names, opts.WriteDeleteLog)); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlserver sink: create own tables: %w", err)
	}
	return s, nil
}

// Options are the options the sink runs with, Schema resolved.
func (s *Sink) Options() sink.Options { return s.opts }

// DB is the underlying database, for tools and benchmarks.
func (s *Sink) DB() *sql.DB { return s.db }

// Close closes the connection pool.
func (s *Sink) Close() error { return s.db.Close() }

// MissingPermissions reports which of DES's required permissions the login
// lacks on the database and the sink's schema.
func (s *Sink) MissingPermissions(ctx context.Context) ([]Permission, error) {
	return MissingPermissions(ctx, s.db, s.opts.Schema)
}

func (s *Sink) resolve(t schema.TableName) schema.TableName { return s.names.table(t) }

// execAll runs each statement as its own batch, in order.
func (s *Sink) execAll(ctx context.Context, q querier, stmts []string) error {
	for _, st := range stmts {
		if _, err := q.ExecContext(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// columns reads the data columns of t and caches them, or returns a
// *sink.NoTableError.
func (s *Sink) columns(ctx context.Context, t schema.TableName) (map[string]schema.ColumnType, error) {
	have, err := readDBColumns(ctx, s.db, tableColumnsQuery, qn(t))
	if err != nil {
		return nil, fmt.Errorf("sqlserver sink: read columns of %s: %w", t, err)
	}
	if len(have) == 0 {
		return nil, &sink.NoTableError{Table: t}
	}
	c := map[string]schema.ColumnType{}
	for _, col := range dataColumns(have) {
		c[col.Name] = col.Type
	}
	s.cols.Put(t, c)
	return c, nil
}

// rollback ends tx after a failure, keeping the first error.
func rollback(tx *sql.Tx, err error) error {
	if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
		return errors.Join(err, rerr)
	}
	return err
}
