package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// Source reads one Dataverse org.
type Source interface {
	Entity(ctx context.Context, logicalName string) (*dataverse.Entity, error)
	NewChangesPager(e *dataverse.Entity, o *dataverse.ChangesOptions) *dataverse.ChangesPager
	// NewKeysPager reads every (id, version) of an entity: the sweep that
	// ends a full read over a table that had rows.
	NewKeysPager(e *dataverse.Entity, o *dataverse.KeysOptions) *dataverse.KeysPager
	// NewRowsPager reads rows again for a backfill.
	NewRowsPager(e *dataverse.Entity, o *dataverse.RowsOptions) *dataverse.RowsPager
}

// Sender puts message bodies durably on the queue.
type Sender interface {
	// Send returns nil only once body is durably enqueued.
	Send(ctx context.Context, body []byte) error
	MaxBodyBytes() int
}

// ProfileStore reads Export Profiles.
type ProfileStore interface {
	GetProfile(ctx context.Context, name string) (profile.Profile, error)
	ListProfiles(ctx context.Context) ([]profile.Profile, error)
}

// EntityStore keeps each entity's read position, guarded by ETag.
type EntityStore interface {
	GetEntity(ctx context.Context, profile, entity string) (state.EntityState, error)
	SaveEntity(ctx context.Context, st *state.EntityState) error
}

// Destinations opens the sink of a profile.
type Destinations interface {
	Sink(ctx context.Context, p profile.Profile) (sink.Sink, error)
}

// PollerOptions tune one poll. Zero values are the defaults.
type PollerOptions struct {
	// MaxPages bounds the pages read per entity in one invocation (default 50),
	// so a large initial read spreads over several short invocations.
	MaxPages int
	// MaxKeyPages bounds the pages of keys a sweep stages per entity in
	// one invocation (default 50).
	MaxKeyPages int
	// Budget bounds the wall time of one invocation (default 4 minutes); the
	// page in flight is finished, then the poll stops.
	Budget time.Duration
	// Concurrency is how many entities are read at once (default 4): each
	// entity's pages follow one another (a nextLink chain), so entities in
	// parallel are what keeps a large read moving while one page is being
	// stored and enqueued. Each keeps its own checkpoint order.
	Concurrency int
	// Pages, when set, is the process's budget of pages in memory, shared
	// with the applier: a page read takes a slot until it is enqueued.
	Pages *PageBudget
	// Claims keeps each page larger than one message carries as one unit
	// in Blob storage (see sendPage). Nil: such a page is split into
	// messages of the transport's size, and a record larger than that
	// stops its entity with a *TooLargeError.
	Claims ClaimStore
	// NewTables, when set, creates the table of an entity that has none
	// yet (a new profile or entity, or state lost) as soon as the poller
	// hands it over, so that its read starts in the same invocation
	// instead of two timer runs later. A table that exists is changed
	// only by the SchemaChange function.
	NewTables TableCreator
	Logger    *slog.Logger
	Now       func() time.Time
}

// TableCreator brings one entity's table in line with its definition: the
// SchemaChange function's work for one entity (*SchemaChanger).
type TableCreator interface {
	Entity(ctx context.Context, prof profile.Profile, entity string) SchemaResult
}

// ClaimStore keeps pages too large for one message as units in Blob
// storage (claim check).
type ClaimStore interface {
	// PutClaim stores body under name, replacing any blob of that name. It
	// must not keep body after it returns (as io.Writer): the caller
	// reuses it.
	PutClaim(ctx context.Context, name string, body []byte) error
	// GetClaim reads a body; one that is not there matches fs.ErrNotExist.
	GetClaim(ctx context.Context, name string) ([]byte, error)
	// DeleteClaim removes a body; one already gone is not an error.
	DeleteClaim(ctx context.Context, name string) error
}

