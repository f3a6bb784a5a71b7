package state

import (
	"context"
	"errors"
	"log/slog"
	gosync "sync"
	"time"
)

// CounterWriter is what BatchedCounters writes through: Store.AddCounters.
type CounterWriter interface {
	AddCounters(ctx context.Context, profile, entity string, d Counters) error
}

// DefaultCounterInterval is how often BatchedCounters writes by default.
const DefaultCounterInterval = time.Second

// BatchedCounters adds counter increments up in memory and writes each
// entity's sum once per interval, so the applier's hot path costs no Table
// storage round trip per message (a read and a conditional replace each,
// more under contention). Sums are merged with Counters.add: counts add up,
// timestamps keep the latest. Increments not yet written when the process
// dies are lost; the rows they count are written, and a lost increment is
// not worth a replay.
type BatchedCounters struct {
	w        CounterWriter
	interval time.Duration
	log      *slog.Logger

	mu      gosync.Mutex
	pending map[counterKey]Counters
	flushMu gosync.Mutex // one flush at a time

	stop chan struct{}
	done chan struct{}
	once gosync.Once
}

type counterKey struct{ profile, entity string }

// NewBatchedCounters writes through w every interval (DefaultCounterInterval
// when zero) until Close. log may be nil.
func NewBatchedCounters(w CounterWriter, interval time.Duration, log *slog.Logger) *BatchedCounters {
	if interval <= 0 {
		interval = DefaultCounterInterval
	}
	if log == nil {
		log = slog.Default()
	}
	b := &BatchedCounters{w: w, interval: interval, log: log, pending: map[counterKey]Counters{}, stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// AddCounters adds d to the entity's pending sum. It does no I/O and never
// fails.
func (b *BatchedCounters) AddCounters(_ context.Context, profile, entity string, d Counters) error {
	k := counterKey{profile, entity}
	b.mu.Lock()
	b.pending[k] = b.pending[k].add(d)
	b.mu.Unlock()
	return nil
}

func (b *BatchedCounters) run() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := b.Flush(ctx); err != nil {
				b.log.Warn("writing counters failed; they are kept for the next write", "err", err)
			}
			cancel()
		}
	}
}

// Flush writes every pending sum now. A sum that cannot be written is kept
// and added to what comes next.
func (b *BatchedCounters) Flush(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	batch := b.pending
	b.pending = map[counterKey]Counters{}
	b.mu.Unlock()
	var errs []error
	for k, d := range batch {
		if err := b.w.AddCounters(ctx, k.profile, k.entity, d); err != nil {
			errs = append(errs, err)
			b.mu.Lock()
			b.pending[k] = b.pending[k].add(d)
			b.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// Close stops the periodic writes and writes what is pending, within ctx.
func (b *BatchedCounters) Close(ctx context.Context) error {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	return b.Flush(ctx)
}
