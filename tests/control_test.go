package tests

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/dataexport/dataexport/internal/apiauth/authtest"
	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/secrets/kvtest"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// controlEnv is a live `dataexport run` with its own storage names, an
// emulated org, a Key Vault double and a storage tap.
type controlEnv struct {
	run                          *liveRun
	emu                          *dvemu.Emulator
	vault                        *kvtest.Vault
	issuer                       *authtest.Issuer
	tap                          *storageTap
	profilesTable, entitiesTable string
	queue, failurePrefix         string
	dir                          string
}

func newControlEnv(t *testing.T, records int) *controlEnv {
	t.Helper()
	emu, err := dvemu.New(dvemu.Options{Records: records, RandSeed: 11})
	if err != nil {
		t.Fatal(err)
	}
	org := httptest.NewServer(emu)
	t.Cleanup(org.Close)
	vault := kvtest.New()
	t.Cleanup(vault.Close)
	issuer := authtest.New()
	t.Cleanup(issuer.Close)
	dir := t.TempDir()
	cert := filepath.Join(dir, "doubles-cert.pem")
	pems := append(vault.CertPEM(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuer.Certificate()})...)
	if err := os.WriteFile(cert, pems, 0o600); err != nil {
		t.Fatal(err)
	}
	id := uniqueSuffix()
	e := &controlEnv{emu: emu, vault: vault, issuer: issuer, tap: newStorageTap(t), dir: dir,
		profilesTable: "ctlprofiles" + id, entitiesTable: "ctlentities" + id, queue: "ctl-" + id, failurePrefix: "ctl" + id[:6] + "-"}
	t.Cleanup(e.dropStorage)
	e.run = startRun(t, dir, map[string]string{
		"AzureWebJobsStorage":           e.tap.Connection(),
		"DATAVERSE_URL":                 org.URL,
		"DATAVERSE_TOKEN":               dvemu.DefaultToken,
		"DATAVERSE_REQUESTS_PER_SECOND": "-1",
		"DATAVERSE_PAGE_SIZE":           "7",
		"POLL_SCHEDULE":                 "*/1 * * * * *",
		"SCHEMA_SCHEDULE":               "*/1 * * * * *",
		"RECORDS_QUEUE":                 e.queue,
		"STATE_PROFILES_TABLE":          e.profilesTable,
		"STATE_ENTITIES_TABLE":          e.entitiesTable,
		"FAILURES_CONTAINER_PREFIX":     e.failurePrefix,
		"LOCAL_DEVELOPMENT":             "true",
		"ADMIN_API_KEY":                 "control-test-admin-key-" + id,
		// Entra ID tokens of the tenant double are accepted too.
		"ADMIN_ENTRA_TENANT_ID": authtest.Tenant,
		"ADMIN_ENTRA_AUDIENCE":  authtest.Audience,
		"ADMIN_ENTRA_AUTHORITY": issuer.Authority(),
		// The certificates of the Key Vault and tenant doubles: the only
		// roots the process trusts.
		"SSL_CERT_FILE": cert,
		"LOG_LEVEL":     "DEBUG",
	})
	return e
}

func (e *controlEnv) dropStorage() {
	ctx := context.Background()
	if svc, err := aztables.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil); err == nil {
		for _, n := range []string{e.profilesTable, e.entitiesTable} {
			_, _ = svc.DeleteTable(ctx, n, nil)
		}
	}
	if q, err := azqueue.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil); err == nil {
		_, _ = q.DeleteQueue(ctx, e.queue, nil)
		_, _ = q.DeleteQueue(ctx, e.queue+"-poison", nil)
	}
}

func newSecret() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "Pw" + hex.EncodeToString(b)
}

func (e *controlEnv) status(t *testing.T, name string) manage.ProfileStatus {
	t.Helper()
	var st manage.ProfileStatus
	e.run.json("GET", "/profiles/"+name+"/status", "", nil, http.StatusOK, &st)
	return st
}

// synced reports whether every entity of a profile finished its initial
// sync with as many rows read and applied as the source holds.
func (e *controlEnv) synced(t *testing.T, name string) bool {
	st := e.status(t, name)
	for _, es := range st.Entities {
		n := int64(len(e.emu.IDs(es.Entity)))
		// rowsApplied counts deliveries (at least once): a page delivered
		// twice, as after a read restarted, counts its rows twice.
		if es.Phase != state.PhaseDelta || es.RowsRead != n || es.RowsApplied < n || es.Pending != 0 || es.Failed != 0 {
			return false
		}
	}
	return len(st.Entities) > 0
}

