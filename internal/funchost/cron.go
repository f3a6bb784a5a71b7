package funchost

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed NCRONTAB expression as the Functions timer trigger
// uses it: six fields, {second} {minute} {hour} {day} {month} {day-of-week},
// evaluated in UTC. As in NCRONTAB, a date must match the day, month and
// day-of-week fields together.
type Schedule struct {
	fields [6]uint64 // bit i set = value i allowed
	expr   string
}

// Field indexes.
const (
	fSecond = iota
	fMinute
	fHour
	fDay
	fMonth
	fDayOfWeek
)

var cronRanges = [6][2]int{{0, 59}, {0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}
var cronFieldNames = [6]string{"second", "minute", "hour", "day", "month", "day-of-week"}

// cronValueNames are the names NCRONTAB accepts for month and day-of-week
// values (value = lowest value of the field + index).
var cronValueNames = [6][]string{
	fMonth:     {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	fDayOfWeek: {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// searchSpan bounds the search for an occurrence. The Gregorian calendar
// repeats itself every 400 years (146097 days, a whole number of weeks), so a
// schedule with no occurrence within 400 years has none at all.
const searchSpan = 400

// ParseSchedule parses an NCRONTAB expression: each field is *, a value, a
// range a-b, a list a,b, or a step */n, a/n or a-b/n. Months and days of the
// week may also be given by name, case-insensitively: the English name or
// its first three letters or more (JAN-DEC, SUN-SAT, e.g. MON-FRI). A
// schedule that can never fire (day 31 of February) is an error.
func ParseSchedule(expr string) (*Schedule, error) {
	parts := strings.Fields(expr)
	if len(parts) != 6 {
		return nil, fmt.Errorf("schedule %q: want 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), got %d", expr, len(parts))
	}
	s := &Schedule{expr: expr}
	for i, p := range parts {
		bits, err := parseCronField(p, i)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %s field %q: %w", expr, cronFieldNames[i], p, err)
		}
		s.fields[i] = bits
	}
	// Any start will do: the calendar is periodic (see searchSpan).
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires: no date has a day in %q, a month in %q and a day of the week in %q",
			expr, parts[fDay], parts[fMonth], parts[fDayOfWeek])
	}
	return s, nil
}

func parseCronField(f string, field int) (uint64, error) {
	lo, hi := cronRanges[field][0], cronRanges[field][1]
	var bits uint64
	for _, item := range strings.Split(f, ",") {
		step := 1
		if i := strings.IndexByte(item, '/'); i >= 0 {
			n, err := strconv.Atoi(item[i+1:])
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("bad step %q", item[i+1:])
			}
			step, item = n, item[:i]
		}
		from, to := lo, hi
		switch {
		case item == "*":
		case strings.Contains(item, "-"):
			a, b, _ := strings.Cut(item, "-")
			x, err := parseCronValue(a, field)
			if err != nil {
				return 0, fmt.Errorf("range %q: %w", item, err)
			}
			y, err := parseCronValue(b, field)
			if err != nil {
				return 0, fmt.Errorf("range %q: %w", item, err)
			}
			if x > y {
				return 0, fmt.Errorf("range %q runs backwards", item)
			}
			from, to = x, y
		default:
			x, err := parseCronValue(item, field)
			if err != nil {
				return 0, err
			}
			from, to = x, x
			if step > 1 {
				to = hi
			}
		}
		if from < lo || to > hi {
			return 0, fmt.Errorf("%d-%d is outside %d-%d", from, to, lo, hi)
		}
		for v := from; v <= to; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

// parseCronValue reads a number or, for month and day-of-week, a name.
func parseCronValue(v string, field int) (int, error) {
	if v == "" {
		return 0, fmt.Errorf("empty value")
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("bad value %q", v)
		}
		return n, nil
	}
	names := cronValueNames[field]
	if names == nil {
		return 0, fmt.Errorf("bad value %q: the %s field takes numbers only", v, cronFieldNames[field])
	}
	if len(v) >= 3 {
		for i, name := range names {
			if len(v) <= len(name) && strings.EqualFold(v, name[:len(v)]) {
				return cronRanges[field][0] + i, nil
			}
		}
	}
	short := make([]string, len(names))
	for i, name := range names {
		short[i] = strings.ToUpper(name[:3])
	}
	return 0, fmt.Errorf("bad value %q: not a number nor a %s name (%s)", v, cronFieldNames[field], strings.Join(short, ", "))
}

func (s *Schedule) String() string { return s.expr }

func (s *Schedule) has(field, v int) bool { return s.fields[field]&(1<<uint(v)) != 0 }

// Next returns the first occurrence strictly after t (UTC, whole seconds).
// It returns the zero time when there is none, which ParseSchedule rules out.
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second).Add(time.Second)
	limit := t.AddDate(searchSpan, 0, 1)
	for t.Before(limit) {
		switch {
		case !s.has(fMonth, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.has(fDay, t.Day()) || !s.has(fDayOfWeek, int(t.Weekday())):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case !s.has(fHour, t.Hour()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
		case !s.has(fMinute, t.Minute()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute()+1, 0, 0, time.UTC)
		case !s.has(fSecond, t.Second()):
			t = t.Add(time.Second)
		default:
			return t
		}
	}
	return time.Time{}
}
