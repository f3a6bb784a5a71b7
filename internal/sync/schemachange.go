package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

// The SchemaChange function owns every entity table's shape. It creates
// the table of a new entity, evolves a table whose entity's definition
// changed (columns added, strings and decimals widened in place where the
// dialect can), refreshes the entity's rows in the DES metadata tables,
// orders a backfill of the rows that must be read again for added columns,
// keeps what it cannot do (a column changed type) as a metadata/ failed
// record and blocks the entity with the reason, and marks the entity ready
// by writing the table's fingerprint (state.EntityState.Schema). The poller
// hands an entity over by asking for a definition (SchemaWanted) and reads
// nothing of it until the fingerprint follows; the applier waits for
// messages read for a newer table than the one recorded. The function runs
// on a timer: each run handles the entities handed over, those without a
// table yet, and reads again every definition it has not checked for
// CheckEvery, which finds changes no page announced.

// MetadataFailureStore keeps the metadata changes that could not be
// applied, in the failed records' metadata/ folder.
type MetadataFailureStore interface {
	WriteMetadataFailure(ctx context.Context, profile, entity, changeType, reason string, payload []byte) error
}

// SchemaChangeOptions tune the SchemaChange function. Zero values are the
// defaults.
type SchemaChangeOptions struct {
	// CheckEvery is how long a definition this process read is trusted
	// before it is read again to find a change no page announced (default
	// 10 minutes).
	CheckEvery time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// SchemaChanger is the SchemaChange function's core.
type SchemaChanger struct {
	src      MetadataSource
	profiles ProfileStore
	entities EntityStore
	dest     Destinations
	failures MetadataFailureStore
	o        SchemaChangeOptions

	mu      gosync.Mutex
	checked map[string]time.Time // profile/entity -> last definition read
}

func NewSchemaChanger(src MetadataSource, profiles ProfileStore, entities EntityStore, dest Destinations, failures MetadataFailureStore, o *SchemaChangeOptions) *SchemaChanger {
	c := &SchemaChanger{src: src, profiles: profiles, entities: entities, dest: dest, failures: failures, checked: map[string]time.Time{}}
	if o != nil {
		c.o = *o
	}
	if c.o.CheckEvery <= 0 {
		c.o.CheckEvery = 10 * time.Minute
	}
	if c.o.Logger == nil {
		c.o.Logger = slog.Default()
	}
	if c.o.Now == nil {
		c.o.Now = time.Now
	}
	return c
}

// SchemaAction is what SchemaChange did for one entity.
type SchemaAction string

const (
	SchemaSkipped   SchemaAction = "skipped"   // nothing due: checked recently, nothing asked
	SchemaUnchanged SchemaAction = "unchanged" // the definition was read; the table follows it
	SchemaCreated   SchemaAction = "created"   // the table was created
	SchemaEvolved   SchemaAction = "evolved"   // the table or the metadata tables changed
	SchemaBlocked   SchemaAction = "blocked"   // the change cannot be applied; the entity waits for a re-baseline
	SchemaFailed    SchemaAction = "failed"    // an error; the next run tries again
)

// SchemaResult reports what one run did for one entity.
type SchemaResult struct {
	Profile, Entity string
	Action          SchemaAction
	// Schema is the table's fingerprint after the run.
	Schema string
	// Added are the columns the table gained; Backfill says whether rows
	// are read again for them (from BackfillSince, 0: every row).
	Added         []string
	Backfill      bool
	BackfillSince int64
	Err           error
}

// SchemaResultsErr joins the errors of the entities that failed.
func SchemaResultsErr(results []SchemaResult) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("profile %s entity %s: %w", r.Profile, r.Entity, r.Err))
		}
	}
	return errors.Join(errs...)
}

