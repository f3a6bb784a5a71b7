package manage

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

func TestMain(m *testing.M) { azuritetest.Main(m) }

// fakeSource is an org of a few tables.
type fakeSource struct{ err error }

func (f fakeSource) Catalog(context.Context) (*dataverse.Catalog, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &dataverse.Catalog{Entities: []dataverse.CatalogEntity{
		{LogicalName: "account", DisplayName: "Account", ChangeTrackingEnabled: true},
		{LogicalName: "activitypointer", DisplayName: "Activity", IsActivity: true},
		{LogicalName: "contact", DisplayName: "Contact", ChangeTrackingEnabled: true},
		{LogicalName: "new_note", DisplayName: "Note"},
	}, Relationships: []dataverse.ManyToManyRelationship{{SchemaName: "x_y", IntersectEntityName: "x_y", Entity1LogicalName: "account", Entity2LogicalName: "contact"}}}, nil
}

func (fakeSource) Entity(context.Context, string) (*dataverse.Entity, error) {
	return nil, errors.New("not used")
}

type fakeFailures struct {
	mu     gosync.Mutex
	purged []string
}

func (f *fakeFailures) ContainerName(p string) string { return "failed-" + p }
func (f *fakeFailures) Purge(_ context.Context, p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.purged = append(f.purged, p)
	return nil
}

type fakeSecrets map[string]string

func (f fakeSecrets) Resolve(_ context.Context, u string) (string, error) {
	v, ok := f[u]
	if !ok {
		return "", errors.New("Key Vault secret " + u + ": 404 Not Found (SecretNotFound): no such secret or version in this vault")
	}
	return v, nil
}

type fakeChecker struct {
	got  []string
	res  DestinationCheck
	seen gosync.Mutex
}

func (f *fakeChecker) CheckDestination(_ context.Context, p profile.Profile) DestinationCheck {
	f.seen.Lock()
	defer f.seen.Unlock()
	f.got = append(f.got, p.Destination.Connection)
	return f.res
}

type noDest struct{}

func (noDest) Sink(context.Context, profile.Profile) (sink.Sink, error) {
	return nil, errors.New("not used")
}

const kvURL = "https://contoso-kv.vault.azure.net/secrets/crm-db"

type fixture struct {
	svc      *Service
	store    *state.Store
	failures *fakeFailures
	checker  *fakeChecker
}

func newFixture(t *testing.T, pol profile.Policy) *fixture {
	t.Helper()
	svc, err := aztables.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &state.Options{ProfilesTable: azuritetest.UniqueName("mp"), EntitiesTable: azuritetest.UniqueName("me")}
	store, err := state.NewStore(t.Context(), svc, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{o.ProfilesTable, o.EntitiesTable} {
			_, _ = svc.DeleteTable(context.Background(), n, nil)
		}
	})
	f := &fixture{store: store, failures: &fakeFailures{}, checker: &fakeChecker{}}
	f.svc = New(Deps{
		Profiles: store, States: store, Failures: f.failures,
		Secrets: fakeSecrets{kvURL: "postgres://app:S3CRETPW@db.example.com/crm"},
		Source:  fakeSource{}, Destinations: noDest{}, Checker: f.checker,
	}, &Options{Policy: pol, Logger: slog.New(slog.DiscardHandler)})
	return f
}

func doc() profile.Profile {
	return profile.Profile{Name: "crm", Entities: []string{"account", "contact"},
		Destination: profile.Destination{Type: profile.Postgres, KeyVaultSecretURL: kvURL}}
}

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v is not an *InvalidError", err)
	}
	var out []string
	for _, f := range ie.Fields {
		out = append(out, f.Pointer)
	}
	return out
}

