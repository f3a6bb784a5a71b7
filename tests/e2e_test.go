// Package tests holds the end-to-end tests: the emulated Dataverse, the
// standalone Functions host driving the real handler server over HTTP, Azurite
// for state and queue, and live SQLite and PostgreSQL destinations.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/app"
	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/funchost"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/settings"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
)

const (
	pollFn  = "ChangePoller"
	applyFn = "RecordApplierQueue"
	pgURL   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// entities are the entities a test env replicates unless it names others.
var entities = []string{"account", "contact"}

// env is one running pipeline: emulator, app, standalone host, destination.
type env struct {
	t          *testing.T
	emu        *dvemu.Emulator
	app        *app.App
	host       *funchost.Host
	handlerURL string
	settings   *settings.Settings
	prof       profile.Profile
	logs       *bytes.Buffer
	// born is the emulator's version when the env was made: rows at or
	// below it existed before anything was read.
	born int64
	// view is the account table's label view, for the tests that read it.
	view string
}

func suffix() string { return fmt.Sprintf("%08x", rand.Uint32()) }

func newEnv(t *testing.T, dest profile.Destination, schemaName string) *env {
	t.Helper()
	emu, err := dvemu.New(dvemu.Options{Records: 23, RandSeed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvFrom(t, dest, schemaName, emu, nil)
}

// newEnvFrom builds a pipeline around emu; extra settings override the defaults.
func newEnvFrom(t *testing.T, dest profile.Destination, schemaName string, emu *dvemu.Emulator, extra map[string]string, ents ...string) *env {
	t.Helper()
	ctx := t.Context()
	org := httptest.NewServer(emu)
	t.Cleanup(org.Close)

	id := suffix()
	values := map[string]string{
		"AzureWebJobsStorage": "UseDevelopmentStorage=true",
		"DATAVERSE_URL":       org.URL,
		"DATAVERSE_TOKEN":     dvemu.DefaultToken,
		// The emulator has no service protection here: no need to pace.
		"DATAVERSE_REQUESTS_PER_SECOND": "-1",
		"DATAVERSE_PAGE_SIZE":           "7", // several pages per read, several messages per poll
		"POLL_SCHEDULE":                 "0 0 0 1 1 *",
		"RECORDS_QUEUE":                 "e2e-" + id,
		"STATE_PROFILES_TABLE":          "e2eprofiles" + id,
		"STATE_ENTITIES_TABLE":          "e2eentities" + id,
		"HOST_JSON":                     "../host.json",
		"FAILURES_CONTAINER_PREFIX":     "e2e" + id + "-",
		// The destinations' connection strings are plain (no Key Vault).
		"LOCAL_DEVELOPMENT": "true",
	}
	for k, v := range extra {
		values[k] = v
	}
	s := settings.FromMap(values)
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(&syncWriter{buf: logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.Build(ctx, s, log)
	if err != nil {
		t.Fatalf("building the app (is Azurite running? scripts/azurite.sh start): %v", err)
	}
	t.Cleanup(a.Close)
	if len(ents) == 0 {
		ents = entities
	}
	prof := profile.Profile{Name: "e2e" + id, Entities: ents, Schema: schemaName, Destination: dest, WriteDeleteLog: true}
	if err := a.Store.PutProfile(ctx, prof); err != nil {
		t.Fatal(err)
	}
	h, url, stop, err := a.StartLocal(ctx, s, "../functions", "../host.json", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return &env{t: t, emu: emu, app: a, host: h, handlerURL: url, settings: s, prof: prof, logs: logs, born: emu.Version()}
}

// sync fires the poller and drains the queue until a poll finds nothing new
// and every entity has reached its delta link.
func (e *env) sync() {
	e.t.Helper()
	ctx := e.t.Context()
	for round := 0; round < 30; round++ {
		if err := e.host.FireTimer(ctx, pollFn); err != nil {
			e.t.Fatalf("round %d: %v", round, err)
		}
		n, err := e.host.DrainQueue(ctx, applyFn)
		if err != nil {
			e.t.Fatalf("round %d: draining: %v", round, err)
		}
		if n == 0 && e.caughtUp() {
			return
		}
	}
	e.t.Fatal("the pipeline did not catch up in 30 rounds")
}

// caughtUp: every entity reads from its delta link, and no full read
// still has its sweep to finish.
func (e *env) caughtUp() bool {
	for _, ent := range e.prof.Entities {
		st, err := e.app.Store.GetEntity(e.t.Context(), e.prof.Name, ent)
		if err != nil || st.Phase != state.PhaseDelta || st.Sweep.Scan != "" {
			return false
		}
	}
	return true
}

func (e *env) table(entity string) schema.TableName {
	return schema.Options{Schema: e.prof.SchemaOrDefault(), Prefix: e.prof.Prefix}.TableName(entity)
}

// columns are the replicated columns of an entity, read from the metadata.
func (e *env) columns(entity string) []record.Column {
	meta, err := e.app.Source.Entity(e.t.Context(), entity)
	if err != nil {
		e.t.Fatal(err)
	}
	var cols []record.Column
	for _, f := range dataverse.Fields(meta) {
		cols = append(cols, f.Column)
	}
	return cols
}

// source is the emulator's current rows, converted independently of the
// product's client: straight from the emulator's own store. A lookup's
// helper columns hold what Dataverse annotates its value with: the
// target's entity and primary name.
func (e *env) source(entity string, cols []record.Column) []record.Record {
	meta, err := e.app.Source.Entity(e.t.Context(), entity)
	if err != nil {
		e.t.Fatal(err)
	}
	helpers := map[string]dataverse.Field{}
	for _, f := range dataverse.Fields(meta) {
		if f.Helper != dataverse.NotHelper {
			helpers[f.Column.Name] = f
		}
	}
	var out []record.Record
	for _, id := range e.emu.IDs(entity) {
		vals, ok := e.emu.Get(entity, id)
		if !ok {
			e.t.Fatalf("%s %s vanished", entity, id)
		}
		r := record.Record{ID: strings.ToLower(id), Version: toInt(e.t, vals["versionnumber"])}
		for _, c := range cols {
			if h, ok := helpers[c.Name]; ok {
				r.Values = append(r.Values, e.helperValue(h, vals))
				continue
			}
			r.Values = append(r.Values, toValue(e.t, c, vals))
		}
		out = append(out, r)
	}
	return out
}

// helperValue is what a lookup helper column must hold for a row of the
// emulator's store. A name is the target's current one, unless the target
// went away, or changed after the env was made and after the row last
// did: the row may have been read with the name of then, and Dataverse
// reports no change of the row for it (the name is a copy made at read
// time, as in DES). Such a cell is a staleName.
func (e *env) helperValue(h dataverse.Field, vals map[string]any) record.Value {
	ref, ok := vals[h.Lookup.LogicalName].(dvemu.Ref)
	if !ok {
		return record.Value{}
	}
	if h.Helper != dataverse.HelperName {
		return record.StringValue(ref.Entity)
	}
	target, live := e.emu.Get(ref.Entity, ref.ID)
	if !live || toInt(e.t, target["versionnumber"]) > max(e.born, toInt(e.t, vals["versionnumber"])) {
		return record.Value{Kind: record.String, S: staleName}
	}
	name, ok := e.emu.Name(ref.Entity, ref.ID)
	if !ok {
		return record.Value{}
	}
	return record.StringValue(name)
}

// staleName marks an expected lookup name that may hold an older name of
// its target (see helperValue).
const staleName = "\x00stale name\x00"

// keepStaleNames takes the destination's value for every staleName cell
// of src when it is a name (any string) or null.
func keepStaleNames(src, dst []record.Record) {
	byID := make(map[string]record.Record, len(dst))
	for _, r := range dst {
		byID[r.ID] = r
	}
	for _, r := range src {
		d, ok := byID[r.ID]
		for i, v := range r.Values {
			if v.Kind == record.String && v.S == staleName && ok && i < len(d.Values) && (d.Values[i].IsNull() || d.Values[i].Kind == record.String) {
				r.Values[i] = d.Values[i]
			}
		}
	}
}

func (e *env) destination(entity string, cols []record.Column) []record.Record {
	s, err := e.app.Pool.Sink(e.t.Context(), e.prof)
	if err != nil {
		e.t.Fatal(err)
	}
	rows, err := s.(sink.Reader).Rows(e.t.Context(), e.table(entity), cols)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// assertMatch checks, row by row and column by column, that the destination
// equals the source.
func (e *env) assertMatch(stage string) {
	e.t.Helper()
	for _, ent := range e.prof.Entities {
		if d, nsrc, ndst := e.diff(ent); d != "" || nsrc == 0 {
			e.t.Fatalf("%s: %s destination differs from source (%d source rows, %d destination rows):\n%s", stage, ent, nsrc, ndst, d)
		}
	}
}

// diff compares an entity's destination rows with the source (see
// record.Diff) and counts the rows of each.
func (e *env) diff(entity string) (string, int, int) {
	e.t.Helper()
	cols := e.columns(entity)
	src, dst := e.source(entity, cols), e.destination(entity, cols)
	keepStaleNames(src, dst)
	return record.Diff(src, dst), len(src), len(dst)
}

func toInt(t *testing.T, v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case int32:
		return int64(n)
	}
	t.Fatalf("not an integer: %T %v", v, v)
	return 0
}

func toValue(t *testing.T, c record.Column, vals map[string]any) record.Value {
	v, present := vals[c.Name]
	if !present || v == nil {
		return record.Value{}
	}
	switch x := v.(type) {
	case dvemu.Ref:
		return record.GUIDValue(strings.ToLower(x.ID))
	case string:
		switch c.Kind {
		case record.GUID:
			return record.GUIDValue(strings.ToLower(x))
		case record.Decimal:
			return record.DecimalValue(x)
		}
		return record.StringValue(x)
	case bool:
		return record.BoolValue(x)
	case time.Time:
		if c.Kind == record.Date {
			return record.DateValue(x)
		}
		return record.DateTimeValue(x)
	case int, int64, int32:
		return record.IntValue(toInt(t, x))
	case float64:
		return record.DecimalValue(fmt.Sprint(x))
	}
	t.Fatalf("column %s: unexpected emulator value %T %v", c.Name, v, v)
	return record.Value{}
}

// mutate makes a mixed batch of changes in the source: inserts, updates
// (one record twice), deletes, and a record created and deleted between polls.
func (e *env) mutate() {
	e.t.Helper()
	acct := e.must(e.emu.Create("account", map[string]any{"name": "Fabrikam " + suffix(), "revenue": "98765.4321", "numberofemployees": 12, "creditonhold": false}))
	e.must(e.emu.Create("contact", map[string]any{"firstname": "Grace", "lastname": "Hopper", "parentcustomerid": dvemu.Ref{Entity: "account", ID: acct}}))
	e.must(e.emu.Create("contact", map[string]any{"firstname": "Orphan", "lastname": "Contact"}))
	accounts, contacts := e.emu.IDs("account"), e.emu.IDs("contact")
	e.check(e.emu.Update("account", accounts[2], map[string]any{"name": "Renamed once", "numberofemployees": 5}))
	e.check(e.emu.Update("account", accounts[2], map[string]any{"name": "Renamed twice", "description": nil}))
	e.check(e.emu.Update("contact", contacts[3], map[string]any{"parentcustomerid": dvemu.Ref{Entity: "contact", ID: contacts[4]}}))
	e.check(e.emu.Delete("account", accounts[5]))
	e.check(e.emu.Delete("contact", contacts[6]))
	e.check(e.emu.Delete("contact", contacts[7]))
	ghost := e.must(e.emu.Create("account", map[string]any{"name": "Created and deleted between polls"}))
	e.check(e.emu.Delete("account", ghost))
}

func (e *env) must(id string, err error) string {
	e.t.Helper()
	e.check(err)
	return id
}

func (e *env) check(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// capture takes every message off the queue without applying it.
func (e *env) capture() [][]byte {
	e.t.Helper()
	var bodies [][]byte
	for {
		msgs, err := e.app.Queue.Receive(e.t.Context(), 32, time.Minute)
		e.check(err)
		if len(msgs) == 0 {
			return bodies
		}
		for _, m := range msgs {
			bodies = append(bodies, m.Body)
			e.check(e.app.Queue.Delete(e.t.Context(), m))
		}
	}
}

func (e *env) send(bodies ...[]byte) {
	e.t.Helper()
	for _, b := range bodies {
		e.check(e.app.Queue.Send(e.t.Context(), b))
	}
	if _, err := e.host.DrainQueue(e.t.Context(), applyFn); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) snapshot() map[string][]record.Record {
	out := map[string][]record.Record{}
	for _, ent := range e.prof.Entities {
		out[ent] = e.destination(ent, e.columns(ent))
	}
	return out
}

func (e *env) assertSnapshot(stage string, want map[string][]record.Record) {
	e.t.Helper()
	for ent, rows := range want {
		if d := record.Diff(rows, e.destination(ent, e.columns(ent))); d != "" {
			e.t.Fatalf("%s: %s changed:\n%s", stage, ent, d)
		}
	}
}

func destinations(t *testing.T) map[string]func(t *testing.T) (profile.Destination, string) {
	return map[string]func(t *testing.T) (profile.Destination, string){
		"sqlite": func(t *testing.T) (profile.Destination, string) {
			return profile.Destination{Type: profile.SQLite, Connection: filepath.Join(t.TempDir(), "dest.db")}, ""
		},
		"postgres": func(t *testing.T) (profile.Destination, string) {
			name := "e2e" + suffix()
			conn, err := pgx.Connect(t.Context(), pgURL)
			if err != nil {
				t.Fatalf("PostgreSQL at 127.0.0.1:5432 is needed (scripts/postgres.sh starts it): %v", err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+name); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				c, err := pgx.Connect(context.Background(), pgURL)
				if err == nil {
					_, _ = c.Exec(context.Background(), "DROP SCHEMA "+name+" CASCADE")
					c.Close(context.Background())
				}
			})
			return profile.Destination{Type: profile.Postgres, Connection: pgURL}, name
		},
	}
}

// TestEndToEnd replicates account and contact into each destination: the
// initial read, then a mixed batch of inserts, updates and deletes, checking
// every row and column against the source after each.
func TestEndToEnd(t *testing.T) {
	dests := destinations(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range dests {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := dests[name](t)
			e := newEnv(t, dest, schemaName)
			e.sync()
			e.assertMatch("after the initial sync")

			st, err := e.app.Store.GetEntity(t.Context(), e.prof.Name, "account")
			if err != nil {
				t.Fatal(err)
			}
			if st.Pages < 4 || !strings.Contains(st.Link, "$deltatoken=") {
				t.Fatalf("account state after the initial read: %d pages, link %q", st.Pages, st.Link)
			}

			e.mutate()
			e.sync()
			e.assertMatch("after inserts, updates and deletes")

			e.check(e.app.Counters.Flush(t.Context())) // written once a second
			cnt, err := e.app.Store.GetCounters(t.Context(), e.prof.Name, "contact")
			if err != nil {
				t.Fatal(err)
			}
			if cnt.Deleted < 2 || cnt.Succeeded == 0 {
				t.Fatalf("contact counters: %+v", cnt)
			}
		})
	}
}

// TestReplayAndReorder delivers real messages twice and in reverse order: the
// destination must not change, and a deleted record must stay deleted.
func TestReplayAndReorder(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) { testReplayAndReorder(t, name) })
	}
}

func testReplayAndReorder(t *testing.T, dialect string) {
	dest, schemaName := destinations(t)[dialect](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	ctx := t.Context()
	x := e.emu.IDs("account")[1]

	e.check(e.emu.Update("account", x, map[string]any{"name": "first update"}))
	e.check(e.host.FireTimer(ctx, pollFn))
	first := e.capture()
	e.check(e.emu.Update("account", x, map[string]any{"name": "second update"}))
	e.check(e.host.FireTimer(ctx, pollFn))
	second := e.capture()
	if len(first) == 0 || len(second) == 0 {
		t.Fatalf("captured %d and %d messages", len(first), len(second))
	}

	// The newer message first, then the older one: the newer must win.
	e.send(second...)
	e.send(first...)
	e.assertMatch("after two messages of one record in reverse order")
	before := e.snapshot()

	// The same messages again, twice, in any order: nothing changes.
	e.send(first...)
	e.send(second...)
	e.send(second...)
	e.assertSnapshot("after duplicate deliveries", before)

	// Delete the record; then a late, older upsert must not bring it back.
	e.check(e.emu.Delete("account", x))
	e.check(e.host.FireTimer(ctx, pollFn))
	del := e.capture()
	e.send(del...)
	e.send(second...)
	e.send(first...)
	e.assertMatch("after a delete followed by older upserts")
	for _, r := range e.destination("account", e.columns("account")) {
		if r.ID == x {
			t.Fatalf("deleted account %s came back", x)
		}
	}
	e.sync()
	e.assertMatch("after catching up")
}

// TestMalformedMessages puts messages the applier cannot understand on the
// queue: each is rejected with a logged error naming the problem, kept as
// unprocessable, and the applier goes on with the next message.
func TestMalformedMessages(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	x := e.emu.IDs("account")[0]
	e.check(e.emu.Update("account", x, map[string]any{"name": "after the bad messages"}))
	e.check(e.host.FireTimer(t.Context(), pollFn))
	good := e.capture()

	bad := [][]byte{
		[]byte("this is not json"),
		[]byte(`{"v":1,"profile":"` + e.prof.Name + `","entity":"account","kind":"delta","columns":[["name","string"]],"upserts":[["not-a-guid",1,["x"]]]}`),
		[]byte(`{"v":7,"profile":"` + e.prof.Name + `","entity":"account","kind":"delta"}`),
		[]byte(`{"v":1,"profile":"no-such-profile","entity":"account","kind":"delta","columns":[],"upserts":[],"deletes":[]}`),
	}
	e.send(append(bad, good...)...)
	e.assertMatch("after malformed messages and a good one")

	logs := e.logs.String()
	for _, want := range []string{"invalid JSON", `upserts[0] id \"not-a-guid\" is not a lowercase GUID`, "unsupported message version 7", `profile \"no-such-profile\" does not exist`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not name the problem %q", want)
		}
	}
	// Nothing was left on the queue or poisoned.
	if msgs, err := e.app.Queue.Receive(t.Context(), 32, time.Second); err != nil || len(msgs) != 0 {
		t.Fatalf("queue still holds %d messages (%v)", len(msgs), err)
	}
	// A message whose body names an existing profile is kept in that
	// profile's container, however broken the rest; the others together,
	// in the shared one. Each byte for byte, with its reason.
	where := map[string]string{string(bad[1]): e.prof.Name, string(bad[2]): e.prof.Name}
	bodies := map[string]string{}
	for _, prof := range []string{"", e.prof.Name} {
		kept, err := e.app.Failures.ListUnprocessable(t.Context(), prof)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kept {
			if k.Reason == "" {
				t.Errorf("unprocessable %s kept without a reason", k.Blob)
			}
			rc, err := e.app.Failures.OpenBlob(t.Context(), prof, k.Blob)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			bodies[string(b)] = prof
		}
	}
	if len(bodies) != len(bad) {
		t.Fatalf("kept %d unprocessable messages, want %d", len(bodies), len(bad))
	}
	for _, want := range bad {
		prof, ok := bodies[string(want)]
		if !ok {
			t.Errorf("message %q was not kept", want)
		} else if prof != where[string(want)] {
			t.Errorf("message %q kept in the container of %q, want %q", want, prof, where[string(want)])
		}
	}
}

// TestHostInvocationJSON POSTs the Functions host's exact timer and queue
// invocation bodies to the handler server and checks response and effect.
func TestHostInvocationJSON(t *testing.T) {
	dest, schemaName := destinations(t)["sqlite"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	x := e.emu.IDs("contact")[2]
	e.check(e.emu.Update("contact", x, map[string]any{"lastname": "Invoked"}))

	timer := `{"Data":{"pollTimer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-25T09:00:00.0040000+00:00","Next":"2026-11-25T09:05:00+00:00","LastUpdated":"2026-11-25T09:00:00.0040000+00:00"},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"ChangePoller","UtcNow":"2026-11-25T09:05:00.012Z","RandGuid":"fa3b2fbc-26ed-4fcb-be75-82db8773b519"}}}`
	status, resp := postJSON(t, e.handlerURL+"/ChangePoller", timer)
	if status != 200 || !strings.Contains(resp, `"Outputs":{}`) || !strings.Contains(resp, `"ReturnValue":null`) || !strings.Contains(resp, "/contact phase=delta pages=1 upserts=1") {
		t.Fatalf("timer invocation: %d %s", status, resp)
	}
	bodies := e.capture()
	if len(bodies) != 1 {
		t.Fatalf("the poll enqueued %d messages, want 1", len(bodies))
	}
	quoted, _ := jsonString(string(bodies[0]))
	queueInv := `{"Data":{"record":` + quoted + `},"Metadata":{"DequeueCount":"1","ExpirationTime":"2026-12-02T09:00:00+00:00","Id":"\"800ae4b3-bdd2-4c08-badd-f08e5a34b865\"","InsertionTime":"2026-11-25T09:00:00+00:00","NextVisibleTime":"2026-11-25T09:10:01+00:00","PopReceipt":"\"AgAAAAMAAAAAAAAAAgtnj8x+1QE=\"","sys":{"MethodName":"RecordApplierQueue","UtcNow":"2026-11-25T09:00:01.2Z","RandGuid":"24ad4c06-0000-4000-8000-000000000000"}}}`
	status, resp = postJSON(t, e.handlerURL+"/RecordApplierQueue", queueInv)
	if status != 200 || !strings.Contains(resp, "applied") || !strings.Contains(resp, "upserted=1") {
		t.Fatalf("queue invocation: %d %s", status, resp)
	}
	e.assertMatch("after the host-shaped invocations")
	rows := e.destination("contact", e.columns("contact"))
	i := sort.Search(len(rows), func(i int) bool { return rows[i].ID >= x })
	if i == len(rows) || rows[i].ID != x {
		t.Fatalf("contact %s missing", x)
	}
}

// TestMetadataChange changes the source's schema while it replicates: a new
// attribute, a widened string and a new option. The table follows (new
// column, wider column), the changes read right after carry the new column,
// and the DES metadata tables follow too.
func TestMetadataChange(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)[name](t)
			e := newEnv(t, dest, schemaName)
			e.sync()
			e.check(e.emu.AddAttribute("account", dvemu.Attribute{LogicalName: "new_region", SchemaName: "new_Region", Type: dvemu.String, MaxLength: 40, IsCustomAttribute: true}))
			e.check(e.emu.WidenString("account", "name", 400))
			e.check(e.emu.AddOption("account", "industrycode", 999, "Space mining", nil))
			ids := e.emu.IDs("account")
			e.check(e.emu.Update("account", ids[0], map[string]any{"new_region": "EMEA", "industrycode": 999, "name": strings.Repeat("N", 350)}))
			e.check(e.emu.Update("account", ids[1], map[string]any{"new_region": "APAC"}))
			e.sync()
			cols := e.columns("account")
			if !slices.ContainsFunc(cols, func(c record.Column) bool { return c.Name == "new_region" }) {
				t.Fatal("the new attribute is not among the replicated columns")
			}
			e.assertMatch("after the schema changed")

			s, err := e.app.Pool.Sink(t.Context(), e.prof)
			e.check(err)
			mw := s.(sink.MetadataWriter)
			attrs, err := mw.ReadMetadata(t.Context(), "AttributeMetadata")
			e.check(err)
			if !slices.ContainsFunc(attrs, func(r []record.Value) bool {
				return slices.ContainsFunc(r, func(v record.Value) bool { return v.S == "new_region" })
			}) {
				t.Error("AttributeMetadata has no row for the new attribute")
			}
			opts, err := mw.ReadMetadata(t.Context(), "OptionSetMetadata")
			e.check(err)
			if !slices.ContainsFunc(opts, func(r []record.Value) bool {
				return slices.ContainsFunc(r, func(v record.Value) bool { return v.S == "Space mining" })
			}) {
				t.Error("OptionSetMetadata has no row for the new option")
			}
			states, err := mw.ReadMetadata(t.Context(), "StateMetadata")
			e.check(err)
			if len(states) == 0 {
				t.Error("StateMetadata is empty")
			}

			// An option alone changes no column; it must still reach the
			// option set table.
			e.check(e.emu.AddOption("account", "industrycode", 1000, "Orbital logistics", nil))
			e.sync()
			opts, err = mw.ReadMetadata(t.Context(), "OptionSetMetadata")
			e.check(err)
			if !slices.ContainsFunc(opts, func(r []record.Value) bool {
				return slices.ContainsFunc(r, func(v record.Value) bool { return v.S == "Orbital logistics" })
			}) {
				t.Error("OptionSetMetadata has no row for an option added without any column change")
			}
		})
	}
}

