package manage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/recovery"
)

// Recovery repairs a profile's replication without dropping anything
// (internal/recovery).
type Recovery interface {
	Failures(ctx context.Context, p profile.Profile, o recovery.FailuresOptions) (recovery.FailuresReport, error)
	ResyncFailures(ctx context.Context, p profile.Profile, o recovery.ResyncOptions) (recovery.ResyncReport, error)
	ResyncEntity(ctx context.Context, p profile.Profile, entity string) (recovery.EntityResync, error)
	Reconcile(ctx context.Context, p profile.Profile, entity string, o recovery.ReconcileOptions) (recovery.ReconcileReport, error)
}

// ErrState: the operation is not possible in the state the profile or
// entity is in (a blocked entity cannot be resynced, only re-baselined).
var ErrState = errors.New("not possible in its current state")

// FailuresQuery says what a failures summary shows.
type FailuresQuery struct {
	// Lines is how many of the latest log lines to show (default 20, at
	// most 1000).
	Lines int
	// URLHours is how long the read-only URL is valid (1-24, default 24).
	URLHours int
}

// Failures summarises a profile's failed records: counts per entity, the
// latest failure and resync log lines, and a read-only URL of its
// failures container valid for at most 24 hours (DES: "Copy Blob URL").
func (s *Service) Failures(ctx context.Context, name string, q FailuresQuery) (recovery.FailuresReport, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return recovery.FailuresReport{}, err
	}
	if q.Lines < 0 || q.Lines > 1000 {
		return recovery.FailuresReport{}, queryInvalid("lines", fmt.Sprintf("%d: must be 0-1000", q.Lines))
	}
	if q.URLHours < 0 || q.URLHours > 24 {
		return recovery.FailuresReport{}, queryInvalid("urlHours", fmt.Sprintf("%d: the URL is valid for 1 to 24 hours", q.URLHours))
	}
	if err := s.recovery(); err != nil {
		return recovery.FailuresReport{}, err
	}
	return s.d.Recovery.Failures(ctx, p, recovery.FailuresOptions{Lines: q.Lines, URLLifetime: time.Duration(q.URLHours) * time.Hour})
}

// ResyncFailures re-reads a profile's failed records from Dataverse and
// applies them (DES: "Resync failed records"); entity "" takes every
// entity. What could not be done for an entity (its source or destination
// unreachable) is in that entity's report and OK is false.
func (s *Service) ResyncFailures(ctx context.Context, name, entity string) (recovery.ResyncReport, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return recovery.ResyncReport{}, err
	}
	if entity != "" {
		if err := entityOf(p, entity); err != nil {
			return recovery.ResyncReport{}, err
		}
	}
	if err := s.recovery(); err != nil {
		return recovery.ResyncReport{}, err
	}
	rep, err := s.d.Recovery.ResyncFailures(ctx, p, recovery.ResyncOptions{Entity: entity})
	if err != nil && len(rep.Entities) == 0 {
		return rep, err // nothing was tried: the failures could not be listed
	}
	return rep, nil
}

// ResyncEntity reads an entity again in full over its table, which the
// sweep at the end of the read makes equal to the source; nothing is
// dropped. A blocked entity is refused (ErrState): re-baseline it.
func (s *Service) ResyncEntity(ctx context.Context, name, entity string) (recovery.EntityResync, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return recovery.EntityResync{}, err
	}
	if err := entityOf(p, entity); err != nil {
		return recovery.EntityResync{}, err
	}
	if err := s.recovery(); err != nil {
		return recovery.EntityResync{}, err
	}
	res, err := s.d.Recovery.ResyncEntity(ctx, p, entity)
	if errors.Is(err, recovery.ErrBlocked) {
		return res, fmt.Errorf("%w: %v; re-baseline it instead (dataexport profile rebaseline %s %s)", ErrState, err, name, entity)
	}
	return res, err
}

// Reconcile compares an entity's table with the source by key and version
// and names the missing, extra and stale ids (the first limit of each;
// default 20, at most 1000).
func (s *Service) Reconcile(ctx context.Context, name, entity string, limit int) (recovery.ReconcileReport, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return recovery.ReconcileReport{}, err
	}
	if err := entityOf(p, entity); err != nil {
		return recovery.ReconcileReport{}, err
	}
	if limit < 0 || limit > 1000 {
		return recovery.ReconcileReport{}, queryInvalid("limit", fmt.Sprintf("%d: must be 0-1000", limit))
	}
	if err := s.recovery(); err != nil {
		return recovery.ReconcileReport{}, err
	}
	return s.d.Recovery.Reconcile(ctx, p, entity, recovery.ReconcileOptions{Limit: limit})
}

func (s *Service) recovery() error {
	if s.d.Recovery == nil {
		return errors.New("the recovery operations are not configured")
	}
	return nil
}

// entityOf refuses an entity the profile does not export.
func entityOf(p profile.Profile, entity string) error {
	if !slices.Contains(p.Entities, entity) {
		return fmt.Errorf("entity %q is not part of profile %q: %w", entity, p.Name, ErrNotFound)
	}
	return nil
}

// ParamError says a parameter of an operation (a query parameter of the
// HTTP API, a flag of the CLI) is out of range.
type ParamError struct {
	Name   string
	Reason string
}

func (e *ParamError) Error() string { return e.Name + ": " + e.Reason }

func queryInvalid(name, reason string) error { return &ParamError{Name: name, Reason: reason} }
