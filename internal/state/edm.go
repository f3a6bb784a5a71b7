package state

import (
	"fmt"
	"strconv"
	"time"
)

// The Table service JSON format carries Int64 and DateTime values as strings
// with a "<name>@odata.type" annotation; these types read and write that.

const (
	edmInt64Type    = "Edm.Int64"
	edmDateTimeType = "Edm.DateTime"
)

// edmInt64 is written as a quoted decimal and read from either form.
type edmInt64 int64

func (v edmInt64) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatInt(int64(v), 10)), nil
}

func (v *edmInt64) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("Edm.Int64 %s: %w", b, err)
	}
	*v = edmInt64(n)
	return nil
}

// tableTimeLayout is the 100 ns precision the service keeps.
const tableTimeLayout = "2006-01-02T15:04:05.0000000Z"

// edmTime is an Edm.DateTime; the zero time is stored as an absent property
// because the service cannot hold dates before 1601.
type edmTime struct{ time.Time }

func (v edmTime) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, v.UTC().Format(tableTimeLayout)), nil
}

func (v *edmTime) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("Edm.DateTime %s: %w", b, err)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("Edm.DateTime %s: %w", b, err)
	}
	v.Time = t.UTC()
	return nil
}

// timeProp returns the value and annotation pointers for an optional time.
func timeProp(t time.Time) (*edmTime, string) {
	if t.IsZero() {
		return nil, ""
	}
	return &edmTime{t}, edmDateTimeType
}

func timeValue(v *edmTime) time.Time {
	if v == nil {
		return time.Time{}
	}
	return v.Time
}

// int64Prop returns the value and annotation pointers for an Int64
// property that older rows lack.
func int64Prop(n int64) (*edmInt64, string) {
	v := edmInt64(n)
	return &v, edmInt64Type
}

func int64Value(v *edmInt64) int64 {
	if v == nil {
		return 0
	}
	return int64(*v)
}
