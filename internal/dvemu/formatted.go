package dvemu

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// formattedValue renders the OData.Community.Display.V1.FormattedValue of a
// value as an en-US user would see it. Lookups (the target's primary name)
// and plain strings get none here.
func formattedValue(a *Attribute, v any) (string, bool) {
	switch a.Type {
	case Picklist, State, Status:
		n, _ := v.(int64)
		return optionLabel(a, int(n))
	case MultiSelectPicklist:
		s, _ := v.(string)
		var labels []string
		for _, p := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(p)
			if l, ok := optionLabel(a, n); ok {
				labels = append(labels, l)
			}
		}
		return strings.Join(labels, "; "), true
	case Boolean:
		b, _ := v.(bool)
		if a.OptionSet == nil {
			return strconv.FormatBool(b), true
		}
		if b {
			return a.OptionSet.TrueLabel, true
		}
		return a.OptionSet.FalseLabel, true
	case Integer, BigInt:
		n, _ := v.(int64)
		return group(strconv.FormatInt(n, 10)), true
	case Money:
		s, _ := v.(string)
		d, err := decimal.NewFromString(s)
		if err != nil {
			return "", false
		}
		sign := ""
		if d.IsNegative() {
			sign, d = "-", d.Neg()
		}
		txt := d.StringFixed(2)
		whole, frac, _ := strings.Cut(txt, ".")
		return sign + "$" + group(whole) + "." + frac, true
	case Decimal, Double:
		s, _ := v.(string)
		whole, frac, hasFrac := strings.Cut(s, ".")
		neg := strings.HasPrefix(whole, "-")
		whole = strings.TrimPrefix(whole, "-")
		out := group(whole)
		if hasFrac {
			out += "." + frac
		}
		if neg {
			out = "-" + out
		}
		return out, true
	case DateTime:
		t, _ := v.(time.Time)
		if a.DateTimeBehavior == "DateOnly" {
			return t.Format("1/2/2006"), true
		}
		return t.UTC().Format("1/2/2006 3:04 PM"), true
	}
	return "", false
}

func optionLabel(a *Attribute, n int) (string, bool) {
	if a.OptionSet == nil {
		return "", false
	}
	for _, o := range a.OptionSet.Options {
		if o.Value == n {
			return o.Label, true
		}
	}
	return "", false
}

// group inserts thousands separators into a run of digits.
func group(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
