package tests

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// TestBlockedThenRebaselined meets a destination table whose column cannot
// take the entity's type (name is an integer there): the entity is blocked
// with an error that names table and column, the other entity goes on, and
// a re-baseline drops the table and reads the entity again.
func TestBlockedThenRebaselined(t *testing.T) {
	dest, schemaName := destinations(t)["postgres"](t)
	conn, err := pgx.Connect(t.Context(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `CREATE TABLE `+schemaName+`.account (id uuid PRIMARY KEY, name integer)`); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, dest, schemaName)
	// The invocation succeeds (the other entity was polled); the blocked
	// entity's state says why, naming the column.
	e.check(e.host.FireTimer(t.Context(), pollFn))
	st, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != state.PhaseBlocked || !strings.Contains(st.LastError, "cannot change") || !strings.Contains(st.LastError, "name") {
		t.Fatalf("account state: phase %q, error %q", st.Phase, st.LastError)
	}
	if cst, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "contact"); err != nil || cst.Phase != state.PhaseDelta {
		t.Fatalf("contact should have gone on: %+v %v", cst, err)
	}
	// The metadata change the table cannot follow is kept under metadata/
	// with its reason, once (a blocked entity is not polled again).
	e.check(e.host.FireTimer(t.Context(), pollFn))
	sum, err := e.app.Manage.Failures(t.Context(), e.prof.Name, manage.FailuresQuery{})
	e.check(err)
	if sum.MetadataFailures != 1 || len(sum.LatestFailures) != 1 || !strings.Contains(sum.LatestFailures[0].Line, "Entity: account, RecordId: N/A") ||
		!strings.Contains(sum.LatestFailures[0].Line, "cannot change") {
		t.Fatalf("failures after the block: %+v", sum)
	}

	if err := dsync.Rebaseline(t.Context(), e.prof, "account", e.app.Store, e.app.Pool); err != nil {
		t.Fatal(err)
	}
	e.sync()
	e.assertMatch("after the re-baseline")
}

// TestCleanupRemovedEntity drops the table of an entity taken out of the
// profile, and only on request.
func TestCleanupRemovedEntity(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	if err := dsync.Cleanup(t.Context(), e.prof, "contact", e.app.Store, e.app.Pool); err == nil {
		t.Fatal("cleanup of an entity still in the profile must be refused")
	}
	e.prof.Entities = []string{"account"}
	e.check(e.app.Store.PutProfile(t.Context(), e.prof))
	e.check(dsync.Cleanup(t.Context(), e.prof, "contact", e.app.Store, e.app.Pool))
	if _, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "contact"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("contact state should be gone: %v", err)
	}
	s, err := e.app.Pool.Sink(t.Context(), e.prof)
	e.check(err)
	r := s.(sink.Reader)
	if _, err := r.Count(t.Context(), e.table("contact")); err == nil {
		t.Fatal("the contact table is still there")
	}
	if n, err := r.Count(t.Context(), e.table("account")); err != nil || n == 0 {
		t.Fatalf("the account table should be untouched: %d rows, %v", n, err)
	}
	// The metadata tables keep account's rows and lose contact's.
	attrs, err := s.(sink.MetadataWriter).ReadMetadata(t.Context(), "AttributeMetadata")
	e.check(err)
	entities := map[string]int{}
	for _, row := range attrs {
		entities[row[1].S]++ // EntityName
	}
	if entities["contact"] != 0 || entities["account"] == 0 {
		t.Fatalf("AttributeMetadata rows per entity after the cleanup: %v; want account's only", entities)
	}
}

// TestRebaselineHealthyEntity drops and reads again an entity whose table
// this process has already created: the poller must create it again rather
// than trust its memory of having done so.
//
// The pages of the new read must not repeat the message ids or bodies of
// the first one: Service Bus duplicate detection (by body hash, one hour)
// would drop them and leave the table empty.
func TestRebaselineHealthyEntity(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	ctx := t.Context()
	pages := func() map[string]bool {
		e.check(e.host.FireTimer(ctx, pollFn))
		bodies := e.capture()
		seen := map[string]bool{}
		for _, b := range bodies {
			m, err := dsync.DecodeMessage(b)
			e.check(err)
			if m.Entity == "account" {
				seen[m.ID] = true
				seen[string(b)] = true
			}
		}
		e.send(bodies...)
		return seen
	}
	first := pages()
	e.sync()
	if err := dsync.Rebaseline(ctx, e.prof, "account", e.app.Store, e.app.Pool); err != nil {
		t.Fatal(err)
	}
	again := pages()
	if len(first) == 0 || len(again) == 0 {
		t.Fatalf("pages of the first read %d, of the new read %d; want both", len(first), len(again))
	}
	for k := range again {
		if first[k] {
			t.Fatalf("the new read repeats a message of the first: %.120s", k)
		}
	}
	e.sync()
	e.assertMatch("after a re-baseline of a healthy entity")
}

// shrunk is the source's metadata with one attribute removed, as after a
// customizer deleted it in Dataverse.
type shrunk struct {
	dsync.MetadataSource
	drop string
}

