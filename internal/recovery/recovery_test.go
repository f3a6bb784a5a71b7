package recovery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

func TestMain(m *testing.M) { azuritetest.Main(m) }

// memStates is an entity store and counter store in memory.
type memStates struct {
	mu       gosync.Mutex
	entities map[string]state.EntityState
	counters map[string]state.Counters
	saves    int
}

func newMemStates() *memStates {
	return &memStates{entities: map[string]state.EntityState{}, counters: map[string]state.Counters{}}
}

func (m *memStates) GetEntity(_ context.Context, p, e string) (state.EntityState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.entities[p+"/"+e]
	if !ok {
		return st, state.ErrNotFound
	}
	return st, nil
}

func (m *memStates) SaveEntity(_ context.Context, st *state.EntityState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	m.entities[st.Profile+"/"+st.Entity] = *st
	return nil
}

func (m *memStates) GetCounters(_ context.Context, p, e string) (state.Counters, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counters[p+"/"+e], nil
}

func (m *memStates) AddCounters(_ context.Context, p, e string, d state.Counters) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counters[p+"/"+e]
	c.Failed += d.Failed
	c.Succeeded += d.Succeeded
	c.Deleted += d.Deleted
	c.Skipped += d.Skipped
	m.counters[p+"/"+e] = c
	return nil
}

type oneSink struct{ s sink.Sink }

func (o oneSink) Sink(context.Context, profile.Profile) (sink.Sink, error) { return o.s, nil }

// rig is the emulator behind a real client, a SQLite destination holding
// the emulator's accounts, failures in Azurite and states in memory.
type rig struct {
	t      *testing.T
	emu    *dvemu.Emulator
	src    *dataverse.Client
	dest   *sqlite.Sink
	path   string
	fails  *failures.Store
	blobs  *azblob.Client
	states *memStates
	prof   profile.Profile
	svc    *Service
	meta   *dataverse.Entity
}

func newRig(t *testing.T, records int) *rig {
	t.Helper()
	ctx := t.Context()
	emu, err := dvemu.New(dvemu.Options{Records: records, RandSeed: 9})
	if err != nil {
		t.Fatal(err)
	}
	org := httptest.NewServer(emu)
	t.Cleanup(org.Close)
	src, err := dataverse.NewClient(org.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{PageSize: 7, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dest.db")
	dest, err := sqlite.Open(ctx, path, &sink.Options{WriteDeleteLog: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dest.Close() })
	blobs, err := azblob.NewClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := azuritetest.UniqueName("rec") + "-"
	fails, err := failures.NewStore(blobs, &failures.Options{ContainerPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pager := blobs.NewListContainersPager(&azblob.ListContainersOptions{Prefix: to.Ptr(prefix)})
		for pager.More() {
			page, err := pager.NextPage(context.Background())
			if err != nil {
				return
			}
			for _, c := range page.ContainerItems {
				_, _ = blobs.DeleteContainer(context.Background(), *c.Name, nil)
			}
		}
	})
	prof := profile.Profile{Name: "p", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.SQLite, Connection: path}, WriteDeleteLog: true}
	states := newMemStates()
	r := &rig{t: t, emu: emu, src: src, dest: dest, path: path, fails: fails, blobs: blobs, states: states, prof: prof}
	r.svc = New(Deps{Failures: fails, Source: src, Destinations: oneSink{dest}, Entities: states, Counters: states}, &Options{Logger: slog.New(slog.DiscardHandler)})
	if r.meta, err = src.Entity(ctx, "account"); err != nil {
		t.Fatal(err)
	}
	tbl, err := schema.Map(r.meta, schema.Options{Schema: sqlite.DefaultSchema})
	if err != nil {
		t.Fatal(err)
	}
	r.check(dest.EnsureTable(ctx, tbl))
	// The destination holds every account, as a finished initial read.
	ids := emu.IDs("account")
	cur, err := src.RecordsByID(ctx, r.meta, lower(ids))
	r.check(err)
	r.apply(record.Batch{Entity: "account", Columns: cur.Columns, Upserts: cur.Records})
	var hw int64
	for _, rec := range cur.Records {
		hw = max(hw, rec.Version)
	}
	r.check(states.SaveEntity(ctx, &state.EntityState{Profile: "p", Entity: "account", Phase: state.PhaseDelta, Link: "accounts?$deltatoken=1!x", HighWater: hw}))
	return r
}

func lower(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.ToLower(id)
	}
	return out
}

