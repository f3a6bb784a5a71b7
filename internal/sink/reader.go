package sink

import (
	"context"
	"time"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// Reader reads back what a sink wrote: for tests, reconciliation and the demo.
type Reader interface {
	// Rows returns every row of table ordered by Id, with the values of
	// columns in their kinds (decimals in CanonicalDecimal form, GUIDs
	// lowercase, Date values at 00:00 UTC) and versionnumber as Version.
	Rows(ctx context.Context, table schema.TableName, columns []record.Column) ([]record.Record, error)
	// Count is the number of rows of table.
	Count(ctx context.Context, table schema.TableName) (int64, error)
}

// Scanner streams what Rows returns, one row at a time, so that reading a
// table of any size (reconciliation) keeps memory flat.
type Scanner interface {
	Scan(ctx context.Context, table schema.TableName, columns []record.Column, fn func(record.Record) error) error
}

// DeleteLogEntry is one row of the DES delete log.
type DeleteLogEntry struct {
	ID             string
	EntityName     string
	RecordID       string
	SinkDeleteTime time.Time
	VersionNumber  int64
}

// IsSinkTime reports whether name is SinkCreatedOn or SinkModifiedOn: system
// columns a Reader also returns, as DateTime, when asked for them by name.
func IsSinkTime(name string) bool {
	return name == schema.ColSinkCreatedOn || name == schema.ColSinkModifiedOn
}
