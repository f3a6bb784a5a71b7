package tests

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	_ "modernc.org/sqlite"

	"github.com/dataexport/dataexport/internal/azuritetest"

	"github.com/dataexport/dataexport/handlers"
	"github.com/dataexport/dataexport/internal/apiauth"
	"github.com/dataexport/dataexport/internal/dvemu"
	"github.com/dataexport/dataexport/internal/metrics"
	"github.com/dataexport/dataexport/internal/webui"
)

// uiEnv is a live dataexport run over the emulator, Azurite and a SQLite
// destination, with a headless Chromium on its web UI.
type uiEnv struct {
	run          *liveRun
	emu          *dvemu.Emulator
	origin       string
	dir          string
	metricsTable string
}

func (e *uiEnv) metricsStore(t *testing.T) *metrics.Store {
	t.Helper()
	svc, err := aztables.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := metrics.NewStore(t.Context(), svc, e.metricsTable)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *uiEnv) seedMetrics(t *testing.T, profile, entity string, pts ...metrics.Point) {
	t.Helper()
	m := e.metricsStore(t)
	for _, p := range pts {
		if err := m.Add(t.Context(), profile, entity, p); err != nil {
			t.Fatal(err)
		}
	}
}

func newUIEnv(t *testing.T, records int) *uiEnv {
	t.Helper()
	emu, err := dvemu.New(dvemu.Options{Records: records, RandSeed: 12})
	if err != nil {
		t.Fatal(err)
	}
	org := httptest.NewServer(emu)
	t.Cleanup(org.Close)
	dir := t.TempDir()
	id := uniqueSuffix()
	e := &uiEnv{emu: emu, dir: dir, metricsTable: "uimetrics" + id}
	e.run = startRun(t, dir, map[string]string{
		"AzureWebJobsStorage":           "UseDevelopmentStorage=true",
		"DATAVERSE_URL":                 org.URL,
		"DATAVERSE_TOKEN":               dvemu.DefaultToken,
		"DATAVERSE_REQUESTS_PER_SECOND": "-1",
		"DATAVERSE_PAGE_SIZE":           "40",
		"POLL_SCHEDULE":                 "*/1 * * * * *",
		"SCHEMA_SCHEDULE":               "*/1 * * * * *",
		"RECORDS_QUEUE":                 "ui-" + id,
		"STATE_PROFILES_TABLE":          "uiprofiles" + id,
		"STATE_ENTITIES_TABLE":          "uientities" + id,
		"STATE_METRICS_TABLE":           "uimetrics" + id,
		"FAILURES_CONTAINER_PREFIX":     "ui" + id[:6] + "-",
		"LOCAL_DEVELOPMENT":             "true",
		"ADMIN_API_KEY":                 "ui-test-admin-key-" + id,
	})
	e.origin = strings.TrimSuffix(e.run.API, "/api")
	t.Cleanup(func() { dropTables(t, "uiprofiles"+id, "uientities"+id, "uimetrics"+id) })
	return e
}