func (r *rig) check(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) table() schema.TableName { return dsync.TableName(r.prof, "account") }

func (r *rig) apply(b record.Batch) {
	r.t.Helper()
	res, err := r.dest.Apply(r.t.Context(), r.table(), b)
	if err != nil || len(res.Rejected) > 0 {
		r.t.Fatalf("apply: %v %v", err, res.Rejected)
	}
}

// keys are the destination's ids and versions.
func (r *rig) keys() map[string]int64 {
	r.t.Helper()
	out := map[string]int64{}
	r.check(r.dest.ScanKeys(r.t.Context(), r.table(), func(id string, v int64) error { out[id] = v; return nil }))
	return out
}

// fail keeps id as a failed record the way the applier does: its message
// (one record) as the payload, counted.
func (r *rig) fail(entity, id string, version int64, del bool) {
	r.t.Helper()
	m := dsync.Message{ID: "p/" + entity + "/1", Profile: "p", Entity: entity, Kind: dsync.KindDelta, Page: 1}
	change := failures.ChangeUpdate
	if del {
		m.Batch.Deletes = []record.Delete{{ID: id, Version: version}}
		change = failures.ChangeDelete
	} else {
		m.Batch.Columns = []record.Column{{Name: "name", Kind: record.String}}
		m.Batch.Upserts = []record.Record{{ID: id, Version: version, Values: []record.Value{record.StringValue("x")}}}
	}
	r.check(r.fails.WriteFailure(r.t.Context(), "p", entity, id, change, "planted", m.Encode()))
	r.check(r.states.AddCounters(r.t.Context(), "p", entity, state.Counters{Failed: 1}))
}

func (r *rig) failed() map[string]int {
	r.t.Helper()
	out := map[string]int{}
	for f, err := range r.fails.List(r.t.Context(), "p", "") {
		r.check(err)
		out[f.RecordID]++
	}
	return out
}

// exec runs a statement on the destination beside the sink, as a DBA would.
func (r *rig) exec(q string, args ...any) {
	r.t.Helper()
	db, err := sql.Open("sqlite", r.path)
	r.check(err)
	defer db.Close()
	_, err = db.ExecContext(r.t.Context(), q, args...)
	r.check(err)
}

// refuse makes SQLite refuse rows of account whose name is value.
func (r *rig) refuse(value string) {
	r.t.Helper()
	db, err := sql.Open("sqlite", r.path)
	r.check(err)
	defer db.Close()
	for _, op := range []string{"INSERT", "UPDATE"} {
		_, err := db.ExecContext(r.t.Context(), fmt.Sprintf(`CREATE TRIGGER refuse_%s BEFORE %s ON account WHEN NEW.name = '%s' BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END`, strings.ToLower(op), op, value))
		r.check(err)
	}
}

