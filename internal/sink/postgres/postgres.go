// Package postgres is the PostgreSQL destination (pgx v5).
//
// Types: strings are varchar(n) or text, integers integer or bigint,
// decimals numeric(38,s) (exact), booleans boolean, datetimes timestamp
// (without time zone, holding UTC, microseconds), GUIDs uuid. Batches are
// written set-based: COPY into a temporary staging table, then one
// INSERT … SELECT … ON CONFLICT guarded by version and tombstone.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// DefaultSchema is the schema used when Options.Schema is empty.
const DefaultSchema = "public"

// DefaultMaxConns is the pool size when Options.MaxConns is zero.
const DefaultMaxConns = 4

// Sink writes to one PostgreSQL database.
type Sink struct {
	pool *pool
	opts sink.Options
	cols sink.ColumnCache
}

// Every capability (sink/capabilities_test.go holds the matrix).
var _ sink.Destination = (*Sink)(nil)

// Open connects to the database of connString, creates the schema if it is
// missing, the sink's own tables and the DES metadata tables. o may be nil. The connection string
// is a secret: it appears in no error or log.
func Open(ctx context.Context, connString string, o *sink.Options) (*Sink, error) {
	var opts sink.Options
	if o != nil {
		opts = *o
	}
	// Settings an operator must change: configuration errors.
	if err := opts.Validate(); err != nil {
		return nil, errclass.With(errclass.Configuration, fmt.Errorf("postgres sink: %w", err))
	}
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		// pgx's parse errors may quote the string; say only that it is wrong.
		return nil, errclass.With(errclass.Configuration, errors.New("postgres sink: connection string cannot be parsed"))
	}
	// Readers parse timestamps as text: pin the format.
	cfg.RuntimeParams["datestyle"] = "ISO, YMD"
	cfg.RuntimeParams["timezone"] = "UTC"
	pool := newPool(cfg, max(1, opts.MaxConns(DefaultMaxConns)))
	if err := pool.with(ctx, func(c *pgx.Conn) error { return c.Ping(ctx) }); err != nil {
		pool.close()
		return nil, fmt.Errorf("postgres sink: %w", err)
	}
	s := &Sink{pool: pool, opts: opts}
	// DES created the metadata tables on activation; opening the sink is
	// ours.
	if err := s.createOwnTables(ctx); err != nil {
		pool.close()
		return nil, err
	}
	if err := s.EnsureMetadataTables(ctx); err != nil {
		pool.close()
		return nil, err
	}
	return s, nil
}

// Options are the options the sink runs with, Schema resolved.
func (s *Sink) Options() sink.Options { return s.opts }

// Close closes every connection.
func (s *Sink) Close() error {
	s.pool.close()
	return nil
}

func (s *Sink) resolve(t schema.TableName) schema.TableName {
	if t.Schema == "" {
		t.Schema = s.opts.Schema
	}
	t.Name = lower(t.Name)
	return t
}

func (s *Sink) createOwnTables(ctx context.Context) error {
	stmts := []string{
		"CREATE TABLE IF NOT EXISTS " + qualified(s.opts.Tombstones()) + ` (
	tablename varchar(128) NOT NULL,
	id uuid NOT NULL,
	versionnumber bigint NOT NULL,
	deletedon timestamp NOT NULL,
	PRIMARY KEY (tablename, id)
)`,
		keysTableSQL(s.opts.Keys()),
	}
	if s.opts.WriteDeleteLog {
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+qualified(s.opts.DeleteLog())+` (
	id uuid NOT NULL PRIMARY KEY,
	entityname varchar(64),
	recordid varchar(64),
	sinkdeletetime timestamp,
	versionnumber bigint
)`)
	}
	// Several sinks may open the same schema at once; DDL is serialised.
	return s.pool.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "dataexport:"+s.opts.Schema); err != nil {
			return fmt.Errorf("postgres sink: create own tables: %w", err)
		}
		// CREATE SCHEMA needs CREATE on the database even when the schema
		// exists, which a login confined to its schema does not have.
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL`, quote(s.opts.Schema)).Scan(&exists); err != nil {
			return fmt.Errorf("postgres sink: create own tables: %w", err)
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+quote(s.opts.Schema)); err != nil {
				return fmt.Errorf("postgres sink: create schema %s: %w", s.opts.Schema, err)
			}
		} else if err := s.migrateNames(ctx, tx); err != nil {
			return fmt.Errorf("postgres sink: lowercase names: %w", err)
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("postgres sink: create own tables: %w", err)
			}
		}
		return nil
	})
}

// columns reads the data columns of t and caches them, or returns a
// *sink.NoTableError.
func (s *Sink) columns(ctx context.Context, q queryer, t schema.TableName) (map[string]schema.ColumnType, error) {
	list, err := readColumns(ctx, q, t)
	if err != nil {
		return nil, err
	}
	if list == nil {
		return nil, &sink.NoTableError{Table: t}
	}
	c := make(map[string]schema.ColumnType, len(list))
	for _, col := range list {
		c[col.Name] = col.Type
	}
	s.cols.Put(t, c)
	return c, nil
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}
