// Package infra has no Go code; this test is the offline check of the Bicep
// files that is possible without the Bicep CLI (see README.md): parameters,
// role ids, brackets, and the app settings against what internal/app, the
// function.json files and the host read.
package infra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/handlers"
	"github.com/dataexport/dataexport/internal/app"
	"github.com/dataexport/dataexport/internal/settings"
)

var (
	paramDecl = regexp.MustCompile(`(?m)^param (\w+) (\w+)( = .*)?$`)
	paramSet  = regexp.MustCompile(`(?m)^param (\w+) = `)
	roleGUID  = regexp.MustCompile(`(?m)^  \w+: '([^']+)'$`)
	guidRe    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParamFileMatchesTemplate(t *testing.T) {
	bicep, params := read(t, "main.bicep"), read(t, "main.bicepparam")
	if !strings.HasPrefix(params, "using './main.bicep'") {
		t.Fatal("main.bicepparam does not start with using './main.bicep'")
	}
	declared := map[string]bool{}
	for _, m := range paramDecl.FindAllStringSubmatch(bicep, -1) {
		declared[m[1]] = m[3] != ""
	}
	if len(declared) == 0 {
		t.Fatal("no params found in main.bicep")
	}
	set := map[string]bool{}
	for _, m := range paramSet.FindAllStringSubmatch(params, -1) {
		if _, ok := declared[m[1]]; !ok {
			t.Errorf("main.bicepparam sets %q, which main.bicep does not declare", m[1])
		}
		set[m[1]] = true
	}
	for name, hasDefault := range declared {
		if !hasDefault && !set[name] {
			t.Errorf("param %q has no default and is not set in main.bicepparam", name)
		}
	}
}

func TestRoleIDsAreGUIDs(t *testing.T) {
	bicep := read(t, "main.bicep")
	start := strings.Index(bicep, "var roles = {")
	end := strings.Index(bicep[start:], "\n}\n")
	if start < 0 || end < 0 {
		t.Fatal("var roles block not found")
	}
	ids := roleGUID.FindAllStringSubmatch(bicep[start:start+end], -1)
	if len(ids) < 6 {
		t.Fatalf("found %d role ids", len(ids))
	}
	for _, m := range ids {
		if !guidRe.MatchString(m[1]) {
			t.Errorf("role id %q is not a GUID", m[1])
		}
	}
}

func TestBracesBalance(t *testing.T) {
	// A cheap guard against a lost brace or bracket while editing by hand;
	// quotes are skipped so braces inside strings do not count.
	bicep := read(t, "main.bicep")
	depth := map[rune]int{}
	inString := false
	for i, line := range strings.Split(bicep, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "//") {
			continue
		}
		for _, r := range line {
			switch {
			case r == '\'':
				inString = !inString
			case inString:
			case r == '{', r == '[', r == '(':
				depth[r]++
			case r == '}':
				depth['{']--
			case r == ']':
				depth['[']--
			case r == ')':
				depth['(']--
			}
		}
		if inString {
			t.Fatalf("line %d: unterminated string", i+1)
		}
		for r, d := range depth {
			if d < 0 {
				t.Fatalf("line %d: unbalanced %q", i+1, r)
			}
		}
	}
	for r, d := range depth {
		if d != 0 {
			t.Errorf("%q left open %d times", r, d)
		}
	}
}

// ---- App settings: what main.bicep sets against what the code and the host read ----

// settingLine is one `{ name: '...', value: ... }` entry of a settings list.
var settingLine = regexp.MustCompile(`^\s*\{ name: '([^']+)', value: (.+) \}\s*$`)

// block returns the lines of main.bicep from the line starting with start up
// to the next line that starts with end (at column 0).
func block(t *testing.T, bicep, start, end string) []string {
	t.Helper()
	i := strings.Index(bicep, "\n"+start)
	if i < 0 {
		t.Fatalf("main.bicep: %q not found", start)
	}
	lines := strings.Split(bicep[i+1:], "\n")
	for j, l := range lines[1:] {
		if strings.HasPrefix(l, end) {
			return lines[1 : j+1]
		}
	}
	t.Fatalf("main.bicep: %q is not closed by %q", start, end)
	return nil
}