// TestResyncFailures: a record missing from the destination comes back,
// one deleted in the source meanwhile is applied as a delete (tombstoned
// at the high water, logged), one the destination still refuses gets a
// forcerefreshfailurelog line and keeps its data/ blob; the counter comes
// down by the resolved; failures of an entity not exported stay; Max
// leaves the rest for the next run.
func TestResyncFailures(t *testing.T) {
	r := newRig(t, 12)
	ctx := t.Context()
	ids := lower(r.emu.IDs("account"))
	missing, deleted, refused, twice := ids[1], ids[2], ids[3], ids[4]
	hw := r.states.entities["p/account"].HighWater

	// missing: its upsert failed, so the row is not in the destination.
	r.exec(`DELETE FROM account WHERE "Id" = ?`, missing)
	r.fail("account", missing, hw, false)
	// deleted: deleted in the source; its delete failed, the row remains.
	r.check(r.emu.Delete("account", deleted))
	r.fail("account", deleted, hw+5, true)
	// refused: the destination still refuses it.
	r.check(r.emu.Update("account", refused, map[string]any{"name": "never"}))
	r.refuse("never")
	r.fail("account", refused, hw+1, false)
	// twice: failed two times; both blobs resolve together.
	r.fail("account", twice, hw, false)
	r.fail("account", twice, hw, false)
	// not exported any more
	r.fail("contact", "00000000-0000-4000-8000-0000000000c1", 5, false)

	before := r.keys()
	if _, ok := before[deleted]; !ok {
		t.Fatal("setup: the deleted record should still be in the destination")
	}
	if _, ok := before[missing]; ok {
		t.Fatal("setup: the missing record should not be in the destination")
	}

	rep, err := r.svc.ResyncFailures(ctx, r.prof, ResyncOptions{Max: 3})
	r.check(err)
	if rep.Remaining != 2 || rep.Skipped != 1 || rep.Resolved+rep.FailedAgain != 3 {
		t.Fatalf("first run with Max 3: %+v; want 3 taken, 2 remaining, 1 skipped", rep)
	}
	rep2, err := r.svc.ResyncFailures(ctx, r.prof, ResyncOptions{})
	r.check(err)
	if rep2.Remaining != 0 || rep2.Skipped != 1 {
		t.Fatalf("second run: %+v", rep2)
	}
	resolved, again := rep.Resolved+rep2.Resolved, rep.FailedAgain+rep2.FailedAgain
	// The refused record may have been taken by either run, and is taken
	// again by the second if the first took it.
	if resolved != 4 || again < 1 {
		t.Fatalf("resolved %d, failed again %d; want 4 resolved (missing, deleted, twice ×2) and the refused one again", resolved, again)
	}
	left := r.failed()
	if len(left) != 2 || left[refused] != 1 || left["00000000-0000-4000-8000-0000000000c1"] != 1 {
		t.Fatalf("failed records left %v; want the refused one and the contact", left)
	}
	after := r.keys()
	if _, ok := after[missing]; !ok {
		t.Error("the missing record did not come back")
	}
	if _, ok := after[deleted]; ok {
		t.Error("the record deleted in the source is still in the destination")
	}
	tombs, err := r.dest.Tombstones(ctx, r.table())
	r.check(err)
	if tombs[deleted] < hw+5 {
		t.Errorf("tombstone of the deleted record at %d, want at least its last version %d", tombs[deleted], hw+5)
	}
	// An older upsert of the deleted record stays out.
	if res, err := r.dest.Apply(ctx, r.table(), record.Batch{Entity: "account", Columns: []record.Column{{Name: "name", Kind: record.String}},
		Upserts: []record.Record{{ID: deleted, Version: hw + 4, Values: []record.Value{record.StringValue("late")}}}}); err != nil || res.Skipped != 1 {
		t.Fatalf("late upsert after the resync's delete: %+v, %v", res, err)
	}
	if c := r.states.counters["p/account"]; c.Failed != 1 {
		t.Fatalf("account Failed counter %d, want 1 (the refused record)", c.Failed)
	}
	// The refusal is in forcerefreshfailurelog/ in the documented format.
	lines, err := r.fails.LatestLines(ctx, "p", failures.ResyncLogFolder, 10)
	r.check(err)
	if len(lines) != again || !strings.HasPrefix(lines[0].Line, "Entity: account, RecordId: "+refused+", NotificationTime: ") || !strings.Contains(lines[0].Line, "refused by a trigger") {
		t.Fatalf("forcerefreshfailurelog lines %q", lines)
	}

	// Once the destination takes it, a resync clears it and the counter is 0.
	r.exec(`DROP TRIGGER refuse_insert`)
	r.exec(`DROP TRIGGER refuse_update`)
	rep3, err := r.svc.ResyncFailures(ctx, r.prof, ResyncOptions{Entity: "account"})
	r.check(err)
	if rep3.Resolved != 1 || rep3.FailedAgain != 0 || r.states.counters["p/account"].Failed != 0 || r.failed()[refused] != 0 {
		t.Fatalf("after the fix: %+v, counter %d, left %v", rep3, r.states.counters["p/account"].Failed, r.failed())
	}
}

