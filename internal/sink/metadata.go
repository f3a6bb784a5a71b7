package sink

import (
	"context"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// MetadataWriter keeps the DES metadata tables (schema.MetadataTables),
// named <Prefix>_<Name>.
type MetadataWriter interface {
	// EnsureMetadataTables creates the metadata tables that are missing
	// (on profile activation).
	EnsureMetadataTables(ctx context.Context) error
	// ReplaceMetadata replaces, in one transaction, the stored rows of every
	// set's Keys with the set's rows (schema.Metadata builds them), so the
	// tables follow metadata changes.
	ReplaceMetadata(ctx context.Context, sets []schema.MetadataRows) error
	// ReadMetadata returns the rows of one metadata table (by Name, before
	// the prefix), ordered by every column: for tests and the demo.
	ReadMetadata(ctx context.Context, name string) ([][]record.Value, error)
}

// MetadataTable is the metadata table called name, or false.
func MetadataTable(name string) (schema.MetadataTable, bool) {
	for _, t := range schema.MetadataTables() {
		if t.Name == name {
			return t, true
		}
	}
	return schema.MetadataTable{}, false
}

// TableDropper drops an entity table on request: the explicit cleanup for an
// entity removed from a profile (DES never dropped anything by itself, and
// neither does EnsureTable). Its tombstones go with it.
type TableDropper interface {
	DropTable(ctx context.Context, table schema.TableName) error
}