// bicepSetting is an app setting as main.bicep writes it: a literal value
// (expr false) or a Bicep expression.
type bicepSetting struct {
	value string
	expr  bool
}

// settingsList parses one settings list. Every line naming a setting must be
// a one-line entry, so nothing escapes the checks below.
func settingsList(t *testing.T, lines []string) map[string]bicepSetting {
	t.Helper()
	out := map[string]bicepSetting{}
	for _, l := range lines {
		if !strings.Contains(l, "name:") || strings.HasPrefix(strings.TrimSpace(l), "//") {
			continue
		}
		m := settingLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("main.bicep: setting not on one line as { name: '...', value: ... }: %s", strings.TrimSpace(l))
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("main.bicep sets %s twice", m[1])
		}
		v := m[2]
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' && !strings.Contains(v, "${") {
			out[m[1]] = bicepSetting{value: v[1 : len(v)-1]}
		} else {
			out[m[1]] = bicepSetting{value: v, expr: true}
		}
	}
	return out
}

// deployedSettings returns the app settings of main.bicep for each
// storageAuth value.
func deployedSettings(t *testing.T) map[string]map[string]bicepSetting {
	t.Helper()
	bicep := read(t, "main.bicep")
	common := settingsList(t, block(t, bicep, "var appSettings = concat(storageAuth == 'key' ? storageKeySettings : storageIdentitySettings, [", "])"))
	out := map[string]map[string]bicepSetting{}
	for auth, list := range map[string]string{"key": "var storageKeySettings = [", "identity": "var storageIdentitySettings = ["} {
		m := settingsList(t, block(t, bicep, list, "]"))
		if len(m) == 0 {
			t.Fatalf("main.bicep: %s is empty", list)
		}
		for k, v := range common {
			if _, dup := m[k]; dup {
				t.Errorf("main.bicep sets %s in both %s and appSettings", k, list)
			}
			m[k] = v
		}
		out[auth] = m
	}
	return out
}

// testValues stand in for the settings whose value is a Bicep expression
// (resource names, params, listKeys) when the app's own checks run on them.
var testValues = map[string]string{
	"AzureWebJobsStorage":                           "DefaultEndpointsProtocol=https;AccountName=stfake;AccountKey=ZmFrZQ==;EndpointSuffix=core.windows.net",
	"AzureWebJobsStorage__accountName":              "stfake0123",
	"APPLICATIONINSIGHTS_CONNECTION_STRING":         "InstrumentationKey=00000000-0000-0000-0000-000000000000",
	"ServiceBusConnection__fullyQualifiedNamespace": "sb-fake.servicebus.windows.net",
	"RECORDS_QUEUE":                                 "records",
	"POLL_SCHEDULE":                                 "0 */1 * * * *",
	"SCHEMA_SCHEDULE":                               "*/30 * * * * *",
	"STATE_PROFILES_TABLE":                          "profiles",
	"STATE_ENTITIES_TABLE":                          "entitystate",
	"STATE_METRICS_TABLE":                           "metrics",
	"FAILURES_CONTAINER_PREFIX":                     "failed-",
	"FAILURES_RETENTION_DAYS":                       "30",
	"DATAVERSE_URL":                                 "https://contoso.crm.dynamics.com",
}

func values(t *testing.T, m map[string]bicepSetting) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range m {
		if !v.expr {
			out[k] = v.value
			continue
		}
		tv, ok := testValues[k]
		if !ok {
			t.Fatalf("main.bicep sets %s to the expression %s; add a stand-in value to testValues", k, v.value)
		}
		out[k] = tv
	}
	return out
}

// function is a function.json under ../functions: its trigger and the app
// settings its bindings refer to.
type function struct {
	name, trigger string
	refs          []string // %SETTING% names and connection prefixes
	connections   []string
}

var settingRef = regexp.MustCompile(`%([A-Za-z0-9_.:-]+)%`)

