// Package destination opens and caches the sink of each profile, choosing the
// dialect from the profile's destination type.
package destination

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/postgres"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	"github.com/dataexport/dataexport/internal/sink/sqlserver"
)

// Defaults of Options.
const (
	DefaultFailureTTL     = 10 * time.Second
	DefaultOpenTimeout    = time.Minute
	DefaultSupersededIdle = 15 * time.Minute
)

// sweepEvery bounds how often Sink looks for entries to drop, so that a
// cached lookup stays a map read.
const sweepEvery = 30 * time.Second

// ErrClosed is returned by Sink after Close.
var ErrClosed = errors.New("destination pool is closed")

// Options configures a Pool. The zero value is usable: every zero field
// means its default.
type Options struct {
	// Logger is given to the sinks and receives the pool's own logs; nil
	// means slog.Default().
	Logger *slog.Logger
	// FailureTTL is how long a failed open is remembered and returned
	// without a new attempt, so that a bad destination does not cost a
	// connect per message. 0 means DefaultFailureTTL; negative means a
	// failure is not remembered.
	FailureTTL time.Duration
	// OpenTimeout bounds one open. An open serves every caller waiting for
	// the same sink, so it does not end with any one caller's context; this
	// keeps a black-holed destination from holding it forever. 0 means
	// DefaultOpenTimeout.
	OpenTimeout time.Duration
	// SupersededIdle is how long a superseded sink is kept after it was
	// last handed out. A sink is superseded when another version of its
	// profile (other connection, schema, prefix or delete log) was handed
	// out more recently. 0 means DefaultSupersededIdle; negative keeps
	// superseded sinks until Close.
	SupersededIdle time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secrets reads the connection string of a profile that names a Key
	// Vault secret. Nil: such a profile cannot be opened.
	Secrets SecretResolver
}

// SecretResolver reads a connection string from its Key Vault secret URL.
type SecretResolver interface {
	Resolve(ctx context.Context, secretURL string) (string, error)
	// Forget drops a cached value: the destination refused it, and the
	// secret may have been rotated since it was read.
	Forget(secretURL string)
}

// Pool keeps one open sink per profile version: a profile's name and what
// defines its connection. Different versions of a profile coexist, because
// the poller and the applier may read a profile at different times and each
// must keep a sink that works.
//
// Sinks are opened outside the pool's lock, once per version however many
// callers ask at the same time; callers of other versions never wait for it,
// and a waiting caller gives up when its own context ends.
//
// Sink callers hold no lease, so the pool cannot know when a sink is no
// longer used. It therefore never closes the current version of a profile
// (the one handed out last) before Close, and closes a superseded version
// only once it has not been handed out for SupersededIdle: callers must ask
// Sink again for each unit of work (an apply, a poll) rather than keep a
// sink for longer than that. Sinks of profiles that were deleted stay open
// until Close.
type Pool struct {
	o    Options
	log  *slog.Logger
	dial dialer // dialDialect; tests replace it

	// life ends with Close and cancels the opens in flight.
	life context.Context
	stop context.CancelFunc
	// wg counts the open goroutines and the background closes, which Close
	// waits for. Add is called only under mu while not closed.
	wg gosync.WaitGroup

	mu        gosync.Mutex
	closed    bool
	entries   map[poolKey]*entry
	nextSweep time.Time
}

type poolKey struct {
	name string
	// fp hashes what the pool derives the sink from, so that the connection
	// string is never kept in clear as a key.
	fp string
}

// entry is one profile version's sink: opening until done is closed, then
// either open (s) or failed (err, remembered until retryAt). s, err and
// retryAt are written once, before done is closed.
type entry struct {
	done    chan struct{}
	s       sink.Sink
	err     error
	retryAt time.Time
	// lastOut is when the sink was last handed out (or requested); under mu.
	lastOut time.Time
}

func (e *entry) ended() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// NewPool returns an empty pool with default options; its sinks log to log
// (nil: slog.Default()).
func NewPool(log *slog.Logger) *Pool { return New(&Options{Logger: log}) }

