package funchost

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	base := time.Date(2026, 11, 25, 9, 4, 59, 500, time.UTC) // a Wednesday
	friday := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	monday9 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
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
		{"0 0 9 * * 1-5", friday, monday9},
		{"0 15,45 * * * *", base, time.Date(2026, 11, 25, 9, 15, 0, 0, time.UTC)},
		// Day-of-week and month names, case-insensitively, as NCRONTAB takes them.
		{"0 0 9 * * MON-FRI", friday, monday9},
		{"0 0 9 * * mon-fri", friday, monday9},
		{"0 0 9 * * Monday", friday, monday9},
		{"0 0 9 * * Mon,Tues", friday, monday9},
		{"0 0 9 * * SUN", friday, time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)},
		{"0 0 0 * * MON/2", base, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}, // Mon, Wed, Fri
		{"0 30 9 * DEC SUN,sat", base, time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)},
		{"0 0 0 1 jul *", base, time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)},
		{"0 0 0 1 July *", base, time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)},
		{"0 0 0 1 jan-mar,OCT *", base, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"0 0 0 1 NOV-DEC *", base, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		// Rare but possible: further away than a few years.
		{"0 0 0 29 2 *", base, time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"0 0 0 29 FEB MON", base, time.Date(2044, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"0 0 0 31 * *", base, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := s.Next(tt.from); !got.Equal(tt.want) {
			t.Errorf("%s from %v: got %v, want %v", tt.expr, tt.from, got, tt.want)
		}
	}
}

func TestScheduleRejects(t *testing.T) {
	tests := []struct{ expr, wantErr string }{
		{"* * * * *", "want 6 fields"},
		{"60 * * * * *", "second field"},
		{"*/0 * * * * *", "bad step"},
		{"a * * * * *", "numbers only"},
		{"0 0 25 * * *", "hour field"},
		{"0 0 0 0 * *", "day field"},
		{"0 0 9 * * 7", "day-of-week field"},
		{"0 0 9 * 13 *", "month field"},
		// Names only where NCRONTAB has them, and only real ones.
		{"0 0 9 MON * *", "numbers only"},
		{"0 0 9 * * JAN", "not a number nor a day-of-week name"},
		{"0 0 9 * MON *", "not a number nor a month name"},
		{"0 0 9 * * MO", "not a number nor a day-of-week name"},
		{"0 0 9 * * XYZ", "not a number nor a day-of-week name"},
		{"0 0 9 * * MON-", "empty value"},
		{"0 0 9 * * FRI-MON", "runs backwards"},
		// Schedules that can never fire.
		{"0 0 0 31 2 *", "never fires"},
		{"0 0 0 31 FEB *", "never fires"},
		{"0 0 0 30 feb *", "never fires"},
		{"0 0 0 31 4,6,9,11 *", "never fires"},
		{"0 0 0 30-31 2 MON-FRI", "never fires"},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err == nil {
			t.Errorf("%q: accepted (next %v), want an error", tt.expr, s.Next(time.Now()))
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.expr) {
			t.Errorf("%q: error %q, want it to name the schedule and say %q", tt.expr, err, tt.wantErr)
		}
	}
}

// A timer function whose schedule never fires stops the host at start,
// naming the function and the schedule, instead of firing in a loop.
func TestNewRejectsTimerThatNeverFires(t *testing.T) {
	fns := []Function{{Name: "ChangePoller", Bindings: []Binding{{Name: "pollTimer", Type: "timerTrigger", Direction: "in", Schedule: "0 0 0 31 2 *"}}}}
	_, err := New(context.Background(), Options{HandlerURL: "http://127.0.0.1:1", Functions: fns, Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Fatal("New accepted a timer on 31 February")
	}
	for _, want := range []string{"ChangePoller", "0 0 0 31 2 *", "never fires"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// Should a schedule without occurrences reach runTimer anyway, the timer stops
// rather than invoking the function in a tight loop.
func TestRunTimerStopsWithoutNextOccurrence(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = w.Write([]byte(`{"Outputs":{},"Logs":[],"ReturnValue":null}`))
	}))
	defer srv.Close()
	never := &Schedule{expr: "never"} // no value allowed in any field
	h := &Host{
		o:      Options{HandlerURL: srv.URL, Client: srv.Client(), Logger: slog.New(slog.DiscardHandler), Now: time.Now},
		timers: map[string]*timer{"ChangePoller": {binding: Binding{Name: "pollTimer"}, schedule: never}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.runTimer(ctx, "ChangePoller", h.timers["ChangePoller"])
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("runTimer kept running with a schedule that never fires")
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the function was invoked %d times", n)
	}
}