// rowCounter counts rows of a destination table, all or of one id.
type rowCounter func(t *testing.T, table, id string) int

func pgRows(conn *pgx.Conn) rowCounter {
	return func(t *testing.T, table, id string) int {
		t.Helper()
		var n int
		q, args := "SELECT count(*) FROM "+table, []any{}
		if id != "" {
			q, args = q+` WHERE id = $1`, []any{strings.ToLower(id)}
		}
		if err := conn.QueryRow(t.Context(), q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

func sqliteRows(db *sql.DB) rowCounter {
	return func(t *testing.T, table, id string) int {
		t.Helper()
		var n int
		q, args := "SELECT count(*) FROM "+table, []any{}
		if id != "" {
			q, args = q+` WHERE "Id" = ?`, []any{strings.ToLower(id)}
		}
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// TestControlPlaneThroughRun drives two profiles, PostgreSQL through Key
// Vault and SQLite with a local-development connection string, through
// the HTTP routes of `dataexport run` alone: validate, create, test,
// activate, status to the end of the initial sync, deactivate (changes
// stop arriving), activate (they arrive), delete (state and failed records
// gone, destination tables kept); with 401, 409, 412 and 422 on the way.
// Then it scans everything the run wrote or answered for the password.
func TestControlPlaneThroughRun(t *testing.T) {
	e := newControlEnv(t, 15)
	ctx := t.Context()
	password := newSecret()

	// PostgreSQL: its own schema; the connection string (with a password
	// PostgreSQL's trust auth ignores) only in Key Vault.
	schemaName := "ctl" + uniqueSuffix()[:8]
	pgConn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatalf("PostgreSQL at 127.0.0.1:5432 is needed: %v", err)
	}
	t.Cleanup(func() {
		_, _ = pgConn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schemaName+" CASCADE")
		pgConn.Close(context.Background())
	})
	e.vault.SetSecret("pg-crm", "postgres://postgres:"+password+"@127.0.0.1:5432/test?sslmode=disable")
	e.vault.SetSecret("pg-bad", "postgres://postgres:"+password+"@127.0.0.1:1/nosuchdb?sslmode=disable&connect_timeout=3")
	sqlitePath := filepath.Join(e.dir, "crm.db")
	pgDoc := fmt.Sprintf(`{"name":"crm-pg","entities":["account","contact"],"schema":%q,"retryCount":2,"retryIntervalSeconds":1,
		"destination":{"type":"postgres","keyVaultSecretUrl":%q}}`, schemaName, e.vault.SecretURL("pg-crm"))
	liteDoc := fmt.Sprintf(`{"name":"crm-lite","entities":["account","contact"],"destination":{"type":"sqlite","connection":%q}}`, sqlitePath)

	// No key, or a wrong one: 401, nothing done.
	for _, h := range []map[string]string{{"x-functions-key": ""}, {"x-functions-key": "wrong-key-0123456789"}} {
		if status, _, b := e.run.call("POST", "/profiles", pgDoc, h); status != http.StatusUnauthorized || !strings.Contains(string(b), "application/problem+json") && !strings.Contains(string(b), `"status": 401`) {
			t.Fatalf("without the key: %d %s", status, b)
		}
	}
	// An Entra ID token of the tenant for the audience is accepted; one
	// signed by a key the tenant never published is not.
	bearer := map[string]string{"x-functions-key": "", "Authorization": "Bearer " + e.issuer.Token(e.issuer.Claims())}
	if status, _, b := e.run.call("GET", "/profiles", "", bearer); status != http.StatusOK {
		t.Fatalf("with an Entra ID token: %d %s", status, b)
	}
	bearer["Authorization"] = "Bearer " + e.issuer.StrangerToken(e.issuer.Claims())
	if status, _, _ := e.run.call("GET", "/profiles", "", bearer); status != http.StatusUnauthorized {
		t.Fatalf("with a forged token: %d", status)
	}
	// The key as the code query parameter, as the host takes it.
	if status, _, _ := e.run.call("GET", "/openapi.json?code="+e.run.Key, "", map[string]string{"x-functions-key": ""}); status != http.StatusOK {
		t.Fatalf("openapi.json with ?code=: %d", status)
	}

	// Choose from the org, validate, create.
	var cat manage.SourceCatalog
	e.run.json("GET", "/source/entities", "", nil, http.StatusOK, &cat)
	tracked := map[string]bool{}
	for _, se := range cat.Entities {
		tracked[se.LogicalName] = se.Eligible
	}
	if !tracked["account"] || !tracked["contact"] || tracked["new_scratchnote"] || tracked["activitypointer"] || len(cat.Relationships) == 0 {
		t.Fatalf("source entities: %+v", cat)
	}
	var valid struct{ Valid bool }
	e.run.json("POST", "/profiles/validate", pgDoc, nil, http.StatusOK, &valid)
	var prob struct {
		Status int
		Errors []struct{ Pointer, Detail string }
	}
	bad := strings.Replace(liteDoc, `["account","contact"]`, `["account","contact","new_scratchnote"]`, 1)
	e.run.json("POST", "/profiles/validate", bad, nil, http.StatusUnprocessableEntity, &prob)
	if len(prob.Errors) != 1 || prob.Errors[0].Pointer != "/entities/2" || !strings.Contains(prob.Errors[0].Detail, "change tracking") {
		t.Fatalf("validate: %+v", prob)
	}
	var pgView, liteView manage.ProfileView
	e.run.json("POST", "/profiles", pgDoc, nil, http.StatusCreated, &pgView)
	e.run.json("POST", "/profiles", liteDoc, nil, http.StatusCreated, &liteView)
	if pgView.State != profile.Inactive || !pgView.UsesKeyVault || liteView.UsesKeyVault {
		t.Fatalf("created %+v / %+v", pgView, liteView)
	}
	e.run.json("POST", "/profiles", pgDoc, nil, http.StatusConflict, nil)

	// Test both, and one whose secret names a database that cannot be reached.
	var rep manage.TestReport
	e.run.json("POST", "/profiles/crm-pg/test", "", nil, http.StatusOK, &rep)
	if !rep.OK || rep.Checks[0].Status != manage.Pass {
		t.Fatalf("test crm-pg: %+v", rep)
	}
	e.run.json("POST", "/profiles/crm-lite/test", "", nil, http.StatusOK, &rep)
	if !rep.OK || rep.Checks[0].Status != manage.Warn || !strings.Contains(rep.Checks[0].Detail, "not using Key Vault") {
		t.Fatalf("test crm-lite: %+v", rep)
	}
	badPG := strings.NewReplacer("crm-pg", "crm-bad", e.vault.SecretURL("pg-crm"), e.vault.SecretURL("pg-bad")).Replace(pgDoc)
	e.run.json("POST", "/profiles", badPG, nil, http.StatusCreated, nil)
	e.run.json("POST", "/profiles/crm-bad/test", "", nil, http.StatusOK, &rep)
	if rep.OK || rep.Checks[1].Name != "destination" || rep.Checks[1].Status != manage.Fail ||
		!strings.Contains(rep.Checks[1].Detail, "127.0.0.1") || !strings.Contains(rep.Checks[1].Detail, "nosuchdb") || strings.Contains(rep.Checks[1].Detail, password) {
		t.Fatalf("test crm-bad: the failing connect must name host and database, not the password: %+v", rep.Checks)
	}

	// Activate SQLite alone; once it has synced, PostgreSQL (inactive) has
	// not been read.
	e.run.json("POST", "/profiles/crm-lite/activate", "", map[string]string{"If-Match": liteView.ETag}, http.StatusOK, nil)
	await(t, "crm-lite's initial sync", 2*time.Minute, func() bool { return e.synced(t, "crm-lite") })
	for _, es := range e.status(t, "crm-pg").Entities {
		if es.Phase != state.PhaseNotStarted {
			t.Fatalf("inactive crm-pg was polled: %+v", es)
		}
	}
	// A stale ETag: 412; the current one: activated.
	e.run.json("POST", "/profiles/crm-pg/activate", "", map[string]string{"If-Match": `W/"datetime'2020-01-01T00%3A00%3A00Z'"`}, http.StatusPreconditionFailed, nil)
	e.run.json("POST", "/profiles/crm-pg/activate", "", map[string]string{"If-Match": pgView.ETag}, http.StatusOK, &pgView)
	await(t, "crm-pg's initial sync", 2*time.Minute, func() bool { return e.synced(t, "crm-pg") })

	pg := pgRows(pgConn)
	liteDB, err := sql.Open("sqlite", sqlitePath)
	if err != nil {
		t.Fatal(err)
	}
	defer liteDB.Close()
	lite := sqliteRows(liteDB)
	for _, ent := range []string{"account", "contact"} {
		n := len(e.emu.IDs(ent))
		if got := pg(t, schemaName+"."+ent, ""); got != n {
			t.Fatalf("PostgreSQL %s: %d rows, source %d", ent, got, n)
		}
		if got := lite(t, ent, ""); got != n {
			t.Fatalf("SQLite %s: %d rows, source %d", ent, got, n)
		}
	}

	// Two administrators update crm-pg from the same version: one wins
	// (200), the other gets 412, and the winner's change stays.
	var current manage.ProfileView
	e.run.json("GET", "/profiles/crm-pg", "", nil, http.StatusOK, &current)
	results := make([]int, 2)
	var wg gosync.WaitGroup
	for i, n := range []int{3, 4} {
		wg.Go(func() {
			doc := strings.Replace(pgDoc, `"retryCount":2`, fmt.Sprintf(`"retryCount":%d`, n), 1)
			results[i], _, _ = e.run.call("PUT", "/profiles/crm-pg", doc, map[string]string{"If-Match": current.ETag})
		})
	}
	wg.Wait()
	if !(results[0] == 200 && results[1] == 412 || results[0] == 412 && results[1] == 200) {
		t.Fatalf("concurrent updates with one ETag: %v, want one 200 and one 412", results)
	}
	winner := 3
	if results[1] == 200 {
		winner = 4
	}
	e.run.json("GET", "/profiles/crm-pg", "", nil, http.StatusOK, &current)
	if current.Profile.RetryCount == nil || *current.Profile.RetryCount != winner || current.State != profile.Active {
		t.Fatalf("after the race: %+v", current)
	}

	// Deactivate crm-pg; a change made meanwhile reaches crm-lite (still
	// active), not crm-pg.
	e.run.json("POST", "/profiles/crm-pg/deactivate", "", map[string]string{"If-Match": current.ETag}, http.StatusOK, &current)
	if current.State != profile.Inactive {
		t.Fatalf("deactivate: %+v", current)
	}
	// A poll that was under way when the state changed may still finish:
	// wait until crm-pg's position stops moving before changing the source.
	before := e.status(t, "crm-pg")
	await(t, "crm-pg's last poll to settle", 30*time.Second, func() bool {
		time.Sleep(1500 * time.Millisecond) // longer than the poll interval
		now := e.status(t, "crm-pg")
		a, _ := json.Marshal(now.Entities)
		b, _ := json.Marshal(before.Entities)
		same := string(a) == string(b) // the values, not the addresses of pointer fields
		before = now
		return same
	})
	id, err := e.emu.Create("account", map[string]any{"name": "made while crm-pg is inactive"})
	if err != nil {
		t.Fatal(err)
	}
	await(t, "the new account in SQLite", time.Minute, func() bool { return lite(t, "account", id) == 1 })
	if pg(t, schemaName+".account", id) != 0 {
		t.Fatal("the change reached the deactivated profile")
	}
	after := e.status(t, "crm-pg")
	if after.State != profile.Inactive || fmt.Sprint(after.Entities[0].RowsRead) != fmt.Sprint(before.Entities[0].RowsRead) {
		t.Fatalf("crm-pg read while inactive: %+v", after.Entities[0])
	}
	// Activate: it resumes from its saved position and the change arrives.
	e.run.json("POST", "/profiles/crm-pg/activate", "", nil, http.StatusOK, &current)
	await(t, "the new account in PostgreSQL", time.Minute, func() bool { return pg(t, schemaName+".account", id) == 1 })
	var acct manage.EntityStatus
	await(t, "crm-pg's counters of the new account", 30*time.Second, func() bool {
		acct = e.status(t, "crm-pg").Entities[0]
		return acct.Pending == 0 && acct.LagSeconds != nil
	})
	if acct.RowsRead != before.Entities[0].RowsRead+1 {
		t.Fatalf("after activation crm-pg read %d rows more, want 1 (resumed from its delta link)", acct.RowsRead-before.Entities[0].RowsRead)
	}
	// The change waited while the profile was inactive: its lag says so.
	if *acct.LagSeconds <= 0 || acct.LagMeasuredAt == nil {
		t.Fatalf("lag of the change %+v", acct)
	}

	// A message naming an entity crm-pg does not replicate is kept in its
	// failed-records container (so that there is one to delete).
	qc, err := azqueue.NewQueueClientFromConnectionString(azuritetest.ConnString(), e.queue, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := (&dsync.Message{ID: "crm-pg/lead/1", Profile: "crm-pg", Entity: "lead", Kind: dsync.KindDelta, Page: 1}).Encode()
	if _, err := qc.EnqueueMessage(ctx, base64.StdEncoding.EncodeToString(msg), nil); err != nil {
		t.Fatal(err)
	}
	blobs, err := azblob.NewClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := failures.NewStore(blobs, &failures.Options{ContainerPrefix: e.failurePrefix})
	if err != nil {
		t.Fatal(err)
	}
	container := fs.ContainerName("crm-pg")
	await(t, "the unprocessable message in crm-pg's container", time.Minute, func() bool {
		list, err := fs.ListUnprocessable(ctx, "crm-pg")
		return err == nil && len(list) > 0
	})

	// Delete: a stale ETag is refused; then state, counters and the
	// container go, the destination tables stay.
	e.run.json("DELETE", "/profiles/crm-pg", "", map[string]string{"If-Match": pgView.ETag}, http.StatusPreconditionFailed, nil)
	var del manage.DeleteResult
	e.run.json("DELETE", "/profiles/crm-pg", "", map[string]string{"If-Match": current.ETag}, http.StatusOK, &del)
	if !del.DestinationTablesKept || del.FailureContainer != container || del.StateRowsDeleted < 4 {
		t.Fatalf("delete: %+v", del)
	}
	e.run.json("GET", "/profiles/crm-pg", "", nil, http.StatusNotFound, nil)
	tables, err := aztables.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.NewStore(ctx, tables, &state.Options{ProfilesTable: e.profilesTable, EntitiesTable: e.entitiesTable})
	if err != nil {
		t.Fatal(err)
	}
	if sts, err := store.ListEntities(ctx, "crm-pg"); err != nil || len(sts) != 0 {
		t.Fatalf("crm-pg state rows after delete: %+v, %v", sts, err)
	}
	if c, err := store.GetCounters(ctx, "crm-pg", "account"); err != nil || c.Succeeded != 0 {
		t.Fatalf("crm-pg counters after delete: %+v, %v", c, err)
	}
	if _, err := blobs.ServiceClient().NewContainerClient(container).GetProperties(ctx, nil); !bloberror.HasCode(err, bloberror.ContainerNotFound) {
		t.Fatalf("container %s after delete: %v", container, err)
	}
	if got := pg(t, schemaName+".account", ""); got != len(e.emu.IDs("account")) {
		t.Fatalf("the destination table lost rows: %d", got)
	}
	// crm-lite goes on.
	if st := e.status(t, "crm-lite"); st.State != profile.Active {
		t.Fatalf("crm-lite: %+v", st)
	}

	// The CLI sees what the API made, in serve's tables.
	cliOut := ""
	for _, args := range [][]string{{"list"}, {"show", "crm-lite"}, {"status", "crm-lite"}, {"test", "crm-bad"}, {"list", "--json"}, {"status", "crm-lite", "--json"}} {
		out, err := e.run.cli(args...)
		cliOut += out
		if args[0] != "test" && err != nil {
			t.Fatalf("profile %v: %v\n%s", args, err, out)
		}
	}
	if !strings.Contains(cliOut, "crm-lite") || !strings.Contains(cliOut, "crm-bad") || strings.Contains(cliOut, "crm-pg ") {
		t.Fatalf("CLI output:\n%s", cliOut)
	}

	// Nothing of the password left the process: not in a log line, an
	// answer, CLI output, or anything written to or read from storage
	// (table rows, queue messages, blobs).
	t.Logf("secret reads %d, queue messages %d, table writes %d, blob writes %d, log %d bytes, answers %d bytes, traffic %d bytes", e.vault.Reads(), e.tap.count("queue message sent"), e.tap.count("table write"), e.tap.count("blob write"), len(e.run.logs()), len(e.run.answers()), len(e.tap.text()))
	if e.vault.Reads() == 0 {
		t.Fatal("the run never read the secret; the scan would prove nothing")
	}
	for what, n := range map[string]int{"queue message sent": e.tap.count("queue message sent"), "table write": e.tap.count("table write"), "blob write": e.tap.count("blob write")} {
		if n == 0 {
			t.Fatalf("the storage tap saw no %s; the scan would prove nothing", what)
		}
	}
	// Nor the admin key (sent as a header and as ?code=): the host consumes it.
	for what, text := range map[string]string{"log": e.run.logs(), "storage traffic": e.tap.text()} {
		if strings.Contains(text, e.run.Key) {
			t.Errorf("the admin key is in the %s", what)
		}
	}
	for what, text := range map[string]string{"log": e.run.logs(), "API answer": e.run.answers(), "CLI output": cliOut, "storage traffic": e.tap.text()} {
		if strings.Contains(strings.ToLower(text), strings.ToLower(password)) {
			i := strings.Index(strings.ToLower(text), strings.ToLower(password))
			t.Errorf("the password is in a %s: …%s…", what, text[max(0, i-200):min(len(text), i+100)])
		}
	}
}
