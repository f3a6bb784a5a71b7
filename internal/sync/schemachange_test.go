package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
	"github.com/dataexport/dataexport/internal/state"
)

// metaSource serves entity definitions and counts reads, telling apart
// those asked with Consistency: Strong.
type metaSource struct {
	defs          map[string]*dataverse.Entity
	reads, strong int
}

func (m *metaSource) Entity(ctx context.Context, name string) (*dataverse.Entity, error) {
	m.reads++
	if dataverse.IsStrongConsistency(ctx) {
		m.strong++
	}
	e, ok := m.defs[name]
	if !ok {
		return nil, dataverse.ErrNotFound
	}
	c := *e
	c.Attributes = slices.Clone(e.Attributes)
	return &c, nil
}

// schemaSink holds tables as column lists: EnsureTable plans like the
// dialects do (schema.PlanChanges), TableColumns lists them.
type schemaSink struct {
	fakeSink
	tables    map[schema.TableName][]schema.Column
	ensureErr error
	ensured   int
	metadata  [][]schema.MetadataRows
}

func (s *schemaSink) EnsureTable(_ context.Context, t schema.Table) error {
	if s.ensureErr != nil {
		return s.ensureErr
	}
	s.ensured++
	have, ok := s.tables[t.TableName]
	if !ok {
		s.tables[t.TableName] = slices.Clone(t.Columns)
		return nil
	}
	plan, err := schema.PlanChanges(have, t)
	if err != nil {
		return err
	}
	s.tables[t.TableName] = append(have, plan.Add...)
	return nil
}

func (s *schemaSink) TableColumns(_ context.Context, t schema.TableName) ([]schema.Column, error) {
	cols, ok := s.tables[t]
	if !ok {
		return nil, &sink.NoTableError{Table: t}
	}
	return slices.Clone(cols), nil
}
func (s *schemaSink) EnsureMetadataTables(context.Context) error { return nil }
func (s *schemaSink) ReplaceMetadata(_ context.Context, rows []schema.MetadataRows) error {
	s.metadata = append(s.metadata, rows)
	return nil
}
func (s *schemaSink) ReadMetadata(context.Context, string) ([][]record.Value, error) { return nil, nil }

type schemaDest struct{ s *schemaSink }

func (d schemaDest) Sink(context.Context, profile.Profile) (sink.Sink, error) { return d.s, nil }

// etagEntities is an entity store with the Table service's ETag rule: a
// save must carry the ETag of the row as stored. before runs ahead of
// every save (another writer's), failSaves fails the next saves.
type etagEntities struct {
	rows      map[string]state.EntityState
	n         int
	before    func(key string)
	failSaves int
}

func (m *etagEntities) GetEntity(_ context.Context, p, e string) (state.EntityState, error) {
	st, ok := m.rows[p+"/"+e]
	if !ok {
		return st, state.ErrNotFound
	}
	return st, nil
}

func (m *etagEntities) SaveEntity(_ context.Context, st *state.EntityState) error {
	key := st.Profile + "/" + st.Entity
	if m.before != nil {
		m.before(key)
	}
	if m.failSaves > 0 {
		m.failSaves--
		return errors.New("table service unavailable")
	}
	cur, ok := m.rows[key]
	if ok != (st.ETag != "") || ok && cur.ETag != st.ETag {
		return state.ErrConflict
	}
	m.n++
	st.ETag = "" // not part of the stored value
	saved := *st
	saved.ETag = azETag(m.n)
	m.rows[key] = saved
	st.ETag = saved.ETag
	return nil
}

func azETag(n int) azcore.ETag { return azcore.ETag(fmt.Sprintf("W/\"%d\"", n)) }

type metaFailures struct{ kept []failure }

func (f *metaFailures) WriteMetadataFailure(_ context.Context, _, entity, change, reason string, payload []byte) error {
	f.kept = append(f.kept, failure{entity: entity, change: change, reason: reason, payload: payload})
	return nil
}

