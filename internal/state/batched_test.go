package state

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// countingWriter counts writes and can fail them.
type countingWriter struct {
	mu     sync.Mutex
	writes int
	fail   error
	sums   map[string]Counters
}

func (w *countingWriter) AddCounters(_ context.Context, profile, entity string, d Counters) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.writes++
	if w.sums == nil {
		w.sums = map[string]Counters{}
	}
	w.sums[profile+"/"+entity] = w.sums[profile+"/"+entity].add(d)
	return nil
}

// Many increments become one write per entity per flush, nothing is lost,
// and a failed write is kept for the next.
func TestBatchedCountersAggregate(t *testing.T) {
	w := &countingWriter{}
	b := NewBatchedCounters(w, time.Hour, slog.New(slog.DiscardHandler)) // flushed by hand
	ctx := t.Context()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() {
			_ = b.AddCounters(ctx, "p", []string{"account", "contact"}[i%2], Counters{Succeeded: 3, Deleted: 1, LastApplied: t0.Add(time.Duration(i) * time.Second)})
		})
	}
	wg.Wait()
	if w.writes != 0 {
		t.Fatalf("%d writes before a flush, want none", w.writes)
	}
	w.fail = errors.New("table storage unavailable")
	if err := b.Flush(ctx); err == nil {
		t.Fatal("a failed flush reported no error")
	}
	w.fail = nil
	_ = b.AddCounters(ctx, "p", "account", Counters{Failed: 2})
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.writes != 2 {
		t.Fatalf("%d writes, want one per entity", w.writes)
	}
	want := Counters{Succeeded: 1500, Deleted: 500, Failed: 2, LastApplied: t0.Add(998 * time.Second)}
	if got := w.sums["p/account"]; got != want {
		t.Fatalf("account = %+v, want %+v", got, want)
	}
	if got := w.sums["p/contact"]; got.Succeeded != 1500 || !got.LastApplied.Equal(t0.Add(999*time.Second)) {
		t.Fatalf("contact = %+v", got)
	}
}

// The periodic write reaches Table storage on its own.
func TestBatchedCountersWritePeriodically(t *testing.T) {
	s := newStore(t)
	b := NewBatchedCounters(s, 20*time.Millisecond, slog.New(slog.DiscardHandler))
	defer b.Close(context.Background())
	ctx := t.Context()
	for range 10 {
		_ = b.AddCounters(ctx, "p", "account", Counters{Succeeded: 1})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := s.GetCounters(ctx, "p", "account")
		if err != nil {
			t.Fatal(err)
		}
		if c.Succeeded == 10 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters = %+v after 10 s, want 10 succeeded", c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