// RunAll handles every entity of every Active profile. One failing entity
// does not stop the others: its error is in its result and one log line.
// The error is non-nil only when the profiles could not be listed.
func (c *SchemaChanger) RunAll(ctx context.Context) ([]SchemaResult, error) {
	profiles, err := c.profiles.ListProfiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	var results []SchemaResult
	for _, prof := range profiles {
		if !prof.IsActive() {
			// Nothing reads it; its changes are found when it is active again.
			continue
		}
		for _, ent := range prof.Entities {
			results = append(results, c.Entity(ctx, prof, ent))
		}
	}
	return results, nil
}

// Entity handles one entity of prof as RunAll does: the poller calls it for
// an entity it has just handed over with no table yet (PollerOptions.NewTables).
func (c *SchemaChanger) Entity(ctx context.Context, prof profile.Profile, entity string) SchemaResult {
	r := c.entity(ctx, prof, entity)
	if r.Err != nil {
		level := slog.LevelError
		if ctx.Err() != nil {
			level = slog.LevelInfo
		}
		c.o.Logger.Log(ctx, level, "schema change failed; the next run tries again", "profile", prof.Name, "entity", entity, "err", r.Err)
	}
	return r
}

// entity brings one entity's table in line with its definition, when due.
func (c *SchemaChanger) entity(ctx context.Context, prof profile.Profile, entity string) SchemaResult {
	res := SchemaResult{Profile: prof.Name, Entity: entity, Action: SchemaSkipped}
	log := c.o.Logger.With("profile", prof.Name, "entity", entity)
	fail := func(err error) SchemaResult {
		res.Action, res.Err = SchemaFailed, err
		return res
	}
	st, err := c.state(ctx, prof.Name, entity)
	if err != nil {
		return fail(err)
	}
	res.Schema = st.Schema
	if st.Phase == state.PhaseBlocked {
		res.Action = SchemaBlocked
		return res
	}
	have, err := ParseFingerprint(st.Schema)
	if err != nil {
		// Not one this code wrote: evolve again, which sets a good one.
		log.Warn("the entity state holds no valid schema fingerprint; the table is ensured again", "err", err)
		have = Fingerprint{}
	}
	asked := st.SchemaWanted != ""
	key := prof.Name + "/" + entity
	if !asked && have.Hash != "" && !c.due(key) {
		return res
	}
	rctx := ctx
	if asked || have.Hash == "" {
		// A change is known to have happened: read the definition as
		// stored, not a server's cached copy.
		rctx = dataverse.StrongConsistency(ctx)
	}
	meta, err := c.src.Entity(rctx, entity)
	if err != nil {
		c.keepError(ctx, &st, fmt.Errorf("schema change: reading metadata: %w", err))
		return fail(fmt.Errorf("reading metadata: %w", err))
	}
	o, err := definitionOptions(ctx, prof, c.src)
	if err != nil {
		c.keepError(ctx, &st, fmt.Errorf("schema change: %w", err))
		return fail(err)
	}
	def, err := define(prof, meta, o)
	if err != nil {
		def.prof, def.meta = prof, meta // kept with the failure
		return c.block(ctx, log, res, &st, def, err)
	}
	c.mark(key)
	if def.hash == have.Hash {
		res.Action = SchemaUnchanged
		if !asked {
			// The fingerprint says the table follows; look at the table
			// itself too, so that one dropped or altered behind our back
			// (or a destination replaced without its state) is made whole.
			if ok, err := c.tableFollows(ctx, def); err != nil {
				return fail(err)
			} else if !ok {
				log.Warn("the table does not hold what its schema fingerprint says; it is ensured again", "table", def.table.TableName.String())
				return c.evolve(ctx, log, res, &st, have, def)
			}
			return res
		}
		// The poller read another definition (a server's stale copy, or a
		// change undone since), or the entity was handed over for its table
		// to be looked at (AskSchemaChange): the table follows the stored
		// definition, once it is there with every column.
		if ok, err := c.tableFollows(ctx, def); err != nil {
			return fail(err)
		} else if !ok {
			log.Warn("the table does not hold what its schema fingerprint says; it is ensured again", "table", def.table.TableName.String())
			return c.evolve(ctx, log, res, &st, have, def)
		}
		if err := c.update(ctx, &st, func(st *state.EntityState) {
			st.SchemaWanted, st.SchemaSince, st.WantedMetadataVersion = "", 0, ""
		}); err != nil {
			return fail(fmt.Errorf("saving the entity state: %w", err))
		}
		return res
	}
	return c.evolve(ctx, log, res, &st, have, def)
}

