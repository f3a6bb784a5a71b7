package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// A full read over a table that already has rows (the first read after a
// lost state, an expired delta token, an environment restore, a
// destination that kept its tables, a resync) sees every row the source
// has but not those it deleted meanwhile. It converges with a sweep:
//
//  1. When the read starts, the poller notes whether the table has rows;
//     an empty table needs no sweep.
//  2. When the read reaches its delta link, the version it reached (the
//     entity's high water, V0) is fixed and the delta reads go on as
//     usual.
//  3. Poll by poll, after the changes, the source's keys are read
//     (dataverse.KeysPager, resumable from the link kept in the entity
//     state, one page in memory) and staged in the destination
//     (sink.Sweeper.StageKeys).
//  4. Once every key is staged, one statement removes the rows whose id
//     the source did not list and whose version is at most V0,
//     tombstoned at V0 like any delete. A row created or changed after
//     the read reached V0 carries a higher version and stays; an older
//     upsert of a removed row still in flight is dropped by the
//     tombstone; a row deleted during the scan is removed by the sweep
//     or by the delta that reports its delete, whichever comes first.
//
// It needs no message of the read to be applied first: what is kept is
// decided by the source's keys, not by what the destination saw.

// keySetTTL is how long a key set may stay staged before a new scan of
// the same table clears it as abandoned (a state lost mid-scan). A sweep
// whose set was cleared under it finds it incomplete and scans again.
const keySetTTL = 24 * time.Hour

// sweeper is the destination's Sweeper, or an error naming the dialect.
func (p *Poller) sweeper(ctx context.Context, prof profile.Profile) (sink.Sweeper, error) {
	s, err := p.dest.Sink(ctx, prof)
	if err != nil {
		return nil, fmt.Errorf("opening destination: %w", err)
	}
	sw, ok := s.(sink.Sweeper)
	if !ok {
		return nil, fmt.Errorf("the %s destination cannot sweep", prof.Destination.Type)
	}
	return sw, nil
}

// planSweep decides, as a full read starts, whether it ends with a sweep:
// only when the table already has rows. A sweep of an earlier read that
// had not finished (the read was restarted) is abandoned and its keys
// cleared.
func (p *Poller) planSweep(ctx context.Context, log *slog.Logger, prof profile.Profile, entity string, st *state.EntityState) error {
	sw, err := p.sweeper(ctx, prof)
	if err != nil {
		return err
	}
	table := TableName(prof, entity)
	if old := st.Sweep.Scan; old != "" {
		if err := sw.ClearKeys(ctx, table, old, time.Time{}); err != nil {
			log.Warn("clearing the keys of an abandoned sweep failed; they go when a later scan finds them old", "scan", old, "err", err)
		}
	}
	st.Sweep = state.Sweep{}
	has, err := sw.HasRows(ctx, table)
	if err != nil {
		return fmt.Errorf("reading whether %s has rows: %w", table, err)
	}
	if has {
		st.Sweep.Scan = newReadID()
		log.Info("a full read starts over a table that has rows; once it is done, the rows the source no longer has are removed", "table", table.String())
	}
	return nil
}

// startSweep fixes the version the read reached, as it reaches its delta
// link; the key scan starts on the next steps.
func startSweep(st *state.EntityState) {
	if st.Sweep.Scan == "" || st.Sweep.Started {
		return
	}
	st.Sweep.Started, st.Sweep.Version = true, st.HighWater
	st.Sweep.Link, st.Sweep.Keys, st.Sweep.Pages = "", 0, 0
}

// errSuperseded: another poll saved the entity's state first.
var errSuperseded = errors.New("superseded")

// advanceSweep stages up to MaxKeyPages pages of the source's keys, saving
// the keys read's position after each, and sweeps once every key is
// staged. It returns the rows removed (0 until the sweep runs), or
// errSuperseded when another poll saved the state first.
func (p *Poller) advanceSweep(ctx context.Context, log *slog.Logger, prof profile.Profile, meta *dataverse.Entity, st *state.EntityState, deadline time.Time) (int, error) {
	sw, err := p.sweeper(ctx, prof)
	if err != nil {
		return 0, err
	}
	table := TableName(prof, meta.LogicalName)
	save := func() error {
		if err := p.entities.SaveEntity(ctx, st); err != nil {
			if errors.Is(err, state.ErrConflict) {
				return errSuperseded
			}
			return fmt.Errorf("saving the sweep's position: %w", err)
		}
		return nil
	}
	if st.Sweep.Link == "" && st.Sweep.Pages == 0 {
		// A new key scan: sets of this table left by scans nobody will
		// finish go now.
		if err := sw.ClearKeys(ctx, table, "", p.o.Now().Add(-keySetTTL)); err != nil {
			return 0, fmt.Errorf("clearing abandoned key sets of %s: %w", table, err)
		}
		log.Info("the full read is done; reading the source's keys to remove the rows it no longer has", "version", st.Sweep.Version, "scan", st.Sweep.Scan)
	}
	pager := p.src.NewKeysPager(meta, &dataverse.KeysOptions{Link: st.Sweep.Link})
	for pages := 0; pager.More() && pages < p.o.MaxKeyPages && p.o.Now().Before(deadline); pages++ {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("reading keys page %d: %w", st.Sweep.Pages+1, err)
		}
		ids := make([]string, len(page.Keys))
		for i, k := range page.Keys {
			ids[i] = k.ID
		}
		n, err := sw.StageKeys(ctx, table, st.Sweep.Scan, ids)
		if err != nil {
			return 0, fmt.Errorf("staging keys page %d: %w", st.Sweep.Pages+1, err)
		}
		// Checkpoint after staging: a page staged again after a crash adds
		// nothing new, so Keys counts each key once.
		st.Sweep.Keys += int64(n)
		st.Sweep.Pages++
		st.Sweep.Link = page.NextLink
		if page.NextLink == "" {
			break
		}
		if err := save(); err != nil {
			return 0, err
		}
	}
	if pager.More() {
		return 0, nil // more keys next poll
	}
	removed, err := sw.Sweep(ctx, table, sink.SweepSpec{Entity: meta.LogicalName, Scan: st.Sweep.Scan, Staged: st.Sweep.Keys, Version: st.Sweep.Version})
	var incomplete *sink.IncompleteScanError
	if errors.As(err, &incomplete) {
		// Keys went missing (cleared as abandoned): read them all again
		// into a new set. The version stays: a later scan only lists more.
		log.Warn("the staged keys are incomplete; the key scan starts again", "err", err)
		st.Sweep.Scan, st.Sweep.Link, st.Sweep.Keys, st.Sweep.Pages = newReadID(), "", 0, 0
		return 0, save()
	}
	if err != nil {
		return 0, fmt.Errorf("sweeping %s: %w", table, err)
	}
	done := st.Sweep
	st.Sweep = state.Sweep{}
	st.Swept, st.SweptAt = int64(removed), p.o.Now().UTC()
	if err := save(); err != nil {
		// The sweep can run again: it removes nothing more.
		return removed, err
	}
	log.Info("the full read converged: rows the source no longer has were removed", "removed", removed, "version", done.Version, "keys", done.Keys)
	if err := sw.ClearKeys(ctx, table, done.Scan, time.Time{}); err != nil {
		log.Warn("clearing the sweep's keys failed; they go when a later scan finds them old", "scan", done.Scan, "err", err)
	}
	return removed, nil
}
