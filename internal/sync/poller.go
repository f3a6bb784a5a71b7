package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// Failures keeps a metadata change that cannot be applied (metadata/).
	// Nil: it is logged only.
	Failures MetadataFailureWriter
	// Budget bounds the wall time of one invocation (default 4 minutes); the
	// page in flight is finished, then the poll stops.
	Budget time.Duration
	// Concurrency is how many entities are read at once (default 4): each
	// entity's pages follow one another (a nextLink chain), so entities in
	// parallel are what keeps a large read moving while one page is being
	// stored and enqueued. Each keeps its own checkpoint order.
	Concurrency int
	// MetadataTTL is how long an entity definition is reused before it is read
	// again (default 10 minutes). A page whose globalmetadataversion differs
	// from the one seen before makes the next poll read it at once.
	MetadataTTL time.Duration
	// Pages, when set, is the process's budget of pages in memory, shared
	// with the applier: a page read takes a slot until it is enqueued.
	Pages *PageBudget
	// Claims keeps each page larger than one message carries as one unit
	// in Blob storage (see sendPage). Nil: such a page is split into
	// messages of the transport's size, and a record larger than that
	// stops its entity with a *TooLargeError.
	Claims ClaimStore
	Logger *slog.Logger
	Now    func() time.Time
}

// MetadataFailureWriter keeps a metadata change that could not be applied,
// with its reason, under metadata/ of the profile's failures container.
type MetadataFailureWriter interface {
	WriteMetadataFailure(ctx context.Context, profile, entity, changeType, reason string, payload []byte) error
}

// ClaimStore keeps pages too large for one message as units in Blob
// storage (claim check).
type ClaimStore interface {
	// PutClaim stores body under name, replacing any blob of that name.
	PutClaim(ctx context.Context, name string, body []byte) error
	// GetClaim reads a body; one that is not there matches fs.ErrNotExist.
	GetClaim(ctx context.Context, name string) ([]byte, error)
	// DeleteClaim removes a body; one already gone is not an error.
	DeleteClaim(ctx context.Context, name string) error
}

// Poller reads changes of every profile's entities and enqueues them, saving
// each entity's position only after the messages read before it are enqueued.
type Poller struct {
	src      Source
	profiles ProfileStore
	entities EntityStore
	dest     Destinations
	out      Sender
	o        PollerOptions
	mu       gosync.Mutex
	ensured  map[string]string   // profile/entity -> table fingerprint last ensured
	columns  map[string][]string // profile/entity -> replicated columns last seen
	meta     map[string]cachedMeta
}