// AskSchemaChange hands an entity to the SchemaChange function before its
// next read, for a read restarted over a table that may have been dropped
// or altered meanwhile (an entity resync): the poller reads nothing of it
// until the function has looked at the table (created it again, or added
// what it lacks) and cleared the request. An entity without a table
// fingerprint needs nothing: the poller hands it over by itself.
func AskSchemaChange(st *state.EntityState) {
	f, err := ParseFingerprint(st.Schema)
	if err != nil || f.Hash == "" || st.SchemaWanted != "" {
		return
	}
	st.SchemaWanted, st.SchemaSince, st.WantedMetadataVersion = f.Hash, 0, ""
}

// evolve applies def to the destination and records it.
func (c *SchemaChanger) evolve(ctx context.Context, log *slog.Logger, res SchemaResult, st *state.EntityState, have Fingerprint, def definition) SchemaResult {
	fail := func(err error) SchemaResult {
		c.keepError(ctx, st, fmt.Errorf("schema change: %w", err))
		res.Action, res.Err = SchemaFailed, err
		return res
	}
	s, err := c.dest.Sink(ctx, def.prof)
	if err != nil {
		return fail(fmt.Errorf("opening destination: %w", err))
	}
	reader, ok := s.(sink.SchemaReader)
	if !ok {
		return fail(errors.New("the destination cannot list a table's columns"))
	}
	existing, err := reader.TableColumns(ctx, def.table.TableName)
	exists := true
	if errors.Is(err, sink.ErrNoTable) {
		exists, err = false, nil
	}
	if err != nil {
		return fail(fmt.Errorf("reading the columns of %s: %w", def.table.TableName, err))
	}
	if exists {
		res.Added = addedColumns(existing, def.table)
	}
	// Rows already read lack the added columns: order them read again
	// before the table changes, so that a crash between the two cannot
	// lose the order (the next run finds the columns there and adds none).
	// A table that is gone although the entity was read (dropped behind
	// our back) gets every row again.
	read := st.Link != "" && st.Phase != state.PhaseRebaseline
	if read && (len(res.Added) > 0 || !exists) {
		since := int64(0)
		if exists && st.SchemaWanted == def.hash {
			// The poller saw this very change announced on a page: rows
			// changed before it were read before the columns existed.
			since = st.SchemaSince
		}
		res.Backfill, res.BackfillSince = true, since
		err := c.update(ctx, st, func(st *state.EntityState) {
			orderBackfill(&st.Backfill, since, res.Added)
		})
		if err != nil {
			return fail(fmt.Errorf("saving the backfill order: %w", err))
		}
		res.BackfillSince = st.Backfill.Since
	}
	if err := s.EnsureTable(ctx, def.table); err != nil {
		if errors.Is(err, schema.ErrIncompatibleChange) {
			return c.block(ctx, log, res, st, def, err)
		}
		return fail(fmt.Errorf("evolving table %s: %w", def.table.TableName, err))
	}
	// The DES metadata tables follow the entity's metadata: created with
	// the first table, the entity's rows replaced whenever it changes (an
	// option added or relabelled changes no column but reaches them).
	if mw, ok := s.(sink.MetadataWriter); ok {
		if err := mw.EnsureMetadataTables(ctx); err != nil {
			return fail(fmt.Errorf("ensuring metadata tables: %w", err))
		}
		if err := mw.ReplaceMetadata(ctx, schema.Metadata([]*dataverse.Entity{def.meta}, c.o.Now().UTC())); err != nil {
			return fail(fmt.Errorf("writing metadata of %s: %w", def.meta.LogicalName, err))
		}
	}
	now := c.o.Now()
	err = c.update(ctx, st, func(st *state.EntityState) {
		cur, _ := ParseFingerprint(st.Schema)
		if cur.Hash != def.hash {
			st.Schema = nextFingerprint(cur, def.hash, now).String()
			// The page that announced this change says which metadata
			// version goes with it; otherwise the poller takes the next
			// page's.
			st.MetadataVersion = ""
			if st.SchemaWanted == def.hash {
				st.MetadataVersion = st.WantedMetadataVersion
			}
		}
		st.SchemaWanted, st.SchemaSince, st.WantedMetadataVersion = "", 0, ""
		if strings.HasPrefix(st.LastError, schemaErrorPrefix) {
			st.LastError, st.LastErrorAt = "", time.Time{}
		}
	})
	if err != nil {
		return fail(fmt.Errorf("saving the entity state: %w", err))
	}
	res.Schema = st.Schema
	res.Action = SchemaEvolved
	if !exists {
		res.Action = SchemaCreated
	}
	log.Info("table follows the entity's metadata", "action", res.Action, "table", def.table.TableName.String(),
		"schema", st.Schema, "added", res.Added, "backfill", res.Backfill, "backfillSince", res.BackfillSince)
	return res
}

