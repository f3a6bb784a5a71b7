package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/errclass"
)

// pool is a small connection pool. pgxpool needs jackc/puddle, which the
// module does not require; a sink only needs a few connections, reused.
type pool struct {
	cfg  *pgx.ConnConfig
	sem  chan struct{} // one token per open or opening connection
	mu   sync.Mutex
	idle []*pgx.Conn
	done bool
	// gen counts DDL done through this pool; a connection whose cached
	// statement descriptions predate it drops them (COPY would otherwise
	// encode for the old column types).
	gen    uint64
	connAt map[*pgx.Conn]uint64
}

// bump marks every cached statement description as possibly stale.
func (p *pool) bump() {
	p.mu.Lock()
	p.gen++
	p.mu.Unlock()
}

func newPool(cfg *pgx.ConnConfig, size int) *pool {
	return &pool{cfg: cfg, sem: make(chan struct{}, size), connAt: map[*pgx.Conn]uint64{}}
}

// errClosed: the sink was closed under the call (its pool replaced after a
// profile change); the caller's next attempt opens another.
var errClosed = errclass.With(errclass.Transient, errors.New("postgres sink: closed"))

// acquire returns an idle connection or opens one, waiting while size
// connections are in use.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		<-p.sem
		return nil, errClosed
	}
	gen := p.gen
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		stale := p.connAt[c] != gen
		p.connAt[c] = gen
		p.mu.Unlock()
		if stale {
			if err := c.DeallocateAll(ctx); err != nil {
				p.discard(c)
				return nil, fmt.Errorf("reset statement cache: %w", err)
			}
		}
		return c, nil
	}
	p.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.sem
		return nil, fmt.Errorf("connect to %s:%d: %w", p.cfg.Host, p.cfg.Port, err)
	}
	registerNumeric(c.TypeMap())
	if err := customPlans(ctx, c); err != nil {
		c.Close(context.Background())
		<-p.sem
		return nil, err
	}
	p.mu.Lock()
	p.connAt[c] = gen
	p.mu.Unlock()
	return c, nil
}

// release returns c to the pool, or closes it if it is broken or still in a
// transaction after a failure.
func (p *pool) release(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		p.discard(c)
		return
	}
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		p.discard(c)
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
	<-p.sem
}

// discard closes an acquired connection and frees its place.
func (p *pool) discard(c *pgx.Conn) {
	p.mu.Lock()
	delete(p.connAt, c)
	p.mu.Unlock()
	c.Close(context.Background())
	<-p.sem
}

func (p *pool) close() {
	p.mu.Lock()
	p.done = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.Close(context.Background())
	}
	p.mu.Lock()
	clear(p.connAt)
	p.mu.Unlock()
}

// with runs fn on a pooled connection.
func (p *pool) with(ctx context.Context, fn func(c *pgx.Conn) error) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer p.release(c)
	return fn(c)
}

// tx runs fn in a transaction on a pooled connection, committing if fn
// succeeds.
func (p *pool) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return p.with(ctx, func(c *pgx.Conn) error { return pgx.BeginFunc(ctx, c, fn) })
}

// query runs a query on a pooled connection and hands every row to fn.
func (p *pool) query(ctx context.Context, sql string, args []any, fn func(rows pgx.Rows) error) error {
	return p.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// customPlans makes the connection plan every execution of a prepared
// statement with its parameters (plan_cache_mode, PostgreSQL 12 and later).
//
// Why: pgx prepares and caches each statement per connection, and after
// five executions PostgreSQL may switch to a generic plan, made once from
// the table's size at that moment and kept until the table is analysed
// again. A generic plan made while a table was small scans it whole; with
// autovacuum late or off, every batch then reads the whole table twice
// (TestWritesUseThePrimaryKey). A custom plan sees the array parameters'
// real length and the table's current size (the planner reads its page
// count), so the primary key is used as soon as it pays. Planning these
// statements costs microseconds against a batch of thousands of rows, and
// the statement cache still spares the parse and the describe. Unprepared
// execution would do the same for our statements only, but the setting
// also covers the metadata and reader statements.
func customPlans(ctx context.Context, c *pgx.Conn) error {
	major, _, _ := strings.Cut(c.PgConn().ParameterStatus("server_version"), ".")
	if v, err := strconv.Atoi(strings.TrimSpace(major)); err != nil || v < 12 {
		return nil // PostgreSQL 11 and older have no such setting
	}
	if _, err := c.Exec(ctx, "SET plan_cache_mode = force_custom_plan"); err != nil {
		return fmt.Errorf("set plan_cache_mode: %w", err)
	}
	return nil
}
