package sqlserver

import (
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// sqlType renders a column type as DES did: nvarchar(n|max), int, bigint,
// decimal(38, s), float, bit, datetime (dates too), uniqueidentifier.
func sqlType(t schema.ColumnType) (string, error) {
	switch t.Kind {
	case record.String:
		if t.Length <= 0 || t.Length > 4000 {
			return "nvarchar(max)", nil
		}
		return fmt.Sprintf("nvarchar(%d)", t.Length), nil
	case record.Int:
		if t.IsBigInt() {
			return "bigint", nil
		}
		return "int", nil
	case record.Decimal:
		p := t.Precision
		if p <= 0 {
			p = schema.DecimalPrecision
		}
		if p > 38 || t.Scale < 0 || t.Scale > p {
			return "", fmt.Errorf("sqlserver: decimal(%d,%d) is out of range", p, t.Scale)
		}
		return fmt.Sprintf("decimal(%d,%d)", p, t.Scale), nil
	case record.Float:
		return "float", nil
	case record.Bool:
		return "bit", nil
	case record.DateTime, record.Date:
		return "datetime", nil
	case record.GUID:
		return "uniqueidentifier", nil
	}
	return "", fmt.Errorf("sqlserver: no column type for kind %s", t.Kind)
}

// dbColumn is a column as sys.columns describes it.
type dbColumn struct {
	Name      string
	Type      string // TYPE_NAME(user_type_id), e.g. nvarchar
	MaxLength int    // bytes; -1 for max
	Precision int
	Scale     int
	Nullable  bool
}

// render spells the column type the way sqlType does, so that a stored
// column can be compared with a wanted one by text.
func (c dbColumn) render() string {
	switch t := strings.ToLower(c.Type); t {
	case "nvarchar", "nchar":
		if c.MaxLength < 0 {
			return t + "(max)"
		}
		return fmt.Sprintf("%s(%d)", t, c.MaxLength/2)
	case "varchar", "char", "varbinary", "binary":
		if c.MaxLength < 0 {
			return t + "(max)"
		}
		return fmt.Sprintf("%s(%d)", t, c.MaxLength)
	case "decimal", "numeric":
		return fmt.Sprintf("%s(%d,%d)", t, c.Precision, c.Scale)
	default:
		return t
	}
}
