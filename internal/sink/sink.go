// Package sink defines what every destination dialect implements. The dialects
// live in sink/sqlite, sink/postgres and sink/sqlserver; sink/sinktest holds the
// acceptance suite they all pass.
package sink

import (
	"context"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// Result counts what one Apply did.
type Result struct {
	Upserted int // rows inserted or updated
	Skipped  int // upserts dropped: stored version or tombstone not older
	Deleted  int // deletes that removed a row or raised a tombstone
	// Rejected are the changes the destination refused (a constraint, a
	// conversion, a value too long, a malformed record): every other change
	// of the batch was written.
	Rejected []Rejection
}

// Counts are a Result's numbers without its rejections: comparable, for
// tests and logs.
type Counts struct{ Upserted, Skipped, Deleted, Rejected int }

// Counts is r's numbers.
func (r Result) Counts() Counts {
	return Counts{Upserted: r.Upserted, Skipped: r.Skipped, Deleted: r.Deleted, Rejected: len(r.Rejected)}
}

// Rejection is one change of a batch that Apply did not write because the
// record itself is refused.
type Rejection struct {
	ID      string // record id, lowercase when it is a GUID
	Version int64
	Delete  bool // a delete; otherwise an upsert
	// Err says why, naming table, record and column, never a value.
	Err error
	// Class is errclass.Record: a rejection is never the destination's
	// fault (those fail the whole Apply).
	Class errclass.Class
}

// SchemaApplier creates and evolves entity tables.
type SchemaApplier interface {
	// EnsureTable creates t if it does not exist, adds missing columns and
	// widens columns that t declares wider. It never drops anything.
	EnsureTable(ctx context.Context, t schema.Table) error
}

// SchemaReader reads what a table holds now, so that a schema change can
// tell which columns it adds (and which rows must be read again for them)
// before it evolves the table.
type SchemaReader interface {
	// TableColumns lists the data columns of table (system columns left
	// out) in table order, as stored; a missing table is a *NoTableError.
	TableColumns(ctx context.Context, table schema.TableName) ([]schema.Column, error)
}

// BatchApplier writes batches of changes.
type BatchApplier interface {
	// Apply writes every good change of b to table and reports the bad
	// ones in Result.Rejected, each with its error.
	//
	// Good records are written set-based, in as few statements as the
	// dialect needs. A record the destination refuses (errclass.Record: a
	// constraint, a conversion, a value too long) is isolated by splitting
	// the write, at a cost of O(log n) extra round trips per bad record at
	// most; one that Prepare refuses (not a GUID, a value of the wrong kind
	// or too long) is rejected without a round trip. Any other error
	// (errclass.Transient, Schema, Configuration, Unknown) fails the whole
	// Apply: some of the batch may be written by then, which is harmless,
	// since Apply is idempotent.
	//
	// Versions: an upsert is written only if its Version is greater than
	// the stored row's versionnumber and greater than the entity's
	// tombstone for that id; a delete removes the row if its stored version
	// is not greater than the delete's Version (a delete is stamped with
	// the highest version read before it, so a row at that very version is
	// older than the delete) and raises the tombstone to that Version.
	// Apply is therefore idempotent and order-free: any replay, duplicate
	// or reordering of batches leaves the same destination. With
	// b.Overwrite an upsert also replaces a stored row of the same version
	// (a backfill: the same version read again with columns added since),
	// never a newer one, and the tombstone rule is unchanged. Every column of
	// b must exist in the table (EnsureTable first); an unknown column fails
	// the Apply with an *UnknownColumnError (errclass.Schema) that names it.
	Apply(ctx context.Context, table schema.TableName, b record.Batch) (Result, error)
}

// Sink is a destination database.
type Sink interface {
	SchemaApplier
	BatchApplier
	Close() error
}
