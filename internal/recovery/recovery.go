// Package recovery holds the operations that repair a profile's
// replication without dropping anything: resync its failed records (read
// again from Dataverse by id and applied, as DES's "Resync failed
// records"), resync an entity (a full read from the start over its table,
// which converges by its sweep), reconcile an entity (where the
// destination differs from the source, by key and version), and the
// summary of its failed records with a read-only link to them. The
// management service (internal/manage) exposes them; they know nothing of
// HTTP or the host.
package recovery

import (
	"context"
	"io"
	"iter"
	"log/slog"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// FailureStore keeps a profile's failed records (internal/failures).
type FailureStore interface {
	List(ctx context.Context, profile, entity string) iter.Seq2[failures.Failure, error]
	Open(ctx context.Context, f failures.Failure) (io.ReadCloser, error)
	// Resolve removes a failure's payload from data/.
	Resolve(ctx context.Context, f failures.Failure) error
	// LogResyncFailure writes a forcerefreshfailurelog/ line.
	LogResyncFailure(ctx context.Context, f failures.Failure, reason string) error
	Count(ctx context.Context, profile string) (failures.Counts, error)
	LatestLines(ctx context.Context, profile, folder string, n int) ([]failures.LogLine, error)
	ContainerName(profile string) string
	ReadOnlyURL(ctx context.Context, profile string, ttl time.Duration) (string, error)
}

// Source is the Dataverse org: definitions, rows by id, and every key.
type Source interface {
	Entity(ctx context.Context, logicalName string) (*dataverse.Entity, error)
	RecordsByID(ctx context.Context, e *dataverse.Entity, ids []string) (*dataverse.CurrentRecords, error)
	NewKeysPager(e *dataverse.Entity, o *dataverse.KeysOptions) *dataverse.KeysPager
}

// Counters are the per-entity counters the applier keeps.
type Counters interface {
	GetCounters(ctx context.Context, profile, entity string) (state.Counters, error)
	AddCounters(ctx context.Context, profile, entity string, d state.Counters) error
}

// Deps are what the operations work on.
type Deps struct {
	Failures     FailureStore
	Source       Source
	Destinations dsync.Destinations
	Entities     dsync.EntityStore
	Counters     Counters
}

// Options tune the operations. Zero values are the defaults.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// Service runs the recovery operations.
type Service struct {
	d Deps
	o Options
}

// New returns the service over d.
func New(d Deps, o *Options) *Service {
	s := &Service{d: d}
	if o != nil {
		s.o = *o
	}
	if s.o.Logger == nil {
		s.o.Logger = slog.Default()
	}
	if s.o.Now == nil {
		s.o.Now = time.Now
	}
	return s
}