func functions(t *testing.T) []function {
	t.Helper()
	paths, err := filepath.Glob("../functions/*/function.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no function.json under ../functions (%v)", err)
	}
	var out []function
	for _, p := range paths {
		var f struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal([]byte(read(t, p)), &f); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		fn := function{name: filepath.Base(filepath.Dir(p))}
		for _, b := range f.Bindings {
			typ, _ := b["type"].(string)
			if strings.HasSuffix(typ, "Trigger") {
				fn.trigger = typ
			}
			for k, v := range b {
				s, ok := v.(string)
				if !ok {
					continue
				}
				if k == "connection" {
					fn.connections = append(fn.connections, s)
				}
				for _, m := range settingRef.FindAllStringSubmatch(s, -1) {
					fn.refs = append(fn.refs, m[1])
				}
			}
		}
		out = append(out, fn)
	}
	return out
}

// applierTrigger is the trigger of the applier each transport needs.
var applierTrigger = map[string]string{"servicebus": "serviceBusTrigger", "storage": "queueTrigger"}

// checkDeployed is what a deployment of main.bicep needs from its settings:
// the app's own start-up checks pass, the transport is Service Bus, exactly
// the applier of that transport is enabled, and every setting a
// function.json refers to is set.
func checkDeployed(m map[string]string, fns []function) error {
	var errs []error
	if err := app.CheckSettings(settings.FromMap(m)); err != nil {
		errs = append(errs, err)
	}
	transport := m["QUEUE_TRANSPORT"]
	if transport != "servicebus" {
		errs = append(errs, fmt.Errorf("QUEUE_TRANSPORT is %q, want servicebus (the Service Bus namespace is what main.bicep deploys)", transport))
	}
	enabledAppliers := 0
	for _, fn := range fns {
		disabled := strings.EqualFold(m["AzureWebJobs."+fn.name+".Disabled"], "true")
		if fn.trigger == "serviceBusTrigger" || fn.trigger == "queueTrigger" {
			matches := fn.trigger == applierTrigger[transport]
			switch {
			case matches && disabled:
				errs = append(errs, fmt.Errorf("function %s (%s) is the applier for QUEUE_TRANSPORT=%s but is disabled", fn.name, fn.trigger, transport))
			case !matches && !disabled:
				errs = append(errs, fmt.Errorf("function %s (%s) does not match QUEUE_TRANSPORT=%s; set AzureWebJobs.%s.Disabled=true", fn.name, fn.trigger, transport, fn.name))
			case matches:
				enabledAppliers++
			}
		}
		if disabled {
			continue
		}
		for _, r := range fn.refs {
			if m[r] == "" {
				errs = append(errs, fmt.Errorf("function %s refers to %%%s%%, which is not set", fn.name, r))
			}
		}
		for _, c := range fn.connections {
			if m[c] == "" && m[c+"__accountName"] == "" && m[c+"__fullyQualifiedNamespace"] == "" && m[c+"__blobServiceUri"] == "" {
				errs = append(errs, fmt.Errorf("function %s: connection %s is set neither as a connection string nor in its identity-based form", fn.name, c))
			}
		}
	}
	if enabledAppliers != 1 {
		errs = append(errs, fmt.Errorf("%d applier functions are enabled, want 1", enabledAppliers))
	}
	return errors.Join(errs...)
}

func TestBicepSetsWhatTheAppRequires(t *testing.T) {
	fns := functions(t)
	for auth, set := range deployedSettings(t) {
		t.Run("storageAuth="+auth, func(t *testing.T) {
			m := values(t, set)
			if err := checkDeployed(m, fns); err != nil {
				t.Errorf("main.bicep's settings would not start the app:\n%v", err)
			}
			// The check itself must be able to fail: without any one of
			// these the deployment cannot work.
			required := []string{"QUEUE_TRANSPORT", "ServiceBusConnection__fullyQualifiedNamespace", "DATAVERSE_URL", "AzureWebJobs.RecordApplierQueue.Disabled", "POLL_SCHEDULE", "SCHEMA_SCHEDULE"}
			if auth == "key" {
				required = append(required, "AzureWebJobsStorage")
			} else {
				required = append(required, "AzureWebJobsStorage__accountName")
			}
			for _, name := range required {
				without := maps.Clone(m)
				delete(without, name)
				if checkDeployed(without, fns) == nil {
					t.Errorf("without %s the settings still pass the check; the check is too weak", name)
				}
			}
		})
	}
}