type schemaEnv struct {
	src      *metaSource
	sink     *schemaSink
	entities *etagEntities
	failures *metaFailures
	c        *SchemaChanger
	now      time.Time
	prof     profile.Profile
}

func newSchemaEnv(t *testing.T) *schemaEnv {
	e := &schemaEnv{
		src:      &metaSource{defs: map[string]*dataverse.Entity{"account": sinktest.Account("account")}},
		sink:     &schemaSink{tables: map[schema.TableName][]schema.Column{}},
		entities: &etagEntities{rows: map[string]state.EntityState{}},
		failures: &metaFailures{},
		now:      time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
		prof:     profile.Profile{Name: "p", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.SQLite}},
	}
	e.c = NewSchemaChanger(e.src, listProfiles{e.prof}, e.entities, schemaDest{e.sink}, e.failures,
		&SchemaChangeOptions{CheckEvery: time.Minute, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now }})
	return e
}

type listProfiles []profile.Profile

func (l listProfiles) GetProfile(_ context.Context, name string) (profile.Profile, error) {
	for _, p := range l {
		if p.Name == name {
			return p, nil
		}
	}
	return profile.Profile{}, state.ErrNotFound
}
func (l listProfiles) ListProfiles(context.Context) ([]profile.Profile, error) { return l, nil }

func (e *schemaEnv) run(t *testing.T) SchemaResult {
	t.Helper()
	res, err := e.c.RunAll(t.Context())
	if err != nil || len(res) != 1 {
		t.Fatalf("RunAll = %v, %v; want one result", res, err)
	}
	return res[0]
}