// TestResyncFailuresSourceDown: the source cannot be read: nothing is
// resolved, the failures stay, the error names the entity.
func TestResyncFailuresSourceDown(t *testing.T) {
	r := newRig(t, 5)
	id := lower(r.emu.IDs("account"))[0]
	r.fail("account", id, 1, false)
	bad := *r.svc
	bad.d.Source = downSource{r.src}
	rep, err := bad.ResyncFailures(t.Context(), r.prof, ResyncOptions{})
	if err == nil || !strings.Contains(err.Error(), "account") || len(rep.Entities) != 1 || rep.Entities[0].Err == "" {
		t.Fatalf("ResyncFailures with the source down = %+v, %v", rep, err)
	}
	if r.failed()[id] != 1 || r.states.counters["p/account"].Failed != 1 {
		t.Fatal("a failed resync cleared the failure")
	}
}

type downSource struct{ *dataverse.Client }

func (downSource) RecordsByID(context.Context, *dataverse.Entity, []string) (*dataverse.CurrentRecords, error) {
	return nil, errors.New("dataverse: 503 Service Unavailable")
}

// TestReconcile plants missing, extra and stale rows and finds exactly
// them, with exact counts; a tiny memory budget examines part of the
// differing buckets and says so.
func TestReconcile(t *testing.T) {
	r := newRig(t, 60)
	ctx := t.Context()
	rep, err := r.svc.Reconcile(ctx, r.prof, "account", ReconcileOptions{})
	r.check(err)
	if !rep.Equal || rep.SourceRows != 60 || rep.DestinationRows != 60 || rep.DifferingBuckets != 0 || !rep.Complete {
		t.Fatalf("reconcile of an equal table: %+v", rep)
	}

	ids := lower(r.emu.IDs("account"))
	cols := []record.Column{{Name: "name", Kind: record.String}}
	// missing: removed from the destination only.
	wantMissing := []string{ids[3], ids[17], ids[40]}
	for _, id := range wantMissing {
		r.exec(`DELETE FROM account WHERE "Id" = ?`, id)
	}
	// stale: the source moved on.
	wantStale := []string{ids[5], ids[22]}
	for _, id := range wantStale {
		r.check(r.emu.Update("account", id, map[string]any{"name": "moved on"}))
	}
	// extra: in the destination, not in the source.
	wantExtra := []string{"0fffffff-0000-4000-8000-000000000001", "0fffffff-0000-4000-8000-000000000002"}
	for _, id := range wantExtra {
		r.apply(record.Batch{Entity: "account", Columns: cols, Upserts: []record.Record{{ID: id, Version: 7, Values: []record.Value{record.StringValue("ghost")}}}})
	}
	slices.Sort(wantMissing)

	rep, err = r.svc.Reconcile(ctx, r.prof, "account", ReconcileOptions{})
	r.check(err)
	if rep.Equal || !rep.Complete || rep.SourceRows != 60 || rep.DestinationRows != 59 {
		t.Fatalf("report %+v", rep)
	}
	if !slices.Equal(rep.Missing, wantMissing) || rep.MissingCount != 3 {
		t.Errorf("missing %v (%d), want %v", rep.Missing, rep.MissingCount, wantMissing)
	}
	if !slices.Equal(rep.Extra, wantExtra) || rep.ExtraCount != 2 {
		t.Errorf("extra %v (%d), want %v", rep.Extra, rep.ExtraCount, wantExtra)
	}
	var stale []string
	for _, s := range rep.Stale {
		stale = append(stale, s.ID)
		if s.SourceVersion <= s.DestinationVersion {
			t.Errorf("stale %+v: the source's version should be the newer", s)
		}
	}
	slices.Sort(wantStale)
	if !slices.Equal(stale, wantStale) || rep.StaleCount != 2 {
		t.Errorf("stale %v (%d), want %v", stale, rep.StaleCount, wantStale)
	}
	if rep.DifferingBuckets < 1 || rep.DifferingBuckets > 7 {
		t.Errorf("%d differing buckets for 7 differences", rep.DifferingBuckets)
	}

	// Limit and a budget of a few keys: the first bucket only, counted as such.
	small, err := r.svc.Reconcile(ctx, r.prof, "account", ReconcileOptions{Limit: 1, Buckets: 4, MaxDetailKeys: 5})
	r.check(err)
	if small.Complete || small.MissingCount+small.ExtraCount+small.StaleCount == 0 || len(small.Missing) > 1 || len(small.Extra) > 1 || len(small.Stale) > 1 || !strings.Contains(small.Note, "examined") {
		t.Fatalf("with a budget of 5 keys: %+v", small)
	}
	// One bucket holds everything: the counts are the whole table's.
	one, err := r.svc.Reconcile(ctx, r.prof, "account", ReconcileOptions{Buckets: 1, MaxDetailKeys: 10})
	r.check(err)
	if !one.Complete || one.MissingCount != 3 || one.ExtraCount != 2 || one.StaleCount != 2 || one.DifferingBuckets != 1 || one.DestinationAhead != 0 {
		t.Fatalf("one bucket (over the budget, examined anyway): %+v", one)
	}
	// A destination ahead of the source (the source went back: restored):
	// said so, with the way out.
	r.exec(`UPDATE account SET versionnumber = versionnumber + 1000 WHERE "Id" = ?`, ids[30])
	back, err := r.svc.Reconcile(ctx, r.prof, "account", ReconcileOptions{})
	r.check(err)
	if back.DestinationAhead != 1 || back.StaleCount != 3 || !strings.Contains(back.Note, "re-baseline") {
		t.Fatalf("destination ahead: %+v", back)
	}
}