// hostSettings are read by the Functions host or the Azure SDK, not by name
// in internal/app.
var hostSettings = map[string]string{
	"APPLICATIONINSIGHTS_CONNECTION_STRING":     "the host's telemetry",
	"APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "the host's telemetry with Entra ID auth",
	"AZURE_TOKEN_CREDENTIALS":                   "azidentity's DefaultAzureCredential",
}

// TestBicepSetsNothingUnread fails on a setting nobody reads, such as a
// misspelt name (FAILED_CONTAINER_PREFIX for FAILURES_CONTAINER_PREFIX) or
// one for code that does not exist yet (KEY_VAULT_URI).
func TestBicepSetsNothingUnread(t *testing.T) {
	known := map[string]bool{}
	for _, n := range app.SettingNames() {
		known[n] = true
	}
	fns := functions(t)
	for _, fn := range fns {
		known["AzureWebJobs."+fn.name+".Disabled"] = true
		for _, r := range fn.refs {
			known[r] = true
		}
	}
	for auth, set := range deployedSettings(t) {
		for name := range set {
			if known[name] || hostSettings[name] != "" {
				continue
			}
			connection := false
			for _, fn := range fns {
				for _, c := range fn.connections {
					connection = connection || name == c || strings.HasPrefix(name, c+"__")
				}
			}
			if !connection {
				t.Errorf("storageAuth=%s: main.bicep sets %s, which neither the app, a function.json nor the host reads", auth, name)
			}
		}
	}
}

// The local-development settings never reach Azure: plain connection
// strings in profiles and the standalone host's admin key.
func TestBicepSetsNoLocalDevelopmentSetting(t *testing.T) {
	for auth, set := range deployedSettings(t) {
		for _, name := range []string{"LOCAL_DEVELOPMENT", "ADMIN_API_KEY", "DESTINATION_CONNECTION"} {
			if _, ok := set[name]; ok {
				t.Errorf("storageAuth=%s: main.bicep sets %s, which is for local development only", auth, name)
			}
		}
	}
	if !strings.Contains(read(t, "main.bicep"), "roles.keyVaultSecretsUser") {
		t.Error("the app identity is not given Key Vault Secrets User")
	}
}

