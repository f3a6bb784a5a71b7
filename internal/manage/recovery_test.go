package manage

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/recovery"
	"github.com/dataexport/dataexport/internal/state"
)

// fakeRecovery records what the service asked for.
type fakeRecovery struct {
	calls  []string
	err    error
	report recovery.ResyncReport
}

func (f *fakeRecovery) Failures(_ context.Context, p profile.Profile, o recovery.FailuresOptions) (recovery.FailuresReport, error) {
	f.calls = append(f.calls, fmt.Sprintf("Failures %s %d %v", p.Name, o.Lines, o.URLLifetime))
	return recovery.FailuresReport{Profile: p.Name}, f.err
}
func (f *fakeRecovery) ResyncFailures(_ context.Context, p profile.Profile, o recovery.ResyncOptions) (recovery.ResyncReport, error) {
	f.calls = append(f.calls, "ResyncFailures "+p.Name+" "+o.Entity)
	return f.report, f.err
}
func (f *fakeRecovery) ResyncEntity(_ context.Context, p profile.Profile, entity string) (recovery.EntityResync, error) {
	f.calls = append(f.calls, "ResyncEntity "+p.Name+" "+entity)
	return recovery.EntityResync{}, f.err
}
func (f *fakeRecovery) Reconcile(_ context.Context, p profile.Profile, entity string, o recovery.ReconcileOptions) (recovery.ReconcileReport, error) {
	f.calls = append(f.calls, fmt.Sprintf("Reconcile %s %s %d", p.Name, entity, o.Limit))
	return recovery.ReconcileReport{}, f.err
}

// The recovery operations find the profile, refuse an entity it does not
// export and parameters out of range before calling the core, and map a
// blocked entity to ErrState; a resync that tried some entities returns
// its report, not an error.
func TestRecoveryOperations(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	rec := &fakeRecovery{}
	f.svc.d.Recovery = rec
	ctx := t.Context()
	if _, err := f.svc.Create(ctx, doc(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Failures(ctx, "nosuch", FailuresQuery{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown profile: %v", err)
	}
	for _, err := range []error{
		func() error { _, err := f.svc.ResyncEntity(ctx, "crm", "lead"); return err }(),
		func() error { _, err := f.svc.Reconcile(ctx, "crm", "lead", 0); return err }(),
		func() error { _, err := f.svc.ResyncFailures(ctx, "crm", "lead"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("an entity outside the profile: %v; want ErrNotFound", err)
		}
	}
	var pe *ParamError
	if _, err := f.svc.Failures(ctx, "crm", FailuresQuery{URLHours: 25}); !errors.As(err, &pe) || pe.Name != "urlHours" {
		t.Errorf("urlHours 25: %v", err)
	}
	if _, err := f.svc.Reconcile(ctx, "crm", "account", 5000); !errors.As(err, &pe) || pe.Name != "limit" {
		t.Errorf("limit 5000: %v", err)
	}
	if len(rec.calls) != 0 {
		t.Fatalf("the core was called with a refused request: %v", rec.calls)
	}
	if _, err := f.svc.Failures(ctx, "crm", FailuresQuery{Lines: 3, URLHours: 2}); err != nil {
		t.Fatal(err)
	}
	rec.err = fmt.Errorf("x: %w", recovery.ErrBlocked)
	if _, err := f.svc.ResyncEntity(ctx, "crm", "account"); !errors.Is(err, ErrState) {
		t.Fatalf("blocked: %v", err)
	}
	rec.err = errors.New("account: dataverse down")
	rec.report = recovery.ResyncReport{Profile: "crm", Entities: []recovery.EntityResynced{{Entity: "account", Err: "dataverse down"}}}
	if rep, err := f.svc.ResyncFailures(ctx, "crm", ""); err != nil || len(rep.Entities) != 1 {
		t.Fatalf("partial resync: %+v, %v; want the report", rep, err)
	}
	rec.report = recovery.ResyncReport{}
	if _, err := f.svc.ResyncFailures(ctx, "crm", ""); err == nil {
		t.Fatal("a resync that could not list the failures returned no error")
	}
	if got := rec.calls[0]; got != "Failures crm 3 2h0m0s" {
		t.Errorf("first call %q", got)
	}
}

// A profile holding its connection string (local development) keeps its
// entity states when only the password changes: the same database.
func TestPasswordRotationKeepsStates(t *testing.T) {
	f := newFixture(t, profile.Policy{LocalDevelopment: true})
	ctx := t.Context()
	p := doc()
	p.Destination = profile.Destination{Type: profile.Postgres, Connection: "postgres://app:first@db.example.com/crm"}
	v, err := f.svc.Create(ctx, p, true)
	if err != nil {
		t.Fatal(err)
	}
	st := state.EntityState{Profile: "crm", Entity: "account", Phase: state.PhaseDelta, Link: "l"}
	if err := f.store.SaveEntity(ctx, &st); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		conn  string
		reset bool
	}{{"postgres://app:rotated@db.example.com:5432/crm?sslmode=require", false}, {"postgres://app:rotated@db.example.com/other", true}} {
		next := v.Profile
		next.Destination.Connection = c.conn
		up, err := f.svc.Update(ctx, "crm", next, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := len(up.ReadAgainInFull) > 0; got != c.reset {
			t.Fatalf("%s: read again %v; want reset=%v", c.conn, up.ReadAgainInFull, c.reset)
		}
		v = up
	}
}