// Poller reads changes of every profile's entities and enqueues them, saving
// each entity's position only after the messages read before it are enqueued.
// It reads an entity only while its table follows the definition it reads
// with (the fingerprint in the entity's state): otherwise it hands the
// entity to the SchemaChange function and waits. It changes no table
// itself (with NewTables, the table of an entity that has none is created
// through the SchemaChange function's own code); the destination is opened
// for the sweeps that end full reads.
type Poller struct {
	src      Source
	profiles ProfileStore
	entities EntityStore
	dest     Destinations
	out      Sender
	o        PollerOptions
	// mu guards defs: PollAll polls several entities at once.
	mu gosync.Mutex
	// defs caches, per profile/entity, the definition last read and its
	// hash: a copy of what Dataverse said, reused while the entity's table
	// fingerprint names it.
	defs map[string]definition
}

func NewPoller(src Source, profiles ProfileStore, entities EntityStore, dest Destinations, out Sender, o *PollerOptions) *Poller {
	p := &Poller{src: src, profiles: profiles, entities: entities, dest: dest, out: out, defs: map[string]definition{}}
	if o != nil {
		p.o = *o
	}
	if p.o.MaxPages <= 0 {
		p.o.MaxPages = 50
	}
	if p.o.MaxKeyPages <= 0 {
		p.o.MaxKeyPages = 50
	}
	if p.o.Budget <= 0 {
		p.o.Budget = 4 * time.Minute
	}
	if p.o.Concurrency <= 0 {
		p.o.Concurrency = 4
	}
	if p.o.Logger == nil {
		p.o.Logger = slog.Default()
	}
	if p.o.Now == nil {
		p.o.Now = time.Now
	}
	return p
}

// EntityResult reports what one poll did for one entity.
type EntityResult struct {
	Profile, Entity string
	Phase           state.Phase
	Pages           int
	Upserts         int
	Deletes         int
	Messages        int
	CaughtUp        bool // the read reached a deltaLink: nothing more to read now
	// Swept is the rows a sweep removed in this poll (the end of a full
	// read over a table that had rows).
	Swept int
	// Superseded: another poll of the entity saved its state first; this
	// one stopped without error.
	Superseded bool
	// SchemaPending: the entity waits for the SchemaChange function (its
	// table does not follow the definition read); nothing was read.
	SchemaPending bool
	// Backfilled counts the rows read again for added columns.
	Backfilled int
	Err        error
	// newTable: handed over for a table that does not exist yet.
	newTable bool
}

// ResultsErr joins the errors of failed entities, each naming its profile
// and entity; nil when every entity was polled.
func ResultsErr(results []EntityResult) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("profile %s entity %s: %w", r.Profile, r.Entity, r.Err))
		}
	}
	return errors.Join(errs...)
}