func (e *schemaEnv) state(t *testing.T) state.EntityState {
	t.Helper()
	st, err := e.entities.GetEntity(t.Context(), "p", "account")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// addColumn adds a string attribute to the source's account.
func (e *schemaEnv) addColumn(name string) {
	a := e.src.defs["account"]
	a.Attributes = append(a.Attributes, dataverse.Attribute{LogicalName: name, SchemaName: name, Type: dataverse.TypeString, MaxLength: 40, IsValidForRead: true, IsCustomAttribute: true})
}

func (e *schemaEnv) hash(t *testing.T) string {
	t.Helper()
	d, err := define(e.prof, e.src.defs["account"], tableOptions(e.prof))
	if err != nil {
		t.Fatal(err)
	}
	return d.hash
}

// A new entity: the table and its metadata rows are created, the state
// gets the table's fingerprint, nothing is read again; the next run within
// CheckEvery reads nothing, the one after reads the definition and finds
// it unchanged.
func TestSchemaChangeCreatesTheTable(t *testing.T) {
	e := newSchemaEnv(t)
	r := e.run(t)
	if r.Action != SchemaCreated || r.Err != nil || r.Backfill {
		t.Fatalf("first run: %+v", r)
	}
	st := e.state(t)
	f, err := ParseFingerprint(st.Schema)
	if err != nil || f.Hash != e.hash(t) || f.Generation != e.now.UnixMilli() {
		t.Fatalf("state schema %q (%v), want generation %d hash %s", st.Schema, err, e.now.UnixMilli(), e.hash(t))
	}
	if st.Phase != state.PhaseInitial || st.Backfill.Pending || len(e.sink.metadata) != 1 || e.src.strong != 1 {
		t.Fatalf("state %+v, %d metadata writes, %d strong reads", st, len(e.sink.metadata), e.src.strong)
	}
	reads := e.src.reads
	if r := e.run(t); r.Action != SchemaSkipped || e.src.reads != reads {
		t.Fatalf("second run within CheckEvery: %+v, %d reads", r, e.src.reads-reads)
	}
	e.now = e.now.Add(time.Minute)
	if r := e.run(t); r.Action != SchemaUnchanged || e.src.reads != reads+1 || e.sink.ensured != 1 {
		t.Fatalf("run after CheckEvery: %+v, %d reads, %d ensures", r, e.src.reads-reads, e.sink.ensured)
	}
	if e.state(t).Schema != st.Schema {
		t.Fatal("an unchanged definition changed the fingerprint")
	}
}

// The poller handed the entity over after a page announced a change, at
// high water 500: the column is added, rows changed after 500 are ordered
// read again, the fingerprint moves to a later generation, the request is
// cleared and the announced metadata version goes with the new schema.
func TestSchemaChangeAfterHandOver(t *testing.T) {
	e := newSchemaEnv(t)
	e.run(t)
	st := e.state(t)
	st.Phase, st.Link, st.HighWater = state.PhaseDelta, "https://org/api/data/v9.2/accounts?$deltatoken=9", 500
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	old := st.Schema

	e.addColumn("new_region")
	st.SchemaWanted, st.SchemaSince, st.WantedMetadataVersion = e.hash(t), 500, "77"
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	e.now = e.now.Add(time.Second) // asked: due whatever CheckEvery says
	r := e.run(t)
	if r.Action != SchemaEvolved || !slices.Equal(r.Added, []string{"new_region"}) || !r.Backfill || r.BackfillSince != 500 {
		t.Fatalf("run: %+v", r)
	}
	st = e.state(t)
	prev, _ := ParseFingerprint(old)
	now, _ := ParseFingerprint(st.Schema)
	if now.Hash != e.hash(t) || now.Generation <= prev.Generation {
		t.Fatalf("schema %s after %s", st.Schema, old)
	}
	if st.SchemaWanted != "" || st.MetadataVersion != "77" || st.Link == "" || st.Phase != state.PhaseDelta {
		t.Fatalf("state after the change: %+v", st)
	}
	b := st.Backfill
	if !b.Pending || b.Since != 500 || !slices.Equal(b.Columns, []string{"new_region"}) || b.ID == "" || b.Link != "" {
		t.Fatalf("backfill %+v", b)
	}
	if got := e.sink.tables[schema.TableName{Schema: "main", Name: "account"}]; got[len(got)-1].Name != "new_region" {
		t.Fatalf("table columns %v", got)
	}
	if e.src.strong != 2 {
		t.Errorf("%d strong reads, want 2 (the table's creation and the hand-over)", e.src.strong)
	}
}

// A change no page announced is found when the definition is read again
// after CheckEvery: when it happened is unknown, so every row is read again.
func TestSchemaChangeFoundByTheCheck(t *testing.T) {
	e := newSchemaEnv(t)
	e.run(t)
	st := e.state(t)
	st.Phase, st.Link, st.HighWater = state.PhaseDelta, "https://org/api/data/v9.2/accounts?$deltatoken=9", 500
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	e.addColumn("new_region")
	if r := e.run(t); r.Action != SchemaSkipped {
		t.Fatalf("within CheckEvery: %+v", r)
	}
	e.now = e.now.Add(2 * time.Minute)
	r := e.run(t)
	if r.Action != SchemaEvolved || !r.Backfill || r.BackfillSince != 0 {
		t.Fatalf("after CheckEvery: %+v", r)
	}
	if b := e.state(t).Backfill; !b.Pending || b.Since != 0 {
		t.Fatalf("backfill %+v, want every row", b)
	}
	// A second column while the first backfill is pending: one backfill
	// of both, from the earlier point, started over.
	e.addColumn("new_code")
	e.now = e.now.Add(2 * time.Minute)
	first := e.state(t).Backfill.ID
	r = e.run(t)
	b := e.state(t).Backfill
	if r.Action != SchemaEvolved || !b.Pending || b.Since != 0 || !slices.Equal(b.Columns, []string{"new_code", "new_region"}) || b.ID == first {
		t.Fatalf("second change: %+v, backfill %+v", r, b)
	}
}

// The table changed and the fingerprint could not be saved: the backfill
// order, saved before the DDL, survives, and the next run records the
// table as it is without adding anything.
func TestSchemaChangeCrashAfterTheDDL(t *testing.T) {
	e := newSchemaEnv(t)
	e.run(t)
	st := e.state(t)
	st.Phase, st.Link = state.PhaseDelta, "https://org/api/data/v9.2/accounts?$deltatoken=9"
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	old := st.Schema
	e.addColumn("new_region")
	e.now = e.now.Add(2 * time.Minute)
	saves := 0
	e.entities.before = func(string) {
		if saves++; saves == 2 { // the order is saved, then the fingerprint fails
			e.entities.failSaves = 1
		}
	}
	if r := e.run(t); r.Action != SchemaFailed || r.Err == nil {
		t.Fatalf("run with the state save failing: %+v", r)
	}
	e.entities.before = nil
	st = e.state(t)
	if st.Schema != old || !st.Backfill.Pending {
		t.Fatalf("after the failure: schema %s (was %s), backfill %+v", st.Schema, old, st.Backfill)
	}
	e.now = e.now.Add(2 * time.Minute)
	r := e.run(t)
	if r.Action != SchemaEvolved || len(r.Added) != 0 || r.Err != nil {
		t.Fatalf("next run: %+v", r)
	}
	if st = e.state(t); st.Schema == old || !st.Backfill.Pending || !slices.Equal(st.Backfill.Columns, []string{"new_region"}) {
		t.Fatalf("after the next run: %+v", st)
	}
}

// The poller's checkpoint lands between SchemaChange's read of the state
// and its save: the change is applied to the row as it now is.
func TestSchemaChangeRetriesAfterThePollersWrite(t *testing.T) {
	e := newSchemaEnv(t)
	e.run(t)
	e.addColumn("new_region")
	e.now = e.now.Add(2 * time.Minute)
	wrote := false
	e.entities.before = func(key string) {
		if wrote {
			return
		}
		wrote = true
		st := e.entities.rows[key]
		st.Pages, st.Link = 7, "https://org/api/data/v9.2/accounts?$skiptoken=7"
		e.entities.n++
		st.ETag = azETag(e.entities.n)
		e.entities.rows[key] = st
	}
	if r := e.run(t); r.Action != SchemaEvolved || r.Err != nil {
		t.Fatalf("run: %+v", r)
	}
	if st := e.state(t); st.Pages != 7 || st.Schema == "" {
		t.Fatalf("the poller's checkpoint or the schema was lost: %+v", st)
	}
}

// A column that changed type cannot be evolved in place: a metadata/
// failed record says why, the entity is blocked with the reason, and later
// runs leave it alone.
func TestSchemaChangeBlocksAnIncompatibleChange(t *testing.T) {
	e := newSchemaEnv(t)
	e.run(t)
	for i, a := range e.src.defs["account"].Attributes {
		if a.LogicalName == "name" {
			e.src.defs["account"].Attributes[i].Type = dataverse.TypeInteger
		}
	}
	st := e.state(t)
	st.SchemaWanted = e.hash(t)
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	r := e.run(t)
	if r.Action != SchemaBlocked || r.Err != nil {
		t.Fatalf("run: %+v", r)
	}
	st = e.state(t)
	if st.Phase != state.PhaseBlocked || !strings.Contains(st.LastError, "name") || !strings.Contains(st.LastError, "rebaseline") || st.SchemaWanted != "" {
		t.Fatalf("state %+v", st)
	}
	if len(e.failures.kept) != 1 {
		t.Fatalf("%d metadata failures, want 1", len(e.failures.kept))
	}
	f := e.failures.kept[0]
	var payload metadataFailure
	if err := json.Unmarshal(f.payload, &payload); err != nil || payload.Entity != "account" || payload.Reason != st.LastError || f.change != metadataChangeType ||
		payload.Definition == nil || payload.Definition.LogicalName != "account" {
		t.Fatalf("metadata failure %+v (%v), payload %s", f, err, f.payload)
	}
	reads := e.src.reads
	if r := e.run(t); r.Action != SchemaBlocked || e.src.reads != reads || len(e.failures.kept) != 1 {
		t.Fatalf("blocked entity run again: %+v", r)
	}
}

// The poller asked for a definition the table already follows (it read a
// server's stale copy): the request is cleared, nothing else changes.
func TestSchemaChangeClearsAStaleRequest(t *testing.T) {
	e := newSchemaEnv(t)
	e.run(t)
	st := e.state(t)
	old := st.Schema
	st.SchemaWanted, st.SchemaSince = "0123456789abcdef", 9
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	if r := e.run(t); r.Action != SchemaUnchanged || r.Err != nil {
		t.Fatalf("run: %+v", r)
	}
	if st = e.state(t); st.SchemaWanted != "" || st.SchemaSince != 0 || st.Schema != old || e.sink.ensured != 1 {
		t.Fatalf("state %+v, %d ensures", st, e.sink.ensured)
	}
}

// A destination that fails leaves the entity waiting, with the reason in
// its state while it waits, and the next run succeeds.
func TestSchemaChangeFailsAndRetries(t *testing.T) {
	e := newSchemaEnv(t)
	e.sink.ensureErr = errors.New("connection refused")
	r := e.run(t)
	if r.Action != SchemaFailed || !strings.Contains(fmt.Sprint(r.Err), "connection refused") {
		t.Fatalf("run: %+v", r)
	}
	if st := e.state(t); st.Schema != "" || !strings.HasPrefix(st.LastError, schemaErrorPrefix) {
		t.Fatalf("state %+v", st)
	}
	e.sink.ensureErr = nil
	if r := e.run(t); r.Action != SchemaCreated {
		t.Fatalf("second run: %+v", r)
	}
	if st := e.state(t); st.LastError != "" || st.Schema == "" {
		t.Fatalf("state %+v", st)
	}
}

func (e *schemaEnv) check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A table dropped behind the fingerprint's back (or a destination replaced
// without its state) is found by the periodic look at the table and
// created again; a column dropped is added again and every row read again
// for it. The fingerprint stays: the definition did not change.
func TestSchemaChangeRepairsTheTable(t *testing.T) {
	e := newSchemaEnv(t)
	e.run(t)
	name := schema.TableName{Schema: "main", Name: "account"}
	fp := e.state(t).Schema
	delete(e.sink.tables, name)
	e.now = e.now.Add(2 * time.Minute)
	if r := e.run(t); r.Action != SchemaCreated || r.Backfill || e.state(t).Schema != fp {
		t.Fatalf("missing table: %+v, schema %s (was %s)", r, e.state(t).Schema, fp)
	}

	st := e.state(t)
	st.Phase, st.Link = state.PhaseDelta, "https://org/api/data/v9.2/accounts?$deltatoken=9"
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	cols := e.sink.tables[name]
	e.sink.tables[name] = slices.DeleteFunc(slices.Clone(cols), func(c schema.Column) bool { return c.Name == "description" })
	e.now = e.now.Add(2 * time.Minute)
	r := e.run(t)
	if r.Action != SchemaEvolved || !slices.Equal(r.Added, []string{"description"}) || !r.Backfill || r.BackfillSince != 0 || e.state(t).Schema != fp {
		t.Fatalf("dropped column: %+v", r)
	}
	if r := e.run(t); r.Action != SchemaSkipped {
		t.Fatalf("run right after: %+v", r)
	}

	// Gone while the entity is read: created again and every row read
	// again into it, not only the changes from the delta link on.
	st = e.state(t)
	st.Backfill = state.Backfill{}
	e.check(t, e.entities.SaveEntity(t.Context(), &st))
	delete(e.sink.tables, name)
	e.now = e.now.Add(2 * time.Minute)
	r = e.run(t)
	if b := e.state(t).Backfill; r.Action != SchemaCreated || len(r.Added) != 0 || !r.Backfill || !b.Pending || b.Since != 0 || len(b.Columns) != 0 {
		t.Fatalf("table gone while read: %+v, backfill %+v", r, b)
	}
}
