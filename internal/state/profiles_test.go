package state

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/go-json-experiment/json"

	"github.com/dataexport/dataexport/internal/profile"
)

// Create refuses an existing name; update and delete honour the ETag, so
// two writers cannot lose each other's change.
func TestConditionalProfileWrites(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	p := sampleProfile("gamma")
	p.State = profile.Inactive
	created, err := s.CreateProfile(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if created.ETag == "" || created.Revision == "" {
		t.Fatalf("created %+v without ETag or Revision", created)
	}
	if _, err := s.CreateProfile(ctx, p); !errors.Is(err, ErrExists) {
		t.Fatalf("second create = %v, want ErrExists", err)
	}
	got, err := s.GetProfile(ctx, "gamma")
	if err != nil || got.ETag != created.ETag || got.State != profile.Inactive || got.Revision != created.Revision {
		t.Fatalf("GetProfile = %+v, %v; want the created ETag, revision and state", got, err)
	}

	// Two administrators read the same version; the second write loses.
	a, b := got, got
	a.Entities = []string{"account"}
	b.Entities = []string{"lead"}
	updated, err := s.UpdateProfile(ctx, a, a.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if updated.ETag == a.ETag || updated.Revision == a.Revision {
		t.Fatal("an update kept the ETag or the revision")
	}
	if _, err := s.UpdateProfile(ctx, b, b.ETag); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("stale update = %v, want ErrPreconditionFailed", err)
	}
	if err := s.DeleteProfileIf(ctx, "gamma", b.ETag); !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("stale delete = %v, want ErrPreconditionFailed", err)
	}
	now, err := s.GetProfile(ctx, "gamma")
	if err != nil || !reflect.DeepEqual(now.Entities, []string{"account"}) {
		t.Fatalf("after the stale writes: %+v, %v; want the first update kept", now, err)
	}
	if _, err := s.UpdateProfile(ctx, sampleProfile("missing"), ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a missing profile = %v, want ErrNotFound", err)
	}
	if err := s.DeleteProfileIf(ctx, "gamma", updated.ETag); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProfile(ctx, "gamma"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// A row written before states and revisions existed reads as an Active
// profile whose revision is its ETag.
func TestProfileRowWithoutStateOrRevision(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	old := `{"name":"legacy","entities":["account"],"destination":{"type":"postgres","connection":"postgres://u:pw@h/db"}}`
	row, _ := json.Marshal(map[string]string{"PartitionKey": profilesPartition, "RowKey": "legacy", "Profile": old})
	if _, err := s.profiles.UpsertEntity(ctx, row, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}); err != nil {
		t.Fatal(err)
	}
	p, err := s.GetProfile(ctx, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsActive() || p.EffectiveState() != profile.Active || p.Revision == "" || p.Revision != p.ETag || p.Destination.Connection != "postgres://u:pw@h/db" {
		t.Fatalf("legacy profile read as %+v", p.Redacted())
	}
	list, err := s.ListProfiles(ctx)
	if err != nil || len(list) != 1 || list[0].Revision != p.Revision {
		t.Fatalf("ListProfiles = %+v, %v; want the same revision", list, err)
	}
}

// DeletePartition removes every state and counters row of one profile and
// nothing of another.
func TestDeletePartition(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, prof := range []string{"p1", "p2"} {
		for _, ent := range []string{"account", "contact"} {
			st := EntityState{Profile: prof, Entity: ent, Phase: PhaseDelta}
			if err := s.SaveEntity(ctx, &st); err != nil {
				t.Fatal(err)
			}
			if err := s.AddCounters(ctx, prof, ent, Counters{Succeeded: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Counters of an entity without a state row go too.
	if err := s.AddCounters(ctx, "p1", "lead", Counters{Failed: 2}); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeletePartition(ctx, "p1")
	if err != nil || n != 5 {
		t.Fatalf("DeletePartition = %d, %v; want 5 rows", n, err)
	}
	if list, err := s.ListEntities(ctx, "p1"); err != nil || len(list) != 0 {
		t.Fatalf("p1 states left: %+v, %v", list, err)
	}
	if c, err := s.GetCounters(ctx, "p1", "lead"); err != nil || c.Failed != 0 {
		t.Fatalf("p1 counters left: %+v, %v", c, err)
	}
	if list, err := s.ListEntities(ctx, "p2"); err != nil || len(list) != 2 {
		t.Fatalf("p2 states: %+v, %v; want both kept", list, err)
	}
}

// Lag and last error: the latest measurement wins, whatever the order of
// the adds; older rows without them read as zero.
func TestCountersLagAndLastError(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	adds := []Counters{
		{Succeeded: 1, Lag: 3 * time.Second, LagAt: t0.Add(2 * time.Minute)},
		{Succeeded: 1, Lag: 9 * time.Second, LagAt: t0.Add(time.Minute)}, // older measurement, added later
		{LastError: "connection refused", LastErrorAt: t0.Add(time.Minute)},
		{LastError: "older", LastErrorAt: t0},
	}
	for _, d := range adds {
		if err := s.AddCounters(ctx, "p", "account", d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetCounters(ctx, "p", "account")
	if err != nil {
		t.Fatal(err)
	}
	want := Counters{Succeeded: 2, Lag: 3 * time.Second, LagAt: t0.Add(2 * time.Minute), LastError: "connection refused", LastErrorAt: t0.Add(time.Minute)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetCounters = %+v, want %+v", got, want)
	}
	// An entity state row with a last error keeps when it happened.
	st := EntityState{Profile: "p", Entity: "account", Phase: PhaseDelta, LastError: "change tracking disabled", LastErrorAt: t0}
	if err := s.SaveEntity(ctx, &st); err != nil {
		t.Fatal(err)
	}
	back, err := s.GetEntity(ctx, "p", "account")
	if err != nil || !back.LastErrorAt.Equal(t0) || back.LastError != st.LastError {
		t.Fatalf("GetEntity = %+v, %v", back, err)
	}
}