// Validation against the org: each entity that cannot be exported is
// named by its position, with the reason.
func TestValidateEntitiesAgainstTheOrg(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	p := doc()
	p.Entities = []string{"account", "new_note", "nope", "activitypointer"}
	err := f.svc.Validate(t.Context(), p)
	if got := fieldsOf(t, err); !slices.Equal(got, []string{"/entities/3", "/entities/1", "/entities/2"}) {
		t.Fatalf("fields %v", got)
	}
	for _, want := range []string{`/entities/1: "new_note" does not have change tracking enabled`, `/entities/2: "nope" does not exist`, "phonecall, appointment, email and task"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	// A plain connection string outside local development.
	p = doc()
	p.Destination = profile.Destination{Type: profile.SQLite, Connection: "/tmp/x.db"}
	if got := fieldsOf(t, f.svc.Validate(t.Context(), p)); !slices.Equal(got, []string{"/destination/connection"}) {
		t.Fatalf("plain connection: %v", got)
	}
	// The org unreachable: ErrUnavailable, unless the document is wrong anyway.
	f.svc.d.Source = fakeSource{err: errors.New("dial tcp: refused")}
	if err := f.svc.Validate(t.Context(), doc()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unreachable org: %v", err)
	}
	bad := doc()
	bad.Prefix = "no_"
	if got := fieldsOf(t, f.svc.Validate(t.Context(), bad)); !slices.Equal(got, []string{"/prefix"}) {
		t.Fatalf("bad prefix with the org down: %v", got)
	}
}

func TestCreateGetListConflict(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	v, err := f.svc.Create(ctx, doc(), false)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != profile.Inactive || v.ETag == "" || !v.UsesKeyVault || v.Profile.Destination.KeyVaultSecretURL != kvURL {
		t.Fatalf("created %+v", v)
	}
	if _, err := f.svc.Create(ctx, doc(), true); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate create = %v, want ErrExists", err)
	}
	other := doc()
	other.Name = "active-one"
	if v, err := f.svc.Create(ctx, other, true); err != nil || v.State != profile.Active {
		t.Fatalf("create and activate: %+v, %v", v, err)
	}
	list, err := f.svc.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "active-one" || list[1].Name != "crm" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if _, err := f.svc.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) = %v", err)
	}
	if _, err := f.svc.Get(ctx, "a/b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(a/b) = %v", err)
	}
}

// Two administrators update from the same version: the second gets
// ErrStale and the first one's change stays.
func TestUpdateWithStaleETag(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	v, err := f.svc.Create(ctx, doc(), false)
	if err != nil {
		t.Fatal(err)
	}
	a, b := v.Profile, v.Profile
	a.Entities = []string{"account"}
	retry := 3
	b.RetryCount = &retry
	if _, err := f.svc.Update(ctx, "crm", a, v.ETag); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Update(ctx, "crm", b, v.ETag); !errors.Is(err, ErrStale) {
		t.Fatalf("stale update = %v, want ErrStale", err)
	}
	got, err := f.svc.Get(ctx, "crm")
	if err != nil || !slices.Equal(got.Profile.Entities, []string{"account"}) || got.Profile.RetryCount != nil {
		t.Fatalf("after the stale update: %+v, %v", got.Profile, err)
	}
	// Other states of the same profile: stale deletes and activations too.
	if _, err := f.svc.Activate(ctx, "crm", v.ETag); !errors.Is(err, ErrStale) {
		t.Fatalf("stale activate = %v", err)
	}
	if _, err := f.svc.Delete(ctx, "crm", v.ETag); !errors.Is(err, ErrStale) {
		t.Fatalf("stale delete = %v", err)
	}
	renamed := got.Profile
	renamed.Name = "other"
	if fs := fieldsOf(t, func() error { _, err := f.svc.Update(ctx, "crm", renamed, ""); return err }()); !slices.Equal(fs, []string{"/name"}) {
		t.Fatalf("rename: %v", fs)
	}
}

// Concurrent updates without If-Match each land (read-modify-write is
// retried), and concurrent ones with the same If-Match: exactly one wins.
func TestConcurrentUpdatesOneWinner(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	v, err := f.svc.Create(ctx, doc(), false)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 5
	errs := make([]error, writers)
	var wg gosync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			p := v.Profile
			n := i
			p.RetryCount = &n
			_, errs[i] = f.svc.Update(ctx, "crm", p, v.ETag)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrStale):
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won, want 1: %v", won, errs)
	}
}

