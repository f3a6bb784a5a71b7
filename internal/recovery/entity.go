package recovery

import (
	"context"
	"errors"
	"fmt"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
)

// EntityResync is what a resync of an entity did.
type EntityResync struct {
	Profile string `json:"profile"`
	Entity  string `json:"entity"`
	// PreviousPhase is the phase the entity left.
	PreviousPhase state.Phase `json:"previousPhase"`
	// Description says what happens next.
	Description string `json:"description"`
}

// ErrBlocked: the entity's table cannot follow its metadata; a resync
// cannot help, a re-baseline (drop and read again) does.
var ErrBlocked = errors.New("the entity is blocked")

// ResyncEntity makes the entity's next poll read it again from the start
// over its table, without dropping anything: the read goes to a new read
// id, the rows it brings are written by version as usual, and once it
// reaches its delta link the sweep removes the rows the source no longer
// has (internal/sync/sweep.go), so the table equals the source. The high
// water is kept (deletes are still stamped above every version read), and
// a sweep of an earlier read still under way is abandoned. An entity not
// polled yet needs nothing: its first poll is a full read.
func (s *Service) ResyncEntity(ctx context.Context, p profile.Profile, entity string) (EntityResync, error) {
	out := EntityResync{Profile: p.Name, Entity: entity}
	for attempt := 0; ; attempt++ {
		st, err := s.d.Entities.GetEntity(ctx, p.Name, entity)
		if errors.Is(err, state.ErrNotFound) {
			out.PreviousPhase, out.Description = state.PhaseNotStarted, "not polled yet: its first poll reads it in full"
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("reading the state of %s/%s: %w", p.Name, entity, err)
		}
		out.PreviousPhase = st.Phase
		if st.Phase == state.PhaseBlocked {
			return out, fmt.Errorf("%s/%s: %w until it is re-baselined (its table cannot follow its metadata): %s", p.Name, entity, ErrBlocked, st.LastError)
		}
		// Link "" with the initial phase: the next poll starts a read with
		// a new read id and plans its sweep (dropping this one's keys).
		st.Phase, st.Link, st.Pages = state.PhaseInitial, "", 0
		err = s.d.Entities.SaveEntity(ctx, &st)
		if errors.Is(err, state.ErrConflict) && attempt < 3 {
			continue // a poll saved it meanwhile: start from its state
		}
		if err != nil {
			return out, fmt.Errorf("saving the state of %s/%s: %w", p.Name, entity, err)
		}
		out.Description = "read again from the start at the next poll, over the table as it is; rows the source no longer has are removed when the read is done"
		if !p.IsActive() {
			out.Description += " (the profile is inactive: activate it to start)"
		}
		s.o.Logger.Info("entity resync requested: it is read again in full over its table", "profile", p.Name, "entity", entity, "previousPhase", out.PreviousPhase)
		return out, nil
	}
}