// TestSampleOrgEntities replicates the sample org's other entities: a custom
// entity with every attribute type, activities, the activityparty table
// (PartyList), and N:N intersect tables, then changes some and compares
// every row and column again.
func TestSampleOrgEntities(t *testing.T) {
	ents := []string{"new_project", "email", "appointment", "activityparty", "systemuserroles", "teammembership", "lead", "opportunity"}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)[name](t)
			emu, err := dvemu.New(dvemu.Options{Records: 12, RandSeed: 11})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnvFrom(t, dest, schemaName, emu, nil, ents...)
			e.sync()
			e.assertMatch("after the initial sync")

			p := e.emu.IDs("new_project")
			e.check(e.emu.Update("new_project", p[0], map[string]any{"new_name": "Changed", "new_headcount": 7}))
			e.check(e.emu.Delete("new_project", p[1]))
			e.check(e.emu.Delete("email", e.emu.IDs("email")[0]))
			e.sync()
			e.assertMatch("after changes")
		})
	}
}

// TestLargeRecord: a record whose message would pass the queue's 64 KiB
// travels by claim check (a blob and a small reference message) and arrives
// whole; the records around it keep flowing.
func TestLargeRecord(t *testing.T) {
	dest, schemaName := destinations(t)["postgres"](t)
	e := newEnv(t, dest, schemaName)
	e.sync()
	e.check(e.emu.WidenString("account", "description", 1048576))
	ids := e.emu.IDs("account")
	e.check(e.emu.Update("account", ids[2], map[string]any{"description": strings.Repeat("long memo ", 30_000)}))
	e.check(e.emu.Update("account", ids[3], map[string]any{"name": "small neighbour"}))
	e.sync()
	e.assertMatch("after a 300 KB memo")
}
