package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/recovery"
)

// fakeManager answers from a map of profiles; err, when set, is the answer
// of every call.
type fakeManager struct {
	profiles map[string]manage.ProfileView
	err      error
	calls    []string
	ifMatch  []string
	docs     []profile.Profile
	activate []bool
}

func (f *fakeManager) note(call string) { f.calls = append(f.calls, call) }

func (f *fakeManager) List(context.Context) ([]manage.ProfileView, error) {
	f.note("List")
	var out []manage.ProfileView
	for _, v := range f.profiles {
		out = append(out, v)
	}
	return out, f.err
}
func (f *fakeManager) Get(_ context.Context, name string) (manage.ProfileView, error) {
	f.note("Get " + name)
	if f.err != nil {
		return manage.ProfileView{}, f.err
	}
	v, ok := f.profiles[name]
	if !ok {
		return manage.ProfileView{}, fmt.Errorf("profile %q: %w", name, manage.ErrNotFound)
	}
	return v, nil
}
func (f *fakeManager) Create(_ context.Context, p profile.Profile, activate bool) (manage.ProfileView, error) {
	f.note("Create")
	f.docs, f.activate = append(f.docs, p), append(f.activate, activate)
	return manage.ProfileView{Name: p.Name, State: profile.Inactive, ETag: `W/"1"`, UsesKeyVault: true, Profile: p}, f.err
}
func (f *fakeManager) Update(_ context.Context, name string, p profile.Profile, ifMatch string) (manage.ProfileView, error) {
	f.note("Update " + name)
	f.docs, f.ifMatch = append(f.docs, p), append(f.ifMatch, ifMatch)
	return manage.ProfileView{Name: name, ETag: `W/"2"`, Profile: p}, f.err
}
func (f *fakeManager) Delete(_ context.Context, name, ifMatch string) (manage.DeleteResult, error) {
	f.note("Delete " + name)
	f.ifMatch = append(f.ifMatch, ifMatch)
	return manage.DeleteResult{Name: name, DestinationTablesKept: true}, f.err
}
func (f *fakeManager) Activate(_ context.Context, name, ifMatch string) (manage.ProfileView, error) {
	f.note("Activate " + name)
	f.ifMatch = append(f.ifMatch, ifMatch)
	return manage.ProfileView{Name: name, State: profile.Active, ETag: `W/"3"`}, f.err
}
func (f *fakeManager) Deactivate(_ context.Context, name, ifMatch string) (manage.ProfileView, error) {
	f.note("Deactivate " + name)
	return manage.ProfileView{Name: name, State: profile.Inactive, ETag: `W/"4"`}, f.err
}
func (f *fakeManager) Validate(_ context.Context, p profile.Profile) error {
	f.note("Validate")
	f.docs = append(f.docs, p)
	return f.err
}
func (f *fakeManager) Test(_ context.Context, name string) (manage.TestReport, error) {
	f.note("Test " + name)
	return manage.TestReport{Profile: name, OK: true}, f.err
}
func (f *fakeManager) Status(_ context.Context, name string) (manage.ProfileStatus, error) {
	f.note("Status " + name)
	return manage.ProfileStatus{Name: name, State: profile.Active}, f.err
}
func (f *fakeManager) Metrics(_ context.Context, name string, hours int) (manage.ProfileMetrics, error) {
	f.note(fmt.Sprintf("Metrics %s %d", name, hours))
	return manage.ProfileMetrics{Profile: name}, f.err
}
func (f *fakeManager) SourceEntities(context.Context) (manage.SourceCatalog, error) {
	f.note("SourceEntities")
	return manage.SourceCatalog{}, f.err
}
func (f *fakeManager) Failures(_ context.Context, name string, q manage.FailuresQuery) (recovery.FailuresReport, error) {
	f.note(fmt.Sprintf("Failures %s lines=%d urlHours=%d", name, q.Lines, q.URLHours))
	return recovery.FailuresReport{Profile: name}, f.err
}
func (f *fakeManager) ResyncFailures(_ context.Context, name, entity string) (recovery.ResyncReport, error) {
	f.note("ResyncFailures " + name + " " + entity)
	return recovery.ResyncReport{Profile: name, OK: true}, f.err
}
func (f *fakeManager) ResyncEntity(_ context.Context, name, entity string) (recovery.EntityResync, error) {
	f.note("ResyncEntity " + name + " " + entity)
	return recovery.EntityResync{Profile: name, Entity: entity}, f.err
}
func (f *fakeManager) Reconcile(_ context.Context, name, entity string, limit int) (recovery.ReconcileReport, error) {
	f.note(fmt.Sprintf("Reconcile %s %s limit=%d", name, entity, limit))
	return recovery.ReconcileReport{Profile: name, Entity: entity}, f.err
}

