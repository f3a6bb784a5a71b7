package tests

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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
	if _, err := conn.Exec(t.Context(), `CREATE TABLE `+schemaName+`.account ("Id" uuid PRIMARY KEY, name integer)`); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, dest, schemaName)
	err = e.host.FireTimer(t.Context(), pollFn)
	if err == nil || !strings.Contains(err.Error(), "name") {
		t.Fatalf("the poll should fail naming the column: %v", err)
	}
	st, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != dsync.PhaseBlocked || !strings.Contains(st.LastError, "cannot change") {
		t.Fatalf("account state: phase %q, error %q", st.Phase, st.LastError)
	}
	if cst, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "contact"); err != nil || cst.Phase != dsync.PhaseDelta {
		t.Fatalf("contact should have gone on: %+v %v", cst, err)
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
}

// TestRebaselineHealthyEntity drops and reads again an entity whose table
// this process has already created: the poller must create it again rather
// than trust its memory of having done so.
func TestRebaselineHealthyEntity(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	if err := dsync.Rebaseline(t.Context(), e.prof, "account", e.app.Store, e.app.Pool); err != nil {
		t.Fatal(err)
	}
	e.sync()
	e.assertMatch("after a re-baseline of a healthy entity")
}
