package sqlite

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// TimeLayout is how datetimes are stored: UTC, microseconds, fixed width so
// that text order is time order, and readable by SQLite's date functions.
const TimeLayout = "2006-01-02 15:04:05.000000"

// typeSQL is the declared type of a column (see the package comment).
func typeSQL(t schema.ColumnType) (string, error) {
	switch t.Kind {
	case record.String:
		if t.Length == 0 {
			return "TEXT", nil
		}
		return fmt.Sprintf("VARCHAR(%d)", t.Length), nil
	case record.Int:
		if t.IsBigInt() {
			return "BIGINT", nil
		}
		return "INTEGER", nil
	case record.Decimal:
		return fmt.Sprintf("DECIMAL_TEXT(%d,%d)", t.Precision, t.Scale), nil
	case record.Float:
		return "REAL", nil
	case record.Bool:
		return "BOOLEAN", nil
	case record.DateTime, record.Date:
		return "DATETIME_TEXT", nil
	case record.GUID:
		return "UUID_TEXT", nil
	}
	return "", fmt.Errorf("no SQLite type for kind %s", t.Kind)
}

var (
	varcharRe = regexp.MustCompile(`^VARCHAR\((\d+)\)$`)
	decimalRe = regexp.MustCompile(`^DECIMAL_TEXT\((\d+),(\d+)\)$`)
)

// parseType is the inverse of typeSQL, for introspection.
func parseType(decl string) (schema.ColumnType, error) {
	d := strings.ToUpper(strings.ReplaceAll(decl, " ", ""))
	switch d {
	case "TEXT":
		return schema.StringType(0), nil
	case "INTEGER", "INT":
		return schema.IntType(), nil
	case "BIGINT":
		return schema.BigIntType(), nil
	case "REAL":
		return schema.ColumnType{Kind: record.Float}, nil
	case "BOOLEAN":
		return schema.ColumnType{Kind: record.Bool}, nil
	case "DATETIME_TEXT":
		return schema.ColumnType{Kind: record.DateTime}, nil
	case "UUID_TEXT":
		return schema.ColumnType{Kind: record.GUID}, nil
	}
	if m := varcharRe.FindStringSubmatch(d); m != nil {
		n, _ := strconv.Atoi(m[1])
		return schema.StringType(n), nil
	}
	if m := decimalRe.FindStringSubmatch(d); m != nil {
		p, _ := strconv.Atoi(m[1])
		sc, _ := strconv.Atoi(m[2])
		return schema.ColumnType{Kind: record.Decimal, Precision: p, Scale: sc}, nil
	}
	return schema.ColumnType{}, fmt.Errorf("unrecognised declared type %q", decl)
}

// quote quotes an identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func qualified(t schema.TableName) string { return quote(t.Schema) + "." + quote(t.Name) }

// arg is the driver value of v.
func arg(v record.Value) any {
	switch v.Kind {
	case record.String, record.Decimal:
		return v.S
	case record.GUID:
		return strings.ToLower(v.S)
	case record.Int:
		return v.I
	case record.Float:
		return v.Float()
	case record.Bool:
		if v.Bool() {
			return int64(1)
		}
		return int64(0)
	case record.DateTime, record.Date:
		return v.Time().Format(TimeLayout)
	}
	return nil
}

// value converts a scanned cell back to a value of kind k.
func value(k record.Kind, src any) (record.Value, error) {
	if src == nil {
		return record.NullValue(), nil
	}
	switch k {
	case record.String, record.Decimal, record.GUID:
		s, err := text(src)
		if err != nil {
			return record.Value{}, err
		}
		switch k {
		case record.Decimal:
			return record.DecimalValue(sink.CanonicalDecimal(s)), nil
		case record.GUID:
			return record.GUIDValue(strings.ToLower(s)), nil
		}
		return record.StringValue(s), nil
	case record.Int, record.Bool:
		i, ok := src.(int64)
		if !ok {
			return record.Value{}, fmt.Errorf("want integer, found %T", src)
		}
		if k == record.Bool {
			return record.BoolValue(i != 0), nil
		}
		return record.IntValue(i), nil
	case record.Float:
		switch f := src.(type) {
		case float64:
			return record.FloatValue(f), nil
		case int64:
			return record.FloatValue(float64(f)), nil
		}
		return record.Value{}, fmt.Errorf("want real, found %T", src)
	case record.DateTime, record.Date:
		var t time.Time
		switch x := src.(type) {
		case time.Time:
			t = x.UTC()
		default:
			s, err := text(src)
			if err != nil {
				return record.Value{}, err
			}
			if t, err = time.Parse(TimeLayout, s); err != nil {
				return record.Value{}, err
			}
		}
		if k == record.Date {
			return record.DateValue(t), nil
		}
		return record.DateTimeValue(t), nil
	}
	return record.Value{}, fmt.Errorf("cannot read kind %s", k)
}

func text(src any) (string, error) {
	switch x := src.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("want text, found %T", src)
}
