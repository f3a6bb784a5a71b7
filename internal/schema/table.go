// Package schema maps Dataverse metadata to a dialect-neutral table model:
// table and column names, column types, and the rows of the DES metadata tables.
// It opens no connections.
package schema

import "github.com/dataexport/dataexport/internal/record"

// TableName is a schema-qualified table name, unquoted.
type TableName struct {
	Schema string
	Name   string
}

// ColumnType is a dialect-neutral column type. Dialects render it
// (String with Length 0 is unbounded: nvarchar(max) / text).
type ColumnType struct {
	Kind      record.Kind
	Length    int // String: characters; 0 = unbounded
	Precision int // Decimal: total digits (DES: 38)
	Scale     int // Decimal: digits after the point
}

// Column is one data column of an entity table.
type Column struct {
	Name string
	Type ColumnType
}

// Table is the destination table of one entity. Columns are the data columns
// in record-column order; every dialect adds the system columns Id (primary
// key), SinkCreatedOn, SinkModifiedOn and versionnumber itself.
type Table struct {
	TableName
	Entity  string
	Columns []Column
	// Labels is the table's label view, nil for none. EnsureTable creates
	// or replaces it after the table; DropTable drops it first.
	Labels *LabelView
}

// System column names, as DES created them.
const (
	ColID             = "Id"
	ColSinkCreatedOn  = "SinkCreatedOn"
	ColSinkModifiedOn = "SinkModifiedOn"
	ColVersion        = "versionnumber"
)
