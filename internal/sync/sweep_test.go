package sync

import (
	"context"
	"log/slog"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sqlite"
	"github.com/dataexport/dataexport/internal/state"
)

// listed is a profile store holding a fixed list.
type listed []profile.Profile

func (l listed) GetProfile(_ context.Context, name string) (profile.Profile, error) {
	for _, p := range l {
		if p.Name == name {
			return p, nil
		}
	}
	return profile.Profile{}, state.ErrNotFound
}
func (l listed) ListProfiles(context.Context) ([]profile.Profile, error) { return l, nil }

// heldSender keeps every message sent, to apply them when the test says.
type heldSender struct{ bodies [][]byte }

func (h *heldSender) Send(_ context.Context, body []byte) error {
	h.bodies = append(h.bodies, body)
	return nil
}
func (h *heldSender) MaxBodyBytes() int { return 1 << 20 }

func (h *heldSender) take() [][]byte {
	out := h.bodies
	h.bodies = nil
	return out
}

type oneSink struct{ s sink.Sink }

func (o oneSink) Sink(context.Context, profile.Profile) (sink.Sink, error) { return o.s, nil }

// sweepRig is the emulator, a real client, SchemaChange and poller, and a
// SQLite table.
type sweepRig struct {
	t       *testing.T
	emu     *dvemu.Emulator
	src     *dataverse.Client
	changer *SchemaChanger
	poller  *Poller
	out     *heldSender
	states  memEntities
	dest    *sqlite.Sink
	prof    profile.Profile
}