func NewPoller(src Source, profiles ProfileStore, entities EntityStore, dest Destinations, out Sender, o *PollerOptions) *Poller {
	p := &Poller{src: src, profiles: profiles, entities: entities, dest: dest, out: out, ensured: map[string]string{}, columns: map[string][]string{}, meta: map[string]cachedMeta{}}
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
	if p.o.MetadataTTL <= 0 {
		p.o.MetadataTTL = 10 * time.Minute
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
	Err        error
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

	meta, err := p.entity(ctx, entity)
	if err != nil {
		res.Err = fmt.Errorf("reading metadata: %w", err)
		return res
	}
	if added := p.noteColumns(prof.Name, meta); len(added) > 0 && st.Phase == state.PhaseDelta {
		// Found by the periodic refresh, not announced on a page (no
		// globalmetadataversion): rows changed since the last refresh were
		// read without these columns. Say so rather than let it pass.
		log.Warn("columns added in Dataverse were found by the periodic metadata refresh; rows changed since the previous refresh keep them empty until they change again; `dataexport profile rebaseline` fills them", "columns", added)
	}
	if st.Link == "" {
		// A new read from the start: its own id in every message id, so a
		// transport's duplicate detection (Service Bus, by body hash) never
		// takes its pages for those of an earlier read.
		st.ReadID = newReadID()
		// A read from the start may follow a re-baseline that dropped the
		// table (in this process or another): ensure it again rather than
		// trust what this process remembers.
		p.mu.Lock()
		delete(p.ensured, prof.Name+"/"+entity)
		p.mu.Unlock()
	}
	if err := p.ensureTable(ctx, prof, meta); err != nil {
		if errors.Is(err, schema.ErrIncompatibleChange) {
			// Logged once by PollAll; from the next poll on, skipped.
			p.metadataFailure(ctx, log, prof, meta, &st, err)
			st.Phase, st.LastError, st.LastErrorAt = state.PhaseBlocked, err.Error(), p.o.Now().UTC()
			if serr := p.entities.SaveEntity(ctx, &st); serr != nil {
				err = errors.Join(err, fmt.Errorf("saving blocked state: %w", serr))
			}
		}
		res.Err = err
		return res
	}
	if st.Link == "" && st.Phase == state.PhaseInitial {
		if err := p.planSweep(ctx, log, prof, entity, &st); err != nil {
			res.Err = err
			return res
		}
	}

	pager := p.src.NewChangesPager(meta, &dataverse.ChangesOptions{Link: withSelect(st.Link, meta)})
	reread := false
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
		if err == nil && p.metadataMoved(entity, page.MetadataVersion) && !reread {
			// The org's schema changed since the definition was read, so this
			// page may lack new columns. Drop it (nothing was checkpointed),
			// read the definition again, evolve the table, and read the same
			// page with the new $select.
			log.Info("metadata changed; reading the entity definition and the page again", "metadataVersion", page.MetadataVersion)
			reread = true
			if meta, err = p.src.Entity(dataverse.StrongConsistency(ctx), entity); err == nil {
				p.remember(entity, meta, page.MetadataVersion)
				p.noteColumns(prof.Name, meta) // announced: this page is read again with them
				err = p.ensureTable(ctx, prof, meta)
			}
			if err != nil {
				res.Err = fmt.Errorf("reading changed metadata: %w", err)
				return res
			}
			pager = p.src.NewChangesPager(meta, &dataverse.ChangesOptions{Link: withSelect(st.Link, meta)})
			continue
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
		n, err := p.enqueuePage(ctx, prof, entity, &st, page)
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

// metadataFailure keeps the metadata change the table cannot follow
// under metadata/ (the entity definition as read, with the reason).
func (p *Poller) metadataFailure(ctx context.Context, log *slog.Logger, prof profile.Profile, meta *dataverse.Entity, st *state.EntityState, cause error) {
	if p.o.Failures == nil {
		return
	}
	change := failureChangeUpdate
	if st.Phase == state.PhaseInitial {
		change = failureChangeInitial
	}
	payload, err := json.Marshal(meta)
	if err == nil {
		err = p.o.Failures.WriteMetadataFailure(ctx, prof.Name, meta.LogicalName, change, cause.Error(), payload)
	}
	if err != nil {
		log.Warn("keeping the metadata failure failed", "err", err)
	}
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

// enqueuePage turns a page into messages and sends them. Deletes are stamped
// with the highest version seen so far for this entity (rows of earlier reads
// and sends, the delta tokens, and this page), which orders each delete after
// every change read before it: any older upsert of the record arriving later
// is dropped by the sink's tombstone.
func (p *Poller) enqueuePage(ctx context.Context, prof profile.Profile, entity string, st *state.EntityState, page *dataverse.ChangesPage) (int, error) {
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
			return 0, fmt.Errorf("page %d: saving the high water before enqueueing: %w", st.Pages+1, err)
		}
	}
	kind := KindInitial
	if page.Delta {
		kind = KindDelta
	}
	base := Message{
		ID:             fmt.Sprintf("%s/%s/%s%d", prof.Name, entity, readPrefix(st.ReadID), st.Pages+1),
		Profile:        prof.Name,
		ProfileVersion: prof.Revision,
		Entity:         entity,
		Kind:           kind,
		Page:           st.Pages + 1,
	}
	base.Batch.Columns = page.Columns
	// The page's records go with the messages: once encoded, nothing here
	// holds them while the unit is stored and enqueued.
	upserts := page.Upserts
	page.Upserts = nil
	return p.sendPage(ctx, base, upserts, dels)
}

// ensureTable creates or evolves the entity's table when its metadata is new
// to this process or has changed since it was last ensured.
func (p *Poller) ensureTable(ctx context.Context, prof profile.Profile, meta *dataverse.Entity) error {
	t, err := schema.Map(meta, labelOptions(ctx, prof, p.src, p.o.Logger))
	if err != nil {
		return fmt.Errorf("mapping metadata to a table: %w", err)
	}
	key := prof.Name + "/" + meta.LogicalName
	// The table and the metadata rows: an option added or relabelled
	// changes no column but must reach the option set tables.
	fp := fingerprint(t) + "|" + dataverse.Fingerprint(meta)
	p.mu.Lock()
	done := p.ensured[key] == fp
	p.mu.Unlock()
	if done {
		return nil
	}
	s, err := p.dest.Sink(ctx, prof)
	if err != nil {
		return fmt.Errorf("opening destination: %w", err)
	}
	if err := s.EnsureTable(ctx, t); err != nil {
		return fmt.Errorf("ensuring table %s: %w", t.Name, err)
	}
	// The DES metadata tables follow the entity's metadata: created on
	// activation, their rows for this entity replaced whenever it changes.
	if mw, ok := s.(sink.MetadataWriter); ok {
		if err := mw.EnsureMetadataTables(ctx); err != nil {
			return fmt.Errorf("ensuring metadata tables: %w", err)
		}
		if err := mw.ReplaceMetadata(ctx, schema.Metadata([]*dataverse.Entity{meta}, p.o.Now().UTC())); err != nil {
			return fmt.Errorf("writing metadata of %s: %w", meta.LogicalName, err)
		}
	}
	p.mu.Lock()
	p.ensured[key] = fp
	p.mu.Unlock()
	return nil
}

func fingerprint(t schema.Table) string {
	fp := fmt.Sprintf("%s.%s%v", t.Schema, t.Name, t.Columns)
	if t.Labels != nil {
		fp += fmt.Sprintf(" view %s lang %d", t.Labels.Name, t.Labels.Language)
	}
	return fp
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

type cachedMeta struct {
	e       *dataverse.Entity
	at      time.Time
	version string // globalmetadataversion of the pages read with e
}

// entity returns the entity definition, read again when it is older than
// MetadataTTL.
func (p *Poller) entity(ctx context.Context, name string) (*dataverse.Entity, error) {
	p.mu.Lock()
	c, ok := p.meta[name]
	p.mu.Unlock()
	if ok && p.o.Now().Sub(c.at) < p.o.MetadataTTL {
		return c.e, nil
	}
	e, err := p.src.Entity(ctx, name)
	if err != nil {
		return nil, err
	}
	p.remember(name, e, c.version)
	return e, nil
}

func (p *Poller) remember(name string, e *dataverse.Entity, version string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.meta[name] = cachedMeta{e: e, at: p.o.Now(), version: version}
}

// metadataMoved records the metadata version a page announced and reports
// whether it differs from the one seen with the cached definition. Dataverse
// sends it only when asked and may not at all; without it, MetadataTTL bounds
// how long a changed schema goes unnoticed.
func (p *Poller) metadataMoved(name, version string) bool {
	if version == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.meta[name]
	if !ok {
		return false
	}
	if c.version == "" {
		c.version = version
		p.meta[name] = c
		return false
	}
	return c.version != version
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

// noteColumns remembers the replicated columns of meta and returns those
// that are new since the last call for the same profile and entity (none the
// first time).
func (p *Poller) noteColumns(prof string, meta *dataverse.Entity) []string {
	var cols []string
	for _, f := range dataverse.Fields(meta) {
		cols = append(cols, f.Column.Name)
	}
	key := prof + "/" + meta.LogicalName
	p.mu.Lock()
	old, seen := p.columns[key]
	p.columns[key] = cols
	p.mu.Unlock()
	if !seen {
		return nil
	}
	var added []string
	for _, c := range cols {
		if !slices.Contains(old, c) {
			added = append(added, c)
		}
	}
	return added
}
