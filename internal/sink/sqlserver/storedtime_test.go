package sqlserver

import (
	"testing"
	"time"
)

func TestStoredTime(t *testing.T) {
	at := func(h, m, s, ns int) time.Time { return time.Date(2026, 3, 1, h, m, s, ns, time.UTC) }
	tests := []struct {
		in, want time.Time
	}{
		{at(10, 0, 0, 0), at(10, 0, 0, 0)},
		{at(10, 0, 0, 1_500_000), at(10, 0, 0, 0)},           // 0.45 tick → 0
		{at(10, 0, 0, 2_000_000), at(10, 0, 0, 3_000_000)},   // 0.6 tick → 1 → .003
		{at(10, 0, 0, 5_000_000), at(10, 0, 0, 7_000_000)},   // 1.5 ticks → 2 → .007
		{at(10, 0, 0, 10_000_000), at(10, 0, 0, 10_000_000)}, // 3 ticks → .010
		{at(10, 0, 0, 999_900_000), at(10, 0, 1, 0)},         // 299.97 ticks → next second
		{at(23, 59, 59, 999_900_000), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
		{at(12, 34, 56, 123_456_789), at(12, 34, 56, 123_000_000)}, // 37.04 ticks → 37 → .123
	}
	for _, tt := range tests {
		if got := storedTime(tt.in); !got.Equal(tt.want) {
			t.Errorf("storedTime(%s) = %s, want %s", tt.in.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano), tt.want.Format(time.RFC3339Nano))
		}
	}
}