// New returns an empty pool configured by o (nil: defaults).
func New(o *Options) *Pool {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.FailureTTL == 0 {
		opts.FailureTTL = DefaultFailureTTL
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = DefaultOpenTimeout
	}
	if opts.SupersededIdle == 0 {
		opts.SupersededIdle = DefaultSupersededIdle
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	life, stop := context.WithCancel(context.Background())
	return &Pool{o: opts, log: log, dial: dialDialect, life: life, stop: stop, entries: map[poolKey]*entry{}}
}

// keyOf is p's name and the fingerprint of every field Open derives the
// sink from.
func keyOf(p profile.Profile) poolKey {
	h := sha256.New()
	// %q keeps the fields apart whatever they contain.
	fmt.Fprintf(h, "%q %q %q %q %t %q", p.Destination.Type, p.Destination.Connection, p.Schema, p.Prefix, p.WriteDeleteLog, p.LabelViewName())
	return poolKey{name: p.Name, fp: hex.EncodeToString(h.Sum(nil)[:12])}
}

// Sink returns the open sink of p's current version, opening it on first
// use. If the open is under way for another caller, Sink waits for it until
// ctx ends. A failed open is returned again, without a new attempt, for
// FailureTTL.
func (pl *Pool) Sink(ctx context.Context, p profile.Profile) (sink.Sink, error) {
	p, err := pl.withConnection(ctx, p)
	if err != nil {
		return nil, err
	}
	key := keyOf(p)
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return nil, fmt.Errorf("profile %s: %w", p.Name, ErrClosed)
	}
	now := pl.o.Now()
	pl.sweepLocked(now)
	e := pl.entries[key]
	remembered := false
	if e != nil && e.ended() && e.err != nil {
		if now.Before(e.retryAt) {
			remembered = true
		} else {
			delete(pl.entries, key)
			e = nil
		}
	}
	if e == nil {
		e = &entry{done: make(chan struct{})}
		pl.entries[key] = e
		pl.wg.Add(1)
		go pl.open(ctx, p, key, e)
	}
	e.lastOut = now
	pl.mu.Unlock()

	if remembered {
		return nil, fmt.Errorf("%w (failed recently; not retried before %s)", e.err, e.retryAt.UTC().Format(time.RFC3339))
	}
	// A result already there wins over a context that ended meanwhile.
	select {
	case <-e.done:
		return e.result()
	default:
	}
	select {
	case <-e.done:
		return e.result()
	case <-ctx.Done():
		return nil, fmt.Errorf("profile %s: waiting for the %s destination to open: %w", p.Name, p.Destination.Type, context.Cause(ctx))
	}
}

// withConnection fills in the connection string of a profile that names a
// Key Vault secret. The key of the sink covers the value read, so a rotated
// secret opens a new sink (the old one is closed once superseded).
func (pl *Pool) withConnection(ctx context.Context, p profile.Profile) (profile.Profile, error) {
	if p.Destination.KeyVaultSecretURL == "" {
		return p, nil
	}
	if pl.o.Secrets == nil {
		return p, fmt.Errorf("profile %s: its destination connection string is in Key Vault (%s), and no Key Vault client is configured", p.Name, p.Destination.KeyVaultSecretURL)
	}
	conn, err := pl.o.Secrets.Resolve(ctx, p.Destination.KeyVaultSecretURL)
	if err != nil {
		return p, fmt.Errorf("profile %s: reading the %s destination's connection string: %w", p.Name, p.Destination.Type, err)
	}
	p.Destination.Connection = conn
	return p, nil
}

func (e *entry) result() (sink.Sink, error) {
	if e.err != nil {
		return nil, e.err
	}
	return e.s, nil
}

// open opens e's sink and records the result.
func (pl *Pool) open(ctx context.Context, p profile.Profile, key poolKey, e *entry) {
	defer pl.wg.Done()
	// The open serves every caller of this version and its result is kept
	// for later ones, so it must not end when the caller that started it
	// gives up: it keeps ctx's values but not its cancellation, and ends
	// with OpenTimeout or the pool.
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pl.o.OpenTimeout)
	defer cancel()
	defer context.AfterFunc(pl.life, cancel)()
	s, err := open(octx, p, pl.o.Logger, pl.dial)

	pl.mu.Lock()
	now := pl.o.Now()
	closed := pl.closed
	switch {
	case closed:
		// Close has already dropped every entry; what was opened after it
		// would never be closed by anyone else.
		e.err = fmt.Errorf("profile %s: %w", p.Name, ErrClosed)
	case err != nil:
		e.err, e.retryAt = err, now.Add(pl.o.FailureTTL)
		if p.Destination.KeyVaultSecretURL != "" && pl.o.Secrets != nil {
			pl.o.Secrets.Forget(p.Destination.KeyVaultSecretURL)
		}
		if pl.o.FailureTTL < 0 && pl.entries[key] == e {
			delete(pl.entries, key)
		}
	default:
		// Waiters receive the sink now: idleness counts from here.
		e.s, e.lastOut = s, now
	}
	close(e.done)
	pl.mu.Unlock()
	if closed && s != nil {
		if cerr := s.Close(); cerr != nil {
			pl.log.Warn("closing a sink opened while the pool closed", "profile", p.Name, "err", cerr)
		}
	}
}