// The host's HTTP-trigger invocation of GET /api/profiles/crm, in the shape
// the host sends without request forwarding: Query as a JSON string holding
// a dictionary (some host versions), header values as arrays, route values
// in Params, no Body.
const httpGetInvocation = `{
  "Data": {
    "req": {
      "Url": "https://myapp.azurewebsites.net/api/profiles/crm?verbose=1",
      "Method": "GET",
      "Query": "{\"verbose\":\"1\"}",
      "Headers": { "Accept": ["application/json"], "User-Agent": ["curl/8.5.0"], "x-ms-client-principal-name": ["admin@contoso.example"], "x-ms-client-principal-idp": ["aad"] },
      "Params": { "name": "crm" },
      "Identities": "[{\"AuthenticationType\":\"WebJobsAuthLevel\",\"IsAuthenticated\":true}]"
    }
  },
  "Metadata": {
    "name": "\"crm\"",
    "verbose": "\"1\"",
    "sys": { "MethodName": "Profile", "UtcNow": "2026-11-25T09:05:00.012Z", "RandGuid": "fa3b2fbc-26ed-4fcb-be75-82db8773b519" }
  }
}`

// The same host, PUT with a body as text and Query as an object.
const httpPutInvocation = `{
  "Data": {
    "req": {
      "Url": "https://myapp.azurewebsites.net/api/profiles/crm",
      "Method": "PUT",
      "Query": {},
      "Headers": { "Content-Type": ["application/json"], "If-Match": ["W/\"datetime'2026-11-25T09%3A00%3A00.123Z'\""], "X-MS-CLIENT-PRINCIPAL-NAME": ["admin@contoso.example"], "X-MS-CLIENT-PRINCIPAL-IDP": ["aad"] },
      "Params": { "name": "crm" },
      "Identities": "[]",
      "Body": "{\"name\":\"crm\",\"entities\":[\"account\"],\"destination\":{\"type\":\"postgres\",\"keyVaultSecretUrl\":\"https://contoso-kv.vault.azure.net/secrets/crm-db\"}}"
    }
  },
  "Metadata": { "name": "\"crm\"", "sys": { "MethodName": "Profile", "UtcNow": "2026-11-25T09:05:00.012Z", "RandGuid": "x" } }
}`

