package tests

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

var metadataVersionProp = regexp.MustCompile(`,?"@Microsoft\.Dynamics\.CRM\.globalmetadataversion":"[^"]*"`)

// TestColumnAddedReachesEveryRow is the acceptance of the SchemaChange
// function: a column added in the emulator reaches every row within one
// SchemaChange cycle (one run of the function, then one poll, the queue
// drained), including rows changed before the change was noticed, whose
// version does not change again.
//
//   - announced: the next page carries another globalmetadataversion. The
//     poller drops it, hands the entity over and reads nothing until the
//     table has the column; the rows changed since are read again.
//   - found by the check: the annotation never comes (as Dataverse may
//     not send it on change-tracking pages), so rows changed after the
//     column appeared are read and applied without it; SchemaChange finds
//     the change when it reads the definition again and, not knowing when
//     it happened, has every row read again.
func TestColumnAddedReachesEveryRow(t *testing.T) {
	for _, dest := range []string{"sqlite", "postgres"} {
		for _, announced := range []bool{true, false} {
			name := dest + "/found by the check"
			if announced {
				name = dest + "/announced by a page"
			}
			t.Run(name, func(t *testing.T) {
				columnAdded(t, dest, announced)
			})
		}
	}
}

func columnAdded(t *testing.T, destName string, announced bool) {
	emu, err := dvemu.New(dvemu.Options{Records: 23, RandSeed: 7})
	if err != nil {
		t.Fatal(err)
	}
	// Without the announcement: the account pages lose the annotation.
	strip := &corrupter{next: emu,
		match: func(*http.Request, []byte) bool { return true },
		fault: func(b []byte) []byte { return metadataVersionProp.ReplaceAll(b, nil) }}
	strip.armed.Store(!announced)
	org := httptest.NewServer(strip)
	t.Cleanup(org.Close)
	dest, schemaName := destinations(t)[destName](t)
	e := newEnvFrom(t, dest, schemaName, emu, map[string]string{"DATAVERSE_URL": org.URL})
	e.sync()
	before, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
	e.check(err)

	e.check(e.emu.AddAttribute("account", dvemu.Attribute{LogicalName: "new_region", SchemaName: "new_Region", Type: dvemu.String, MaxLength: 40, IsCustomAttribute: true}))
	ids := e.emu.IDs("account")
	// Rows changed after the column appeared, before anything noticed it.
	e.check(e.emu.Update("account", ids[0], map[string]any{"new_region": "EMEA"}))
	e.check(e.emu.Update("account", ids[1], map[string]any{"new_region": "APAC", "name": "Renamed with a region"}))
	e.check(e.emu.Update("account", ids[2], map[string]any{"name": "Renamed without one"}))

	poll := func() []dsync.EntityResult {
		t.Helper()
		res, err := e.app.Poller.PollAll(t.Context())
		if err == nil {
			err = dsync.ResultsErr(res)
		}
		e.check(err)
		return res
	}
	drain := func() {
		t.Helper()
		if _, err := e.host.DrainQueue(t.Context(), applyFn); err != nil {
			t.Fatal(err)
		}
	}
	account := func(res []dsync.EntityResult) dsync.EntityResult {
		for _, r := range res {
			if r.Entity == "account" {
				return r
			}
		}
		t.Fatal("no result for account")
		return dsync.EntityResult{}
	}

	var changer *dsync.SchemaChanger
	if announced {
		// The page announces the change: nothing of it is sent, the entity
		// waits for SchemaChange, and keeps waiting however often it polls.
		for range 2 {
			if r := account(poll()); !r.SchemaPending || r.Upserts != 0 {
				t.Fatalf("poll after the change: %+v; want it waiting for SchemaChange", r)
			}
		}
		st, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
		e.check(err)
		if st.SchemaWanted == "" || st.SchemaSince != before.HighWater || st.Link != before.Link || st.Schema != before.Schema {
			t.Fatalf("state after the hand-over: %+v (high water before %d)", st, before.HighWater)
		}
		changer = e.app.SchemaChanger
	} else {
		// Unannounced: the changed rows go out without the column, and the
		// destination applies them as the table is.
		if r := account(poll()); r.SchemaPending || r.Upserts != 3 {
			t.Fatalf("poll after the change: %+v; want the three rows read", r)
		}
		drain()
		// SchemaChange's next look at the definition, CheckEvery later.
		later := func() time.Time { return time.Now().Add(11 * time.Minute) }
		changer = dsync.NewSchemaChanger(e.app.Source, e.app.Store, e.app.Store, e.app.Pool, e.app.Failures,
			&dsync.SchemaChangeOptions{Now: later, Logger: slog.New(slog.NewTextHandler(&syncWriter{buf: e.logs}, nil))})
	}

	// One SchemaChange cycle: the function runs once, the poller once.
	results, err := changer.RunAll(t.Context())
	e.check(err)
	e.check(dsync.SchemaResultsErr(results))
	var r dsync.SchemaResult
	for _, x := range results {
		if x.Entity == "account" {
			r = x
		}
	}
	wantSince := int64(0)
	if announced {
		wantSince = before.HighWater
	}
	if r.Action != dsync.SchemaEvolved || !slices.Equal(r.Added, []string{"new_region"}) || !r.Backfill || r.BackfillSince != wantSince {
		t.Fatalf("SchemaChange: %+v; want new_region added and rows after %d read again", r, wantSince)
	}
	res := account(poll())
	if res.SchemaPending || res.Backfilled == 0 || (!announced && res.Backfilled != len(ids)) {
		t.Fatalf("poll after SchemaChange: %+v", res)
	}
	drain()
	cols := e.columns("account")
	if !slices.ContainsFunc(cols, func(c record.Column) bool { return c.Name == "new_region" }) {
		t.Fatal("new_region is not among the replicated columns")
	}
	e.assertMatch("one SchemaChange cycle after the column was added")
	st, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
	e.check(err)
	if st.Backfill.Pending || st.SchemaWanted != "" || st.Schema == before.Schema {
		t.Fatalf("state after the cycle: %+v", st)
	}

	// The three rows kept their versions: the backfill filled them at the
	// version the first read had written.
	for i, id := range ids[:3] {
		v, ok := e.stored("account", id)
		want, _ := e.emu.Get("account", id)
		if !ok || v != want["versionnumber"].(int64) {
			t.Errorf("row %d: stored version %d, want %v", i, v, want["versionnumber"])
		}
	}

	// The DES metadata tables know the attribute too.
	s, err := e.app.Pool.Sink(t.Context(), e.prof)
	e.check(err)
	attrs, err := s.(sink.MetadataWriter).ReadMetadata(t.Context(), "AttributeMetadata")
	e.check(err)
	if !slices.ContainsFunc(attrs, func(r []record.Value) bool {
		return slices.ContainsFunc(r, func(v record.Value) bool { return v.S == "new_region" })
	}) {
		t.Error("AttributeMetadata has no row for new_region")
	}

	// Later changes carry the column as any other.
	e.check(e.emu.Update("account", ids[3], map[string]any{"new_region": "LATAM"}))
	e.sync()
	e.assertMatch("after a later change")
}

