package state

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/dataexport/dataexport/internal/profile"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	ctx := context.Background()
	svc, err := aztables.NewServiceClientFromConnectionString(connString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{ProfilesTable: uniqueName("p"), EntitiesTable: uniqueName("e")}
	s, err := NewStore(ctx, svc, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{o.ProfilesTable, o.EntitiesTable} {
			if _, err := svc.DeleteTable(context.Background(), n, nil); err != nil {
				t.Logf("deleting table %s: %v", n, err)
			}
		}
	})
	// A second NewStore on existing tables must succeed.
	if _, err := NewStore(ctx, svc, o); err != nil {
		t.Fatalf("NewStore on existing tables: %v", err)
	}
	return s
}

func sampleProfile(name string) profile.Profile {
	retries := 3
	return profile.Profile{
		Name:        name,
		Entities:    []string{"account", "contact"},
		Schema:      "dbo",
		Prefix:      "crm",
		Destination: profile.Destination{Type: profile.SQLServer, Connection: "server=x;password=secret"},
		RetryCount:  &retries,
	}
}

func TestProfileRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	if _, err := s.GetProfile(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetProfile(missing) = %v, want ErrNotFound", err)
	}
	a, b := sampleProfile("alpha"), sampleProfile("beta")
	for _, p := range []profile.Profile{b, a} {
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetProfile(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag == "" || got.Revision == "" {
		t.Fatalf("GetProfile: ETag %q, Revision %q, want both set", got.ETag, got.Revision)
	}
	got.ETag, got.Revision = "", ""
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("GetProfile = %+v, want %+v", got, a)
	}

	// Upsert replaces.
	a.Entities = []string{"account"}
	a.RetryCount = nil
	if err := s.PutProfile(ctx, a); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range list {
		if list[i].ETag == "" || list[i].Revision == "" {
			t.Fatalf("ListProfiles[%d]: ETag %q, Revision %q, want both set", i, list[i].ETag, list[i].Revision)
		}
		list[i].ETag, list[i].Revision = "", ""
	}
	if want := []profile.Profile{a, b}; !reflect.DeepEqual(list, want) {
		t.Fatalf("ListProfiles = %+v, want %+v", list, want)
	}

	if err := s.DeleteProfile(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetProfile(ctx, "alpha"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetProfile after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteProfile(ctx, "alpha"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteProfile = %v, want ErrNotFound", err)
	}
}

func TestPutProfileRejects(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	huge := sampleProfile("huge")
	huge.Entities = nil
	for i := range 1200 {
		huge.Entities = append(huge.Entities, "entity_with_a_rather_long_name_"+strings.Repeat("x", 10)+strconv.Itoa(i))
	}
	invalid := sampleProfile("bad")
	invalid.Destination.Type = "oracle"

	tests := []struct {
		name string
		p    profile.Profile
		want error
	}{
		{"invalid profile", invalid, profile.ErrInvalid},
		{"over the 64 KiB property limit", huge, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.PutProfile(ctx, tt.p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("PutProfile = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the connection string: %v", err)
			}
			if _, err := s.GetProfile(ctx, tt.p.Name); !errors.Is(err, ErrNotFound) {
				t.Fatalf("rejected profile was stored: %v", err)
			}
		})
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"account", true},
		{"my-profile_1", true},
		{"", false},
		{"a/b", false},
		{`a\b`, false},
		{"a#b", false},
		{"a?b", false},
		{"a\tb", false},
		{"a\u0085b", false},
		{strings.Repeat("k", 1024), true},
		{strings.Repeat("k", 1025), false},
	}
	for _, tt := range tests {
		err := checkKey("key", tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("checkKey(%q) = %v, want ok=%v", tt.key, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("checkKey(%q) = %v, not ErrInvalidKey", tt.key, err)
		}
	}
}

func TestInvalidKeysNeverReachTheService(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.GetProfile(ctx, "a/b"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("GetProfile(a/b) = %v", err)
	}
	if _, err := s.GetEntity(ctx, "p", "a#b"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("GetEntity(a#b) = %v", err)
	}
	if err := s.SaveEntity(ctx, &EntityState{Profile: "p?", Entity: "account"}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("SaveEntity(p?) = %v", err)
	}
	if err := s.SaveEntity(ctx, &EntityState{Profile: "p", Entity: "account" + countersSuffix}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("SaveEntity(reserved suffix) = %v", err)
	}
	if err := s.AddCounters(ctx, "p", `a\b`, Counters{Succeeded: 1}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("AddCounters(a\\b) = %v", err)
	}
}

func TestEntityStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	if _, err := s.GetEntity(ctx, "prof", "account"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetEntity(missing) = %v, want ErrNotFound", err)
	}
	st := EntityState{
		Profile: "prof", Entity: "account", Phase: PhaseInitial,
		Link:      "https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=%3Ccookie%20pagenumber=%222%22/%3E&$select=name,'x'",
		HighWater: 1<<62 + 7, Pages: 3, Read: 15000,
		LastPoll:  time.Date(2026, 11, 25, 10, 0, 0, 123456700, time.UTC),
		LastError: "throttled: 429",
		ReadID:    "0a1b2c3d",
		Sweep:     Sweep{Scan: "9f8e7d6c", Started: true, Version: 1<<40 + 3, Link: "https://org/api/data/v9.2/accounts?$skiptoken=x", Keys: 12345, Pages: 3},
		Swept:     17, SweptAt: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
	}
	if err := s.SaveEntity(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.ETag == "" {
		t.Fatal("SaveEntity did not set the ETag")
	}
	got, err := s.GetEntity(ctx, "prof", "account")
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag != st.ETag {
		t.Errorf("ETag after Get = %q, after Save = %q", got.ETag, st.ETag)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("GetEntity = %+v\nwant %+v", got, st)
	}

	// A zero LastPoll and an empty Link survive too, and no sweep.
	got.Phase, got.Link, got.LastPoll, got.LastError = PhaseDelta, "", time.Time{}, ""
	got.Sweep, got.Swept, got.SweptAt = Sweep{}, 0, time.Time{}
	if err := s.SaveEntity(ctx, &got); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetEntity(ctx, "prof", "account")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("GetEntity = %+v\nwant %+v", again, got)
	}
}