// A legacy profile holding its connection string: the document never
// shows it, an update without a credential keeps it, and test says it
// does not use Key Vault.
func TestLegacyConnectionKept(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	legacy := doc()
	legacy.Destination = profile.Destination{Type: profile.Postgres, Connection: "postgres://app:S3CRETPW@db.example.com/crm"}
	if err := f.store.PutProfile(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.Get(ctx, "crm")
	if err != nil || v.UsesKeyVault || v.State != profile.Active || v.Profile.Destination.Connection != "" {
		t.Fatalf("legacy view %+v, %v", v, err)
	}
	edit := v.Profile
	edit.Entities = []string{"account"}
	if _, err := f.svc.Update(ctx, "crm", edit, v.ETag); err != nil {
		t.Fatalf("update keeping the stored connection: %v", err)
	}
	stored, _ := f.store.GetProfile(ctx, "crm")
	if stored.Destination.Connection != legacy.Destination.Connection {
		t.Fatal("the stored connection string was lost")
	}
	rep, err := f.svc.Test(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checks[0].Name != "secret" || rep.Checks[0].Status != Warn || !strings.Contains(rep.Checks[0].Detail, "not using Key Vault") {
		t.Fatalf("secret check %+v", rep.Checks[0])
	}
	if f.checker.got[0] != legacy.Destination.Connection {
		t.Fatal("the destination check did not get the stored connection string")
	}
}

func TestActivateDeactivate(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	v, err := f.svc.Create(ctx, doc(), false)
	if err != nil {
		t.Fatal(err)
	}
	act, err := f.svc.Activate(ctx, "crm", v.ETag)
	if err != nil || act.State != profile.Active || act.ETag == v.ETag {
		t.Fatalf("Activate = %+v, %v", act, err)
	}
	again, err := f.svc.Activate(ctx, "crm", "")
	if err != nil || again.ETag != act.ETag {
		t.Fatalf("activating an active profile changed it: %+v, %v", again, err)
	}
	de, err := f.svc.Deactivate(ctx, "crm", act.ETag)
	if err != nil || de.State != profile.Inactive {
		t.Fatalf("Deactivate = %+v, %v", de, err)
	}
	if p, _ := f.store.GetProfile(ctx, "crm"); p.IsActive() {
		t.Fatal("the stored profile is still active")
	}
}

// Delete removes the profile, every state and counters row of it (also of
// entities no longer listed) and its failure container; a new profile of
// the same name starts from nothing.
func TestDeleteRemovesStateAndFailures(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	v, err := f.svc.Create(ctx, doc(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"account", "contact", "lead"} {
		st := state.EntityState{Profile: "crm", Entity: e, Phase: state.PhaseDelta, Link: "delta-" + e}
		if err := f.store.SaveEntity(ctx, &st); err != nil {
			t.Fatal(err)
		}
		if err := f.store.AddCounters(ctx, "crm", e, state.Counters{Succeeded: 3, Failed: 1}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := f.svc.Delete(ctx, "crm", v.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if res.StateRowsDeleted != 6 || res.FailureContainer != "failed-crm" || !res.DestinationTablesKept || !slices.Equal(f.failures.purged, []string{"crm"}) {
		t.Fatalf("Delete = %+v, purged %v", res, f.failures.purged)
	}
	if _, err := f.svc.Get(ctx, "crm"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if sts, _ := f.store.ListEntities(ctx, "crm"); len(sts) != 0 {
		t.Fatalf("states left: %+v", sts)
	}
	if _, err := f.svc.Delete(ctx, "crm", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
	// A state row left behind (a poll that raced the delete) does not
	// survive into a new profile of the same name.
	st := state.EntityState{Profile: "crm", Entity: "account", Phase: state.PhaseDelta, Link: "old-destination-delta"}
	if err := f.store.SaveEntity(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, doc(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetEntity(ctx, "crm", "account"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("a new profile inherited an old delta link: %v", err)
	}
}

// Delta links belong to their database: a destination change resets every
// entity; a change of entities or retries keeps them.
func TestUpdateResetsStatesOnlyWhenTheDestinationMoves(t *testing.T) {
	retries := 3
	tests := []struct {
		name  string
		edit  func(p *profile.Profile)
		reset bool
	}{
		{"another secret", func(p *profile.Profile) {
			p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/other-db"
		}, true},
		{"another version of the same secret", func(p *profile.Profile) {
			p.Destination.KeyVaultSecretURL += "/0123456789abcdef0123456789abcdef"
		}, false},
		{"another schema", func(p *profile.Profile) { p.Schema = "crm" }, true},
		{"another prefix", func(p *profile.Profile) { p.Prefix = "x" }, true},
		{"an entity removed", func(p *profile.Profile) { p.Entities = []string{"account"} }, false},
		{"retries changed", func(p *profile.Profile) { p.RetryCount = &retries }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, profile.Policy{})
			ctx := t.Context()
			v, err := f.svc.Create(ctx, doc(), true)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []string{"account", "contact"} {
				st := state.EntityState{Profile: "crm", Entity: e, Phase: state.PhaseDelta, Link: "l-" + e}
				if err := f.store.SaveEntity(ctx, &st); err != nil {
					t.Fatal(err)
				}
			}
			next := v.Profile
			next.Entities = slices.Clone(next.Entities)
			tt.edit(&next)
			up, err := f.svc.Update(ctx, "crm", next, v.ETag)
			if err != nil {
				t.Fatal(err)
			}
			if up.State != profile.Active {
				t.Fatalf("the update changed the state to %s", up.State)
			}
			sts, _ := f.store.ListEntities(ctx, "crm")
			if tt.reset != (len(sts) == 0) || tt.reset != slices.Equal(up.ReadAgainInFull, []string{"account", "contact"}) {
				t.Fatalf("states left %d, read again %v; want reset=%v", len(sts), up.ReadAgainInFull, tt.reset)
			}
		})
	}
}

// Test reports every check with its reason; a failed secret skips the
// destination checks, and no detail holds the connection string.
func TestTestReport(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	if _, err := f.svc.Create(ctx, doc(), false); err != nil {
		t.Fatal(err)
	}
	f.checker.res = DestinationCheck{Missing: []string{"CREATE on schema public (create entity and metadata tables)"}}
	rep, err := f.svc.Test(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]CheckStatus{"secret": Pass, "destination": Pass, "permissions": Fail, "entity:account": Pass, "entity:contact": Pass}
	for _, c := range rep.Checks {
		if want[c.Name] != c.Status {
			t.Errorf("check %s: %s (%s), want %s", c.Name, c.Status, c.Detail, want[c.Name])
		}
		if strings.Contains(c.Detail, "S3CRETPW") {
			t.Fatalf("check %s shows the secret", c.Name)
		}
	}
	if rep.OK || len(rep.Checks) != len(want) || f.checker.got[0] != "postgres://app:S3CRETPW@db.example.com/crm" {
		t.Fatalf("report %+v", rep)
	}

	// The secret cannot be read; an entity lost change tracking.
	p := doc()
	p.Name = "other"
	p.Destination.KeyVaultSecretURL = "https://contoso-kv.vault.azure.net/secrets/gone"
	if err := f.store.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Entities = []string{"account", "new_note"}
	if err := f.store.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	rep, err = f.svc.Test(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]CheckStatus{}
	for _, c := range rep.Checks {
		got[c.Name] = c.Status
	}
	if got["secret"] != Fail || got["destination"] != Skipped || got["permissions"] != Skipped || got["entity:new_note"] != Fail || got["entity:account"] != Pass || rep.OK {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(rep.Checks[0].Detail, "secrets/gone") {
		t.Fatalf("secret check does not name the secret: %s", rep.Checks[0].Detail)
	}
}

func TestStatus(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	ctx := t.Context()
	p := doc()
	p.Entities = []string{"account", "contact", "new_note", "lead", "opportunity"}
	if err := f.store.PutProfile(ctx, p); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	states := []state.EntityState{
		{Profile: "crm", Entity: "account", Phase: state.PhaseDelta, Read: 40, LastPoll: t0,
			Backfill: state.Backfill{Pending: true, Since: 915244, Columns: []string{"new_region"}, Pages: 1}},
		{Profile: "crm", Entity: "contact", Phase: state.PhaseInitial, Read: 14, LastPoll: t0},
		{Profile: "crm", Entity: "new_note", Phase: state.PhaseDelta, Read: 5, LastError: "dataverse: new_note: change tracking not enabled", LastErrorAt: t0.Add(time.Minute)},
		{Profile: "crm", Entity: "opportunity", Phase: state.PhaseDelta, Read: 3, SchemaWanted: "0123456789abcdef",
			LastError: "schema change: opening destination: connection refused", LastErrorAt: t0},
	}
	for i := range states {
		if err := f.store.SaveEntity(ctx, &states[i]); err != nil {
			t.Fatal(err)
		}
	}
	adds := map[string]state.Counters{
		"account": {Succeeded: 38, Skipped: 1, Deleted: 2, Failed: 1, LastApplied: t0, Lag: 1500 * time.Millisecond, LagAt: t0},
		"contact": {Succeeded: 14, Failed: 2, LastApplied: t0, LastError: "value too long", LastErrorAt: t0},
	}
	for e, c := range adds {
		if err := f.store.AddCounters(ctx, "crm", e, c); err != nil {
			t.Fatal(err)
		}
	}
	st, err := f.svc.Status(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != profile.Active || st.FailedNotifications != 3 || len(st.Entities) != 5 {
		t.Fatalf("status %+v", st)
	}
	acct, cont, note, lead, opp := st.Entities[0], st.Entities[1], st.Entities[2], st.Entities[3], st.Entities[4]
	if acct.Phase != state.PhaseDelta || acct.RowsRead != 40 || acct.RowsApplied != 39 || acct.Deleted != 2 || *acct.LagSeconds != 1.5 || acct.LastError != nil || !acct.LastSuccessfulSync.Equal(t0) {
		t.Errorf("account %+v", acct)
	}
	if cont.Phase != state.PhaseInitial || cont.Description != "initial sync in progress" || cont.LastError == nil || cont.LastError.Stage != "apply" {
		t.Errorf("contact %+v", cont)
	}
	if note.Phase != state.PhaseBlocked || note.LastError == nil || note.LastError.Stage != "read" || !strings.Contains(note.Description, "change tracking") {
		t.Errorf("new_note %+v", note)
	}
	if lead.Phase != state.PhaseNotStarted {
		t.Errorf("lead %+v", lead)
	}
	if b := acct.Backfill; b == nil || b.ChangedAfter != 915244 || b.PagesRead != 1 || !strings.Contains(acct.Description, "new_region") || acct.WaitingForSchemaChange {
		t.Errorf("account's backfill: %+v %q", b, acct.Description)
	}
	if !opp.WaitingForSchemaChange || opp.Phase != state.PhaseDelta || !strings.Contains(opp.Description, "SchemaChange") || !strings.Contains(opp.Description, "connection refused") {
		t.Errorf("opportunity %+v", opp)
	}
	if _, err := f.svc.Status(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Status(missing) = %v", err)
	}
}

func TestSourceEntities(t *testing.T) {
	f := newFixture(t, profile.Policy{})
	cat, err := f.svc.SourceEntities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	elig := map[string]bool{}
	for _, e := range cat.Entities {
		elig[e.LogicalName] = e.Eligible
		if !e.Eligible && e.Reason == "" {
			t.Errorf("%s: not eligible without a reason", e.LogicalName)
		}
	}
	if !elig["account"] || elig["new_note"] || elig["activitypointer"] || len(cat.Relationships) != 1 {
		t.Fatalf("catalog %+v", cat)
	}
	f.svc.d.Source = fakeSource{err: errors.New("refused")}
	if _, err := f.svc.SourceEntities(t.Context()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unreachable org: %v", err)
	}
}