// retypedSource is the source's metadata with one attribute of account
// turned into a string, as after a customizer deleted a whole-number column
// and created a text column of the same name.
type retypedSource struct {
	dsync.MetadataSource
	attr string
}

// BaseLanguage passes on the org's base language: the label views are
// made in it, and a table's fingerprint counts it.
func (s retypedSource) BaseLanguage(ctx context.Context) (int, error) {
	return s.MetadataSource.(dsync.LanguageSource).BaseLanguage(ctx)
}

func (s retypedSource) Entity(ctx context.Context, name string) (*dataverse.Entity, error) {
	e, err := s.MetadataSource.Entity(ctx, name)
	if err != nil || name != "account" {
		return e, err
	}
	c := *e
	c.Attributes = slices.Clone(e.Attributes)
	for i := range c.Attributes {
		if c.Attributes[i].LogicalName == s.attr {
			c.Attributes[i].Type, c.Attributes[i].MaxLength = dataverse.TypeString, 100
		}
	}
	return &c, nil
}

// TestSchemaChangeBlocksATypeChange: a column that changes type cannot be
// evolved in place. The entity is blocked with the reason in its status, a
// metadata/ failed record says why, the other entities go on, and a
// re-baseline brings it back.
func TestSchemaChangeBlocksATypeChange(t *testing.T) {
	dest, schemaName := destinations(t)["postgres"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	changer := dsync.NewSchemaChanger(retypedSource{MetadataSource: e.app.Source, attr: "numberofemployees"}, e.app.Store, e.app.Store, e.app.Pool, e.app.Failures,
		&dsync.SchemaChangeOptions{Now: func() time.Time { return time.Now().Add(11 * time.Minute) }, Logger: slog.New(slog.NewTextHandler(&syncWriter{buf: e.logs}, nil))})
	results, err := changer.RunAll(t.Context())
	e.check(err)
	for _, r := range results {
		want := dsync.SchemaUnchanged
		if r.Entity == "account" {
			want = dsync.SchemaBlocked
		}
		if r.Action != want || r.Err != nil {
			t.Fatalf("%s: %+v, want %s", r.Entity, r, want)
		}
	}
	status, err := e.app.Manage.Status(t.Context(), e.prof.Name)
	e.check(err)
	for _, es := range status.Entities {
		blocked := es.Phase == state.PhaseBlocked && strings.Contains(es.Description, "numberofemployees") && strings.Contains(es.Description, "rebaseline")
		if (es.Entity == "account") != blocked {
			t.Errorf("%s status %+v", es.Entity, es)
		}
	}
	blobs, err := azblob.NewClientFromConnectionString(azuritetest.ConnString(), nil)
	e.check(err)
	pager := blobs.NewListBlobsFlatPager(e.app.Failures.ContainerName(e.prof.Name), &azblob.ListBlobsFlatOptions{Prefix: to.Ptr("metadata/account/")})
	var names []string
	for pager.More() {
		page, err := pager.NextPage(t.Context())
		e.check(err)
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	if len(names) != 1 {
		t.Fatalf("metadata/account/ holds %v, want one failed record", names)
	}
	// Blocked: the poller skips it, the other entities go on.
	e.check(e.emu.Update("contact", e.emu.IDs("contact")[0], map[string]any{"lastname": "Still replicated"}))
	res, err := e.app.Poller.PollAll(t.Context())
	e.check(err)
	for _, r := range res {
		if (r.Entity == "account") != (r.Err != nil) {
			t.Errorf("poll of %s while account is blocked: %+v", r.Entity, r)
		}
	}
	// The way out: the table is dropped and read again; the source's real
	// definition is unchanged here, so it comes back as it was.
	e.check(e.app.Manage.Rebaseline(t.Context(), e.prof.Name, "account"))
	e.sync()
	e.assertMatch("after the re-baseline")
}

// TestSchemaChangeHostInvocation drives a schema change through the
// handler with the host's exact invocation JSON: the poll that meets the
// change says it waits, SchemaChange's timer invocation answers the host's
// envelope naming what it did, and the poll after it fills the column.
func TestSchemaChangeHostInvocation(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	e.check(e.emu.AddAttribute("contact", dvemu.Attribute{LogicalName: "new_tier", SchemaName: "new_Tier", Type: dvemu.String, MaxLength: 20, IsCustomAttribute: true}))
	x := e.emu.IDs("contact")[2]
	e.check(e.emu.Update("contact", x, map[string]any{"new_tier": "Gold"}))

	poll := `{"Data":{"pollTimer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-25T09:00:00.0040000+00:00","Next":"2026-11-25T09:05:00+00:00","LastUpdated":"2026-11-25T09:00:00.0040000+00:00"},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"ChangePoller","UtcNow":"2026-11-25T09:05:00.012Z","RandGuid":"fa3b2fbc-26ed-4fcb-be75-82db8773b519"}}}`
	schemaInv := `{"Data":{"schemaTimer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-25T09:00:00.0040000+00:00","Next":"2026-11-25T09:00:30+00:00","LastUpdated":"2026-11-25T09:00:00.0040000+00:00"},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"SchemaChange","UtcNow":"2026-11-25T09:00:30.008Z","RandGuid":"5d0c3a51-8e64-4b2a-9a52-3f0f2a0e7c11"}}}`
	status, resp := postJSON(t, e.handlerURL+"/ChangePoller", poll)
	if status != 200 || !strings.Contains(resp, "/contact phase=delta pages=0 upserts=0 deletes=0 messages=0 caughtUp=false waiting=SchemaChange") {
		t.Fatalf("poll after the change: %d %s", status, resp)
	}
	status, resp = postJSON(t, e.handlerURL+"/SchemaChange", schemaInv)
	if status != 200 || !strings.Contains(resp, `"Outputs":{}`) || !strings.Contains(resp, `"ReturnValue":null`) ||
		!strings.Contains(resp, "/contact evolved schema=") || !strings.Contains(resp, "added=new_tier backfill=changedAfter:") {
		t.Fatalf("SchemaChange invocation: %d %s", status, resp)
	}
	if strings.Contains(resp, "/account ") {
		t.Errorf("SchemaChange logged account, which it had nothing to do for: %s", resp)
	}
	status, resp = postJSON(t, e.handlerURL+"/ChangePoller", poll)
	if status != 200 || !strings.Contains(resp, "/contact phase=delta") || !strings.Contains(resp, "backfilled=") {
		t.Fatalf("poll after SchemaChange: %d %s", status, resp)
	}
	if _, err := e.host.DrainQueue(t.Context(), applyFn); err != nil {
		t.Fatal(err)
	}
	e.assertMatch("after the host-shaped invocations")
}