func TestSaveEntityConflict(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	// Two pollers both find no state and both try to create it.
	first := EntityState{Profile: "prof", Entity: "contact", Phase: PhaseInitial, Link: "first"}
	second := EntityState{Profile: "prof", Entity: "contact", Phase: PhaseInitial, Link: "second"}
	if err := s.SaveEntity(ctx, &first); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveEntity(ctx, &second); !errors.Is(err, ErrConflict) {
		t.Fatalf("second add = %v, want ErrConflict", err)
	}

	// Two pollers read the same version; the slower one loses.
	a, err := s.GetEntity(ctx, "prof", "contact")
	if err != nil {
		t.Fatal(err)
	}
	b := a
	a.Link, b.Link = "from-a", "from-b"
	if err := s.SaveEntity(ctx, &a); err != nil {
		t.Fatal(err)
	}
	staleETag := b.ETag
	if err := s.SaveEntity(ctx, &b); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale save = %v, want ErrConflict", err)
	}
	if b.ETag != staleETag {
		t.Errorf("a failed save changed the ETag")
	}
	got, err := s.GetEntity(ctx, "prof", "contact")
	if err != nil {
		t.Fatal(err)
	}
	if got.Link != "from-a" {
		t.Fatalf("stored link = %q, want the winner's", got.Link)
	}
	// The winner can keep going with its new ETag.
	a.Pages++
	if err := s.SaveEntity(ctx, &a); err != nil {
		t.Fatalf("winner's next save: %v", err)
	}

	// A row deleted under a writer is a lost race as well.
	if err := s.DeleteEntity(ctx, "prof", "contact"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveEntity(ctx, &a); !errors.Is(err, ErrConflict) {
		t.Fatalf("save after delete = %v, want ErrConflict", err)
	}
}

func TestConcurrentSaveEntityOneWinner(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := EntityState{Profile: "prof", Entity: "lead", Phase: PhaseDelta}
	if err := s.SaveEntity(ctx, &base); err != nil {
		t.Fatal(err)
	}
	const writers = 6
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := base
			st.Read = int64(i + 1)
			errs[i] = s.SaveEntity(ctx, &st)
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrConflict):
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won, want exactly 1 (%v)", won, errs)
	}
}

func TestAddCountersConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	zero, err := s.GetCounters(ctx, "prof", "account")
	if err != nil || !reflect.DeepEqual(zero, Counters{}) {
		t.Fatalf("GetCounters before any add = %+v, %v", zero, err)
	}
	const appliers, rounds = 6, 8
	latest := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, appliers*rounds)
	for a := range appliers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				d := Counters{Succeeded: 3, Failed: 1, Skipped: 2, Deleted: 1,
					LastApplied: latest.Add(-time.Duration(a*rounds+r) * time.Second)}
				if err := s.AddCounters(ctx, "prof", "account", d); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.GetCounters(ctx, "prof", "account")
	if err != nil {
		t.Fatal(err)
	}
	n := int64(appliers * rounds)
	want := Counters{Succeeded: 3 * n, Failed: n, Skipped: 2 * n, Deleted: n, LastApplied: latest}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetCounters = %+v, want %+v", got, want)
	}

	// Counters rows do not show up as entity state, and go with DeleteEntity.
	st := EntityState{Profile: "prof", Entity: "account", Phase: PhaseDelta}
	if err := s.SaveEntity(ctx, &st); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListEntities(ctx, "prof")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Entity != "account" || list[0].ETag != st.ETag {
		t.Fatalf("ListEntities = %+v, want only account with ETag %q", list, st.ETag)
	}
	if err := s.DeleteEntity(ctx, "prof", "account"); err != nil {
		t.Fatal(err)
	}
	if c, err := s.GetCounters(ctx, "prof", "account"); err != nil || !reflect.DeepEqual(c, Counters{}) {
		t.Fatalf("counters after DeleteEntity = %+v, %v", c, err)
	}
}

func TestEntityStateLimits(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	long := EntityState{Profile: "prof", Entity: "email", LastError: strings.Repeat("é", 10000)}
	if err := s.SaveEntity(ctx, &long); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetEntity(ctx, "prof", "email")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.LastError) > maxLastError || !utf8.ValidString(got.LastError) || !strings.HasPrefix(long.LastError, got.LastError) {
		t.Fatalf("LastError kept %d bytes (valid UTF-8: %v)", len(got.LastError), utf8.ValidString(got.LastError))
	}

	tooLong := EntityState{Profile: "prof", Entity: "task", Link: "https://x/?" + strings.Repeat("a", 33000)}
	if err := s.SaveEntity(ctx, &tooLong); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("SaveEntity with a 66 KB (UTF-16) link = %v, want ErrTooLarge", err)
	}
}

// The counters row carries the entity's latest apply error: the later one
// wins, increments without an error keep it, a row written before these
// fields existed reads as no error, and Waiting says whether batches wait
// for the destination now.
func TestCountersLastError(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	// A row as the previous version wrote it: no error fields.
	old := `{"PartitionKey":"prof","RowKey":"account~counters","Succeeded":"7","Succeeded@odata.type":"Edm.Int64","Failed":"0","Failed@odata.type":"Edm.Int64","Skipped":"0","Skipped@odata.type":"Edm.Int64","Deleted":"0","Deleted@odata.type":"Edm.Int64"}`
	if _, err := s.entities.AddEntity(ctx, []byte(old), nil); err != nil {
		t.Fatal(err)
	}
	c, err := s.GetCounters(ctx, "prof", "account")
	if err != nil || c.Succeeded != 7 || c.LastError != "" || !c.LastErrorAt.IsZero() || c.Waiting() {
		t.Fatalf("old row = %+v, %v", c, err)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		d       Counters
		err     string
		waiting bool
	}{
		{Counters{Succeeded: 1, LastApplied: t0}, "", false},
		{Counters{LastError: "connection refused", LastErrorClass: "transient", LastErrorAt: t0.Add(time.Minute)}, "connection refused", true},
		{Counters{LastError: "older error", LastErrorClass: "unknown", LastErrorAt: t0.Add(30 * time.Second)}, "connection refused", true},
		{Counters{Skipped: 1}, "connection refused", true},
		{Counters{Succeeded: 2, LastApplied: t0.Add(2 * time.Minute)}, "connection refused", false},
		{Counters{LastError: strings.Repeat("é", maxLastError), LastErrorClass: "record", LastErrorAt: t0.Add(3 * time.Minute)}, "é", false},
	}
	for i, st := range steps {
		if err := s.AddCounters(ctx, "prof", "account", st.d); err != nil {
			t.Fatal(err)
		}
		c, err := s.GetCounters(ctx, "prof", "account")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.LastError, st.err) || c.Waiting() != st.waiting || len(c.LastError) > maxLastError || !utf8.ValidString(c.LastError) {
			t.Fatalf("step %d: %+v (waiting %t); want error %q, waiting %t", i, c, c.Waiting(), st.err, st.waiting)
		}
	}
	if c, _ := s.GetCounters(ctx, "prof", "account"); c.Succeeded != 10 || c.Skipped != 1 || c.LastErrorClass != "record" || !c.LastErrorAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("final counters %+v", c)
	}
}
