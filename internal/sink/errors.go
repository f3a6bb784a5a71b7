package sink

import (
	"errors"
	"fmt"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/schema"
)

// ErrUnknownColumn is matched (errors.Is) by every UnknownColumnError.
var ErrUnknownColumn = errors.New("unknown column")

// UnknownColumnError is a batch column the table does not have: EnsureTable
// was not run after the metadata changed.
type UnknownColumnError struct {
	Table  schema.TableName
	Column string
}

func (e *UnknownColumnError) Error() string {
	return fmt.Sprintf("table %s has no column %q", e.Table, e.Column)
}

func (e *UnknownColumnError) Unwrap() error { return ErrUnknownColumn }

// ErrorClass is errclass.Schema: the table catches up when the metadata is
// applied.
func (e *UnknownColumnError) ErrorClass() errclass.Class { return errclass.Schema }

// ErrNoTable is matched by NoTableError.
var ErrNoTable = errors.New("no such table")

// NoTableError is an Apply or read against a table that does not exist.
type NoTableError struct{ Table schema.TableName }

func (e *NoTableError) Error() string { return fmt.Sprintf("table %s does not exist", e.Table) }
func (e *NoTableError) Unwrap() error { return ErrNoTable }

// ErrorClass is errclass.Schema: the table is created when the metadata is
// applied.
func (e *NoTableError) ErrorClass() errclass.Class { return errclass.Schema }

// ErrBadBatch is matched by BatchError.
var ErrBadBatch = errors.New("malformed batch")

// BatchError is a batch that cannot be written as it is: values not aligned
// with columns, a value of the wrong kind, an id that is not a GUID. It
// names the place, never the value (values may be personal data).
type BatchError struct {
	Table  schema.TableName
	ID     string // record id, when known
	Column string // column, when known
	Reason string
}

func (e *BatchError) Error() string {
	s := fmt.Sprintf("table %s", e.Table)
	if e.ID != "" {
		s += " record " + e.ID
	}
	if e.Column != "" {
		s += " column " + e.Column
	}
	return s + ": " + e.Reason
}

func (e *BatchError) Unwrap() error { return ErrBadBatch }

// ErrorClass is errclass.Record: the batch, or the record it names, is at
// fault, not the destination.
func (e *BatchError) ErrorClass() errclass.Class { return errclass.Record }
