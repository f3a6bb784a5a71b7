package sink

import (
	"context"
	"errors"
	"sync"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// ColumnCache holds the data columns (name → type) of each table a sink
// writes, so that a batch costs no catalog read. Every dialect keeps one.
// Columns are forgotten after DDL through the sink, after an Apply that
// failed and after one that rejected a record: another process may have
// widened, retyped or re-created the table, and the next attempt must see
// the table as it is. The zero value is ready to use.
type ColumnCache struct {
	mu sync.Mutex
	m  map[schema.TableName]map[string]schema.ColumnType
}

// Get is the cached columns of t.
func (c *ColumnCache) Get(t schema.TableName) (map[string]schema.ColumnType, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cols, ok := c.m[t]
	return cols, ok
}

// Put caches the columns of t.
func (c *ColumnCache) Put(t schema.TableName, cols map[string]schema.ColumnType) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[schema.TableName]map[string]schema.ColumnType{}
	}
	c.m[t] = cols
}

// Forget drops the cached columns of t.
func (c *ColumnCache) Forget(t schema.TableName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, t)
}

// ColumnReader reads the data columns of a table from the database, or
// returns a *NoTableError.
type ColumnReader func(ctx context.Context, t schema.TableName) (map[string]schema.ColumnType, error)

// Writer writes a prepared batch, or part of one, in one transaction: all
// of it, or nothing and an error. It may refuse records by checks of its
// own, listing them in Result.Rejected and writing the others. cols are
// the table's columns p was prepared against. It fills Upserted, Deleted
// and Rejected; Skipped is computed by Apply.
type Writer func(ctx context.Context, p Prepared, cols map[string]schema.ColumnType) (Result, error)

// Apply is BatchApplier.Apply for a dialect: it prepares b against the
// columns of table (read when not cached, and read again once when b names
// a column the cache lacks), rejects the records Prepare refuses, writes
// the others with write under Isolate, and forgets the cached columns when
// the Apply failed or rejected a record. table is resolved (schema set).
func (c *ColumnCache) Apply(ctx context.Context, table schema.TableName, b record.Batch, read ColumnReader, write Writer) (Result, error) {
	res, err := c.apply(ctx, table, b, read, write)
	if err != nil || len(res.Rejected) > 0 {
		c.Forget(table)
	}
	return res, err
}

func (c *ColumnCache) apply(ctx context.Context, table schema.TableName, b record.Batch, read ColumnReader, write Writer) (Result, error) {
	p, cols, err := c.prepare(ctx, table, b, read)
	if err != nil {
		return Result{}, err
	}
	res, err := Isolate(ctx, p, func(ctx context.Context, q Prepared) (Result, error) { return write(ctx, q, cols) })
	if err != nil {
		return Result{}, err
	}
	res.Rejected = append(p.Rejected, res.Rejected...)
	// Every upsert neither written nor rejected was skipped: an older
	// duplicate in the batch, or not newer than the row or tombstone.
	res.Skipped = len(b.Upserts) - res.Upserted
	for _, r := range res.Rejected {
		if !r.Delete {
			res.Skipped--
		}
	}
	return res, nil
}

// prepare checks b against the cached columns of table, reading them when
// they are not cached or b names a column the cache does not know (the
// table may have grown behind it).
func (c *ColumnCache) prepare(ctx context.Context, table schema.TableName, b record.Batch, read ColumnReader) (Prepared, map[string]schema.ColumnType, error) {
	if cols, ok := c.Get(table); ok {
		p, err := Prepare(table, b, cols)
		if !errors.Is(err, ErrUnknownColumn) {
			return p, cols, err
		}
	}
	cols, err := read(ctx, table)
	if err != nil {
		return Prepared{}, nil, err
	}
	c.Put(table, cols)
	p, err := Prepare(table, b, cols)
	return p, cols, err
}