// sweepLocked drops remembered failures that expired and closes, in the
// background, superseded sinks idle for SupersededIdle. Opens in flight are
// never touched.
func (pl *Pool) sweepLocked(now time.Time) {
	if now.Before(pl.nextSweep) {
		return
	}
	pl.nextSweep = now.Add(sweepEvery)
	// The current version of each profile is its most recently handed out
	// open sink.
	current := map[string]time.Time{}
	for k, e := range pl.entries {
		if !e.ended() {
			continue
		}
		if e.err != nil {
			if !now.Before(e.retryAt) {
				delete(pl.entries, k)
			}
			continue
		}
		if t, ok := current[k.name]; !ok || e.lastOut.After(t) {
			current[k.name] = e.lastOut
		}
	}
	if pl.o.SupersededIdle < 0 {
		return
	}
	for k, e := range pl.entries {
		if !e.ended() || e.err != nil || !e.lastOut.Before(current[k.name]) {
			continue
		}
		idle := now.Sub(e.lastOut)
		if idle < pl.o.SupersededIdle {
			continue
		}
		delete(pl.entries, k)
		pl.wg.Add(1)
		// sql.DB.Close waits for queries under way: not under the lock,
		// and not in the caller's time.
		go func(s sink.Sink) {
			defer pl.wg.Done()
			pl.log.Info("closing the sink of a superseded destination version", "profile", k.name, "idle", idle)
			if err := s.Close(); err != nil {
				pl.log.Warn("closing a superseded sink failed", "profile", k.name, "err", err)
			}
		}(e.s)
	}
}

// Close closes every open sink, cancels the opens in flight and waits for
// them. Sink fails with ErrClosed afterwards.
func (pl *Pool) Close() error {
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return nil
	}
	pl.closed = true
	var open []sink.Sink
	for k, e := range pl.entries {
		if e.ended() && e.s != nil {
			open = append(open, e.s)
		}
		delete(pl.entries, k)
	}
	pl.mu.Unlock()
	pl.stop()
	var errs []error
	for _, s := range open {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	pl.wg.Wait()
	return errors.Join(errs...)
}

// dialer opens a sink of a known destination type.
type dialer func(ctx context.Context, typ, conn string, o *sink.Options) (sink.Sink, error)

func dialDialect(ctx context.Context, typ, conn string, o *sink.Options) (sink.Sink, error) {
	// Each case returns nil itself on error: a nil *X stored in a
	// sink.Sink would not be a nil interface.
	switch typ {
	case profile.SQLite:
		s, err := sqlite.Open(ctx, conn, o)
		if err != nil {
			return nil, err
		}
		return s, nil
	case profile.Postgres:
		s, err := postgres.Open(ctx, conn, o)
		if err != nil {
			return nil, err
		}
		return s, nil
	case profile.SQLServer:
		s, err := sqlserver.Open(ctx, conn, o)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown destination type %q", typ)
}

func sinkOptions(p profile.Profile, log *slog.Logger) *sink.Options {
	return &sink.Options{Schema: p.Schema, Prefix: p.Prefix, WriteDeleteLog: p.WriteDeleteLog, LabelView: p.LabelViewName(), Logger: log}
}

// Open opens the sink a profile names. Its errors name the profile and the
// destination type and never contain a secret part of the connection
// string (see redact).
func Open(ctx context.Context, p profile.Profile, log *slog.Logger) (sink.Sink, error) {
	return open(ctx, p, log, dialDialect)
}

func open(ctx context.Context, p profile.Profile, log *slog.Logger, dial dialer) (sink.Sink, error) {
	if p.Destination.Connection == "" {
		return nil, fmt.Errorf("profile %s: the %s destination has no connection string (one named by keyVaultSecretUrl must be read first)", p.Name, p.Destination.Type)
	}
	switch p.Destination.Type {
	case profile.SQLite, profile.Postgres, profile.SQLServer:
	default:
		return nil, fmt.Errorf("profile %s: unknown destination type %q", p.Name, p.Destination.Type)
	}
	s, err := dial(ctx, p.Destination.Type, p.Destination.Connection, sinkOptions(p, log))
	if err != nil {
		return nil, fmt.Errorf("profile %s: opening %s destination: %w", p.Name, p.Destination.Type, redact(err, p.Destination.Connection, p.Destination.Type+" sink: "))
	}
	return s, nil
}