func newSweepRig(t *testing.T, maxKeyPages int) *sweepRig {
	t.Helper()
	emu, err := dvemu.New(dvemu.Options{Records: 40, RandSeed: 3})
	if err != nil {
		t.Fatal(err)
	}
	org := httptest.NewServer(emu)
	t.Cleanup(org.Close)
	src, err := dataverse.NewClient(org.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{PageSize: 5, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dest.db")
	dest, err := sqlite.Open(t.Context(), path, &sink.Options{WriteDeleteLog: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dest.Close() })
	prof := profile.Profile{Name: "p", Entities: []string{"account"}, Destination: profile.Destination{Type: profile.SQLite, Connection: path}, WriteDeleteLog: true}
	r := &sweepRig{t: t, emu: emu, src: src, out: &heldSender{}, states: memEntities{}, dest: dest, prof: prof}
	r.changer = NewSchemaChanger(src, listed{prof}, r.states, oneSink{dest}, &metaFailures{}, &SchemaChangeOptions{Logger: slog.New(slog.DiscardHandler)})
	r.poller = NewPoller(src, listed{prof}, r.states, oneSink{dest}, r.out, &PollerOptions{MaxKeyPages: maxKeyPages, Logger: slog.New(slog.DiscardHandler)})
	return r
}

// poll runs SchemaChange, as its timer does (the table is created, or
// looked at after a lost state or a resync), then the poller.
func (r *sweepRig) poll() EntityResult {
	r.t.Helper()
	sres, err := r.changer.RunAll(r.t.Context())
	if err == nil {
		err = SchemaResultsErr(sres)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := r.poller.PollAll(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return res[0]
}

func (r *sweepRig) apply(bodies [][]byte) {
	r.t.Helper()
	for _, b := range bodies {
		m, err := DecodeMessage(b)
		if err != nil {
			r.t.Fatal(err)
		}
		res, err := r.dest.Apply(r.t.Context(), TableName(r.prof, m.Entity), m.Batch)
		if err != nil || len(res.Rejected) > 0 {
			r.t.Fatalf("apply: %v %v", err, res.Rejected)
		}
	}
}

func (r *sweepRig) state() state.EntityState { return r.states["p/account"] }

// keys are the destination's ids and versions.
func (r *sweepRig) keys() map[string]int64 {
	r.t.Helper()
	got := map[string]int64{}
	if err := r.dest.ScanKeys(r.t.Context(), TableName(r.prof, "account"), func(id string, v int64) error {
		got[id] = v
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return got
}

// source is the emulator's ids and versions.
func (r *sweepRig) source() map[string]int64 {
	out := map[string]int64{}
	for _, id := range r.emu.IDs("account") {
		vals, _ := r.emu.Get("account", id)
		switch v := vals["versionnumber"].(type) {
		case int64:
			out[strings.ToLower(id)] = v
		case int:
			out[strings.ToLower(id)] = int64(v)
		default:
			r.t.Fatalf("versionnumber %T", v)
		}
	}
	return out
}

func (r *sweepRig) check(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
}

// TestSweepConverges loses the entity's state after rows were deleted in
// the source: the next full read ends with a sweep that removes them,
// spread over several polls (two pages of keys each), while the source
// keeps changing and the read's own pages are still in flight. Rows
// created during the scan stay, a row deleted during the scan goes, and
// the read's older upserts applied after the sweep bring nothing back.
func TestSweepConverges(t *testing.T) {
	r := newSweepRig(t, 2)
	for !r.poll().CaughtUp || r.state().Phase != state.PhaseDelta {
	}
	r.apply(r.out.take())
	if st := r.state(); st.Sweep.Scan != "" {
		t.Fatalf("a first read into an empty table planned a sweep: %+v", st.Sweep)
	}
	if !maps.Equal(r.keys(), r.source()) {
		t.Fatal("the initial read did not fill the table")
	}

	ids := r.emu.IDs("account")
	var ghosts []string
	for _, i := range []int{1, 5, 9, 20, 33} {
		r.check(r.emu.Delete("account", ids[i]))
		ghosts = append(ghosts, strings.ToLower(ids[i]))
	}
	r.check(r.emu.Update("account", ids[2], map[string]any{"name": "changed while stopped"}))
	_, err := r.emu.Create("account", map[string]any{"name": "created while stopped"})
	r.check(err)
	clear(r.states) // the state is lost: the next poll reads everything again

	// The full read: its pages stay in flight until after the sweep.
	var held [][]byte
	for {
		res := r.poll()
		held = append(held, r.out.take()...)
		if r.state().Phase == state.PhaseDelta {
			if res.Swept != 0 {
				t.Fatalf("swept %d in the poll that finished the read, before any key was staged", res.Swept)
			}
			break
		}
	}
	st := r.state()
	if st.Sweep.Scan == "" || !st.Sweep.Started || st.Sweep.Version < st.HighWater || st.Sweep.Pages == 0 {
		t.Fatalf("after the read: sweep %+v (high water %d); want it started at the high water, keys being read", st.Sweep, st.HighWater)
	}
	v0 := st.Sweep.Version

	// During the scan: a row created (version above V0) and one deleted
	// whose key was already staged (the delta reports it).
	created, err := r.emu.Create("account", map[string]any{"name": "created during the scan"})
	r.check(err)
	created = strings.ToLower(created)
	lateGone := strings.ToLower(ids[0])
	r.check(r.emu.Delete("account", ids[0]))
	r.apply(r.out.take())

	polls := 1
	for r.state().Sweep.Scan != "" {
		res := r.poll()
		polls++
		r.apply(r.out.take()) // deltas keep flowing during the scan
		if res.Swept > 0 && res.Swept != len(ghosts) {
			t.Fatalf("swept %d rows, want the %d deleted while stopped", res.Swept, len(ghosts))
		}
		if polls > 20 {
			t.Fatal("the sweep did not finish in 20 polls")
		}
	}
	if polls < 3 {
		t.Fatalf("the key scan took %d polls; with 2 pages of 5 keys a poll it must take several", polls)
	}
	st = r.state()
	if st.Swept != int64(len(ghosts)) || st.SweptAt.IsZero() {
		t.Fatalf("state after the sweep: swept %d at %v; want %d", st.Swept, st.SweptAt, len(ghosts))
	}
	got := r.keys()
	for _, g := range ghosts {
		if _, ok := got[g]; ok {
			t.Errorf("ghost %s still in the table", g)
		}
	}
	if _, ok := got[created]; !ok {
		t.Error("the row created during the scan was removed")
	}
	tombs, err := r.dest.Tombstones(t.Context(), TableName(r.prof, "account"))
	r.check(err)
	for _, g := range ghosts {
		if tombs[g] < v0 {
			t.Errorf("ghost %s tombstoned at %d, want at least %d", g, tombs[g], v0)
		}
	}
	log, err := r.dest.DeleteLog(t.Context())
	r.check(err)
	var logged []string
	for _, e := range log {
		logged = append(logged, e.RecordID)
	}
	for _, g := range ghosts {
		if !slices.Contains(logged, g) {
			t.Errorf("ghost %s not in the DeleteLog", g)
		}
	}

	// The read's pages, older than the sweep, arrive late: nothing comes
	// back, and the destination equals the source.
	r.apply(held)
	r.poll()
	r.apply(r.out.take())
	if _, ok := r.keys()[lateGone]; ok {
		t.Error("the row deleted during the scan is back")
	}
	if got, want := r.keys(), r.source(); !maps.Equal(got, want) {
		t.Fatalf("destination %d rows, source %d; differ", len(got), len(want))
	}
}

// TestSweepRestartsWhenKeysGoMissing: keys cleared under a scan (as an
// abandoned set) make the sweep remove nothing and scan again, and the
// second scan converges.
func TestSweepRestartsWhenKeysGoMissing(t *testing.T) {
	r := newSweepRig(t, 50)
	for !r.poll().CaughtUp || r.state().Phase != state.PhaseDelta {
	}
	r.apply(r.out.take())
	ids := r.emu.IDs("account")
	r.check(r.emu.Delete("account", ids[3]))
	st := r.state()
	st.Phase, st.Link = state.PhaseInitial, "" // a resync: read again from the start
	AskSchemaChange(&st)                       // once its table was looked at
	r.states["p/account"] = st

	// Read to the delta link with the key scan held back by a tiny budget.
	r.poller.o.MaxKeyPages = 1
	for r.state().Phase != state.PhaseDelta || !r.state().Sweep.Started {
		r.poll()
	}
	r.apply(r.out.take())
	scan := r.state().Sweep.Scan
	r.check(r.dest.ClearKeys(t.Context(), TableName(r.prof, "account"), scan, time.Time{}))
	r.poller.o.MaxKeyPages = 50
	r.poll() // stages the rest, finds the set incomplete, starts again
	st = r.state()
	if st.Sweep.Scan == scan || st.Sweep.Scan == "" || st.Sweep.Pages != 0 {
		t.Fatalf("after keys went missing: sweep %+v; want a new scan from the start", st.Sweep)
	}
	if _, ok := r.keys()[strings.ToLower(ids[3])]; !ok {
		t.Fatal("an incomplete key set removed rows")
	}
	r.poll()
	if st := r.state(); st.Sweep.Scan != "" || st.Swept != 1 {
		t.Fatalf("second scan: sweep %+v, swept %d; want done, 1 removed", st.Sweep, st.Swept)
	}
	if got, want := r.keys(), r.source(); !maps.Equal(got, want) {
		t.Fatal("destination differs from the source")
	}
}
