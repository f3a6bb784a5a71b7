package tests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// clockedEmulator is an emulator whose clock the test moves forward.
func clockedEmulator(t *testing.T, records int) (*dvemu.Emulator, *atomic.Int64) {
	t.Helper()
	var offset atomic.Int64
	emu, err := dvemu.New(dvemu.Options{Records: records, RandSeed: 7, Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	return emu, &offset
}

// whileStopped changes the source as it would change while the app is
// stopped: deletes (returned, lowercase, per entity), an update, a create.
func (e *env) whileStopped() map[string][]string {
	e.t.Helper()
	gone := map[string][]string{}
	for _, ent := range e.prof.Entities {
		ids := e.emu.IDs(ent)
		for _, i := range []int{1, 4, 6} {
			e.check(e.emu.Delete(ent, ids[i]))
			gone[ent] = append(gone[ent], strings.ToLower(ids[i]))
		}
	}
	accounts := e.emu.IDs("account")
	e.check(e.emu.Update("account", accounts[0], map[string]any{"name": "changed while stopped"}))
	e.must(e.emu.Create("account", map[string]any{"name": "created while stopped"}))
	return gone
}

func (e *env) state(entity string) state.EntityState {
	e.t.Helper()
	st, err := e.app.Store.GetEntity(e.t.Context(), e.prof.Name, entity)
	e.check(err)
	return st
}

// deleteLogged is the record ids of the profile's delete log for entity.
func (e *env) deleteLogged(entity string) []string {
	e.t.Helper()
	s, err := e.app.Pool.Sink(e.t.Context(), e.prof)
	e.check(err)
	dl, ok := s.(interface {
		DeleteLog(context.Context) ([]sink.DeleteLogEntry, error)
	})
	if !ok {
		e.t.Fatalf("%T has no delete log reader", s)
	}
	log, err := dl.DeleteLog(e.t.Context())
	e.check(err)
	var out []string
	for _, l := range log {
		if l.EntityName == entity {
			out = append(out, l.RecordID)
		}
	}
	return out
}

// TestExpiredTokenConverges: rows deleted while the app is stopped, then
// the delta token expires. The full read that follows ends with a sweep:
// the destination ends equal to the source, the deleted rows tombstoned
// and in the DeleteLog.
func TestExpiredTokenConverges(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)[name](t)
			emu, clock := clockedEmulator(t, 23)
			e := newEnvFrom(t, dest, schemaName, emu, nil)
			e.sync()
			e.assertMatch("after the initial sync")
			readID := e.state("account").ReadID

			gone := e.whileStopped()
			clock.Store(int64(8 * 24 * time.Hour)) // past the org's 7 days of change tracking
			e.check(e.host.FireTimer(t.Context(), pollFn))
			if st := e.state("account"); st.Phase != state.PhaseRebaseline || !strings.Contains(st.LastError, "0x80044352") {
				t.Fatalf("after the first poll past the expiry: phase %s, error %q; want a re-baseline for the expired token", st.Phase, st.LastError)
			}
			e.sync()
			e.assertMatch("after the full read that followed the expired token")
			for ent, ids := range gone {
				st := e.state(ent)
				if st.ReadID == readID || st.Swept != int64(len(ids)) {
					t.Errorf("%s: read %s (before %s), swept %d; want a new read that removed the %d deleted rows", ent, st.ReadID, readID, st.Swept, len(ids))
				}
				logged := e.deleteLogged(ent)
				for _, id := range ids {
					if !slices.Contains(logged, id) {
						t.Errorf("%s %s removed by the sweep is not in the DeleteLog", ent, id)
					}
				}
			}
			st, err := e.app.Manage.Status(t.Context(), e.prof.Name)
			e.check(err)
			for _, es := range st.Entities {
				if es.Sweep != nil || es.LastSweep == nil || es.LastSweep.RowsRemoved != int64(len(gone[es.Entity])) {
					t.Errorf("%s status: sweep %+v, last sweep %+v; want done, %d removed", es.Entity, es.Sweep, es.LastSweep, len(gone[es.Entity]))
				}
			}
			if !strings.Contains(e.logs.String(), "the full read converged") {
				t.Error("the sweep left no log line")
			}
		})
	}
}

// TestStateLossConverges: the entity states are lost (a new state table,
// a restored storage account) while rows were deleted: the full read over
// the existing tables converges, for every kind of entity of the sample
// org (a custom entity, activities, activityparty, N:N intersect tables).
func TestStateLossConverges(t *testing.T) {
	ents := []string{"account", "new_project", "email", "appointment", "activityparty", "systemuserroles", "teammembership", "opportunity"}
	dest, schemaName := destinations(t)["sqlite"](t)
	emu, err := dvemu.New(dvemu.Options{Records: 12, RandSeed: 11})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvFrom(t, dest, schemaName, emu, nil, ents...)
	e.sync()
	gone := map[string]int{}
	for _, ent := range ents {
		ids := e.emu.IDs(ent)
		for _, i := range []int{1, 3} {
			if i < len(ids) {
				e.check(e.emu.Delete(ent, ids[i]))
			}
		}
	}
	for _, ent := range ents {
		// What the destination holds beyond the source now: deletes may
		// cascade (an email's activity parties).
		gone[ent] = len(e.destination(ent, nil)) - len(e.emu.IDs(ent))
		e.check(e.app.Store.DeleteEntity(t.Context(), e.prof.Name, ent))
	}
	e.sync()
	e.assertMatch("after a full read over the tables without their states")
	for _, ent := range ents {
		if st := e.state(ent); st.Swept != int64(gone[ent]) || gone[ent] == 0 {
			t.Errorf("%s: swept %d, want the %d rows gone from the source", ent, st.Swept, gone[ent])
		}
	}
}