// Every route of the app refuses a request without its credentials: the
// management API's routes (the admin key or an Entra ID token, as the
// host's function keys in Azure) and the web UI's files and its calls to
// the API under /api/ui/api/ (the login form's session, as App Service
// Authentication's in Azure). A wrong key, principal headers a caller
// sends, a forged cookie, the key on the UI's paths and the UI's session
// on the API's routes are no credentials; the right one opens each (so
// the refusals are not of a broken server).
func TestEveryRouteRefusesWithoutCredentials(t *testing.T) {
	e := newUIEnv(t, 5)
	session := e.signIn(t)
	forged := map[string]string{handlers.PrincipalNameHeader: "admin@contoso.example", handlers.PrincipalIDPHeader: "aad", handlers.PrincipalIDHeader: "1"}
	type attempt struct {
		name string
		set  func(*http.Request)
	}
	none := attempt{"no credentials", func(*http.Request) {}}
	wrongKey := attempt{"a wrong key", func(r *http.Request) { r.Header.Set("x-functions-key", "wrong-key-0123456789") }}
	principal := attempt{"principal headers of its own", func(r *http.Request) {
		for k, v := range forged {
			r.Header.Set(k, v)
		}
	}}
	forgedCookie := attempt{"a session cookie never issued", func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: apiauth.SessionCookie, Value: "forged"})
	}}
	key := attempt{"the admin key", func(r *http.Request) { r.Header.Set("x-functions-key", e.run.Key) }}
	withSession := attempt{"the UI's session", func(r *http.Request) {
		r.AddCookie(session)
		r.Header.Set("X-Requested-With", "XMLHttpRequest")
	}}
	requests := 0
	try := func(method, path string, a attempt, refused bool) {
		t.Helper()
		req, _ := http.NewRequest(method, e.origin+path, strings.NewReader(`{"name":"crm"}`))
		req.Header.Set("Content-Type", "application/json")
		a.set(req)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		requests++
		switch {
		case refused && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s %s with %s: %d, want 401: %.200s", method, path, a.name, resp.StatusCode, body)
		case refused && (strings.Contains(string(body), "usesKeyVault") || strings.Contains(string(body), "'use strict'") || strings.Contains(string(body), "function (")):
			t.Errorf("%s %s with %s answered content: %.200s", method, path, a.name, body)
		case !refused && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
			t.Errorf("%s %s with %s: %d, want it let through: %.200s", method, path, a.name, resp.StatusCode, body)
		}
	}
	var apiCalls, uiCalls [][2]string
	for _, fn := range handlers.Functions() {
		trig, ok := fn.Trigger.(handlers.HTTPTrigger)
		if !ok {
			continue
		}
		if fn.Name == handlers.WebUI {
			for _, a := range append(webui.Names(), "") {
				uiCalls = append(uiCalls, [2]string{"GET", handlers.UIPath + a})
			}
			continue
		}
		route := strings.NewReplacer("{name}", "nosuch", "{entity}", "account").Replace(trig.Route)
		for _, m := range trig.Methods {
			apiCalls = append(apiCalls, [2]string{m, "/api/" + route})
			uiCalls = append(uiCalls, [2]string{m, handlers.UIAPIPath + route})
		}
	}
	for _, c := range apiCalls {
		for _, a := range []attempt{none, wrongKey, principal, forgedCookie, withSession} {
			try(c[0], c[1], a, true)
		}
	}
	for _, c := range uiCalls {
		for _, a := range []attempt{none, wrongKey, principal, forgedCookie, key} {
			try(c[0], c[1], a, true)
		}
	}
	// The right credential opens each kind of path (GETs: nothing changes).
	for _, c := range [][2]string{{"GET", "/api/profiles"}, {"GET", "/api/me"}} {
		try(c[0], c[1], key, false)
	}
	for _, c := range [][2]string{{"GET", handlers.UIPath}, {"GET", handlers.UIPath + "app.js"}, {"GET", handlers.UIAPIPath + "profiles"}, {"GET", handlers.UIAPIPath + "me"}} {
		try(c[0], c[1], withSession, false)
	}
	if len(apiCalls) < 18 || len(uiCalls) < len(apiCalls)+4 {
		t.Fatalf("only %d API and %d UI paths tried: the routes were not all found", len(apiCalls), len(uiCalls))
	}
	t.Logf("%d requests", requests)
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// signIn posts the admin key to the login form, as the browser does, and
// returns the session cookie it gives.
func (e *uiEnv) signIn(t *testing.T) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.PostForm(e.origin+"/.auth/login", url.Values{"credential": {e.run.Key}, "redirect": {handlers.UIPath}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == apiauth.SessionCookie && c.Value != "" {
			return c
		}
	}
	t.Fatalf("the login form answered %d without a session cookie", resp.StatusCode)
	return nil
}