func (s shrunk) Entity(ctx context.Context, name string) (*dataverse.Entity, error) {
	e, err := s.MetadataSource.Entity(ctx, name)
	if err != nil {
		return nil, err
	}
	c := *e
	c.Attributes = slices.DeleteFunc(slices.Clone(e.Attributes), func(a dataverse.Attribute) bool { return a.LogicalName == s.drop })
	return &c, nil
}

// TestCleanupColumns: the column of a removed attribute stays until the
// explicit cleanup lists it and, with apply, drops it; the rows stay.
func TestCleanupColumns(t *testing.T) {
	dest, schemaName := destinations(t)["postgres"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	src := shrunk{MetadataSource: e.app.Source, drop: "telephone1"}
	ctx := t.Context()
	if _, err := dsync.CleanupColumns(ctx, e.prof, "lead", src, e.app.Pool, true); err == nil {
		t.Fatal("CleanupColumns of an entity outside the profile returned no error")
	}
	listed, err := dsync.CleanupColumns(ctx, e.prof, "account", src, e.app.Pool, false)
	if err != nil || !slices.Equal(listed, []string{"telephone1"}) {
		t.Fatalf("listing = %q, %v; want [telephone1]", listed, err)
	}
	if again, _ := dsync.CleanupColumns(ctx, e.prof, "account", src, e.app.Pool, false); !slices.Equal(again, listed) {
		t.Fatalf("listing dropped something: %q", again)
	}
	if dropped, err := dsync.CleanupColumns(ctx, e.prof, "account", src, e.app.Pool, true); err != nil || !slices.Equal(dropped, listed) {
		t.Fatalf("apply = %q, %v", dropped, err)
	}
	if left, err := dsync.CleanupColumns(ctx, e.prof, "account", src, e.app.Pool, false); err != nil || len(left) != 0 {
		t.Fatalf("after apply: %q, %v; want nothing left", left, err)
	}
	s, err := e.app.Pool.Sink(ctx, e.prof)
	e.check(err)
	n, err := s.(sink.Reader).Count(ctx, dsync.TableName(e.prof, "account"))
	e.check(err)
	if want := len(e.emu.IDs("account")); n != int64(want) {
		t.Fatalf("%d rows after the drop, want %d", n, want)
	}
}

// TestDestinationChange saves the profile with another destination after
// the entities are in delta: the new database must be filled by a full read
// (every row, not only the changes since), through the same running app
// whose applier still holds the old profile in its cache.
func TestDestinationChange(t *testing.T) {
	destA, schemaA := destinations(t)["sqlite"](t)
	e := newEnv(t, destA, schemaA)
	ctx := t.Context()
	e.sync()
	e.mutate()
	e.sync()
	e.assertMatch("in the first destination")

	destB, _ := destinations(t)["sqlite"](t)
	next := e.prof
	next.Destination = destB
	v, err := e.app.Manage.Update(ctx, next.Name, next, "")
	e.check(err)
	reset := v.ReadAgainInFull
	if !slices.Equal(reset, []string{"account", "contact"}) {
		t.Fatalf("entities read again: %v, want account and contact", reset)
	}
	e.prof = next
	e.check(e.emu.Update("account", e.emu.IDs("account")[0], map[string]any{"name": "after the switch"}))
	e.sync()
	e.assertMatch("in the new destination")
}

// TestEntityLosesChangeTracking: an entity whose change tracking is turned
// off after it was added is blocked alone, with the reason in its status;
// the ChangePoller invocation succeeds and the other entity goes on. Once
// tracking is back, the entity resumes.
func TestEntityLosesChangeTracking(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	ctx := t.Context()
	e.sync()
	e.check(e.emu.SetChangeTracking("contact", false))
	e.check(e.emu.Update("account", e.emu.IDs("account")[0], map[string]any{"name": "changed while contact is untracked"}))
	e.check(e.host.FireTimer(ctx, pollFn)) // the invocation succeeds
	if _, err := e.host.DrainQueue(ctx, applyFn); err != nil {
		t.Fatal(err)
	}
	st, err := e.app.Manage.Status(ctx, e.prof.Name)
	e.check(err)
	byEntity := map[string]manage.EntityStatus{}
	for _, es := range st.Entities {
		byEntity[es.Entity] = es
	}
	contact, account := byEntity["contact"], byEntity["account"]
	if contact.Phase != state.PhaseBlocked || contact.LastError == nil || contact.LastError.Stage != "read" || !strings.Contains(contact.LastError.Message, "change tracking") {
		t.Fatalf("contact: %+v (last error %+v); want blocked naming change tracking", contact, contact.LastError)
	}
	if account.Phase != state.PhaseDelta || account.LastError != nil {
		t.Fatalf("account: %+v; want it running", account)
	}
	e.assertMatch("account went on while contact was blocked")
	if !strings.Contains(e.logs.String(), "entity poll failed") {
		t.Fatalf("no log line for the blocked entity:\n%s", e.logs.String())
	}

	e.check(e.emu.SetChangeTracking("contact", true))
	e.check(e.emu.Update("contact", e.emu.IDs("contact")[0], map[string]any{"lastname": "tracked again"}))
	e.sync()
	st, err = e.app.Manage.Status(ctx, e.prof.Name)
	e.check(err)
	for _, es := range st.Entities {
		if es.Phase != state.PhaseDelta || es.LastError != nil {
			t.Fatalf("after tracking is back: %+v", es)
		}
	}
	e.assertMatch("contact resumed")
}
