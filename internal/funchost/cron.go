package funchost

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed NCRONTAB expression as the Functions timer trigger
// uses it: six fields, {second} {minute} {hour} {day} {month} {day-of-week},
// evaluated in UTC.
type Schedule struct {
	fields [6]uint64 // bit i set = value i allowed
	expr   string
}

var cronRanges = [6][2]int{{0, 59}, {0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}
var cronNames = [6]string{"second", "minute", "hour", "day", "month", "day-of-week"}

// ParseSchedule parses an NCRONTAB expression: each field is *, a value, a
// range a-b, a list a,b, or a step */n or a-b/n.
func ParseSchedule(expr string) (*Schedule, error) {
	parts := strings.Fields(expr)
	if len(parts) != 6 {
		return nil, fmt.Errorf("schedule %q: want 6 fields ({second} {minute} {hour} {day} {month} {day-of-week}), got %d", expr, len(parts))
	}
	s := &Schedule{expr: expr}
	for i, p := range parts {
		bits, err := parseCronField(p, cronRanges[i][0], cronRanges[i][1])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %s field %q: %w", expr, cronNames[i], p, err)
		}
		s.fields[i] = bits
	}
	return s, nil
}

func parseCronField(f string, lo, hi int) (uint64, error) {
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
			x, err1 := strconv.Atoi(a)
			y, err2 := strconv.Atoi(b)
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("bad range %q", item)
			}
			from, to = x, y
		default:
			x, err := strconv.Atoi(item)
			if err != nil {
				return 0, fmt.Errorf("bad value %q", item)
			}
			from, to = x, x
			if step > 1 {
				to = hi
			}
		}
		if from < lo || to > hi || from > to {
			return 0, fmt.Errorf("%d-%d is outside %d-%d", from, to, lo, hi)
		}
		for v := from; v <= to; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func (s *Schedule) String() string { return s.expr }

func (s *Schedule) has(field, v int) bool { return s.fields[field]&(1<<uint(v)) != 0 }

// Next returns the first occurrence strictly after t (UTC, whole seconds).
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second).Add(time.Second)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		switch {
		case !s.has(4, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !s.has(3, t.Day()) || !s.has(5, int(t.Weekday())):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case !s.has(2, t.Hour()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, time.UTC)
		case !s.has(1, t.Minute()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute()+1, 0, 0, time.UTC)
		case !s.has(0, t.Second()):
			t = t.Add(time.Second)
		default:
			return t
		}
	}
	return time.Time{}
}