// res is the "res" output of an HTTP function's answer.
type res struct {
	StatusCode string            `json:"statusCode"`
	Status     string            `json:"status"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func invokeHTTP(t *testing.T, h http.Handler, fn, body string) res {
	t.Helper()
	status, out := post(t, h, "/"+fn, body)
	if status != http.StatusOK {
		t.Fatalf("invocation answered %d (logs %q); an HTTP function answers 200 and puts its status in res", status, out.Logs)
	}
	raw, _ := json.Marshal(out.Outputs["res"])
	var r res
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("res output %s: %v", raw, err)
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(raw, &keys)
	for _, k := range []string{"statusCode", "status", "headers", "body"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("res lacks %q: %s", k, raw)
		}
	}
	if len(out.Logs) != 1 {
		t.Errorf("logs %q, want one line", out.Logs)
	}
	return r
}

func TestHTTPTriggerInvocation(t *testing.T) {
	m := &fakeManager{profiles: map[string]manage.ProfileView{"crm": {Name: "crm", State: profile.Active, ETag: `W/"datetime'2026-11-25T09%3A00%3A00.123Z'"`, UsesKeyVault: true,
		Profile: profile.Profile{Name: "crm", Entities: []string{"account"}, Destination: profile.Destination{Type: "postgres", KeyVaultSecretURL: "https://contoso-kv.vault.azure.net/secrets/crm-db"}}}}}
	h := New(Options{Front: FrontEasyAuth, Manager: m, Logger: slog.New(slog.DiscardHandler)})

	r := invokeHTTP(t, h, "Profile", httpGetInvocation)
	if r.StatusCode != "200" || r.Status != "200" {
		t.Fatalf("status %q/%q", r.StatusCode, r.Status)
	}
	if r.Headers["Content-Type"] != "application/json; charset=utf-8" || r.Headers["ETag"] != `W/"datetime'2026-11-25T09%3A00%3A00.123Z'"` {
		t.Fatalf("headers %v", r.Headers)
	}
	var v manage.ProfileView
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil || v.Name != "crm" || v.State != profile.Active || v.Profile.Destination.KeyVaultSecretURL == "" {
		t.Fatalf("body %s: %v", r.Body, err)
	}

	r = invokeHTTP(t, h, "Profile", httpPutInvocation)
	if r.StatusCode != "200" || r.Headers["ETag"] != `W/"2"` {
		t.Fatalf("PUT: %+v", r)
	}
	if len(m.ifMatch) != 1 || m.ifMatch[0] != `W/"datetime'2026-11-25T09%3A00%3A00.123Z'"` || m.docs[0].Entities[0] != "account" {
		t.Fatalf("the service got If-Match %q and %+v", m.ifMatch, m.docs)
	}

	// The body as a JSON value (a host that parsed it) reads the same.
	asObject := strings.Replace(httpPutInvocation, `"Body": "{\"name\":\"crm\",\"entities\":[\"account\"],\"destination\":{\"type\":\"postgres\",\"keyVaultSecretUrl\":\"https://contoso-kv.vault.azure.net/secrets/crm-db\"}}"`,
		`"Body": {"name":"crm","entities":["contact"],"destination":{"type":"postgres","keyVaultSecretUrl":"https://contoso-kv.vault.azure.net/secrets/crm-db"}}`, 1)
	if r = invokeHTTP(t, h, "Profile", asObject); r.StatusCode != "200" || m.docs[1].Entities[0] != "contact" {
		t.Fatalf("PUT with an object body: %+v, %+v", r, m.docs)
	}
}

// Every typed error of the service becomes its status, as problem+json;
// field errors name the field by JSON pointer.
func TestErrorsAsProblems(t *testing.T) {
	inv := &manage.InvalidError{Fields: []*profile.FieldError{{Pointer: "/entities/2", Reason: `"new_note" does not have change tracking enabled`}}}
	tests := []struct {
		name, fn, method, body string
		params                 map[string]string
		query                  map[string]string
		err                    error
		status                 int
		pointer                string
	}{
		{"not found", "Profile", "GET", "", map[string]string{"name": "nope"}, nil, nil, 404, ""},
		{"exists", "Profiles", "POST", validDoc, nil, nil, fmt.Errorf("profile %q: %w", "crm", manage.ErrExists), 409, ""},
		{"stale", "Profile", "PUT", validDoc, map[string]string{"name": "crm"}, nil, fmt.Errorf("x: %w", manage.ErrStale), 412, ""},
		{"stale delete", "Profile", "DELETE", "", map[string]string{"name": "crm"}, nil, fmt.Errorf("x: %w", manage.ErrStale), 412, ""},
		{"invalid", "Profiles", "POST", validDoc, nil, nil, inv, 422, "/entities/2"},
		{"validate invalid", "ProfileValidate", "POST", validDoc, nil, nil, inv, 422, "/entities/2"},
		{"source down", "SourceEntities", "GET", "", nil, nil, fmt.Errorf("%w: refused", manage.ErrUnavailable), 503, ""},
		{"field name in another letter case", "Profiles", "POST", `{"name":"crm","retrycount":3}`, nil, nil, nil, 400, "/retrycount"},
		{"unknown field", "ProfileValidate", "POST", `{"name":"crm","colour":1}`, nil, nil, nil, 400, "/colour"},
		{"not JSON", "Profiles", "POST", `{"name":`, nil, nil, nil, 400, ""},
		{"empty body", "Profiles", "POST", ``, nil, nil, nil, 400, ""},
		{"bad query", "Profiles", "POST", validDoc, nil, map[string]string{"activate": "maybe"}, nil, 400, "?activate"},
		{"method not allowed", "ProfileStatus", "DELETE", "", map[string]string{"name": "crm"}, nil, nil, 405, ""},
		{"no route value", "Profile", "GET", "", nil, nil, nil, 404, ""},
		{"internal", "Profiles", "GET", "", nil, nil, fmt.Errorf("state: listing profiles: connection refused"), 500, ""},
		{"lines not a number", "ProfileFailures", "GET", "", map[string]string{"name": "crm"}, map[string]string{"lines": "many"}, nil, 400, "?lines"},
		{"url hours out of range", "ProfileFailures", "GET", "", map[string]string{"name": "crm"}, nil, &manage.ParamError{Name: "urlHours", Reason: "48: the URL is valid for 1 to 24 hours"}, 400, "?urlHours"},
		{"entity not in the profile", "EntityReconcile", "GET", "", map[string]string{"name": "crm", "entity": "lead"}, nil, fmt.Errorf("entity %q: %w", "lead", manage.ErrNotFound), 404, ""},
		{"no entity route value", "EntityResync", "POST", "", map[string]string{"name": "crm"}, nil, nil, 404, ""},
		{"blocked entity", "EntityResync", "POST", "", map[string]string{"name": "crm", "entity": "account"}, nil, fmt.Errorf("%w: blocked", manage.ErrState), 409, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeManager{err: tt.err, profiles: map[string]manage.ProfileView{}}
			h := New(Options{Front: FrontEasyAuth, Manager: m, Logger: slog.New(slog.DiscardHandler)})
			r := invokeHTTP(t, h, tt.fn, envelope(tt.method, tt.params, tt.query, tt.body))
			if r.StatusCode != strconv.Itoa(tt.status) {
				t.Fatalf("status %s, want %d: %s", r.StatusCode, tt.status, r.Body)
			}
			if r.Headers["Content-Type"] != ProblemContentType {
				t.Fatalf("content type %q", r.Headers["Content-Type"])
			}
			var p Problem
			if err := json.Unmarshal([]byte(r.Body), &p); err != nil || p.Status != tt.status || p.Title == "" || p.Detail == "" || p.Type != "about:blank" {
				t.Fatalf("problem %s: %v", r.Body, err)
			}
			if tt.pointer != "" && (len(p.Errors) != 1 || p.Errors[0].Pointer != tt.pointer || !strings.Contains(p.Detail, tt.pointer)) {
				t.Fatalf("problem %s does not name %s", r.Body, tt.pointer)
			}
			if tt.status == 405 && r.Headers["Allow"] != "GET" {
				t.Fatalf("Allow %q", r.Headers["Allow"])
			}
			if tt.status == 400 && tt.err == nil && len(m.calls) != 0 {
				t.Fatalf("the service was called with an unreadable request: %v", m.calls)
			}
		})
	}
}

const validDoc = `{"name":"crm","entities":["account"],"destination":{"type":"postgres","keyVaultSecretUrl":"https://contoso-kv.vault.azure.net/secrets/crm-db"}}`

// envelope builds an HTTP-trigger invocation.
func envelope(method string, params, query map[string]string, body string) string {
	return envelopeWith(method, params, query, body, map[string][]string{PrincipalNameHeader: {"admin@contoso.example"}, PrincipalIDPHeader: {"aad"}})
}

// envelopeWith builds an HTTP-trigger invocation with these headers.
func envelopeWith(method string, params, query map[string]string, body string, headers map[string][]string) string {
	h := map[string][]string{"Content-Type": {"application/json"}}
	for k, v := range headers {
		h[k] = v
	}
	req := map[string]any{"Url": "http://127.0.0.1:7071/api/x", "Method": method, "Query": query, "Headers": h, "Params": params}
	if body != "" {
		req["Body"] = body
	}
	b, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req}, "Metadata": map[string]any{}})
	return string(b)
}

// Each operation reaches its service call with what it read.
func TestOperations(t *testing.T) {
	tests := []struct {
		fn, method string
		params     map[string]string
		query      map[string]string
		body       string
		call       string
		status     string
	}{
		{"Profiles", "GET", nil, nil, "", "List", "200"},
		{"Profiles", "POST", nil, map[string]string{"activate": "true"}, validDoc, "Create", "201"},
		{"ProfileValidate", "POST", nil, nil, validDoc, "Validate", "200"},
		{"Profile", "DELETE", map[string]string{"name": "crm"}, nil, "", "Delete crm", "200"},
		{"ProfileActivate", "POST", map[string]string{"name": "crm"}, nil, "", "Activate crm", "200"},
		{"ProfileDeactivate", "POST", map[string]string{"name": "crm"}, nil, "", "Deactivate crm", "200"},
		{"ProfileTest", "POST", map[string]string{"name": "crm"}, nil, "", "Test crm", "200"},
		{"ProfileStatus", "GET", map[string]string{"name": "crm"}, nil, "", "Status crm", "200"},
		{"SourceEntities", "GET", nil, nil, "", "SourceEntities", "200"},
		{"ProfileFailures", "GET", map[string]string{"name": "crm"}, map[string]string{"lines": "5", "urlHours": "2"}, "", "Failures crm lines=5 urlHours=2", "200"},
		{"ProfileFailuresResync", "POST", map[string]string{"name": "crm"}, map[string]string{"entity": "account"}, "", "ResyncFailures crm account", "200"},
		{"EntityResync", "POST", map[string]string{"name": "crm", "entity": "account"}, nil, "", "ResyncEntity crm account", "200"},
		{"EntityReconcile", "GET", map[string]string{"name": "crm", "entity": "account"}, map[string]string{"limit": "3"}, "", "Reconcile crm account limit=3", "200"},
	}
	for _, tt := range tests {
		t.Run(tt.fn+" "+tt.method, func(t *testing.T) {
			m := &fakeManager{profiles: map[string]manage.ProfileView{}}
			r := invokeHTTP(t, New(Options{Front: FrontEasyAuth, Manager: m, Logger: slog.New(slog.DiscardHandler)}), tt.fn, envelope(tt.method, tt.params, tt.query, tt.body))
			if r.StatusCode != tt.status || !slices.Equal(m.calls, []string{tt.call}) {
				t.Fatalf("status %s calls %v; want %s %s: %s", r.StatusCode, m.calls, tt.status, tt.call, r.Body)
			}
			if !json.Valid([]byte(r.Body)) {
				t.Fatalf("body is not JSON: %s", r.Body)
			}
			if tt.call == "Create" && (r.Headers["Location"] != "/api/profiles/crm" || !m.activate[0]) {
				t.Fatalf("create: headers %v, activate %v", r.Headers, m.activate)
			}
		})
	}
}

// The OpenAPI document is made from the routes: every route and method is
// in it with its path parameters, and it names nothing the routes lack.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	r := invokeHTTP(t, New(Options{Front: FrontEasyAuth, Logger: slog.New(slog.DiscardHandler)}), "OpenAPI", envelope("GET", nil, nil, ""))
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("document: %v %s", err, r.Body[:min(200, len(r.Body))])
	}
	served := map[string]bool{}
	for _, rt := range routes {
		path := "/api/" + rt.Template
		item, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s is not in the document", path)
			continue
		}
		for m := range rt.Ops {
			served[path+" "+m] = true
			if _, ok := item[strings.ToLower(m)]; !ok {
				t.Errorf("%s %s is not in the document", m, path)
			}
		}
		if params := rt.Params(); len(params) > 0 {
			var ps []struct{ Name, In string }
			_ = json.Unmarshal(item["parameters"], &ps)
			if len(ps) != len(params) || ps[0].Name != params[0] || ps[0].In != "path" {
				t.Errorf("%s: parameters %+v, want %v in path", path, ps, params)
			}
		}
	}
	for path, item := range doc.Paths {
		for m := range item {
			if m == "parameters" {
				continue
			}
			if !served[path+" "+strings.ToUpper(m)] {
				t.Errorf("the document has %s %s, which no route serves", m, path)
			}
		}
	}
	// Every $ref resolves.
	var whole map[string]any
	_ = json.Unmarshal([]byte(r.Body), &whole)
	schemas := whole["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, ok := schemas[strings.TrimPrefix(ref, "#/components/schemas/")]; !ok {
					t.Errorf("unresolved %s", ref)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(whole)
	// The request body schema refuses unknown fields, as the decoder does.
	if prof, ok := schemas["Profile"].(map[string]any); !ok || prof["additionalProperties"] != false {
		t.Errorf("Profile schema %v", schemas["Profile"])
	}
}

// FuzzHTTPInvocation: whatever the host sends in Data.req, an HTTP function
// answers the invocation with 200 and a res output holding a status code
// and a JSON body, and calls the service only with a well-formed request.
func FuzzHTTPInvocation(f *testing.F) {
	f.Add("Profile", httpGetInvocation)
	f.Add("Profile", httpPutInvocation)
	f.Add("Profiles", envelope("POST", nil, map[string]string{"activate": "1"}, validDoc))
	f.Add("ProfileValidate", envelope("POST", nil, nil, `{"name":"crm","retrycount":3}`))
	f.Add("Profiles", `{"Data":{"req":{"Method":"POST","Query":"{\"a\":[\"b\"]}","Body":{"x":1}}}}`)
	f.Add("Profile", `{"Data":{"req":{"Method":7}}}`)
	f.Add("Profiles", uiInvocation("GET", "api/profiles/crm/entities/account/reconcile?limit=2", signedIn(), ""))
	f.Add("Profiles", uiInvocation("POST", "api/profiles/%2F..%2Fx/activate", signedIn("X-Requested-With", "XMLHttpRequest"), ""))
	f.Fuzz(func(t *testing.T, fn, body string) {
		if _, ok := RouteOf(fn); !ok {
			fn = "Profiles"
		}
		m := &fakeManager{profiles: map[string]manage.ProfileView{}}
		s := &server{o: Options{Front: FrontEasyAuth, Manager: m, Logger: slog.New(slog.DiscardHandler)}}
		var req InvokeRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		rt, _ := RouteOf(fn)
		raw, ok := req.Data["req"]
		if !ok {
			return
		}
		hreq, err := DecodeHTTPRequest(raw)
		if err != nil {
			return
		}
		res := s.serveAPI(t.Context(), rt, hreq, Caller{Name: "fuzz", Provider: "aad"})
		if res.Status < 200 || res.Status > 599 || !json.Valid(res.Body) {
			t.Fatalf("answer %d %q", res.Status, res.Body)
		}
		out := res.output()
		if out["statusCode"] != strconv.Itoa(res.Status) {
			t.Fatalf("res %v", out)
		}
		// The same request to the web UI's function: its path (from the
		// URL or the {path} value) is matched against the routes and
		// dispatched, or refused, never a failed invocation.
		rec := httptest.NewRecorder()
		New(s.o).ServeHTTP(rec, httptest.NewRequest("POST", "/"+WebUI, strings.NewReader(body)))
		var inv InvokeResponse
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &inv) != nil {
			t.Fatalf("WebUI invocation %d %s", rec.Code, rec.Body)
		}
		ro, _ := inv.Outputs["res"].(map[string]any)
		code, _ := strconv.Atoi(fmt.Sprint(ro["statusCode"]))
		if code < 200 || code > 599 {
			t.Fatalf("WebUI res %v", ro)
		}
	})
}
