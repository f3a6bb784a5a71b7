// Package manage is the management service: every operation on Export
// Profiles (create, read, update, delete, activate, deactivate, validate,
// test, status, the source's entities, and the lifecycle operations on an
// entity's table) lives here, once. The HTTP functions, the CLI and the web
// UI are thin faces over it; none of them reaches Table storage, Blob
// storage or Key Vault itself.
//
// Errors are typed (ErrNotFound, ErrExists, ErrStale, ErrUnavailable,
// *InvalidError) so that each face maps them once (handlers: to HTTP status
// codes and problem+json).
package manage

import (
	"context"
	"log/slog"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// ProfileStore keeps Export Profiles, guarded by ETags.
type ProfileStore interface {
	GetProfile(ctx context.Context, name string) (profile.Profile, error)
	ListProfiles(ctx context.Context) ([]profile.Profile, error)
	CreateProfile(ctx context.Context, p profile.Profile) (profile.Profile, error)
	UpdateProfile(ctx context.Context, p profile.Profile, ifMatch string) (profile.Profile, error)
	DeleteProfileIf(ctx context.Context, name, ifMatch string) error
}

// EntityStates keeps each entity's read position and counters.
type EntityStates interface {
	ListEntities(ctx context.Context, profile string) ([]state.EntityState, error)
	GetEntity(ctx context.Context, profile, entity string) (state.EntityState, error)
	SaveEntity(ctx context.Context, st *state.EntityState) error
	DeleteEntity(ctx context.Context, profile, entity string) error
	// DeletePartition removes every state and counters row of a profile.
	DeletePartition(ctx context.Context, profile string) (int, error)
	GetCounters(ctx context.Context, profile, entity string) (state.Counters, error)
}

// FailureContainers holds each profile's failed records.
type FailureContainers interface {
	ContainerName(profile string) string
	// Purge deletes a profile's container and everything in it.
	Purge(ctx context.Context, profile string) error
}

// Secrets reads a connection string from its Key Vault secret URL.
type Secrets interface {
	Resolve(ctx context.Context, secretURL string) (string, error)
}

// Source is the Dataverse org: its catalog of tables, and one table's
// definition (for the column clean-up).
type Source interface {
	Catalog(ctx context.Context) (*dataverse.Catalog, error)
	Entity(ctx context.Context, logicalName string) (*dataverse.Entity, error)
}

// DestinationChecker connects to a destination (its connection string
// filled in) and checks the login's permissions, for test.
type DestinationChecker interface {
	CheckDestination(ctx context.Context, p profile.Profile) DestinationCheck
}

// DestinationCheck is what a DestinationChecker found.
type DestinationCheck struct {
	// Reachable is nil when the destination accepted a connection; its
	// text never holds a secret.
	Reachable error
	// Missing lists the permissions the login lacks (none: all there).
	Missing []string
	// PermissionsErr: the check itself failed.
	PermissionsErr error
	// PermissionsNote, when set, says why there is nothing to check (a
	// SQLite file has no logins).
	PermissionsNote string
}

// Deps are what the service works on.
type Deps struct {
	Profiles ProfileStore
	States   EntityStates
	Failures FailureContainers
	Secrets  Secrets
	Source   Source
	// Destinations opens a profile's sink, for the lifecycle operations on
	// an entity's table (re-baseline, clean-up).
	Destinations dsync.Destinations
	Checker      DestinationChecker
	// Metrics (optional) keeps each entity's minutes for Metrics and the
	// rate of an initial sync; Delete removes a profile's.
	Metrics Metrics
	// Counts (optional) sizes the entities in the source, for the progress
	// of an initial sync.
	Counts RecordCounter
	// Recovery resyncs failed records and entities, reconciles, and
	// summarises failed records.
	Recovery Recovery
}

// Options tune the service. The zero value is usable.
type Options struct {
	// Policy says what a deployment accepts beyond the form of a profile
	// (plain connection strings and loopback vaults in local development).
	Policy profile.Policy
	// CheckTimeout bounds each check of test (default 30 s), so that a
	// black-holed destination cannot hold the request for minutes.
	CheckTimeout time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

// Service carries out profile operations.
type Service struct {
	d Deps
	o Options

	countsMu gosync.Mutex
	counts   map[string]sourceCount
}

// New returns the service over d.
func New(d Deps, o *Options) *Service {
	s := &Service{d: d}
	if o != nil {
		s.o = *o
	}
	if s.o.CheckTimeout <= 0 {
		s.o.CheckTimeout = 30 * time.Second
	}
	if s.o.Logger == nil {
		s.o.Logger = slog.Default()
	}
	if s.o.Now == nil {
		s.o.Now = time.Now
	}
	return s
}

// Policy is the policy the service applies to what clients send.
func (s *Service) Policy() profile.Policy { return s.o.Policy }