// TestPasswordRotationKeepsState: the destination's connection string
// changes only its password (and an option): the entity states stay, no
// entity is read again, and the deletes made while the app was stopped
// arrive as deltas.
func TestPasswordRotationKeepsState(t *testing.T) {
	_, schemaName := destinations(t)["postgres"](t)
	dest := profile.Destination{Type: profile.Postgres, Connection: "postgres://postgres:first-secret@127.0.0.1:5432/test?sslmode=disable"}
	e := newEnv(t, dest, schemaName)
	e.sync()
	e.assertMatch("before the rotation")
	before := map[string]state.EntityState{}
	for _, ent := range e.prof.Entities {
		before[ent] = e.state(ent)
	}

	gone := e.whileStopped()
	next := e.prof
	next.Destination.Connection = "postgres://postgres:rotated-secret@127.0.0.1:5432/test?sslmode=disable&application_name=dataexport"
	v, err := e.app.Manage.Update(t.Context(), next.Name, next, "")
	e.check(err)
	if reset := v.ReadAgainInFull; len(reset) != 0 {
		t.Fatalf("a password rotation reset %v; want nothing read again", reset)
	}
	e.prof = next

	e.check(e.host.FireTimer(t.Context(), pollFn))
	bodies := e.capture()
	deletes := 0
	for _, b := range bodies {
		m, err := dsync.DecodeMessage(b)
		e.check(err)
		if m.Kind != dsync.KindDelta {
			t.Fatalf("message %s is %s; after a rotation only deltas may be read", m.ID, m.Kind)
		}
		deletes += len(m.Batch.Deletes)
	}
	if want := len(gone["account"]) + len(gone["contact"]); deletes != want {
		t.Fatalf("%d deletes arrived as deltas, want %d", deletes, want)
	}
	e.send(bodies...)
	e.sync()
	e.assertMatch("after the rotation")
	for _, ent := range e.prof.Entities {
		st := e.state(ent)
		if st.ReadID != before[ent].ReadID || st.Pages <= before[ent].Pages || st.Sweep.Scan != "" || !st.SweptAt.IsZero() {
			t.Errorf("%s state %+v; want the same read going on (was %s, %d pages), no sweep", ent, st, before[ent].ReadID, before[ent].Pages)
		}
	}
}

// newDatabase creates a PostgreSQL database for the test, dropped after.
func newDatabase(t *testing.T) string {
	t.Helper()
	name := "e2edb" + suffix()
	conn, err := pgx.Connect(t.Context(), pgURL)
	if err != nil {
		t.Fatalf("PostgreSQL at 127.0.0.1:5432 is needed (scripts/postgres.sh starts it): %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping database %s: %v", name, err)
		}
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name)
}

// TestDestinationMovesAndBack: a profile moved to a new database fills it
// completely; moved back to the first one, whose tables missed the
// changes since (deletes included), the full read over them converges.
func TestDestinationMovesAndBack(t *testing.T) {
	destA, schemaA := destinations(t)["sqlite"](t)
	e := newEnv(t, destA, schemaA)
	ctx := t.Context()
	e.sync()
	e.mutate()
	e.sync()
	e.assertMatch("in the first destination")
	first := e.prof

	moved := e.prof
	moved.Destination = profile.Destination{Type: profile.Postgres, Connection: newDatabase(t)}
	v, err := e.app.Manage.Update(ctx, moved.Name, moved, "")
	e.check(err)
	if reset := v.ReadAgainInFull; !slices.Equal(reset, []string{"account", "contact"}) {
		t.Fatalf("entities read again: %v, want account and contact", reset)
	}
	e.prof = moved
	e.sync()
	e.assertMatch("in the new database")
	for _, ent := range e.prof.Entities {
		if st := e.state(ent); !st.SweptAt.IsZero() {
			t.Errorf("%s: a sweep ran over an empty table", ent)
		}
	}
	gone := e.whileStopped()
	e.sync()
	e.assertMatch("after changes in the new database")

	v, err = e.app.Manage.Update(ctx, first.Name, first, "")
	e.check(err)
	if len(v.ReadAgainInFull) != 2 {
		t.Fatalf("moving back reset %v", v.ReadAgainInFull)
	}
	e.prof = first
	e.sync()
	e.assertMatch("back in the first destination, which missed the changes")
	for ent, ids := range gone {
		if st := e.state(ent); st.Swept < int64(len(ids)) {
			t.Errorf("%s: the sweep removed %d rows; at least the %d deleted meanwhile were there", ent, st.Swept, len(ids))
		}
	}
}