// PollAll polls every entity of every Active profile. One failing entity
// does not stop the others: its error is in its result, in its state row
// (the status route shows it) and in one log line. The error is non-nil
// only when nothing could be polled: the profiles could not be listed.
func (p *Poller) PollAll(ctx context.Context) ([]EntityResult, error) {
	profiles, err := p.profiles.ListProfiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	deadline := p.o.Now().Add(p.o.Budget)
	type job struct {
		prof   profile.Profile
		entity string
	}
	var jobs []job
	for _, prof := range profiles {
		if !prof.IsActive() {
			// Deactivated: no reads. Messages already queued are still
			// applied (the applier does not look at the state).
			continue
		}
		for _, ent := range prof.Entities {
			jobs = append(jobs, job{prof, ent})
		}
	}
	results := make([]EntityResult, len(jobs))
	sem := make(chan struct{}, p.o.Concurrency)
	var wg gosync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r := p.pollEntity(ctx, j.prof, j.entity, deadline)
			if r.Err != nil {
				p.entityFailed(ctx, j.prof.Name, j.entity, r.Err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	return results, nil
}

// errBlocked marks the result of an entity skipped because it is blocked:
// its state row already says why.
var errBlocked = errors.New("entity is blocked until it is re-baselined")

// entityFailed logs a failed entity poll once and keeps the error in the
// entity's state row, so that the status shows the entity as not
// progressing and why, until a page is read again.
func (p *Poller) entityFailed(ctx context.Context, prof, entity string, err error) {
	log := p.o.Logger.With("profile", prof, "entity", entity, "err", err)
	switch {
	case errors.Is(err, state.ErrConflict):
		// Another poll of the same entity won the race; its position
		// stands and what this one sent is a harmless duplicate.
		log.Info("another poller advanced this entity first; this poll of it stopped")
		return
	case errors.Is(err, errBlocked):
		log.Warn("entity skipped: it is blocked until it is re-baselined (dataexport profile rebaseline)")
		return
	case ctx.Err() != nil:
		log.Info("entity poll interrupted", "cause", context.Cause(ctx))
		return
	case dataverse.IsRebaseline(err):
		log.Warn("delta token expired; the entity will be read again in full")
	default:
		log.Error("entity poll failed; the other entities go on")
	}
	st, gerr := p.entities.GetEntity(ctx, prof, entity)
	if errors.Is(gerr, state.ErrNotFound) {
		st, gerr = state.EntityState{Profile: prof, Entity: entity, Phase: state.PhaseInitial}, nil
	}
	if gerr != nil {
		log.Warn("the error could not be kept in the entity state", "stateErr", gerr)
		return
	}
	st.LastError, st.LastErrorAt = err.Error(), p.o.Now().UTC()
	if serr := p.entities.SaveEntity(ctx, &st); serr != nil && !errors.Is(serr, state.ErrConflict) {
		log.Warn("the error could not be kept in the entity state", "stateErr", serr)
	}
}

func (p *Poller) pollEntity(ctx context.Context, prof profile.Profile, entity string, deadline time.Time) EntityResult {
	res := p.pollEntityOnce(ctx, prof, entity, deadline)
	if !res.newTable || p.o.NewTables == nil || ctx.Err() != nil {
		return res
	}
	r := p.o.NewTables.Entity(ctx, prof, entity)
	if r.Err != nil || r.Action != SchemaCreated && r.Action != SchemaEvolved && r.Action != SchemaUnchanged {
		// The SchemaChange function tries again on its next run.
		p.o.Logger.Info("creating the new entity's table failed; the SchemaChange function tries again", "profile", prof.Name, "entity", entity, "action", r.Action, "err", r.Err)
		return res
	}
	return p.pollEntityOnce(ctx, prof, entity, deadline)
}

func (p *Poller) pollEntityOnce(ctx context.Context, prof profile.Profile, entity string, deadline time.Time) EntityResult {
	res := EntityResult{Profile: prof.Name, Entity: entity}
	log := p.o.Logger.With("profile", prof.Name, "entity", entity)
	st, err := p.entities.GetEntity(ctx, prof.Name, entity)
	switch {
	case errors.Is(err, state.ErrNotFound):
		st = state.EntityState{Profile: prof.Name, Entity: entity, Phase: state.PhaseInitial}
	case err != nil:
		res.Err = fmt.Errorf("reading entity state: %w", err)
		return res
	}
	if st.Phase == state.PhaseBlocked {
		res.Phase = st.Phase
		res.Err = fmt.Errorf("%w: %s", errBlocked, st.LastError)
		return res
	}
	if st.Phase == state.PhaseRebaseline {
		// The old delta token expired: read everything again. Rows deleted
		// meanwhile cannot be seen by a full read: the sweep that ends it
		// removes them (sweep.go).
		st.Phase, st.Link = state.PhaseInitial, ""
	}
	res.Phase = st.Phase
	if st.SchemaWanted != "" {
		// Handed over earlier: the SchemaChange function has not evolved
		// the table yet. Nothing is read, swept or checkpointed meanwhile.
		log.Debug("waiting for the SchemaChange function", "wanted", st.SchemaWanted)
		res.SchemaPending = true
		return res
	}
	table, err := ParseFingerprint(st.Schema)
	if err != nil {
		table = Fingerprint{} // not one this code wrote: have it evolved again
	}
	def, err := p.definition(ctx, prof, entity, table.Hash)
	if err != nil {
		res.Err = fmt.Errorf("reading metadata: %w", err)
		return res
	}
	if def.hash != table.Hash {
		// A new entity (or one whose state was lost), or one whose
		// definition changed since its table was evolved. Rows read now
		// could need columns the table lacks, or a table that is not
		// there: hand it over. When the change happened is unknown, so
		// every row is read again for the new columns (SchemaSince 0).
		res = p.handOver(ctx, log, &st, res, def.hash, 0, "", "the definition read differs from the table's")
		res.newTable = res.Err == nil && table.Hash == "" // no table yet: NewTables may create it now
		return res
	}
	meta := def.meta
	if st.Link == "" {
		// A new read from the start: its own id in every message id, so a
		// transport's duplicate detection (Service Bus, by body hash) never
		// takes its pages for those of an earlier read. It reads every row
		// with every column, so no backfill is left to do.
		st.ReadID = newReadID()
		st.Backfill = state.Backfill{}
	}
	if st.Link == "" && st.Phase == state.PhaseInitial {
		if err := p.planSweep(ctx, log, prof, entity, &st); err != nil {
			res.Err = err
			return res
		}
	}
	if st.Backfill.Pending {
		done, r := p.backfill(ctx, log, prof, def, &st, res, deadline)
		if !done {
			return r
		}
		res = r
	}

	pager := p.src.NewChangesPager(meta, &dataverse.ChangesOptions{Link: withSelect(st.Link, meta)})
	revived := map[string]struct{}{} // ids upserted by this delta read so far
	// ahead is the next page, being read while the one before it is stored
	// and enqueued. The pager is touched by one goroutine at a time: the
	// loop does not call it while a read ahead is pending.
	var ahead chan pageRead
	// held: the page in hand holds a slot of the process's page budget
	// until it is enqueued.
	held := false
	release := func() {
		if held {
			p.o.Pages.Release()
			held = false
		}
	}
	defer func() {
		release()
		if ahead != nil {
			if r := <-ahead; r.held { // dropped; nothing checkpointed it
				p.o.Pages.Release()
			}
		}
	}()
	for (ahead != nil || pager.More()) && res.Pages < p.o.MaxPages && p.o.Now().Before(deadline) {
		release()
		var page *dataverse.ChangesPage
		var err error
		readStart := time.Now()
		if ahead != nil {
			r := <-ahead
			ahead, page, err, held = nil, r.page, r.err, r.held
		} else if err = p.o.Pages.Acquire(ctx); err == nil {
			held = true
			page, err = pager.NextPage(ctx)
		}
		if err != nil {
			if dataverse.IsRebaseline(err) {
				st.Phase, st.Link = state.PhaseRebaseline, ""
				st.LastError = err.Error()
				if serr := p.entities.SaveEntity(ctx, &st); serr != nil {
					err = errors.Join(err, fmt.Errorf("saving re-baseline state: %w", serr))
				}
			}
			res.Err = fmt.Errorf("reading page %d: %w", st.Pages+1, err)
			return res
		}
		// No read ahead is pending here: the page in hand is the last one
		// read, and one dropped below releases its slot on return.
		if moved, err := p.metadataMoved(ctx, prof, def, &st, page); err != nil {
			res.Err = fmt.Errorf("reading changed metadata: %w", err)
			return res
		} else if moved != "" {
			// The page announced a schema change that touches this entity:
			// it may lack new columns. Drop it (nothing was checkpointed)
			// and hand the entity over. Every version up to the high water
			// was read before the change, so only rows changed since need
			// reading again.
			return p.handOver(ctx, log, &st, res, moved, st.HighWater, page.MetadataVersion, "a page announced a metadata change")
		}
		if page.Delta {
			dropRevived(page, revived)
		}
		if page.NextLink != "" && res.Pages+1 < p.o.MaxPages && p.o.Now().Before(deadline) && pager.More() {
			ahead = make(chan pageRead, 1)
			go func(ch chan<- pageRead) {
				if err := p.o.Pages.Acquire(ctx); err != nil {
					ch <- pageRead{err: err}
					return
				}
				next, err := pager.NextPage(ctx)
				ch <- pageRead{next, err, true}
			}(ahead)
		}
		ups, dels := len(page.Upserts), len(page.Deletes)
		enqueueStart := time.Now()
		n, err := p.enqueuePage(ctx, &st, page, p.pageMessage(prof, entity, &st, page))
		enqueued := time.Since(enqueueStart)
		if errors.Is(err, state.ErrConflict) {
			return p.superseded(log, res, st.Pages+1)
		}
		if err != nil {
			res.Err = err
			return res
		}
		// Checkpoint after enqueue: the link is saved only now that every
		// message read before it is durably on the queue.
		if page.NextLink != "" {
			st.Link = page.NextLink
		} else {
			st.Link = page.DeltaLink
			st.Phase = state.PhaseDelta
			res.CaughtUp = true
			startSweep(&st)
		}
		st.Pages++
		st.Read += int64(ups + dels)
		st.LastPoll = p.o.Now().UTC()
		st.LastError, st.LastErrorAt = "", time.Time{}
		if err := p.entities.SaveEntity(ctx, &st); err != nil {
			if errors.Is(err, state.ErrConflict) {
				return p.superseded(log, res, st.Pages)
			}
			res.Err = fmt.Errorf("saving position: %w", err)
			return res
		}
		// Where a page's time goes: waiting for it (the read, or what is
		// left of the read ahead) and storing, enqueueing, checkpointing it.
		log.Debug("page enqueued", "page", st.Pages, "rows", ups+dels, "messages", n,
			"waited", enqueueStart.Sub(readStart), "enqueued", enqueued, "checkpointed", time.Since(enqueueStart)-enqueued)
		res.Pages++
		res.Upserts += ups
		res.Deletes += dels
		res.Messages += n
		res.Phase = st.Phase
		if page.UntypedLookups > 0 {
			log.Warn("polymorphic lookups arrived without a target entity type; their _entitytype columns are empty", "count", page.UntypedLookups, "page", st.Pages)
		}
		if page.UnnamedLookups > 0 {
			log.Warn("lookups arrived without a FormattedValue annotation; their name columns are empty", "count", page.UnnamedLookups, "page", st.Pages)
		}
		if res.CaughtUp {
			break
		}
	}
	if res.Upserts+res.Deletes > 0 {
		log.Info("poll", "phase", res.Phase, "pages", res.Pages, "upserts", res.Upserts, "deletes", res.Deletes, "messages", res.Messages, "caughtUp", res.CaughtUp)
	}
	if res.CaughtUp && st.Phase == state.PhaseDelta && st.Sweep.Started {
		// The changes come first; the sweep's key scan uses what is left
		// of the poll.
		n, err := p.advanceSweep(ctx, log, prof, meta, &st, deadline)
		res.Swept = n
		if errors.Is(err, errSuperseded) {
			return p.superseded(log, res, st.Pages)
		}
		if err != nil {
			res.Err = fmt.Errorf("sweep: %w", err)
		}
	}
	return res
}

// superseded ends a poll that lost the race for the entity's state to
// another poll of the same entity (the Functions timer singleton is not a
// guarantee): the other's position stands, what this poll sent is a
// harmless duplicate, and nothing went wrong, so it is one INFO line and
// no error.
func (p *Poller) superseded(log *slog.Logger, res EntityResult, page int64) EntityResult {
	log.Info("another poll advanced this entity first; this one stops", "page", page)
	res.Superseded = true
	return res
}

// pageRead is a page read ahead, or why it could not be read.
type pageRead struct {
	page *dataverse.ChangesPage
	err  error
	held bool // a slot of the page budget is held for it
}

// pageMessage is the envelope of the messages of a page of the entity's
// read: its id names the read and the page, and it carries the table
// fingerprint the rows were read for.
func (p *Poller) pageMessage(prof profile.Profile, entity string, st *state.EntityState, page *dataverse.ChangesPage) Message {
	kind := KindInitial
	if page.Delta {
		kind = KindDelta
	}
	return Message{
		ID:             fmt.Sprintf("%s/%s/%s%d", prof.Name, entity, readPrefix(st.ReadID), st.Pages+1),
		Profile:        prof.Name,
		ProfileVersion: prof.Revision,
		Schema:         st.Schema,
		Entity:         entity,
		Kind:           kind,
		Page:           st.Pages + 1,
	}
}

// handOver asks the SchemaChange function to evolve the entity's table to
// the definition of hash (SchemaWanted), with since the version after
// which rows may lack new columns (0: unknown) and mdv the metadata version
// of the page that announced it. Nothing is checkpointed: the poll stops
// and the next ones wait until the table follows.
func (p *Poller) handOver(ctx context.Context, log *slog.Logger, st *state.EntityState, res EntityResult, hash string, since int64, mdv, why string) EntityResult {
	st.SchemaWanted, st.SchemaSince, st.WantedMetadataVersion = hash, since, mdv
	if err := p.entities.SaveEntity(ctx, st); err != nil {
		if errors.Is(err, state.ErrConflict) {
			return p.superseded(log, res, st.Pages+1)
		}
		res.Err = fmt.Errorf("handing the entity to SchemaChange: %w", err)
		return res
	}
	log.Info("the entity waits for the SchemaChange function to bring its table in line with its metadata; nothing is read meanwhile",
		"why", why, "table", st.Schema, "wanted", hash, "since", since)
	res.SchemaPending = true
	return res
}

// definition returns the entity's definition, mapped and hashed. The copy
// read before is reused while want (the hash of the table's fingerprint)
// names it; otherwise it is read again, and once more from storage
// (Consistency: Strong) before a difference is believed, since a server's
// cached copy may lag the definition SchemaChange evolved the table to.
func (p *Poller) definition(ctx context.Context, prof profile.Profile, entity, want string) (definition, error) {
	key := prof.Name + "/" + entity
	p.mu.Lock()
	d, ok := p.defs[key]
	p.mu.Unlock()
	if ok && want != "" && d.hash == want {
		return d, nil
	}
	read := func(ctx context.Context) (definition, error) {
		meta, err := p.src.Entity(ctx, entity)
		if err != nil {
			return definition{}, err
		}
		return defineFrom(ctx, prof, meta, p.src)
	}
	d, err := read(ctx)
	if err == nil && want != "" && d.hash != want {
		d, err = read(dataverse.StrongConsistency(ctx))
	}
	if err != nil {
		return definition{}, err
	}
	p.mu.Lock()
	p.defs[key] = d
	p.mu.Unlock()
	return d, nil
}

// metadataMoved looks at the globalmetadataversion a page announces. The
// first one seen with the table's schema is recorded (saved with the
// page's checkpoint). Another one means some schema of the org changed
// since: the definition is read again from storage, and if it differs from
// the one the page was read with, its hash is returned ("" otherwise: the
// change was elsewhere, and the new version is recorded). Dataverse sends
// the annotation only when asked and may not at all; without it the
// SchemaChange function's periodic reads find the change.
func (p *Poller) metadataMoved(ctx context.Context, prof profile.Profile, def definition, st *state.EntityState, page *dataverse.ChangesPage) (string, error) {
	v := page.MetadataVersion
	switch {
	case v == "" || v == st.MetadataVersion:
		return "", nil
	case st.MetadataVersion == "":
		st.MetadataVersion = v
		return "", nil
	}
	sctx := dataverse.StrongConsistency(ctx)
	meta, err := p.src.Entity(sctx, def.meta.LogicalName)
	if err != nil {
		return "", err
	}
	now, err := defineFrom(ctx, prof, meta, p.src)
	if err != nil {
		return "", err
	}
	if now.hash != def.hash {
		return now.hash, nil
	}
	st.MetadataVersion = v
	return "", nil
}

// enqueuePage sends a page as messages with the envelope base (a unit:
// sendPage). Deletes are stamped with the highest version seen so far for
// this entity (rows of earlier reads and sends, the delta tokens, and this
// page), which orders each delete after every change read before it: any
// older upsert of the record arriving later is dropped by the sink's
// tombstone. The page's records go with the messages: once encoded,
// nothing here holds them (page.Upserts is emptied), so callers count
// them before.
func (p *Poller) enqueuePage(ctx context.Context, st *state.EntityState, page *dataverse.ChangesPage, base Message) (int, error) {
	hw := st.HighWater
	if v, ok := dataverse.DeltaTokenVersion(st.Link); ok && v > hw {
		hw = v
	}
	for i := range page.Upserts {
		if page.Upserts[i].Version > hw {
			hw = page.Upserts[i].Version
		}
	}
	// The last page's delta token is the snapshot the deletes were seen in:
	// every delete happened before it.
	if v, ok := dataverse.DeltaTokenVersion(page.DeltaLink); ok && v > hw {
		hw = v
	}
	dels := make([]record.Delete, 0, len(page.Deletes))
	for _, id := range page.Deletes {
		dels = append(dels, record.Delete{ID: id, Version: hw})
	}
	// Raise the saved high water before sending: if this poll dies after
	// sending and before its checkpoint, the next poll reads these changes
	// again, and a delete it sees then (of a record whose update we are
	// about to send) must be stamped above that update. The save checks the
	// ETag, also for a page of deletes that raises nothing: a poller that
	// lost the race (its high water may be stale) stops here, before
	// sending anything.
	if hw > st.HighWater || len(dels) > 0 {
		saved := st.HighWater
		st.HighWater = hw
		if err := p.entities.SaveEntity(ctx, st); err != nil {
			st.HighWater = saved
			return 0, fmt.Errorf("page %d: saving the high water before enqueueing: %w", base.Page, err)
		}
	}
	base.Batch.Columns = page.Columns
	upserts := page.Upserts
	page.Upserts = nil
	return p.sendPage(ctx, base, upserts, dels)
}

// LanguageSource knows the org's base language (dataverse.Client does).
type LanguageSource interface {
	BaseLanguage(ctx context.Context) (int, error)
}

// labelOptions is tableOptions with the label views' language resolved:
// the profile's, else the org's base language when src knows it. Without
// it the labels are those of the user the metadata is read as (the
// application user's language, usually the base language), and a warning
// says so.
func labelOptions(ctx context.Context, prof profile.Profile, src any, log *slog.Logger) schema.Options {
	o := tableOptions(prof)
	if o.LabelLanguage != 0 {
		return o
	}
	ls, ok := src.(LanguageSource)
	if !ok {
		return o
	}
	lang, err := ls.BaseLanguage(ctx)
	if err != nil {
		log.Warn("the org's base language could not be read; label views show the labels of the metadata's user", "profile", prof.Name, "err", err)
		return o
	}
	o.LabelLanguage = lang
	return o
}

// withSelect points a stored link at the entity's current columns. Links
// keep the $select of the read that issued them, so after an attribute is
// added the link would go on leaving it out. Only the $select parameter is
// rewritten; the token and paging cookie are kept byte for byte.
func withSelect(link string, e *dataverse.Entity) string {
	base, query, ok := strings.Cut(link, "?")
	if !ok || link == "" {
		return link
	}
	sel := strings.Join(dataverse.Select(dataverse.Fields(e)), ",")
	parts := strings.Split(query, "&")
	for i, part := range parts {
		if strings.HasPrefix(part, "$select=") || strings.HasPrefix(part, "%24select=") {
			parts[i] = "$select=" + sel
			return base + "?" + strings.Join(parts, "&")
		}
	}
	return link
}

// newReadID is a short random id for a read from the start.
func newReadID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func readPrefix(id string) string {
	if id == "" {
		return "" // states written before read ids existed
	}
	return id + "/"
}

// dropRevived removes from a delta page the deletes of records that the same
// read also returned as rows (seen holds the ids of earlier pages; this
// page's are added). A delta lists each record's state now, so a row means
// the record exists: it was deleted and then restored, or created again with
// the same id, and the stale delete, stamped above the row's version, would
// remove it from the destination.
func dropRevived(page *dataverse.ChangesPage, seen map[string]struct{}) {
	for i := range page.Upserts {
		seen[strings.ToLower(page.Upserts[i].ID)] = struct{}{}
	}
	kept := page.Deletes[:0]
	for _, id := range page.Deletes {
		if _, ok := seen[strings.ToLower(id)]; !ok {
			kept = append(kept, id)
		}
	}
	page.Deletes = kept
}