// TestResyncEntity: the entity starts again from the start, keeping its
// high water; a blocked one is refused; one never polled needs nothing.
func TestResyncEntity(t *testing.T) {
	r := newRig(t, 3)
	ctx := t.Context()
	st := r.states.entities["p/account"]
	st.Sweep = state.Sweep{Scan: "old", Started: true, Version: 9}
	r.states.entities["p/account"] = st
	res, err := r.svc.ResyncEntity(ctx, r.prof, "account")
	r.check(err)
	got := r.states.entities["p/account"]
	if res.PreviousPhase != state.PhaseDelta || got.Phase != state.PhaseInitial || got.Link != "" || got.HighWater != st.HighWater || got.Sweep.Scan != "old" {
		t.Fatalf("after the resync: %+v, state %+v", res, got)
	}
	if res, err := r.svc.ResyncEntity(ctx, r.prof, "contact"); err != nil || res.PreviousPhase != state.PhaseNotStarted {
		t.Fatalf("never polled: %+v, %v", res, err)
	}
	got.Phase, got.LastError = state.PhaseBlocked, "column name changed type"
	r.states.entities["p/account"] = got
	if _, err := r.svc.ResyncEntity(ctx, r.prof, "account"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("blocked: %v", err)
	}
}

// TestFailuresSummary: counts per entity and folder, the latest lines, and
// a read-only URL that reads the failures and expires within 24 hours.
func TestFailuresSummary(t *testing.T) {
	r := newRig(t, 3)
	ctx := t.Context()
	ids := lower(r.emu.IDs("account"))
	r.fail("account", ids[0], 1, false)
	r.fail("account", ids[1], 1, true)
	r.fail("contact", "00000000-0000-4000-8000-0000000000c1", 1, false)
	r.check(r.fails.WriteUnprocessable(ctx, "p", []byte("junk"), "bad"))
	rep, err := r.svc.Failures(ctx, r.prof, FailuresOptions{Lines: 2, URLLifetime: 48 * time.Hour})
	r.check(err)
	if rep.FailedRecords != 3 || rep.FailedNotifications != 3 || rep.UnprocessableMessages != 1 || len(rep.Entities) != 2 || len(rep.LatestFailures) != 2 {
		t.Fatalf("summary %+v", rep)
	}
	if rep.URLExpires == nil || rep.URLExpires.After(time.Now().Add(24*time.Hour+time.Minute)) || !strings.Contains(rep.URL, "sp=rl") {
		t.Fatalf("URL %q expiring %v; want read+list, at most 24 hours", rep.URL, rep.URLExpires)
	}
	c, err := azblob.NewClientWithNoCredential(strings.Replace(rep.URL, "/"+rep.Container+"?", "?", 1), nil)
	r.check(err)
	resp, err := c.DownloadStream(ctx, rep.Container, rep.LatestFailures[0].Blob, nil)
	r.check(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "Entity: ") {
		t.Fatalf("the URL read %q", b)
	}
}
