package metrics

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/state"
)

func TestMain(m *testing.M) { azuritetest.Main(m) }

func newStore(t *testing.T) *Store {
	t.Helper()
	svc, err := aztables.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ReplaceAll(azuritetest.UniqueName("m"), "-", "")
	s, err := NewStore(t.Context(), svc, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = svc.DeleteTable(context.Background(), name, nil) })
	return s
}

// Two processes writing the same minute add up; a minute's lag keeps the
// largest and the latest; Series reads one entity's range only.
func TestStoreMergesMinutes(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	m := time.Date(2026, 12, 2, 10, 5, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := Point{Minute: m.Add(17 * time.Second), Applied: 10, Deleted: 1, HasLag: true, LagLast: time.Duration(i) * time.Second, LagMax: time.Duration(i) * time.Second}
			if err := s.Add(ctx, "crm", "account", p); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := s.Add(ctx, "crm", "account", Point{Minute: m.Add(time.Minute), Failed: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, "crm", "contact", Point{Minute: m, Applied: 5}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Series(ctx, "crm", "account", m.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d points, want 2: %+v", len(got), got)
	}
	if p := got[0]; !p.Minute.Equal(m) || p.Applied != 80 || p.Deleted != 8 || !p.HasLag || p.LagMax != 7*time.Second {
		t.Errorf("first minute %+v, want 80 applied, 8 deleted, lag max 7s", p)
	}
	if p := got[1]; p.Failed != 2 || p.HasLag {
		t.Errorf("second minute %+v", p)
	}
	if got, _ := s.Series(ctx, "crm", "account", m.Add(time.Minute)); len(got) != 1 {
		t.Errorf("since the second minute: %d points, want 1", len(got))
	}
	if n, err := s.Prune(ctx, "crm", "account", m.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("prune: %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteProfile(ctx, "crm"); err != nil || n != 2 {
		t.Errorf("delete profile: %d, %v; want 2", n, err)
	}
}

type countersFunc func(profile, entity string, d state.Counters) error

func (f countersFunc) AddCounters(_ context.Context, p, e string, d state.Counters) error {
	return f(p, e, d)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type countingWriter struct {
	*Store
	mu     sync.Mutex
	writes int
}

func (w *countingWriter) Add(ctx context.Context, p, e string, pt Point) error {
	w.mu.Lock()
	w.writes++
	w.mu.Unlock()
	return w.Store.Add(ctx, p, e, pt)
}

// A thousand increments in one minute are one write, made once the minute
// is over; the counters themselves all pass through; Close writes the
// minute in progress.
func TestRecorderWritesEachMinuteOnce(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	w := &countingWriter{Store: s}
	clk := &clock{t: time.Date(2026, 12, 2, 10, 5, 3, 0, time.UTC)}
	var passed int64
	var mu sync.Mutex
	next := countersFunc(func(_, _ string, d state.Counters) error {
		mu.Lock()
		passed += d.Succeeded
		mu.Unlock()
		return nil
	})
	r := NewRecorder(next, w, &RecorderOptions{FlushInterval: time.Hour, Now: clk.now})
	for range 1000 {
		if err := r.AddCounters(ctx, "crm", "account", state.Counters{Succeeded: 1, LagAt: clk.now(), Lag: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if w.writes != 0 {
		t.Fatalf("%d writes while the minute is in progress, want 0", w.writes)
	}
	clk.set(clk.now().Add(time.Minute))
	if err := r.AddCounters(ctx, "crm", "account", state.Counters{Succeeded: 3}); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 || passed != 1003 {
		t.Fatalf("%d writes (want 1), %d counters passed on (want 1003)", w.writes, passed)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.Series(ctx, "crm", "account", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Applied != 1000 || got[0].LagLast != 2*time.Second || got[1].Applied != 3 {
		t.Fatalf("series %+v", got)
	}
}

// The applier's chain as app.Build composes it: the recorder in front of
// the batched counters in front of the store. A thousand messages of one
// entity in one minute are one metrics write and, at most, one counters
// write per flush of the batcher (none before it); closing the recorder,
// then the batcher, writes both.
func TestRecorderInFrontOfBatchedCounters(t *testing.T) {
	s, ctx := newStore(t), t.Context()
	w := &countingWriter{Store: s}
	var mu sync.Mutex
	var writes int
	var stored state.Counters
	sink := countersFunc(func(_, _ string, d state.Counters) error {
		mu.Lock()
		writes++
		stored.Succeeded += d.Succeeded
		stored.Failed += d.Failed
		mu.Unlock()
		return nil
	})
	batched := state.NewBatchedCounters(sink, time.Hour, nil)
	clk := &clock{t: time.Date(2026, 12, 2, 10, 5, 3, 0, time.UTC)}
	r := NewRecorder(batched, w, &RecorderOptions{FlushInterval: time.Hour, Now: clk.now})
	for i := range 1000 {
		d := state.Counters{Succeeded: 1, LagAt: clk.now(), Lag: time.Duration(i%7) * time.Second}
		if i%100 == 0 {
			d.Failed = 1
		}
		if err := r.AddCounters(ctx, "crm", "account", d); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	if writes != 0 {
		t.Fatalf("%d counters writes before the batcher's flush, want 0", writes)
	}
	mu.Unlock()
	if err := batched.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if writes != 1 || stored.Succeeded != 1000 || stored.Failed != 10 {
		t.Fatalf("after one flush: %d counters writes (want 1), %+v", writes, stored)
	}
	if err := r.AddCounters(ctx, "crm", "account", state.Counters{Succeeded: 5}); err != nil {
		t.Fatal(err)
	}
	if w.writes != 0 {
		t.Fatalf("%d metrics writes while the minute is in progress, want 0", w.writes)
	}
	// Shut down as App.Close does: the recorder, then the batcher.
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := batched.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 || writes != 2 || stored.Succeeded != 1005 {
		t.Fatalf("after close: %d metrics writes (want 1), %d counters writes (want 2), %d succeeded (want 1005)", w.writes, writes, stored.Succeeded)
	}
	got, err := s.Series(ctx, "crm", "account", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Applied != 1005 || got[0].Failed != 10 || got[0].LagMax != 6*time.Second {
		t.Fatalf("series %+v, want one minute of 1005 applied, 10 failed, lag max 6s", got)
	}
}
