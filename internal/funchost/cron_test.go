package funchost

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	base := time.Date(2026, 11, 25, 9, 4, 59, 500, time.UTC)
	tests := []struct {
		expr string
		from time.Time
		want time.Time
	}{
		{"0 */5 * * * *", base, time.Date(2026, 11, 25, 9, 5, 0, 0, time.UTC)},
		{"*/10 * * * * *", base, time.Date(2026, 11, 25, 9, 5, 0, 0, time.UTC)},
		{"*/10 * * * * *", time.Date(2026, 11, 25, 9, 5, 0, 0, time.UTC), time.Date(2026, 11, 25, 9, 5, 10, 0, time.UTC)},
		{"30 0 2 * * *", base, time.Date(2026, 11, 26, 2, 0, 30, 0, time.UTC)},
		{"0 0 0 1 1 *", base, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"0 0 9 * * 1-5", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}, // Fri → Mon
		{"0 15,45 * * * *", base, time.Date(2026, 11, 25, 9, 15, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got := s.Next(tt.from); !got.Equal(tt.want) {
			t.Errorf("%s from %v: got %v, want %v", tt.expr, tt.from, got, tt.want)
		}
	}
}

func TestScheduleRejects(t *testing.T) {
	for _, expr := range []string{"* * * * *", "60 * * * * *", "*/0 * * * * *", "a * * * * *", "0 0 25 * * *", "0 0 0 0 * *"} {
		if _, err := ParseSchedule(expr); err == nil {
			t.Errorf("%q: want an error", expr)
		}
	}
}
