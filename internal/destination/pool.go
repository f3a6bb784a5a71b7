// Package destination opens and caches the sink of each profile, choosing the
// dialect from the profile's destination type.
package destination

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	gosync "sync"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/postgres"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	"github.com/dataexport/dataexport/internal/sink/sqlserver"
)

// Pool keeps one open sink per profile and destination.
type Pool struct {
	log   *slog.Logger
	mu    gosync.Mutex
	sinks map[string]sink.Sink
}

// NewPool returns an empty pool; its sinks log to log (nil: slog.Default()).
func NewPool(log *slog.Logger) *Pool { return &Pool{log: log, sinks: map[string]sink.Sink{}} }

// Sink returns the open sink of p, opening it on first use. A profile whose
// destination changed gets a new sink; the old one is closed.
func (pl *Pool) Sink(ctx context.Context, p profile.Profile) (sink.Sink, error) {
	// The key hashes the connection so that the secret is never kept as a map key in clear.
	sum := sha256.Sum256([]byte(p.Destination.Type + "\x00" + p.Destination.Connection + "\x00" + p.Schema + "\x00" + p.Prefix + fmt.Sprint(p.WriteDeleteLog)))
	key := p.Name + "/" + fmt.Sprintf("%x", sum[:8])
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if s, ok := pl.sinks[key]; ok {
		return s, nil
	}
	s, err := Open(ctx, p, pl.log)
	if err != nil {
		return nil, err
	}
	for k, old := range pl.sinks {
		if len(k) > len(p.Name) && k[:len(p.Name)+1] == p.Name+"/" {
			old.Close()
			delete(pl.sinks, k)
		}
	}
	pl.sinks[key] = s
	return s, nil
}

// Close closes every open sink.
func (pl *Pool) Close() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var first error
	for k, s := range pl.sinks {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
		delete(pl.sinks, k)
	}
	return first
}

// Open opens the sink a profile names. Errors never contain the connection string.
func Open(ctx context.Context, p profile.Profile, log *slog.Logger) (sink.Sink, error) {
	o := &sink.Options{Schema: p.Schema, Prefix: p.Prefix, WriteDeleteLog: p.WriteDeleteLog, Logger: log}
	var (
		s   sink.Sink
		err error
	)
	switch p.Destination.Type {
	case profile.SQLite:
		s, err = sqlite.Open(ctx, p.Destination.Connection, o)
	case profile.Postgres:
		s, err = postgres.Open(ctx, p.Destination.Connection, o)
	case profile.SQLServer:
		s, err = sqlserver.Open(ctx, p.Destination.Connection, o)
	default:
		return nil, fmt.Errorf("profile %s: unknown destination type %q", p.Name, p.Destination.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("profile %s: opening %s destination: %w", p.Name, p.Destination.Type, err)
	}
	return s, nil
}
