package manage

import (
	"context"

	dsync "github.com/dataexport/dataexport/internal/sync"
)

// Rebaseline drops an entity's table and makes the next poll read the
// entity again in full: the way out of a blocked entity (a column changed
// type). Run it with the queue drained (see dsync.Rebaseline).
func (s *Service) Rebaseline(ctx context.Context, name, entity string) error {
	p, err := s.get(ctx, name)
	if err != nil {
		return err
	}
	return dsync.Rebaseline(ctx, p, entity, s.d.States, s.d.Destinations)
}

// Cleanup drops the table of an entity removed from the profile, with its
// state and metadata rows: the Data Export Service left these to a script.
func (s *Service) Cleanup(ctx context.Context, name, entity string) error {
	p, err := s.get(ctx, name)
	if err != nil {
		return err
	}
	return dsync.Cleanup(ctx, p, entity, s.d.States, s.d.Destinations)
}

// CleanupColumns lists (and with apply, drops) the columns of an entity's
// table whose attributes are gone from Dataverse.
func (s *Service) CleanupColumns(ctx context.Context, name, entity string, apply bool) ([]string, error) {
	p, err := s.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return dsync.CleanupColumns(ctx, p, entity, s.d.Source, s.d.Destinations, apply)
}