// tableFollows reports whether def's table exists with every column of
// def.
func (c *SchemaChanger) tableFollows(ctx context.Context, def definition) (bool, error) {
	s, err := c.dest.Sink(ctx, def.prof)
	if err != nil {
		return false, fmt.Errorf("opening destination: %w", err)
	}
	reader, ok := s.(sink.SchemaReader)
	if !ok {
		return false, errors.New("the destination cannot list a table's columns")
	}
	cols, err := reader.TableColumns(ctx, def.table.TableName)
	if errors.Is(err, sink.ErrNoTable) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the columns of %s: %w", def.table.TableName, err)
	}
	return len(addedColumns(cols, def.table)) == 0, nil
}

// schemaErrorPrefix marks the errors SchemaChange keeps in an entity's
// state while the entity waits for it.
const schemaErrorPrefix = "schema change: "

// keepError keeps err in the state of an entity that waits for this
// function (handed over, or without a table), so that the status says why
// it does not progress. Best effort: the error is logged anyway.
func (c *SchemaChanger) keepError(ctx context.Context, st *state.EntityState, err error) {
	if st.SchemaWanted == "" && st.Schema != "" {
		return
	}
	now := c.o.Now().UTC()
	_ = c.update(ctx, st, func(st *state.EntityState) {
		st.LastError, st.LastErrorAt = err.Error(), now
	})
}

// metadataFailure is the payload of a metadata/ failed record.
type metadataFailure struct {
	Entity string `json:"entity"`
	Table  string `json:"table,omitempty"`
	// Schema is the fingerprint hash of the definition that could not be
	// applied; Current the table's fingerprint.
	Schema  string `json:"schema,omitempty"`
	Current string `json:"current,omitempty"`
	Reason  string `json:"reason"`
	// Definition is the entity definition as read: DES kept "the
	// associated JSON for metadata" with each failed metadata
	// notification.
	Definition *dataverse.Entity `json:"definition,omitempty"`
}

// metadataChangeType is the ChangeType of a metadata failure's log line.
const metadataChangeType = "Metadata Change"

