package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// EntityForgetter removes an entity's state.
type EntityForgetter interface {
	DeleteEntity(ctx context.Context, profile, entity string) error
}

// Rebaseline drops an entity's table and makes the next poll read the entity
// again in full: the way out of PhaseBlocked (a column changed type) or of a
// destination that drifted. Run it with the queue drained: the dropped table
// takes its tombstones along, so a stale message still in flight could bring
// a deleted record back.
//
// The state changes first, so that no step can leave a delta link beside an
// empty table (a read resumed from it would miss every row not changed
// since): the entity is blocked while its table is dropped (pollers skip
// it), then set to read from the start. If it stops half-way, the entity
// stays blocked with a message saying to run it again.
func Rebaseline(ctx context.Context, prof profile.Profile, entity string, entities EntityStore, dest Destinations) error {
	st, err := entities.GetEntity(ctx, prof.Name, entity)
	if errors.Is(err, state.ErrNotFound) {
		st = state.EntityState{Profile: prof.Name, Entity: entity}
	} else if err != nil {
		return err
	}
	st.Phase, st.Link, st.HighWater, st.Pages, st.Read = state.PhaseBlocked, "", 0, 0, 0
	st.LastError = "re-baseline in progress; if this stays, run the re-baseline again"
	if err := entities.SaveEntity(ctx, &st); err != nil {
		return fmt.Errorf("blocking %s for the re-baseline: %w", entity, err)
	}
	if err := dropTable(ctx, prof, entity, dest); err != nil {
		return err
	}
	st.Phase, st.LastError = state.PhaseInitial, ""
	return entities.SaveEntity(ctx, &st)
}

// Cleanup drops the table of an entity that is no longer part of the
// profile and forgets its state. DES left such tables for the user to drop
// by script; here it is one explicit command, never automatic. The state
// goes first: if a later step fails and the entity is added back meanwhile,
// it is read from the start instead of resuming a delta link into an empty
// table.
func Cleanup(ctx context.Context, prof profile.Profile, entity string, entities EntityForgetter, dest Destinations) error {
	if contains(prof.Entities, entity) {
		return fmt.Errorf("entity %s is still part of profile %s; remove it from the profile first", entity, prof.Name)
	}
	if err := entities.DeleteEntity(ctx, prof.Name, entity); err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if err := dropTable(ctx, prof, entity, dest); err != nil {
		return err
	}
	// Its rows in the DES metadata tables go too: reports joining them
	// must not see an entity that is no longer exported.
	s, err := dest.Sink(ctx, prof)
	if err != nil {
		return fmt.Errorf("opening destination: %w", err)
	}
	if mw, ok := s.(sink.MetadataWriter); ok {
		if err := mw.ReplaceMetadata(ctx, schema.EntityMetadataRemoval(entity)); err != nil {
			return fmt.Errorf("removing the metadata rows of %s: %w", entity, err)
		}
	}
	return nil
}

func dropTable(ctx context.Context, prof profile.Profile, entity string, dest Destinations) error {
	s, err := dest.Sink(ctx, prof)
	if err != nil {
		return fmt.Errorf("opening destination: %w", err)
	}
	d, ok := s.(sink.TableDropper)
	if !ok {
		return fmt.Errorf("the %s destination cannot drop tables", prof.Destination.Type)
	}
	table := tableOptions(prof).TableName(entity)
	if err := d.DropTable(ctx, table); err != nil {
		return fmt.Errorf("dropping %s: %w", table, err)
	}
	return nil
}

// MetadataSource reads an entity's current definition.
type MetadataSource interface {
	Entity(ctx context.Context, logicalName string) (*dataverse.Entity, error)
}

// CleanupColumns lists the columns of an entity's table whose attributes are
// gone from Dataverse (kept until now, as DES kept them) and, with apply,
// drops them. It returns the columns found (and dropped, with apply). The
// entity must still be part of the profile; a removed entity's whole table
// goes with Cleanup.
func CleanupColumns(ctx context.Context, prof profile.Profile, entity string, src MetadataSource, dest Destinations, apply bool) ([]string, error) {
	if !contains(prof.Entities, entity) {
		return nil, fmt.Errorf("entity %s is not part of profile %s (a removed entity's table goes with cleanup)", entity, prof.Name)
	}
	meta, err := src.Entity(ctx, entity)
	if err != nil {
		return nil, fmt.Errorf("reading metadata of %s: %w", entity, err)
	}
	// With the label view as the poller makes it: the view is made again
	// without the dropped columns.
	t, err := schema.Map(meta, labelOptions(ctx, prof, src, slog.Default()))
	if err != nil {
		return nil, fmt.Errorf("mapping metadata of %s to a table: %w", entity, err)
	}
	s, err := dest.Sink(ctx, prof)
	if err != nil {
		return nil, fmt.Errorf("opening destination: %w", err)
	}
	d, ok := s.(sink.ColumnDropper)
	if !ok {
		return nil, fmt.Errorf("the %s destination cannot drop columns", prof.Destination.Type)
	}
	removed, err := d.RemovedColumns(ctx, t)
	if err != nil || !apply || len(removed) == 0 {
		return removed, err
	}
	if err := d.DropColumns(ctx, t, removed); err != nil {
		return nil, err
	}
	return removed, nil
}
