package metrics

import (
	"context"
	"errors"
	"log/slog"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/state"
)

// CounterWriter is where the applier adds its counters (state.Store, or a
// batching layer in front of it).
type CounterWriter interface {
	AddCounters(ctx context.Context, profile, entity string, d state.Counters) error
}

// Writer is where a Recorder writes its minutes (*Store).
type Writer interface {
	Add(ctx context.Context, profile, entity string, p Point) error
	Prune(ctx context.Context, profile, entity string, before time.Time) (int, error)
}

// RecorderOptions tune a Recorder; the zero value is usable.
type RecorderOptions struct {
	// FlushInterval is how often the recorder looks for minutes that are over
	// and writes them (default 2 s; each minute is still written once).
	FlushInterval time.Duration
	// Retention is how long minutes are kept (default Retention); each
	// entity's older minutes are pruned at most once an hour per process.
	Retention time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

// Recorder is a CounterWriter that passes every increment on and adds it,
// in memory, to the entity's current minute. A minute is written once it
// is over (at the next flush), so each process writes each entity's minute
// once, however many messages it applied in it; Close writes the minute in
// progress too. Minutes not yet written when the process dies are lost:
// the counters they summarise were written.
type Recorder struct {
	next CounterWriter
	w    Writer
	o    RecorderOptions

	mu        gosync.Mutex
	pending   map[bucket]Point
	lastPrune map[key]time.Time
	flushMu   gosync.Mutex

	stop chan struct{}
	done chan struct{}
	once gosync.Once
}

type key struct{ profile, entity string }

type bucket struct {
	key
	minute int64 // Unix minutes
}

// NewRecorder starts a Recorder in front of next, writing to w until Close.
func NewRecorder(next CounterWriter, w Writer, o *RecorderOptions) *Recorder {
	r := &Recorder{next: next, w: w, pending: map[bucket]Point{}, lastPrune: map[key]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	if o != nil {
		r.o = *o
	}
	if r.o.FlushInterval <= 0 {
		r.o.FlushInterval = 2 * time.Second
	}
	if r.o.Retention <= 0 {
		r.o.Retention = Retention
	}
	if r.o.Logger == nil {
		r.o.Logger = slog.Default()
	}
	if r.o.Now == nil {
		r.o.Now = time.Now
	}
	go r.run()
	return r
}

// AddCounters passes d on and counts it in the current minute.
func (r *Recorder) AddCounters(ctx context.Context, profile, entity string, d state.Counters) error {
	err := r.next.AddCounters(ctx, profile, entity, d)
	now := r.o.Now().UTC()
	p := Point{Applied: d.Succeeded + d.Skipped, Deleted: d.Deleted, Failed: d.Failed}
	if !d.LagAt.IsZero() {
		p.HasLag, p.LagLast, p.LagMax = true, d.Lag, d.Lag
	}
	if p.Applied == 0 && p.Failed == 0 && !p.HasLag {
		return err // an error report only: nothing to draw
	}
	b := bucket{key{profile, entity}, now.Unix() / 60}
	r.mu.Lock()
	r.pending[b] = r.pending[b].add(p, true)
	r.mu.Unlock()
	return err
}

func (r *Recorder) run() {
	defer close(r.done)
	t := time.NewTicker(r.o.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := r.flush(ctx, false); err != nil {
				r.o.Logger.Warn("writing metrics failed; they are kept for the next write", "err", err)
			}
			cancel()
		}
	}
}

// Flush writes every minute that is over.
func (r *Recorder) Flush(ctx context.Context) error { return r.flush(ctx, false) }

func (r *Recorder) flush(ctx context.Context, all bool) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	now := r.o.Now().UTC()
	current := now.Unix() / 60
	r.mu.Lock()
	batch := map[bucket]Point{}
	for b, p := range r.pending {
		if all || b.minute < current {
			batch[b] = p
			delete(r.pending, b)
		}
	}
	r.mu.Unlock()
	var errs []error
	seen := map[key]bool{}
	for b, p := range batch {
		p.Minute = time.Unix(b.minute*60, 0).UTC()
		if err := r.w.Add(ctx, b.profile, b.entity, p); err != nil {
			errs = append(errs, err)
			r.mu.Lock()
			r.pending[b] = r.pending[b].add(p, false)
			r.mu.Unlock()
			continue
		}
		seen[b.key] = true
	}
	for k := range seen {
		r.mu.Lock()
		due := now.Sub(r.lastPrune[k]) >= time.Hour
		if due {
			r.lastPrune[k] = now
		}
		r.mu.Unlock()
		if due {
			if _, err := r.w.Prune(ctx, k.profile, k.entity, now.Add(-r.o.Retention)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Close stops the periodic writes and writes what is pending, the minute
// in progress included, within ctx.
func (r *Recorder) Close(ctx context.Context) error {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	return r.flush(ctx, true)
}
