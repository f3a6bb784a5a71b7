package dvemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Store forms of values, by type:
//   String, Memo, EntityName, MultiSelectPicklist ("1,3"): string
//   Integer, BigInt, Picklist, State, Status: int64
//   Decimal, Money, Double: string, exact decimal text with Precision decimals
//   DateTime: time.Time in UTC (DateOnly: midnight UTC)
//   Boolean: bool; Uniqueidentifier: lowercase GUID string; lookups: Ref
//   null: nil

// ValueError reports an admin value the attribute cannot hold.
type ValueError struct {
	Entity, Attribute string
	Reason            string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("dvemu: %s.%s: %s", e.Entity, e.Attribute, e.Reason)
}

// ErrNotFound is returned for unknown entities and rows.
var ErrNotFound = errors.New("dvemu: not found")

// coerce converts an admin value into the store form for a.
func coerce(ent *Entity, a *Attribute, v any) (any, error) {
	bad := func(format string, args ...any) error {
		return &ValueError{Entity: ent.LogicalName, Attribute: a.LogicalName, Reason: fmt.Sprintf(format, args...)}
	}
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case String, Memo, EntityName:
		s, ok := v.(string)
		if !ok {
			return nil, bad("want string, got %T", v)
		}
		if a.MaxLength > 0 && len([]rune(s)) > a.MaxLength {
			return nil, bad("length %d exceeds MaxLength %d", len([]rune(s)), a.MaxLength)
		}
		return s, nil
	case MultiSelectPicklist:
		s, ok := v.(string)
		if !ok {
			return nil, bad("want comma-separated option values, got %T", v)
		}
		var out []string
		for _, p := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || !hasOption(a, n) {
				return nil, bad("invalid option %q", p)
			}
			out = append(out, strconv.Itoa(n))
		}
		return strings.Join(out, ","), nil
	case Integer, BigInt, Picklist, State, Status:
		n, ok := toInt64(v)
		if !ok {
			return nil, bad("want integer, got %T", v)
		}
		if a.Type == Integer && (n < math.MinInt32 || n > math.MaxInt32) {
			return nil, bad("%d out of Int32 range", n)
		}
		if (a.Type == Integer || a.Type == BigInt) && a.MaxValue > a.MinValue && (float64(n) < a.MinValue || float64(n) > a.MaxValue) {
			return nil, bad("%d outside [%v, %v]", n, a.MinValue, a.MaxValue)
		}
		if a.OptionSet != nil && !hasOption(a, int(n)) {
			return nil, bad("%d is not an option", n)
		}
		return n, nil
	case Decimal, Money, Double:
		d, err := toDecimal(v)
		if err != nil {
			return nil, bad("%v", err)
		}
		if a.MaxValue > a.MinValue {
			f, _ := d.Float64()
			if f < a.MinValue || f > a.MaxValue {
				return nil, bad("%s outside [%v, %v]", d, a.MinValue, a.MaxValue)
			}
		}
		return d.Round(int32(a.Precision)).StringFixed(int32(a.Precision)), nil
	case DateTime:
		t, err := toTime(v)
		if err != nil {
			return nil, bad("%v", err)
		}
		t = t.UTC().Truncate(time.Second)
		if a.DateTimeBehavior == "DateOnly" {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		if t.Year() < 1753 {
			return nil, bad("%s is before 1753-01-01", t.Format(time.RFC3339))
		}
		return t, nil
	case Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, bad("want bool, got %T", v)
		}
		return b, nil
	case Uniqueidentifier:
		s, ok := v.(string)
		if !ok {
			return nil, bad("want GUID string, got %T", v)
		}
		u, err := uuid.Parse(s)
		if err != nil {
			return nil, bad("invalid GUID %q", s)
		}
		return u.String(), nil
	case Lookup, Customer, Owner:
		var r Ref
		switch x := v.(type) {
		case Ref:
			r = x
		case *Ref:
			r = *x
		case map[string]any: // admin HTTP form {"entity":..,"id":..}
			r.Entity, _ = x["entity"].(string)
			r.ID, _ = x["id"].(string)
		default:
			return nil, bad("want dvemu.Ref, got %T", v)
		}
		if !slices.Contains(a.Targets, r.Entity) {
			return nil, bad("target %q not in %v", r.Entity, a.Targets)
		}
		u, err := uuid.Parse(r.ID)
		if err != nil {
			return nil, bad("invalid GUID %q", r.ID)
		}
		return Ref{Entity: r.Entity, ID: u.String()}, nil
	}
	return nil, bad("type %s cannot be written", a.Type)
}

func hasOption(a *Attribute, n int) bool {
	if a.OptionSet == nil {
		return false
	}
	return slices.ContainsFunc(a.OptionSet.Options, func(o Option) bool { return o.Value == n })
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func toDecimal(v any) (decimal.Decimal, error) {
	switch x := v.(type) {
	case string:
		return decimal.NewFromString(x)
	case json.Number:
		return decimal.NewFromString(x.String())
	case float64:
		return decimal.NewFromFloat(x), nil
	case int:
		return decimal.NewFromInt(int64(x)), nil
	case int64:
		return decimal.NewFromInt(x), nil
	case decimal.Decimal:
		return x, nil
	}
	return decimal.Decimal{}, fmt.Errorf("want decimal text, got %T", v)
}

func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t, nil
		}
		if t, err := time.Parse(time.DateOnly, x); err == nil {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("invalid date/time %q", x)
	}
	return time.Time{}, fmt.Errorf("want time.Time, got %T", v)
}