// TestWebUI walks the screens as an administrator would, in headless
// Chromium against a live dataexport run: sign in, the New Profile wizard
// (inline field errors from the API, entities without change tracking not
// selectable, the activitypointer workaround, search, an N:N relationship)
// to Create and Activate, the initial sync to 100 %, deactivate and
// activate, a record refused by the destination shown as a Failed
// Notification, its failure line and read-only URL (Failed records), its
// resync once the cause is gone (Resync failed records), Reconcile, Test,
// Manage Entities and Delete. Each step asserts what the page shows.
// The page fetches nothing from anywhere but the server, and has no script
// or console error. Screenshots go to tests/artifacts/ui/.
func TestWebUI(t *testing.T) {
	e := newUIEnv(t, 120)
	b := newBrowser(t, e.origin)
	ui := e.origin + handlers.UIPath
	dbPath := filepath.Join(e.dir, "ui.db")
	start := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }

	// Sign in: the UI without a session is the login form, and after it
	// the page asked for (its #/ route included) opens.
	b.do("opening the UI", chromedp.Navigate(ui+"#/new"))
	if got := b.text("h1"); got != "Sign in to dataexport" {
		b.fail("without a session the page is %q, want the sign-in form", got)
	}
	b.screenshot("sign-in")
	b.typeInto("#credential", "not-the-key-0123456789")
	b.click("button[type=submit]")
	b.await("the wrong key refused", `document.querySelector('#login-error') && document.querySelector('#login-error').textContent.includes('not the admin key')`, 10*time.Second)
	b.typeInto("#credential", e.run.Key)
	b.click("button[type=submit]")
	b.await("the wizard asked for before signing in", `location.hash === '#/new' && document.querySelector('h2') && document.querySelector('h2').textContent === 'Properties'`, 15*time.Second)
	b.await("the signed-in user", `document.getElementById('who').textContent.includes('Signed in as admin key')`, 10*time.Second)
	b.do("the list", chromedp.Navigate(ui+"#/"))
	b.await("the profile list", `document.querySelector('h1') && document.querySelector('h1').textContent === 'Export Profiles'`, 15*time.Second)
	b.await("the empty list", `!document.querySelector('.empty').hidden`, 10*time.Second)

	step("The wizard")
	// The wizard: Properties, each field checked by the API as it is left.
	b.click("a[href='#/new']")
	b.await("the wizard", `document.querySelector('h2') && document.querySelector('h2').textContent === 'Properties'`, 10*time.Second)
	b.typeInto("#f-name", "crm")
	b.typeInto("#f-prefix", "bad-prefix!")
	b.typeInto("#f-schema", "")
	b.await("the prefix's field error from the API", `document.getElementById('f-prefix').getAttribute('aria-invalid') === 'true' && document.getElementById('f-prefix-error').textContent.includes('only letters and digits')`, 10*time.Second)
	b.typeInto("#f-retrycount", "99")
	b.typeInto("#f-schema", "")
	b.await("the retry count's field error", `document.getElementById('f-retrycount-error').textContent.includes('must be 0-20')`, 10*time.Second)
	b.screenshot("wizard-properties-errors")
	// Next with a missing secret URL: the step stays, naming the field.
	b.typeInto("#f-prefix", "ui")
	b.typeInto("#f-retrycount", "1")
	b.typeInto("#f-retryinterval", "1")
	b.choose("#f-type", "sqlite")
	b.click("#wizard-step button.primary")
	b.await("the missing Key Vault URL named", `document.getElementById('f-kv-error').textContent.includes('is required')`, 10*time.Second)
	if got := b.text("#f-prefix-error"); got != "" {
		b.fail("the prefix is fixed but still shows %q", got)
	}
	// Local development: the SQLite file as a connection string.
	b.click("details summary")
	b.typeInto("#f-conn", dbPath)
	b.click("#wizard-step button.primary")

	step("Select Entities")
	// Select Entities: only change-tracked ones; activitypointer explained.
	b.await("the entity step", `document.getElementById('entity-list')`, 15*time.Second)
	if got := b.text("#activity-notice"); !strings.Contains(got, "phonecall") || !strings.Contains(got, "activitypointer") {
		b.fail("the activitypointer notice %q lacks the workaround", got)
	}
	if !eval[bool](b, `document.getElementById('ent-activitypointer').disabled && document.getElementById('ent-new_scratchnote').disabled && !document.getElementById('ent-account').disabled`) {
		b.fail("activitypointer and new_scratchnote (no change tracking) must not be selectable, account must")
	}
	if got := b.text("#ent-new_scratchnote-why"); !strings.Contains(got, "change tracking") {
		b.fail("new_scratchnote's reason %q does not say change tracking", got)
	}
	b.typeInto("#entity-search", "proj")
	b.await("the search", `[...document.querySelectorAll('#entity-list li')].filter(li => !li.hidden).map(li => li.querySelector('input').value).join() === 'new_project'`, 5*time.Second)
	b.click("#ent-new_project")
	b.typeInto("#entity-search", "")
	b.click("#ent-account")
	b.click("#ent-contact")
	if got := b.text("#selected-count"); got != "3 selected" {
		b.fail("count %q, want 3 selected", got)
	}
	b.screenshot("wizard-entities")
	b.click("#wizard-step button.primary")

	// Select Relationships: the N:N between new_project and contact.
	b.await("the relationship step", `document.getElementById('relationship-list')`, 10*time.Second)
	if n := eval[float64](b, `document.querySelectorAll('#relationship-list input').length`); n != 1 {
		b.fail("%v relationships offered among new_project, account and contact, want 1 (new_project_contact)", n)
	}
	b.click("#rel-new_project_contact")
	b.click("#wizard-step button.primary")

	step("Summary")
	// Summary, then Create and Activate.
	b.await("the summary", `document.getElementById('summary')`, 5*time.Second)
	summary := b.text("#summary")
	for _, want := range []string{"crm", "SQLite", "account, contact, new_project", "new_project_contact", "Retry count1", "ui"} {
		if !strings.Contains(summary, want) {
			b.fail("the summary %q lacks %q", summary, want)
		}
	}
	b.screenshot("wizard-summary")
	b.click("#wizard-step button.primary")

	step("The profile page")
	// The profile page: the initial sync reaches 100 % for every entity.
	b.await("the profile page", `document.querySelector('h1') && document.querySelector('h1').textContent === 'crm' && document.getElementById('entities-table')`, 15*time.Second)
	if got := b.text("#banner"); !strings.Contains(got, "created and activated") {
		b.fail("banner %q", got)
	}
	if got := b.text("#state"); got != "Active" {
		b.fail("state %q, want Active", got)
	}
	b.await("every initial sync at 100 %", `(() => { const rows = [...document.querySelectorAll('#entities-table tbody tr')]; return rows.length === 4 && rows.every(r => r.querySelector('.progress-text').textContent.startsWith('100 % · complete')); })()`, 90*time.Second)
	for _, ent := range []string{"account", "contact", "new_project"} {
		want := len(e.emu.IDs(ent))
		got := b.text(fmt.Sprintf("#entities-table tr[data-entity=%s] td[data-label=Succeeded]", ent))
		if got != fmt.Sprintf("%d", want) && !(want >= 1000 && got == fmtThousands(want)) {
			b.fail("%s: Succeeded shows %q, the source has %d", ent, got, want)
		}
		if v := eval[string](b, fmt.Sprintf(`document.querySelector('#entities-table tr[data-entity=%s] [role=progressbar]').getAttribute('aria-valuenow')`, ent)); v != "100" {
			b.fail("%s: progress bar at %q, want 100", ent, v)
		}
	}
	b.screenshot("profile-entities")

	step("Deactivate")
	// Deactivate, then activate: the page follows, and a change made in
	// Dataverse meanwhile arrives after activation.
	b.click("#deactivate")
	b.await("Inactive", `document.getElementById('state').textContent === 'Inactive' && !document.getElementById('activate').hidden && document.getElementById('deactivate').hidden`, 10*time.Second)
	if got := b.text("#banner"); !strings.Contains(got, "deactivated") {
		b.fail("banner after deactivate %q", got)
	}
	accounts := len(e.emu.IDs("account"))
	if _, err := e.emu.Create("account", map[string]any{"name": "Created while inactive"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // polls would have run: none may
	if got := b.text("#entities-table tr[data-entity=account] td[data-label=Succeeded]"); got != fmt.Sprint(accounts) {
		b.fail("while inactive account shows %s succeeded, want %d", got, accounts)
	}
	b.click("#activate")
	b.await("Active again", `document.getElementById('state').textContent === 'Active' && document.getElementById('activate').hidden`, 10*time.Second)
	b.await("the change made while inactive", fmt.Sprintf(`document.querySelector('#entities-table tr[data-entity=account] td[data-label=Succeeded]').textContent === '%d'`, accounts+1), 30*time.Second)

	step("A record the destination refuses")
	// A record the destination refuses (a trigger standing for a customer's
	// CHECK constraint) becomes a Failed Notification after its retries.
	plantRefusal(t, dbPath, "ui_account", "numberofemployees", 4242)
	if err := e.emu.Update("account", e.emu.IDs("account")[3], map[string]any{"numberofemployees": 4242}); err != nil {
		t.Fatal(err)
	}
	b.await("the failed record on the page", `document.querySelector('#entities-table tr[data-entity=account] td[data-label=Failed]').textContent === '1'`, 60*time.Second)
	// The tabs work from the keyboard (arrow keys move and select).
	b.do("keyboard on the tabs", chromedp.Focus(chromedp.CSS("#tab-entities")), chromedp.KeyEvent(kb.ArrowLeft))
	b.await("Properties & Overview selected by the keyboard", `document.getElementById('tab-overview').getAttribute('aria-selected') === 'true' && document.activeElement.id === 'tab-overview' && !document.getElementById('panel-overview').hidden && document.getElementById('panel-entities').hidden`, 5*time.Second)
	b.await("Failed Notifications 1", `document.querySelector('#card-failed .v').textContent === '1'`, 10*time.Second)
	if got := b.text("#entities-table tr[data-entity=account] .lasterror"); !strings.Contains(got, "refused") {
		b.fail("the account's last error %q does not show the destination's reason", got)
	}

	step("Failed records")
	// Failed records (DES's dialog): the failure line in DES's format and a
	// read-only URL of the failures container.
	b.click("#failed-records")
	b.await("the Failed records dialog", `document.querySelector('dialog[open] #failure-lines')`, 15*time.Second)
	if got := b.text("#failure-lines"); !strings.Contains(got, "Entity: account, RecordId: ") || !strings.Contains(got, "refused") {
		b.fail("the latest failure lines %q lack the refused account record", got)
	}
	if u := eval[string](b, `document.getElementById('failures-url').value`); !strings.HasPrefix(u, "http") || !strings.Contains(u, "sig=") {
		b.fail("the failures URL %q is not a signed URL", u)
	}
	if got := b.text("#failures-table tbody"); !strings.Contains(got, "account") || strings.Contains(got, "contact") {
		b.fail("the failed records table %q should list account only", got)
	}
	b.click("#copy-url")
	b.await("the URL copied (or selected for Ctrl+C)", `document.getElementById('copy-status').textContent !== '' && window.getSelection().toString() === document.getElementById('failures-url').value || document.getElementById('copy-status').textContent === 'Copied.'`, 5*time.Second)
	b.screenshot("failed-records")
	b.click("dialog[open] form button")
	b.await("the dialog closed", `!document.querySelector('dialog[open]')`, 5*time.Second)

	step("Resync failed records")
	// Resync failed records once the cause is gone: the record arrives,
	// Failed Notifications back to 0.
	dropRefusal(t, dbPath)
	b.click("#resync-failures")
	b.await("the resync's report", `document.getElementById('banner').textContent.includes('1 resolved, 0 failed again, 0 remaining')`, 30*time.Second)
	b.await("no failed record left", `document.querySelector('#card-failed .v').textContent === '0'`, 10*time.Second)
	if n := countRows(t, dbPath, `SELECT count(*) FROM ui_account WHERE numberofemployees = 4242`); n != 1 {
		b.fail("after the resync %d account rows hold the refused value, want 1", n)
	}

	step("Reconcile")
	// Reconcile: a row lost from the destination shows as missing; "Read
	// again in full" (the entity resync) brings it back, and Reconcile then
	// finds the table equal to the source.
	lost := e.emu.IDs("account")[7]
	execSQL(t, dbPath, `DELETE FROM ui_account WHERE "Id" = ?`, lost)
	b.click("#reconcile")
	b.await("the Reconcile dialog", `document.getElementById('reconcile-entity')`, 5*time.Second)
	b.choose("#reconcile-entity", "account")
	b.click("#reconcile-run")
	b.await("the reconcile verdict", `document.getElementById('reconcile-verdict')`, 30*time.Second)
	if got := b.text("#reconcile-verdict"); !strings.Contains(got, "account differs from the source") {
		b.fail("reconcile of a table missing a row says %q", got)
	}
	if got := b.text("#reconcile-result"); !strings.Contains(got, "Missing in the destination (1)") || !strings.Contains(got, lost) {
		b.fail("the reconcile result %q does not name the missing account %s", got, lost)
	}
	b.screenshot("reconcile")
	b.click("#entity-resync")
	b.await("the entity resync's answer", `document.getElementById('entity-resync-result') && document.getElementById('entity-resync-result').textContent.length > 0`, 15*time.Second)
	await(t, "the account table equal to the source again", 90*time.Second, func() bool {
		var rec struct {
			Equal bool `json:"equal"`
		}
		e.run.json("GET", "/profiles/crm/entities/account/reconcile", "", nil, http.StatusOK, &rec)
		return rec.Equal
	})
	if n := countRows(t, dbPath, `SELECT count(*) FROM ui_account WHERE "Id" = '`+lost+`'`); n != 1 {
		b.fail("the lost account %s is not back in the destination", lost)
	}
	b.click("#reconcile-run")
	b.await("the second verdict", `document.getElementById('reconcile-verdict') && document.getElementById('reconcile-verdict').textContent.includes('account is equal to the source')`, 30*time.Second)
	b.do("closing the dialog", chromedp.KeyEvent("\x1b"))
	b.await("the dialog closed", `!document.querySelector('dialog[open]')`, 5*time.Second)

	step("Test")
	// Test: every check passes and the page says which.
	b.click("#test")
	b.await("the test report", `document.getElementById('test-heading') && document.getElementById('test-heading').textContent === 'Test: passed'`, 30*time.Second)
	if n := eval[float64](b, `document.querySelectorAll('#test-result .badge.pass').length`); n < 5 {
		b.fail("%v checks passed, want secret/destination/permissions/entities", n)
	}
	if got := b.text("#properties"); !strings.Contains(got, "Retry count1") || !strings.Contains(got, "Retry interval1 s") || !strings.Contains(got, "Prefixui") || !strings.Contains(got, "local development") {
		b.fail("properties %q", got)
	}
	b.screenshot("profile-overview")

	step("The list shows")
	// The list shows the profile with its Failed Notifications (none left).
	b.do("the list", chromedp.Navigate(ui+"#/"))
	b.await("the profile in the list", `document.querySelector('#profiles-table tr[data-profile=crm] td[data-label="Failed Notifications"]') && document.querySelector('#profiles-table tr[data-profile=crm] td[data-label="Failed Notifications"]').textContent === '0'`, 15*time.Second)
	if got := b.text("#profiles-table tr[data-profile=crm]"); !strings.Contains(got, "Active") || !strings.Contains(got, "SQLite") || !strings.Contains(got, "4: account, contact, new_project, new_project_contact") {
		b.fail("list row %q", got)
	}
	b.screenshot("list")

	step("Manage Entities")
	// Manage Entities: without new_project, its N:N relationship goes too
	// (both of its entities must be exported); the page says so.
	b.do("the profile page", chromedp.Navigate(ui+"#/profiles/crm"))
	b.await("the profile page", `document.querySelector('a[href="#/profiles/crm/manage-entities"]')`, 15*time.Second)
	b.click(`a[href="#/profiles/crm/manage-entities"]`)
	b.await("Manage Entities", `document.getElementById('entity-list') && document.getElementById('ent-new_project').checked`, 15*time.Second)
	b.click("#ent-new_project")
	b.click("#update")
	b.await("the updated profile", `document.querySelectorAll('#entities-table tbody tr').length === 2 && document.querySelector('#entities-table tr[data-entity=contact]')`, 15*time.Second)
	if got := b.text("#banner"); !strings.Contains(got, "Export profile crm updated") {
		b.fail("banner after Manage Entities %q", got)
	}
	b.click("#tab-relationships")
	b.await("no relationship left", `document.querySelector('#relationships .empty')`, 5*time.Second)

	step("A narrow window")
	// A narrow window keeps every column readable (cards, not a cut table).
	b.do("narrow window", chromedp.EmulateViewport(420, 900))
	b.do("the profile page", chromedp.Navigate(ui+"#/profiles/crm/entities"))
	b.await("the profile page, narrow", `document.getElementById('entities-table') && document.querySelectorAll('#entities-table tbody tr').length === 2`, 15*time.Second)
	if w := eval[float64](b, `document.documentElement.scrollWidth`); w > 430 {
		b.fail("the narrow page is %v px wide, more than the 420 px window", w)
	}
	b.screenshot("profile-narrow")
	b.do("wide window", chromedp.EmulateViewport(1280, 800))

	step("The charts")
	// The charts: rows applied per minute and lag, per entity, from the
	// metrics route. A minute is written once it is over, so the test puts
	// two minutes of its own in the table rather than wait for one
	// (TestMetricsOfALiveRun checks the applier writes them).
	seeded := time.Now().UTC().Truncate(time.Minute).Add(-20 * time.Minute)
	e.seedMetrics(t, "crm", "account", metrics.Point{Minute: seeded, Applied: 5000, Deleted: 12, Failed: 3, HasLag: true, LagLast: 25 * time.Second, LagMax: 40 * time.Second},
		metrics.Point{Minute: seeded.Add(5 * time.Minute), Applied: 1200, HasLag: true, LagLast: 1500 * time.Millisecond, LagMax: 1500 * time.Millisecond})
	b.click("#refresh")
	b.await("the activity charts", `document.querySelectorAll('#charts .chart-card').length === 2`, 15*time.Second)
	peak := fmt.Sprintf("peak 5,003 per minute at %s", seeded.Local().Format("15:04"))
	b.await("the seeded minutes in the account's chart", fmt.Sprintf(`document.querySelector('#charts .chart-card[data-entity=account] .chart-caption').textContent.includes(%q)`, peak), 15*time.Second)
	if n := eval[float64](b, `document.querySelectorAll('#charts .chart-card[data-entity=account] .bars rect').length`); n < 3 {
		b.fail("%v bars in the account's chart, want the two seeded minutes (one with failed records)", n)
	}
	// (the run's own minute may be there too, with lags of a few seconds)
	if got := eval[string](b, `document.querySelectorAll('#charts .chart-card[data-entity=account] svg')[1].getAttribute('aria-label')`); !strings.Contains(got, "latest ") || !strings.Contains(got, "largest 40 s") {
		b.fail("the lag chart's text alternative %q", got)
	}
	b.screenshot("profile-charts")

	step("Delete")
	// Delete, confirmed in a dialog: the list no longer has it.
	b.click("#tab-overview")
	b.click("#delete")
	b.await("the confirmation", `document.querySelector('dialog[open]') && document.getElementById('delete-title').textContent.includes('crm')`, 5*time.Second)
	b.click("#confirm-delete")
	b.await("the list without crm", `document.querySelector('h1').textContent === 'Export Profiles' && !document.querySelector('#profiles-table tr[data-profile=crm]') && !document.querySelector('.empty').hidden`, 15*time.Second)
	if got := b.text("#banner"); !strings.Contains(got, "deleted") || !strings.Contains(got, "tables were kept") {
		b.fail("banner after delete %q", got)
	}
	b.checkClean()
	t.Logf("screenshots: %s", strings.Join(b.shotNames, " "))
}

func fmtThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// plantRefusal makes the SQLite destination refuse rows whose column holds
// value (SQLite cannot add a CHECK to a table; a trigger raising ABORT
// refuses the same way).
func plantRefusal(t *testing.T, dbPath, table, column string, value int) {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, op := range []string{"INSERT", "UPDATE"} {
		if _, err := db.Exec(fmt.Sprintf(`CREATE TRIGGER refuse_%s BEFORE %s ON %q WHEN NEW.%q = %d BEGIN SELECT RAISE(ABORT, 'refused'); END`, strings.ToLower(op), op, table, column, value)); err != nil {
			t.Fatalf("planting the refusal: %v", err)
		}
	}
}

func dropTables(t *testing.T, names ...string) {
	svc, err := aztables.NewServiceClientFromConnectionString(azuritetest.ConnString(), nil)
	if err != nil {
		return
	}
	for _, n := range names {
		_, _ = svc.DeleteTable(context.Background(), n, nil)
	}
}

// TestMetricsOfALiveRun: the applier of a live dataexport run records each
// entity's rows per minute in the metrics table: the initial sync's rows
// are all there once the process has stopped (it writes the minute in
// progress on the way out), as the metrics route and the web UI read them.
func TestMetricsOfALiveRun(t *testing.T) {
	e := newUIEnv(t, 30)
	doc := fmt.Sprintf(`{"name":"m","entities":["account","contact"],"destination":{"type":"sqlite","connection":%q}}`, filepath.Join(e.dir, "m.db"))
	e.run.json("POST", "/profiles?activate=true", doc, nil, http.StatusCreated, nil)
	await(t, "the initial sync", 60*time.Second, func() bool {
		var st struct {
			InitialSyncComplete bool `json:"initialSyncComplete"`
		}
		e.run.json("GET", "/profiles/m/status", "", nil, http.StatusOK, &st)
		return st.InitialSyncComplete
	})
	e.run.stop()
	m := e.metricsStore(t)
	for _, ent := range []string{"account", "contact"} {
		pts, err := m.Series(t.Context(), "m", ent, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var applied int64
		for _, p := range pts {
			applied += p.Applied
		}
		if applied != int64(len(e.emu.IDs(ent))) || len(pts) > 2 {
			t.Errorf("%s: %d rows applied in %d minutes recorded, want %d in one or two", ent, applied, len(pts), len(e.emu.IDs(ent)))
		}
	}
}

// dropRefusal removes what plantRefusal planted: the cause is fixed.
func dropRefusal(t *testing.T, dbPath string) {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, op := range []string{"insert", "update"} {
		if _, err := db.Exec("DROP TRIGGER refuse_" + op); err != nil {
			t.Fatalf("dropping the refusal: %v", err)
		}
	}
}

// countRows runs a query of one integer on the SQLite destination.
func countRows(t *testing.T, dbPath, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// execSQL runs a statement on the SQLite destination.
func execSQL(t *testing.T, dbPath, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
