package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
)

// backfill reads again the rows the SchemaChange function ordered read for
// columns it added (state.Backfill): the rows changed after the order's
// version, or every row, with every column, at their own version. They go
// out as backfill messages, which overwrite a stored row of the same
// version (record.Batch.Overwrite), so a row the delta read will not
// bring again, because it did not change, still gets the new columns. The
// read is checkpointed like any other (Backfill.Link saved after its
// page's messages are enqueued) and raises the high water, so that a
// later delete is stamped above every row it sent. It reports whether the
// backfill is done; if not (budget, error, lost race), r is the poll's
// result to return.
func (p *Poller) backfill(ctx context.Context, log *slog.Logger, prof profile.Profile, def definition, st *state.EntityState, res EntityResult, deadline time.Time) (done bool, r EntityResult) {
	b := &st.Backfill
	if b.ID == "" {
		b.ID = newReadID()
	}
	if b.Pages == 0 {
		log.Info("reading rows again for columns added to the table", "columns", b.Columns, "changedAfter", b.Since)
	}
	pager := p.src.NewRowsPager(def.meta, &dataverse.RowsOptions{AfterVersion: b.Since, Link: b.Link})
	for pager.More() {
		if res.Pages >= p.o.MaxPages || !p.o.Now().Before(deadline) {
			return false, res
		}
		// A page in hand takes a slot of the process's page budget until
		// it is enqueued, as the changes' pages do.
		if err := p.o.Pages.Acquire(ctx); err != nil {
			res.Err = fmt.Errorf("backfill page %d: %w", b.Pages+1, err)
			return false, res
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			p.o.Pages.Release()
			res.Err = fmt.Errorf("backfill page %d: %w", b.Pages+1, err)
			return false, res
		}
		rows := len(page.Upserts) // enqueuePage lets the records go
		base := Message{
			ID:             fmt.Sprintf("%s/%s/b%s/%d", prof.Name, def.meta.LogicalName, b.ID, b.Pages+1),
			Profile:        prof.Name,
			ProfileVersion: prof.Revision,
			Schema:         st.Schema,
			Entity:         def.meta.LogicalName,
			Kind:           KindBackfill,
			Page:           b.Pages + 1,
		}
		n, err := p.enqueuePage(ctx, st, page, base)
		p.o.Pages.Release()
		if errors.Is(err, state.ErrConflict) {
			return false, p.superseded(log, res, b.Pages+1)
		}
		if err != nil {
			res.Err = fmt.Errorf("backfill: %w", err)
			return false, res
		}
		b.Link = page.NextLink
		b.Pages++
		// Counted as read, so that the status's pending (read, not yet
		// applied) stays right when they are applied.
		st.Read += int64(rows)
		finished := page.NextLink == ""
		pages, cols := b.Pages, b.Columns
		if finished {
			*b = state.Backfill{}
		}
		if err := p.entities.SaveEntity(ctx, st); err != nil {
			if errors.Is(err, state.ErrConflict) {
				return false, p.superseded(log, res, pages)
			}
			res.Err = fmt.Errorf("saving the backfill position: %w", err)
			return false, res
		}
		res.Pages++
		res.Backfilled += rows
		res.Messages += n
		if finished {
			log.Info("rows read again for added columns", "columns", cols, "pages", pages, "rows", res.Backfilled)
		}
	}
	return true, res
}
