// Package sink defines what every destination dialect implements. The dialects
// live in sink/sqlite, sink/postgres and sink/sqlserver; sink/sinktest holds the
// acceptance suite they all pass.
package sink

import (
	"context"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// Result counts what one Apply did.
type Result struct {
	Upserted int // rows inserted or updated
	Skipped  int // upserts dropped: stored version or tombstone not older
	Deleted  int // deletes that removed a row or raised a tombstone
}

// SchemaApplier creates and evolves entity tables.
type SchemaApplier interface {
	// EnsureTable creates t if it does not exist, adds missing columns and
	// widens columns that t declares wider. It never drops anything.
	EnsureTable(ctx context.Context, t schema.Table) error
}

// BatchApplier writes batches of changes.
type BatchApplier interface {
	// Apply writes b to table in one transaction: all of it or nothing.
	//
	// Contract: an upsert is written only if its Version is greater than the
	// stored row's versionnumber and greater than the entity's tombstone for
	// that id; a delete removes the row if its stored version is not greater
	// than the delete's Version (a delete is stamped with the highest version
	// read before it, so a row at that very version is older than the delete)
	// and raises the tombstone to that Version. Apply is
	// therefore idempotent and order-free: any replay, duplicate or reordering
	// of batches leaves the same destination. Every column of b must exist in
	// the table (EnsureTable first); an unknown column is an error that names it.
	Apply(ctx context.Context, table schema.TableName, b record.Batch) (Result, error)
}

// Sink is a destination database.
type Sink interface {
	SchemaApplier
	BatchApplier
	Close() error
}
