package sqlserver

import (
	"math"
	"time"
)

// StoredTime is t as a datetime column (DES's type) holds it: whole 1/300 s
// ticks, the driver rounding to the nearest tick on the way in and reading a
// tick back as whole milliseconds (.000, .003, .007). The acceptance suite
// compares written times in this form (sinktest.TimeRounder); Dataverse
// itself sends whole seconds, which datetime keeps exactly.
func (s *Sink) StoredTime(t time.Time) time.Time { return storedTime(t) }

func storedTime(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	secs := int(t.Sub(day) / time.Second)
	ticks := 300*secs + int(math.Round(float64(t.Nanosecond())*3/1e7))
	ms := int(math.Trunc(float64(ticks%300)/0.3 + 0.5))
	return day.Add(time.Duration(ticks/300)*time.Second + time.Duration(ms)*time.Millisecond)
}