// block keeps a change the table cannot follow as a metadata/ failed
// record and blocks the entity with the reason: its polls stop until an
// operator re-baselines it (drops the table and reads the entity again).
func (c *SchemaChanger) block(ctx context.Context, log *slog.Logger, res SchemaResult, st *state.EntityState, def definition, cause error) SchemaResult {
	reason := fmt.Sprintf("the table cannot follow the entity's metadata: %v; re-baseline the entity (dataexport profile rebaseline %s %s) to drop its table and read it again", cause, st.Profile, st.Entity)
	payload, _ := json.Marshal(metadataFailure{Entity: st.Entity, Table: def.table.TableName.String(), Schema: def.hash, Current: st.Schema, Reason: reason, Definition: def.meta})
	if err := c.failures.WriteMetadataFailure(ctx, st.Profile, st.Entity, metadataChangeType, reason, payload); err != nil {
		res.Action, res.Err = SchemaFailed, errors.Join(cause, fmt.Errorf("keeping the metadata failure: %w", err))
		return res
	}
	now := c.o.Now().UTC()
	if err := c.update(ctx, st, func(st *state.EntityState) {
		st.Phase, st.LastError, st.LastErrorAt = state.PhaseBlocked, reason, now
		st.SchemaWanted, st.SchemaSince, st.WantedMetadataVersion = "", 0, ""
	}); err != nil {
		res.Action, res.Err = SchemaFailed, errors.Join(cause, fmt.Errorf("saving the blocked state: %w", err))
		return res
	}
	log.Warn("metadata change cannot be applied; the entity is blocked until it is re-baselined", "err", cause)
	res.Action = SchemaBlocked
	return res
}

// orderBackfill merges an order to read again the rows changed after
// since (0: every row) for cols into b. A read in progress starts over:
// it reads with the columns it started with.
func orderBackfill(b *state.Backfill, since int64, cols []string) {
	if b.Pending {
		since = min(since, b.Since)
		for _, col := range b.Columns {
			if !slices.Contains(cols, col) {
				cols = append(cols, col)
			}
		}
	}
	*b = state.Backfill{Pending: true, Since: since, Columns: cols, ID: newReadID()}
}

// addedColumns lists the columns of t that existing lacks (names compared
// without case, as SQL Server does).
func addedColumns(existing []schema.Column, t schema.Table) []string {
	have := make(map[string]bool, len(existing))
	for _, c := range existing {
		have[strings.ToLower(c.Name)] = true
	}
	var out []string
	for _, c := range t.Columns {
		if !have[strings.ToLower(c.Name)] {
			out = append(out, c.Name)
		}
	}
	return out
}

// state reads an entity's state; an entity never polled gets a new one.
func (c *SchemaChanger) state(ctx context.Context, prof, entity string) (state.EntityState, error) {
	st, err := c.entities.GetEntity(ctx, prof, entity)
	if errors.Is(err, state.ErrNotFound) {
		return state.EntityState{Profile: prof, Entity: entity, Phase: state.PhaseInitial}, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading entity state: %w", err)
	}
	return st, nil
}

// update applies mod to st and saves it. The poller writes the same row
// (its checkpoints): when it won the race, mod is applied again to the row
// as it now is, a few times at most.
func (c *SchemaChanger) update(ctx context.Context, st *state.EntityState, mod func(*state.EntityState)) error {
	for attempt := 0; ; attempt++ {
		next := *st
		mod(&next)
		if st.ETag != "" && reflect.DeepEqual(next, *st) {
			// Nothing to change (another run, or the poller creating a new
			// entity's table, did it first): a write would only move the
			// ETag under a poller that is checkpointing the entity.
			return nil
		}
		err := c.entities.SaveEntity(ctx, &next)
		if err == nil {
			*st = next
			return nil
		}
		if !errors.Is(err, state.ErrConflict) || attempt == 4 {
			return err
		}
		// Gone meanwhile (the profile deleted, the entity cleaned up): not
		// created again.
		fresh, err := c.entities.GetEntity(ctx, st.Profile, st.Entity)
		if err != nil {
			return fmt.Errorf("reading entity state: %w", err)
		}
		*st = fresh
	}
}

// due reports whether the definition of key was last read more than
// CheckEvery ago (or never, by this process).
func (c *SchemaChanger) due(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.checked[key]
	return !ok || c.o.Now().Sub(at) >= c.o.CheckEvery
}

func (c *SchemaChanger) mark(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked[key] = c.o.Now()
}
