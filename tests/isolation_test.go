package tests

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the SQLite driver, to plant a refusal beside the sink

	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/state"
)

// withRetries stores the profile again with a short retry count and
// interval, so that a test sees retries run out in seconds.
func (e *env) withRetries(count, intervalSeconds int) {
	e.t.Helper()
	e.prof.RetryCount, e.prof.RetryIntervalSeconds = &count, &intervalSeconds
	e.check(e.app.Store.PutProfile(e.t.Context(), e.prof))
}

// await fires the poller and drains the queue until done holds, pausing
// briefly between rounds while messages wait out their delays; it fails
// the test after timeout.
func (e *env) await(what string, timeout time.Duration, done func() bool) {
	e.t.Helper()
	ctx := e.t.Context()
	deadline := time.Now().Add(timeout)
	for {
		if err := e.host.FireTimer(ctx, pollFn); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.host.DrainQueue(ctx, applyFn); err != nil {
			e.t.Fatal(err)
		}
		if done() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not reached in %v", what, timeout)
		}
		select {
		case <-ctx.Done():
			e.t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *env) counters(entity string) state.Counters {
	e.t.Helper()
	// The applier writes its counters once a second: what it holds counts.
	e.check(e.app.Counters.Flush(e.t.Context()))
	c, err := e.app.Store.GetCounters(e.t.Context(), e.prof.Name, entity)
	e.check(err)
	return c
}

func (e *env) failed(entity string) []failures.Failure {
	e.t.Helper()
	var out []failures.Failure
	for f, err := range e.app.Failures.List(e.t.Context(), e.prof.Name, entity) {
		e.check(err)
		out = append(out, f)
	}
	return out
}

// refuse makes the destination refuse rows of entity whose integer column
// holds value, as a CHECK constraint a customer added would (SQLite: a
// trigger raising ABORT, since SQLite cannot add a CHECK to a table).
func (e *env) refuse(entity, column string, value int64) {
	e.t.Helper()
	ctx := e.t.Context()
	tn := e.table(entity)
	switch e.prof.Destination.Type {
	case profile.Postgres:
		conn, err := pgx.Connect(ctx, pgURL)
		e.check(err)
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, fmt.Sprintf(`ALTER TABLE %q.%q ADD CONSTRAINT refuse CHECK (%q <> %d) NOT VALID`, tn.Schema, tn.Name, column, value))
		e.check(err)
	case profile.SQLite:
		db, err := sql.Open("sqlite", e.prof.Destination.Connection)
		e.check(err)
		defer db.Close()
		for _, op := range []string{"INSERT", "UPDATE"} {
			_, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TRIGGER refuse_%s BEFORE %s ON %q WHEN NEW.%q = %d BEGIN SELECT RAISE(ABORT, 'refused'); END`,
				strings.ToLower(op), op, tn.Name, column, value))
			e.check(err)
		}
	default:
		e.t.Fatalf("no way to plant a refusal in %s", e.prof.Destination.Type)
	}
}

// allow drops what refuse planted.
func (e *env) allow(entity string) {
	e.t.Helper()
	ctx := e.t.Context()
	tn := e.table(entity)
	switch e.prof.Destination.Type {
	case profile.Postgres:
		conn, err := pgx.Connect(ctx, pgURL)
		e.check(err)
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, fmt.Sprintf(`ALTER TABLE %q.%q DROP CONSTRAINT refuse`, tn.Schema, tn.Name))
		e.check(err)
	case profile.SQLite:
		db, err := sql.Open("sqlite", e.prof.Destination.Connection)
		e.check(err)
		defer db.Close()
		for _, op := range []string{"insert", "update"} {
			_, err := db.ExecContext(ctx, "DROP TRIGGER refuse_"+op)
			e.check(err)
		}
	}
}

// failureLogLine is the documented format of a failure log line (DES):
// Entity: contact, RecordId: <guid>, NotificationTime: 12/28/2016 12:32:39 AM, ChangeType: Update, FailureReason: <text>
var failureLogLine = regexp.MustCompile(`^Entity: (\w+), RecordId: ([0-9a-f-]{36}), NotificationTime: (\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M), ChangeType: ([A-Za-z ]+), FailureReason: (.+)$`)

// TestOneBadRecordFailsAlone: a CHECK constraint refuses one record of a
// 200-record page. The other 199 arrive on the first try; the bad record
// goes through the profile's retries alone and ends in data/ with a
// failure log line in the documented format and the failed counter at 1.
func TestOneBadRecordFailsAlone(t *testing.T) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			dest, schemaName := destinations(t)[name](t)
			emu, err := dvemu.New(dvemu.Options{Records: 200, RandSeed: 5})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnvFrom(t, dest, schemaName, emu, map[string]string{"DATAVERSE_PAGE_SIZE": "200"}, "account")
			e.withRetries(2, 1)
			ctx := t.Context()
			ids := e.emu.IDs("account")
			if len(ids) != 200 {
				t.Fatalf("%d accounts, want 200", len(ids))
			}
			bad := strings.ToLower(ids[57])
			const refused = 4242
			e.check(e.emu.Update("account", ids[57], map[string]any{"numberofemployees": refused}))

			// The poll creates the table and enqueues the page; the
			// constraint goes in before anything is applied.
			e.check(e.host.FireTimer(ctx, pollFn))
			e.refuse("account", "numberofemployees", refused)
			st, err := e.app.Store.GetEntity(ctx, e.prof.Name, "account")
			if err != nil || st.Pages != 1 || st.Read != 200 {
				t.Fatalf("the first poll read %d pages, %d records (%v); want one page of 200", st.Pages, st.Read, err)
			}
			if _, err := e.host.DrainQueue(ctx, applyFn); err != nil {
				t.Fatal(err)
			}
			// First try: every record but the bad one is there.
			cols := e.columns("account")
			src := slices.DeleteFunc(e.source("account", cols), func(r record.Record) bool { return r.ID == bad })
			if d := record.Diff(src, e.destination("account", cols)); d != "" {
				t.Fatalf("after the first try the destination is not the 199 good records:\n%s", d)
			}
			if c := e.counters("account"); c.Succeeded != 199 || c.LastErrorClass != "record" {
				t.Fatalf("counters after the first try: %+v; want 199 succeeded and a record-class error", c)
			}

			// The bad record alone runs out of retries (2, one second apart).
			e.await("the bad record kept as a failed record", time.Minute, func() bool { return e.counters("account").Failed > 0 })
			fs := e.failed("account")
			if len(fs) != 1 || fs[0].RecordID != bad || fs[0].ChangeType != failures.ChangeInitialExport {
				t.Fatalf("failed records %+v; want only %s (%s)", fs, bad, failures.ChangeInitialExport)
			}
			if c := e.counters("account"); c.Failed != 1 || c.Succeeded != 199 {
				t.Fatalf("counters %+v; want 1 failed, 199 succeeded", c)
			}
			rc, err := e.app.Failures.OpenBlob(ctx, e.prof.Name, fs[0].LogBlob)
			e.check(err)
			line, _ := io.ReadAll(rc)
			rc.Close()
			m := failureLogLine.FindStringSubmatch(strings.TrimSpace(string(line)))
			if m == nil || m[1] != "account" || m[2] != bad || m[4] != failures.ChangeInitialExport || !strings.Contains(m[5], "refuse") {
				t.Fatalf("failure log line %q is not in the documented format, or names another record or reason", line)
			}
			if _, err := time.Parse("1/2/2006 3:04:05 PM", m[3]); err != nil {
				t.Fatalf("NotificationTime %q: %v", m[3], err)
			}
			// The payload is the record, ready to be sent again.
			rc, err = e.app.Failures.OpenBlob(ctx, e.prof.Name, fs[0].Blob)
			e.check(err)
			payload, _ := io.ReadAll(rc)
			rc.Close()
			if !strings.Contains(string(payload), bad) || strings.Count(string(payload), `"accountid"`) != 1 {
				t.Fatalf("payload %.200s… is not that record's message", payload)
			}
			if d := record.Diff(src, e.destination("account", cols)); d != "" {
				t.Fatalf("the destination changed while the bad record was retried:\n%s", d)
			}

			// Resync while the destination still refuses it: it fails
			// again, logged under forcerefreshfailurelog/ in the documented
			// format; its data/ blob and the counter stay.
			rep, err := e.app.Manage.ResyncFailures(ctx, e.prof.Name, "")
			e.check(err)
			if rep.FailedAgain != 1 || rep.Resolved != 0 || !rep.OK {
				t.Fatalf("resync with the constraint in place: %+v", rep)
			}
			sum, err := e.app.Manage.Failures(ctx, e.prof.Name, manage.FailuresQuery{})
			e.check(err)
			if len(sum.LatestResyncFailures) != 1 || sum.FailedRecords != 1 || sum.FailedNotifications != 1 {
				t.Fatalf("failures after a resync that failed again: %+v", sum)
			}
			if m := failureLogLine.FindStringSubmatch(sum.LatestResyncFailures[0].Line); m == nil || m[2] != bad || !strings.Contains(m[5], "refuse") ||
				!strings.HasPrefix(sum.LatestResyncFailures[0].Blob, failures.ResyncLogFolder+time.Now().UTC().Format("2006/01/02/")) {
				t.Fatalf("forcerefreshfailurelog line %+v", sum.LatestResyncFailures[0])
			}
			if len(e.failed("account")) != 1 || e.counters("account").Failed != 1 {
				t.Fatal("the record that failed again lost its data/ blob or its count")
			}

			// The constraint dropped, a resync brings the record in: the
			// counter returns to 0 and data/ is empty.
			e.allow("account")
			rep, err = e.app.Manage.ResyncFailures(ctx, e.prof.Name, "")
			e.check(err)
			if rep.Resolved != 1 || rep.FailedAgain != 0 {
				t.Fatalf("resync after the fix: %+v", rep)
			}
			if c := e.counters("account"); c.Failed != 0 {
				t.Fatalf("Failed Notifications %d after the resync, want 0", c.Failed)
			}
			if fs := e.failed("account"); len(fs) != 0 {
				t.Fatalf("data/ still holds %d failed records", len(fs))
			}
			status, err := e.app.Manage.Status(ctx, e.prof.Name)
			e.check(err)
			if le := status.Entities[0].LastError; status.FailedNotifications != 0 || le != nil {
				t.Fatalf("status after the resync: Failed Notifications %d, last error %+v; want 0 and the refusal behind it", status.FailedNotifications, le)
			}
			e.assertMatch("after the failed record was resynced")
		})
	}
}

var messageAttr = regexp.MustCompile(`message=\S+`)

// TestDestinationOutage cuts PostgreSQL off (a TCP proxy drops every
// connection and refuses new ones) for longer than the profile's retries
// last, while the source keeps changing. The batches wait and come back
// without using their retries: no failed record is written, the entity's
// counters say the destination is unreachable, and once it is back the
// destination ends equal to the source.
func TestDestinationOutage(t *testing.T) {
	_, schemaName := destinations(t)["postgres"](t)
	proxy := newTCPProxy(t, "127.0.0.1:5432")
	dest := profile.Destination{Type: profile.Postgres, Connection: "postgres://postgres@" + proxy.Addr() + "/test?sslmode=disable&connect_timeout=5"}
	e := newEnv(t, dest, schemaName)
	const retries, interval = 2, 1
	e.withRetries(retries, interval)
	e.sync()
	e.assertMatch("before the outage")

	proxy.Cut()
	cutAt := time.Now()
	e.mutate()
	// The outage lasts until the retries would have run out several times
	// over: more refused connections than retries allow applies, and
	// longer than retries × interval.
	e.await("an outage longer than the retries", 2*time.Minute, func() bool {
		return proxy.refused.Load() > 3*(retries+1) && time.Since(cutAt) > 2*retries*interval*time.Second
	})
	for _, ent := range e.prof.Entities {
		if c := e.counters(ent); !c.Waiting() || c.LastErrorClass != "transient" {
			t.Fatalf("%s counters during the outage: %+v; want waiting on a transient error", ent, c)
		}
	}
	e.mutate() // changes keep coming during the outage
	e.await("more applies refused", time.Minute, func() bool { return proxy.refused.Load() > 6*(retries+1) })
	if len(e.failed("")) != 0 {
		t.Fatal("failed records were written during the outage")
	}
	outage := time.Since(cutAt)

	proxy.Restore()
	matches := func() bool {
		for _, ent := range e.prof.Entities {
			if d, _, _ := e.diff(ent); d != "" {
				return false
			}
		}
		return true
	}
	e.await("the destination equal to the source after the outage", 2*time.Minute, matches)
	e.assertMatch("after the outage")
	if fs := e.failed(""); len(fs) != 0 {
		t.Fatalf("%d failed records after an outage of %v (retries: %d × %d s)", len(fs), outage.Round(time.Second), retries, interval)
	}
	for _, ent := range e.prof.Entities {
		if c := e.counters(ent); c.Failed != 0 || c.Waiting() {
			t.Fatalf("%s counters after the outage: %+v; want no failures and not waiting", ent, c)
		}
	}
	// One WARN line per waiting message, however often it came back.
	logs := e.logs.String()
	waits := map[string]int{}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "the destination cannot take the batch now") {
			if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "class=transient") {
				t.Errorf("wait logged as %q", line)
			}
			waits[messageAttr.FindString(line)]++
		}
	}
	if len(waits) == 0 || strings.Contains(logs, "failed after the profile's retries") {
		t.Errorf("the log does not show the wait, or shows failed records:\n%s", logs)
	}
	for id, n := range waits {
		if n != 1 {
			t.Errorf("%s: %d WARN lines, want 1", id, n)
		}
	}
	t.Logf("outage of %v, %d connections refused, %d messages waited; WARN/ERROR lines:\n%s", outage.Round(time.Second), proxy.refused.Load(), len(waits), warnings(logs))
}

// warnings is the WARN and ERROR lines of logs.
func warnings(logs string) string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
