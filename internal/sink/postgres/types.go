package postgres

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// typeSQL is the PostgreSQL type of a column.
func typeSQL(t schema.ColumnType) (string, error) {
	switch t.Kind {
	case record.String:
		if t.Length == 0 {
			return "text", nil
		}
		return fmt.Sprintf("varchar(%d)", t.Length), nil
	case record.Int:
		if t.IsBigInt() {
			return "bigint", nil
		}
		return "integer", nil
	case record.Decimal:
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale), nil
	case record.Float:
		return "double precision", nil
	case record.Bool:
		return "boolean", nil
	case record.DateTime, record.Date:
		return "timestamp", nil
	case record.GUID:
		return "uuid", nil
	}
	return "", fmt.Errorf("no PostgreSQL type for kind %s", t.Kind)
}

// parseType maps information_schema.columns back to a column type.
func parseType(dataType string, length, precision, scale *int32) (schema.ColumnType, error) {
	n := func(p *int32) int {
		if p == nil {
			return 0
		}
		return int(*p)
	}
	switch dataType {
	case "character varying":
		return schema.StringType(n(length)), nil
	case "text":
		return schema.StringType(0), nil
	case "integer", "smallint":
		return schema.IntType(), nil
	case "bigint":
		return schema.BigIntType(), nil
	case "numeric":
		return schema.ColumnType{Kind: record.Decimal, Precision: n(precision), Scale: n(scale)}, nil
	case "double precision", "real":
		return schema.ColumnType{Kind: record.Float}, nil
	case "boolean":
		return schema.ColumnType{Kind: record.Bool}, nil
	case "timestamp without time zone", "timestamp with time zone", "date":
		return schema.ColumnType{Kind: record.DateTime}, nil
	case "uuid":
		return schema.ColumnType{Kind: record.GUID}, nil
	}
	return schema.ColumnType{}, fmt.Errorf("unsupported column type %q", dataType)
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// arg is the pgx value of v for COPY (binary format). Prepare has already
// checked GUID and decimal syntax.
func arg(v record.Value) (any, error) {
	switch v.Kind {
	case record.Null:
		return nil, nil
	case record.String:
		return v.S, nil
	case record.Int:
		return v.I, nil
	case record.Decimal:
		return decimalText(v.S), nil
	case record.Float:
		return v.Float(), nil
	case record.Bool:
		return v.Bool(), nil
	case record.DateTime, record.Date:
		return v.Time(), nil
	case record.GUID:
		return uuidOf(v.S)
	}
	return nil, fmt.Errorf("cannot write kind %s", v.Kind)
}

func uuidOf(s string) (pgtype.UUID, error) {
	var u pgtype.UUID
	if !sink.IsGUID(s) {
		return u, fmt.Errorf("not a GUID")
	}
	b := u.Bytes[:0]
	for _, part := range [...]string{s[0:8], s[9:13], s[14:18], s[19:23], s[24:36]} {
		var err error
		if b, err = hex.AppendDecode(b, []byte(part)); err != nil {
			return u, fmt.Errorf("not a GUID")
		}
	}
	u.Valid = true
	return u, nil
}

// timeLayout is how PostgreSQL renders a timestamp as text (DateStyle ISO).
const timeLayout = "2006-01-02 15:04:05.999999"

// value parses the text form of a cell (col::text) as kind k.
func value(k record.Kind, p *string) (record.Value, error) {
	if p == nil {
		return record.NullValue(), nil
	}
	s := *p
	switch k {
	case record.String:
		return record.StringValue(s), nil
	case record.Int:
		i, err := strconv.ParseInt(s, 10, 64)
		return record.IntValue(i), err
	case record.Decimal:
		return record.DecimalValue(sink.CanonicalDecimal(s)), nil
	case record.Float:
		f, err := strconv.ParseFloat(s, 64)
		return record.FloatValue(f), err
	case record.Bool:
		b, err := strconv.ParseBool(s)
		return record.BoolValue(b), err
	case record.DateTime, record.Date:
		t, err := time.Parse(timeLayout, s)
		if err != nil {
			return record.Value{}, err
		}
		if k == record.Date {
			return record.DateValue(t), nil
		}
		return record.DateTimeValue(t), nil
	case record.GUID:
		return record.GUIDValue(strings.ToLower(s)), nil
	}
	return record.Value{}, fmt.Errorf("cannot read kind %s", k)
}
