package sync

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	"github.com/dataexport/dataexport/internal/state"
)

// TestHandOverMidReadWithReadAhead: a column is added in the source while
// the poller reads a large initial read with its next page read ahead. The
// page that announces the change (read ahead, holding a slot of the page
// budget) is dropped and the entity handed over: nothing after the last
// checkpoint is saved, every slot of the budget is free again, and the
// next polls read nothing until SchemaChange has added the column. Then
// the read goes on with the column, and the rows read before it are read
// again for it.
func TestHandOverMidReadWithReadAhead(t *testing.T) {
	emu, err := dvemu.New(dvemu.Options{Records: 40, RandSeed: 3})
	if err != nil {
		t.Fatal(err)
	}
	// The column appears just before the third page is served.
	var pageRequests atomic.Int64
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "accounts") && strings.Contains(r.URL.RawQuery, "skiptoken") && pageRequests.Add(1) == 2 {
			if err := emu.AddAttribute("account", dvemu.Attribute{LogicalName: "new_region", Type: dvemu.String, MaxLength: 40}); err != nil {
				t.Error(err)
			}
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(org.Close)
	src, err := dataverse.NewClient(org.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{PageSize: 5, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dest.db")
	dest, err := sqlite.Open(t.Context(), path, &sink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dest.Close() })
	prof := profile.Profile{Name: "p", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.SQLite, Connection: path}}
	states := memEntities{}
	out := &heldSender{}
	budget := NewPageBudget(2)
	quiet := slog.New(slog.DiscardHandler)
	changer := NewSchemaChanger(src, listed{prof}, states, oneSink{dest}, &metaFailures{}, &SchemaChangeOptions{Logger: quiet})
	poller := NewPoller(src, listed{prof}, states, oneSink{dest}, out, &PollerOptions{Pages: budget, Logger: quiet})
	ctx := t.Context()
	schemaChange := func() {
		t.Helper()
		res, err := changer.RunAll(ctx)
		if err == nil {
			err = SchemaResultsErr(res)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	poll := func() EntityResult {
		t.Helper()
		res, err := poller.PollAll(ctx)
		if err != nil || len(res) != 1 || res[0].Err != nil {
			t.Fatalf("poll: %+v, %v", res, err)
		}
		return res[0]
	}
	free := func(when string) {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		for i := range 2 {
			if err := budget.Acquire(short); err != nil {
				t.Fatalf("%s: slot %d of the page budget is still held: %v", when, i+1, err)
			}
		}
		budget.Release()
		budget.Release()
	}

	// A new entity waits for its table.
	if r := poll(); !r.SchemaPending || r.Pages != 0 || len(out.bodies) != 0 {
		t.Fatalf("first poll of a new entity: %+v, %d messages", r, len(out.bodies))
	}
	schemaChange()
	r := poll()
	st := states["p/account"]
	if !r.SchemaPending || r.Pages != 2 || st.Pages != 2 || st.SchemaWanted == "" || st.SchemaSince != st.HighWater || st.HighWater == 0 {
		t.Fatalf("the poll that met the change: %+v; state %+v", r, st)
	}
	free("after the hand-over")
	if r := poll(); !r.SchemaPending || r.Pages != 0 || states["p/account"].Pages != 2 {
		t.Fatalf("a poll before SchemaChange ran: %+v", r)
	}
	free("after a waiting poll")

	schemaChange()
	st = states["p/account"]
	if st.SchemaWanted != "" || !st.Backfill.Pending || st.Backfill.Since != st.HighWater || !slices.Equal(st.Backfill.Columns, []string{"new_region"}) {
		t.Fatalf("after SchemaChange: %+v", st)
	}
	cols, err := dest.TableColumns(ctx, TableName(prof, "account"))
	if err != nil || !slices.ContainsFunc(cols, func(c schema.Column) bool { return strings.EqualFold(c.Name, "new_region") }) {
		t.Fatalf("table columns %v, %v; want new_region", cols, err)
	}
	for range 20 {
		if r := poll(); r.CaughtUp && !states["p/account"].Backfill.Pending {
			break
		}
	}
	free("after the read")
	if st := states["p/account"]; st.Phase != state.PhaseDelta || st.Backfill.Pending {
		t.Fatalf("the read did not finish: %+v", st)
	}
	for _, b := range out.take() {
		m, err := DecodeMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := dest.Apply(ctx, TableName(prof, m.Entity), m.Batch); err != nil || len(res.Rejected) > 0 {
			t.Fatalf("apply %s: %v %v", m.ID, err, res.Rejected)
		}
	}
	got := map[string]int64{}
	if err := dest.ScanKeys(ctx, TableName(prof, "account"), func(id string, v int64) error {
		got[id] = v
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 40 || !maps.Equal(got, sourceKeys(t, emu)) {
		t.Fatalf("destination holds %d rows, want the source's 40", len(got))
	}
}

// sourceKeys is the emulator's account ids and versions.
func sourceKeys(t *testing.T, emu *dvemu.Emulator) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, id := range emu.IDs("account") {
		vals, _ := emu.Get("account", id)
		switch v := vals["versionnumber"].(type) {
		case int64:
			out[strings.ToLower(id)] = v
		case int:
			out[strings.ToLower(id)] = int64(v)
		default:
			t.Fatalf("versionnumber %T", v)
		}
	}
	return out
}

// TestNewTableInTheSamePoll: with PollerOptions.NewTables, a new entity's
// table is created by the poll that hands it over, and its read starts in
// that same poll; a change to a table that exists still waits for the
// SchemaChange function.
func TestNewTableInTheSamePoll(t *testing.T) {
	r := newSweepRig(t, 0)
	emu, dest, prof, states := r.emu, r.dest, r.prof, r.states
	poller := NewPoller(r.src, listed{prof}, states, oneSink{dest}, r.out, &PollerOptions{Logger: slog.New(slog.DiscardHandler), NewTables: r.changer})
	ctx := t.Context()
	res, err := poller.PollAll(ctx)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("poll: %+v, %v", res, err)
	}
	st := states["p/account"]
	if r := res[0]; r.SchemaPending || !r.CaughtUp || r.Upserts != 40 || st.SchemaWanted != "" || st.Schema == "" || st.Phase != state.PhaseDelta {
		t.Fatalf("first poll of a new entity: %+v; state %+v", r, st)
	}
	if cols, err := dest.TableColumns(ctx, TableName(prof, "account")); err != nil || len(cols) == 0 {
		t.Fatalf("table columns %v, %v; want the table created", cols, err)
	}

	if err := emu.AddAttribute("account", dvemu.Attribute{LogicalName: "new_region", Type: dvemu.String, MaxLength: 40}); err != nil {
		t.Fatal(err)
	}
	res, err = poller.PollAll(dataverse.StrongConsistency(ctx))
	if err != nil || len(res) != 1 || res[0].Err != nil || !res[0].SchemaPending {
		t.Fatalf("the poll that met a new column: %+v, %v; want it handed over", res, err)
	}
	if cols, _ := dest.TableColumns(ctx, TableName(prof, "account")); slices.ContainsFunc(cols, func(c schema.Column) bool { return strings.EqualFold(c.Name, "new_region") }) {
		t.Fatal("the poller changed a table that exists; only SchemaChange may")
	}
	if st := states["p/account"]; st.SchemaWanted == "" {
		t.Fatalf("state %+v: want the entity waiting for SchemaChange", st)
	}
}
