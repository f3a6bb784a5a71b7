package schema

import (
	"fmt"

	"github.com/dataexport/dataexport/internal/record"
)

// BigIntLength in ColumnType.Length marks an Int column as 64-bit (bigint);
// Length 0 is a 32-bit int. It reuses Length so the committed ColumnType
// keeps its shape: for integers the length is a width in bytes.
const BigIntLength = 8

// Widths DES used.
const (
	// MaxBoundedString bounds string columns (SQL Server's nvarchar(n) goes
	// to 4000): a longer or unset MaxLength becomes unbounded (nvarchar(max)).
	MaxBoundedString = 4000
	// EntityTypeLength is the width of a lookup's <attr>_entitytype column.
	EntityTypeLength = 128
	// EntityNameLength is the width of an EntityName attribute's column.
	EntityNameLength = 4000
	// DecimalPrecision is the total digits of every decimal column.
	DecimalPrecision = 38
)

// StringType is a string column of n characters; n <= 0 or more than
// MaxBoundedString is unbounded.
func StringType(n int) ColumnType {
	if n <= 0 || n > MaxBoundedString {
		n = 0
	}
	return ColumnType{Kind: record.String, Length: n}
}

// IntType is a 32-bit integer column; BigIntType a 64-bit one.
func IntType() ColumnType    { return ColumnType{Kind: record.Int} }
func BigIntType() ColumnType { return ColumnType{Kind: record.Int, Length: BigIntLength} }

// DecimalType is decimal(38, scale); scale is clamped to 0..38.
func DecimalType(scale int) ColumnType {
	scale = max(0, min(scale, DecimalPrecision))
	return ColumnType{Kind: record.Decimal, Precision: DecimalPrecision, Scale: scale}
}

// IsBigInt reports whether an Int column is 64-bit.
func (t ColumnType) IsBigInt() bool { return t.Kind == record.Int && t.Length == BigIntLength }

// String renders the type for messages, in SQL Server spelling (DES's).
func (t ColumnType) String() string {
	switch t.Kind {
	case record.String:
		if t.Length == 0 {
			return "nvarchar(max)"
		}
		return fmt.Sprintf("nvarchar(%d)", t.Length)
	case record.Int:
		if t.IsBigInt() {
			return "bigint"
		}
		return "int"
	case record.Decimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case record.Float:
		return "float"
	case record.Bool:
		return "bit"
	case record.DateTime:
		return "datetime"
	case record.Date:
		return "datetime(date)"
	case record.GUID:
		return "uniqueidentifier"
	}
	return t.Kind.String()
}

// Wider reports whether t can hold every value of o without loss and is
// strictly wider: a longer or unbounded string, a bigint for an int, a decimal
// with at least as many integer and fractional digits. Same kinds only.
func (t ColumnType) Wider(o ColumnType) bool {
	if t.Kind != o.Kind {
		return false
	}
	switch t.Kind {
	case record.String:
		return o.Length != 0 && (t.Length == 0 || t.Length > o.Length)
	case record.Int:
		return t.IsBigInt() && !o.IsBigInt()
	case record.Decimal:
		return t.Scale >= o.Scale && t.Precision-t.Scale >= o.Precision-o.Scale && t != o
	}
	return false
}

// SystemColumns are the columns every entity table starts with, in order:
// Id (primary key), SinkCreatedOn, SinkModifiedOn and versionnumber.
var SystemColumns = []Column{
	{Name: ColID, Type: ColumnType{Kind: record.GUID}},
	{Name: ColSinkCreatedOn, Type: ColumnType{Kind: record.DateTime}},
	{Name: ColSinkModifiedOn, Type: ColumnType{Kind: record.DateTime}},
	{Name: ColVersion, Type: BigIntType()},
}

// Column returns the data column named name, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}
