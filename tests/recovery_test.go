package tests

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/recovery"
	"github.com/dataexport/dataexport/internal/state"
)

// TestRecoveryThroughRun repairs a profile through the routes and the CLI
// of a live `dataexport run`, as an administrator would: a record the
// destination refuses shows in GET failures (log line, read-only URL);
// POST failures/resync fails it again while the cause stays
// (forcerefreshfailurelog/), and brings it in once fixed (counter back to
// 0); GET reconcile names exactly the rows planted missing, extra and
// stale; POST entities/{entity}/resync reads the entity again over its
// table and the sweep makes reconcile report it equal.
func TestRecoveryThroughRun(t *testing.T) {
	e := newControlEnv(t, 30)
	path := filepath.Join(e.dir, "crm.db")
	doc := fmt.Sprintf(`{"name":"crm","entities":["account","contact"],"retryCount":1,"retryIntervalSeconds":1,"writeDeleteLog":true,"destination":{"type":"sqlite","connection":%q}}`, path)
	e.run.json("POST", "/profiles?activate=true", doc, nil, http.StatusCreated, nil)
	await(t, "the initial sync", 2*time.Minute, func() bool { return e.synced(t, "crm") })
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	// A record the destination refuses (a trigger a DBA added).
	for _, op := range []string{"INSERT", "UPDATE"} {
		exec(fmt.Sprintf(`CREATE TRIGGER refuse_%s BEFORE %s ON account WHEN NEW.numberofemployees = 4242 BEGIN SELECT RAISE(ABORT, 'refused by policy'); END`, strings.ToLower(op), op))
	}
	ids := e.emu.IDs("account")
	bad := strings.ToLower(ids[4])
	if err := e.emu.Update("account", ids[4], map[string]any{"numberofemployees": 4242}); err != nil {
		t.Fatal(err)
	}
	failedCount := func() int64 {
		var n int64
		for _, es := range e.status(t, "crm").Entities {
			n += es.Failed
		}
		return n
	}
	await(t, "the refused record kept as a failed record", 2*time.Minute, func() bool { return failedCount() == 1 })

	var sum recovery.FailuresReport
	e.run.json("GET", "/profiles/crm/failures?lines=5&urlHours=2", "", nil, http.StatusOK, &sum)
	if sum.FailedRecords != 1 || sum.FailedNotifications != 1 || len(sum.LatestFailures) != 1 || !strings.Contains(sum.LatestFailures[0].Line, "RecordId: "+bad) ||
		!strings.Contains(sum.URL, "sp=rl") || sum.URLExpires == nil || sum.URLExpires.After(time.Now().Add(2*time.Hour+time.Minute)) {
		t.Fatalf("GET failures: %+v", sum)
	}
	e.run.json("GET", "/profiles/crm/failures?urlHours=48", "", nil, http.StatusBadRequest, nil)

	var rep recovery.ResyncReport
	e.run.json("POST", "/profiles/crm/failures/resync", "", nil, http.StatusOK, &rep)
	if rep.FailedAgain != 1 || rep.Resolved != 0 || !rep.OK {
		t.Fatalf("resync with the cause in place: %+v", rep)
	}
	e.run.json("GET", "/profiles/crm/failures", "", nil, http.StatusOK, &sum)
	if len(sum.LatestResyncFailures) != 1 || !strings.Contains(sum.LatestResyncFailures[0].Line, "refused by policy") || sum.FailedRecords != 1 {
		t.Fatalf("failures after a resync that failed again: %+v", sum)
	}

	exec(`DROP TRIGGER refuse_insert`)
	exec(`DROP TRIGGER refuse_update`)
	out, err := e.run.cli("resync-failures", "crm")
	if err != nil || !strings.Contains(out, "1 failed records resolved") {
		t.Fatalf("CLI resync-failures: %v\n%s", err, out)
	}
	if n := failedCount(); n != 0 {
		t.Fatalf("Failed Notifications %d after the resync, want 0", n)
	}
	e.run.json("GET", "/profiles/crm/failures", "", nil, http.StatusOK, &sum)
	if sum.FailedRecords != 0 {
		t.Fatalf("data/ still holds %d failed records", sum.FailedRecords)
	}

	// Plant differences beside the app: a row gone, a ghost row, a row left
	// at an older version.
	missing, stale := strings.ToLower(ids[7]), strings.ToLower(ids[9])
	const ghost = "0fffffff-0000-4000-8000-0000000000aa"
	exec(`DELETE FROM account WHERE "Id" = ?`, missing)
	exec(`UPDATE account SET versionnumber = versionnumber - 1 WHERE "Id" = ?`, stale)
	exec(`INSERT INTO account ("Id", versionnumber, name) VALUES (?, 5, 'ghost')`, ghost)
	var rec recovery.ReconcileReport
	e.run.json("GET", "/profiles/crm/entities/account/reconcile?limit=10", "", nil, http.StatusOK, &rec)
	if rec.Equal || !rec.Complete || !slices.Equal(rec.Missing, []string{missing}) || !slices.Equal(rec.Extra, []string{ghost}) ||
		len(rec.Stale) != 1 || rec.Stale[0].ID != stale || rec.Stale[0].SourceVersion != rec.Stale[0].DestinationVersion+1 ||
		rec.SourceRows != int64(len(ids)) || rec.DestinationRows != int64(len(ids)) {
		t.Fatalf("reconcile: %+v", rec)
	}
	out, err = e.run.cli("reconcile", "crm", "account", "--json")
	if err != nil {
		t.Fatalf("CLI reconcile: %v\n%s", err, out)
	}
	var cliRec recovery.ReconcileReport
	if err := json.Unmarshal([]byte(out), &cliRec); err != nil || cliRec.MissingCount != 1 || cliRec.ExtraCount != 1 || cliRec.StaleCount != 1 {
		t.Fatalf("CLI reconcile --json: %v\n%s", err, out)
	}
	e.run.json("GET", "/profiles/crm/entities/lead/reconcile", "", nil, http.StatusNotFound, nil)

	// Resync the entity: read again over its table; the sweep removes the
	// ghost, the read brings back the missing and stale rows.
	var res recovery.EntityResync
	e.run.json("POST", "/profiles/crm/entities/account/resync", "", nil, http.StatusOK, &res)
	if res.PreviousPhase != state.PhaseDelta {
		t.Fatalf("entity resync: %+v", res)
	}
	await(t, "reconcile equal after the entity resync", 2*time.Minute, func() bool {
		e.run.json("GET", "/profiles/crm/entities/account/reconcile", "", nil, http.StatusOK, &rec)
		return rec.Equal
	})
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM DeleteLog WHERE RecordId = ?`, ghost).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the ghost row removed by the sweep is in the DeleteLog %d times (%v), want once", n, err)
	}
	// Everything the run printed and answered is free of problems.
	var st manage.ProfileStatus
	e.run.json("GET", "/profiles/crm/status", "", nil, http.StatusOK, &st)
	for _, es := range st.Entities {
		if es.LastError != nil && es.LastError.Stage == "read" {
			t.Errorf("%s: read error %+v", es.Entity, es.LastError)
		}
	}
}
