// Package record holds the typed row that flows from the source to the sink:
// values that keep their exact type (decimals as text, dates without a time
// zone), records keyed by id and guarded by version, and batches of one entity.
// It knows nothing of Dataverse, queues or SQL.
package record

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Kind is the type of a Value (and of a column carrying such values).
type Kind uint8

const (
	Null     Kind = iota // no value
	String               // S
	Int                  // I: Integer, BigInt, Picklist, State, Status
	Decimal              // S: exact decimal text, e.g. "20000.0000" (Decimal, Money)
	Float                // F: Double
	Bool                 // B
	DateTime             // T, always UTC
	Date                 // T at 00:00 UTC; the day itself carries the meaning (DateOnly)
	GUID                 // S: lowercase canonical 8-4-4-4-12
)

var kindNames = [...]string{"null", "string", "int", "decimal", "float", "bool", "datetime", "date", "guid"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return Null, fmt.Errorf("unknown value kind %q", s)
}

// Value is one typed cell. Only what Kind names is meaningful. The struct
// form (not interface{}) keeps decoding free of per-cell allocations, and
// its 32 bytes (a time.Time alone takes 24) keep a 5,000-row page of a
// wide entity small: pages are what the pipeline holds in memory.
type Value struct {
	Kind Kind
	ns   uint32 // DateTime: the nanoseconds of the second
	S    string // String, Decimal, GUID
	I    int64  // Int; Bool 0 or 1; Float's bits; DateTime and Date: Unix seconds
}

func NullValue() Value            { return Value{} }
func StringValue(s string) Value  { return Value{Kind: String, S: s} }
func IntValue(i int64) Value      { return Value{Kind: Int, I: i} }
func DecimalValue(s string) Value { return Value{Kind: Decimal, S: s} }
func FloatValue(f float64) Value  { return Value{Kind: Float, I: int64(math.Float64bits(f))} }
func BoolValue(b bool) Value {
	if b {
		return Value{Kind: Bool, I: 1}
	}
	return Value{Kind: Bool}
}
func DateTimeValue(t time.Time) Value {
	return Value{Kind: DateTime, I: t.Unix(), ns: uint32(t.Nanosecond())}
}
func GUIDValue(s string) Value { return Value{Kind: GUID, S: s} }

// DateValue keeps only the calendar day of t (in t's location).
func DateValue(t time.Time) Value {
	y, m, d := t.Date()
	return Value{Kind: Date, I: time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()}
}

// Float is the value of a Float.
func (v Value) Float() float64 { return math.Float64frombits(uint64(v.I)) }

// Bool is the value of a Bool.
func (v Value) Bool() bool { return v.I != 0 }

// Time is the instant of a DateTime, or midnight UTC of a Date, in UTC.
func (v Value) Time() time.Time { return time.Unix(v.I, int64(v.ns)).UTC() }

// WithTime is a value of v's kind (DateTime or Date) at t.
func (v Value) WithTime(t time.Time) Value {
	if v.Kind == Date {
		return DateValue(t)
	}
	return DateTimeValue(t)
}

// IsNull reports whether the value is absent.
func (v Value) IsNull() bool { return v.Kind == Null }

// Equal compares two values exactly: decimals by numeric value whatever
// their scale ("1.50" equals "1.5"), times by instant.
func (v Value) Equal(o Value) bool {
	if v.Kind != o.Kind {
		return false
	}
	switch v.Kind {
	case Null:
		return true
	case String, GUID:
		return v.S == o.S
	case Decimal:
		return v.S == o.S || canonicalDecimal(v.S) == canonicalDecimal(o.S)
	case Int:
		return v.I == o.I
	case Float:
		return v.Float() == o.Float()
	case Bool:
		return v.Bool() == o.Bool()
	case DateTime, Date:
		return v.I == o.I && v.ns == o.ns
	}
	return false
}

// String renders the value for logs and test diffs (never for SQL).
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "NULL"
	case String, Decimal, GUID:
		return v.S
	case Int:
		return fmt.Sprint(v.I)
	case Float:
		return fmt.Sprint(v.Float())
	case Bool:
		return fmt.Sprint(v.Bool())
	case DateTime:
		return v.Time().Format(time.RFC3339Nano)
	case Date:
		return v.Time().Format(time.DateOnly)
	}
	return "?"
}

// Column names one field of a batch and the kind of its values.
type Column struct {
	Name string
	Kind Kind
}

// Record is one upserted row: its id, its source version and its values,
// aligned with the Columns of the Batch that carries it.
type Record struct {
	ID      string
	Version int64
	Values  []Value
}

// Delete is one removed row. Version orders the delete after every change read
// before it, so that an older upsert arriving later can be recognised and dropped.
type Delete struct {
	ID      string
	Version int64
}

// Batch is a set of changes to one entity.
type Batch struct {
	Entity  string
	Columns []Column
	Upserts []Record
	Deletes []Delete
	// Overwrite writes an upsert over a stored row of the same version too
	// (normally only a newer version replaces a row): a backfill sends rows
	// read again for columns added since they were written, at their own
	// version. A newer stored row and a tombstone at or above the version
	// still win.
	Overwrite bool
}

func canonicalDecimal(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return s
	}
	t := d.String()
	if strings.IndexByte(t, '.') >= 0 {
		t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	}
	return t
}