// Two guards, one per face. The management API's functions are authLevel
// function: the host's function keys guard them, as issue 9 has it. The
// web UI's function is anonymous to the host and refuses on its own every
// call App Service Authentication names no principal for, and every call
// at all while the platform does not say the sign-in is on
// (WEBSITE_AUTH_ENABLED=True, which the template must never set itself).
// App Service Authentication is configured with Entra ID and lets
// unauthenticated requests through (AllowAnonymous), so that key-only
// calls of scripts reach the host's key check.
func TestHTTPFunctionsGuardedByKeysOrTheSignIn(t *testing.T) {
	bicep := read(t, "main.bicep")
	api, ui := 0, 0
	for _, fn := range functions(t) {
		if fn.trigger != "httpTrigger" {
			continue
		}
		var f struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal([]byte(read(t, filepath.Join("..", "functions", fn.name, "function.json"))), &f); err != nil {
			t.Fatal(err)
		}
		lvl := f.Bindings[0]["authLevel"]
		route, _ := f.Bindings[0]["route"].(string)
		switch {
		case fn.name == handlers.WebUI:
			ui++
			if lvl != "anonymous" || route != handlers.UIRoute {
				t.Errorf("function %s: authLevel %v, route %q; want anonymous on %s (it checks the principal itself)", fn.name, lvl, route, handlers.UIRoute)
			}
		default:
			api++
			if lvl != "function" {
				t.Errorf("function %s (route %s): authLevel %v, want function: the host's keys guard the management API", fn.name, route, lvl)
			}
		}
	}
	if api < 15 || ui != 1 {
		t.Fatalf("%d API functions and %d web UI functions found", api, ui)
	}

	start := strings.Index(bicep, "'Microsoft.Web/sites/config@")
	if start < 0 || !strings.Contains(bicep[start:start+200], "name: 'authsettingsV2'") {
		t.Fatal("main.bicep configures no App Service Authentication (Microsoft.Web/sites/config authsettingsV2)")
	}
	cfg := bicep[start:]
	cfg = cfg[:strings.Index(cfg, "\n}\n")]
	for _, want := range []string{"platform: { enabled: true }", "requireAuthentication: false", "unauthenticatedClientAction: 'AllowAnonymous'", "azureActiveDirectory: {", "enabled: true", "clientId: authClientId", "requireHttps: true"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("the authsettingsV2 resource lacks %q", want)
		}
	}
	if strings.Contains(cfg, "RedirectToLoginPage") || strings.Contains(cfg, "excludedPaths") {
		t.Error("App Service Authentication must let key-authenticated API calls through (AllowAnonymous, no path rules)")
	}

	// What the handler does with what the deployment gives it: the
	// template's settings alone name no trusted front (the UI serves
	// nothing); with the platform's WEBSITE_AUTH_ENABLED=True, the UI serves
	// a principal App Service Authentication names and nobody else; the
	// API's functions answer the host's key-checked calls either way.
	for auth, set := range deployedSettings(t) {
		if _, ok := set["WEBSITE_AUTH_ENABLED"]; ok {
			t.Errorf("storageAuth=%s: main.bicep sets WEBSITE_AUTH_ENABLED; only the platform may, when the sign-in is on", auth)
		}
		m := values(t, set)
		if f := app.UIFront(settings.FromMap(m)); f != handlers.FrontNone {
			t.Errorf("storageAuth=%s: the template's settings alone make the handler trust %q", auth, f)
		}
		withAuth := maps.Clone(m)
		withAuth["WEBSITE_AUTH_ENABLED"] = "True"
		for _, tt := range []struct {
			settings  map[string]string
			principal bool
			fn        string
			want      int
		}{
			{m, true, handlers.WebUI, 401},
			{withAuth, false, handlers.WebUI, 401},
			{withAuth, true, handlers.WebUI, 200},
			{m, false, "OpenAPI", 200},
			{withAuth, false, "OpenAPI", 200},
		} {
			h := handlers.New(handlers.Options{Front: app.UIFront(settings.FromMap(tt.settings)), Logger: slog.New(slog.DiscardHandler)})
			if got := invokeGET(t, h, tt.fn, tt.principal); got != tt.want {
				t.Errorf("storageAuth=%s, WEBSITE_AUTH_ENABLED=%q, principal %t: %s answers %d, want %d", auth, tt.settings["WEBSITE_AUTH_ENABLED"], tt.principal, tt.fn, got, tt.want)
			}
		}
	}
}

// invokeGET posts the host's invocation of a GET to an HTTP function (the
// web UI's app.js, or the function's route) and returns the status of its
// res output.
func invokeGET(t *testing.T, h http.Handler, fn string, principal bool) int {
	t.Helper()
	hdr := map[string][]string{"Accept": {"*/*"}}
	if principal {
		hdr[handlers.PrincipalNameHeader] = []string{"admin@contoso.example"}
		hdr[handlers.PrincipalIDHeader] = []string{"00000000-0000-0000-0000-0000000000aa"}
		hdr[handlers.PrincipalIDPHeader] = []string{"aad"}
	}
	req := map[string]any{"Url": "https://app.azurewebsites.net/api/ui/app.js", "Method": "GET", "Headers": hdr, "Params": map[string]string{"path": "app.js"}}
	b, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req}, "Metadata": map[string]any{}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/"+fn, bytes.NewReader(b)))
	var out struct {
		Outputs map[string]struct {
			StatusCode string `json:"statusCode"`
		} `json:"Outputs"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("%s: invocation %d %s", fn, rec.Code, rec.Body)
	}
	n, _ := strconv.Atoi(out.Outputs["res"].StatusCode)
	return n
}
