package funchost

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/handlers"
)

func httpFn(name, route string, methods ...string) Function {
	return Function{Name: name, Bindings: []Binding{
		{Name: "req", Type: "httpTrigger", Direction: "in", AuthLevel: "function", Route: route, Methods: methods},
		{Name: "res", Type: "http", Direction: "out"},
	}}
}

func newHTTPHost(t *testing.T, handler http.Handler, auth func(*http.Request) error, fns ...Function) *Host {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	h, err := New(context.Background(), Options{HandlerURL: srv.URL, Functions: fns, Logger: slog.New(slog.DiscardHandler), Authorize: auth, APIDisabledReason: "set ADMIN_API_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestMatchRoute(t *testing.T) {
	h := newHTTPHost(t, http.NotFoundHandler(), nil,
		httpFn("Profiles", "profiles", "get", "post"),
		httpFn("ProfileValidate", "profiles/validate", "post"),
		httpFn("Profile", "profiles/{name}", "get", "put", "delete"),
		httpFn("ProfileStatus", "profiles/{name}/status", "get"),
		httpFn("WebUI", "ui/{*path}", "get"),
		httpFn("UIHelp", "ui/help", "get"))
	tests := []struct {
		method, path, fn, name string
		allowed                string
	}{
		{"GET", "profiles", "Profiles", "", ""},
		{"POST", "profiles/", "Profiles", "", ""},
		{"POST", "profiles/validate", "ProfileValidate", "", ""},
		{"GET", "profiles/validate", "Profile", "validate", ""}, // the literal route does not answer GET
		{"GET", "Profiles/crm", "Profile", "crm", ""},           // literals match without regard to case
		{"GET", "profiles/a%20b", "Profile", "a b", ""},
		{"GET", "profiles/crm/status", "ProfileStatus", "crm", ""},
		{"PATCH", "profiles/crm", "", "", "DELETE,GET,PUT"},
		{"GET", "profiles/crm/nope", "", "", ""},
		{"GET", "other", "", "", ""},
		// A catch-all takes the rest of the path, none included, and loses
		// to a route with as many literal segments.
		{"GET", "ui", "WebUI", "", ""},
		{"GET", "ui/", "WebUI", "", ""},
		{"GET", "ui/app.js", "WebUI", "app.js", ""},
		{"GET", "ui/a/b.css", "WebUI", "a/b.css", ""},
		{"GET", "ui/help", "UIHelp", "", ""},
		{"POST", "ui/app.js", "", "", "GET"},
	}
	for _, tt := range tests {
		fn, params, allowed := h.MatchRoute(tt.method, tt.path)
		if fn == "WebUI" {
			params["name"] = params["path"]
		}
		if fn != tt.fn || params["name"] != tt.name || strings.Join(allowed, ",") != tt.allowed {
			t.Errorf("%s %s: %q %v %v; want %q name %q allowed %q", tt.method, tt.path, fn, params, allowed, tt.fn, tt.name, tt.allowed)
		}
	}
}

func TestNewRefusesRouteFeaturesItCannotServe(t *testing.T) {
	for _, route := range []string{"profiles/{id:int}", "profiles/{id?}", "files/{*path}/x", "files/{*}", "a//b"} {
		_, err := New(context.Background(), Options{HandlerURL: "http://127.0.0.1:1", Functions: []Function{httpFn("F", route, "get")}, Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), "F") {
			t.Errorf("route %q: %v; want an error naming the function", route, err)
		}
	}
}

// The host turns a plain HTTP request into the host's HTTP-trigger
// invocation, and the function's res output back into the answer.
func TestServeHTTPInvocation(t *testing.T) {
	var got struct {
		path string
		inv  map[string]any
		hdr  http.Header
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path, got.hdr = r.URL.Path, r.Header
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got.inv)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"Outputs":{"res":{"StatusCode":"201","Status":"201","Headers":{"Content-Type":"application/json","ETag":"W/\"7\""},"Body":"{\"ok\":true}"}},"Logs":["x"],"ReturnValue":null}`))
	})
	const key = "0123456789abcdef-key"
	auth := func(r *http.Request) error {
		if r.Header.Get("x-functions-key") != key && r.URL.Query().Get("code") != key {
			return errors.New("no key")
		}
		r.Header.Set("X-MS-CLIENT-PRINCIPAL-NAME", "admin key")
		return nil
	}
	h := newHTTPHost(t, handler, auth, httpFn("Profile", "profiles/{name}", "put"))
	api := httptest.NewServer(h)
	defer api.Close()

	req, _ := http.NewRequest("PUT", api.URL+"/api/profiles/crm?verbose=1&code="+key, strings.NewReader(`{"name":"crm"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", `W/"6"`)
	req.Header.Set("Authorization", "Bearer secret-token")
	// A caller cannot name itself: only Authorize sets the principal.
	req.Header.Set("X-MS-CLIENT-PRINCIPAL-IDP", "aad")
	req.Header.Set("X-MS-CLIENT-PRINCIPAL-NAME", "mallory")
	req.Header.Set("X-MS-TOKEN-AAD-ACCESS-TOKEN", "forged")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != `{"ok":true}` || resp.Header.Get("ETag") != `W/"7"` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if got.path != "/Profile" || got.hdr.Get("X-Azure-Functions-InvocationId") == "" || !strings.HasPrefix(got.hdr.Get("User-Agent"), "Azure-Functions-Host/") {
		t.Fatalf("invocation at %s with %v", got.path, got.hdr)
	}
	data := got.inv["Data"].(map[string]any)["req"].(map[string]any)
	if data["Method"] != "PUT" || data["Body"] != `{"name":"crm"}` || data["Params"].(map[string]any)["name"] != "crm" {
		t.Fatalf("Data.req %v", data)
	}
	if !strings.HasSuffix(data["Url"].(string), "/api/profiles/crm?verbose=1") {
		t.Fatalf("Url %v (the key must not be passed on)", data["Url"])
	}
	if q := data["Query"].(map[string]any); q["verbose"] != "1" || q["code"] != nil {
		t.Fatalf("Query %v", q)
	}
	hdrs := data["Headers"].(map[string]any)
	if im, ok := hdrs["If-Match"].([]any); !ok || im[0] != `W/"6"` {
		t.Fatalf("Headers %v: values must be arrays", hdrs)
	}
	if hdrs["Authorization"] != nil || hdrs["X-Functions-Key"] != nil {
		t.Fatalf("credentials passed to the function: %v", hdrs)
	}
	if n, _ := hdrs["X-Ms-Client-Principal-Name"].([]any); len(n) != 1 || n[0] != "admin key" || hdrs["X-Ms-Client-Principal-Idp"] != nil || hdrs["X-Ms-Token-Aad-Access-Token"] != nil {
		t.Fatalf("principal headers %v: the caller's must be dropped, Authorize's kept", hdrs)
	}
	meta := got.inv["Metadata"].(map[string]any)
	if meta["name"] != `"crm"` || meta["sys"].(map[string]any)["MethodName"] != "Profile" {
		t.Fatalf("Metadata %v", meta)
	}
}

func TestServeHTTPRefusals(t *testing.T) {
	calls := 0
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, _ = w.Write([]byte(`{"Outputs":{"res":{"statusCode":200,"headers":{},"body":""}},"Logs":[],"ReturnValue":null}`))
	})
	deny := func(*http.Request) error { return errors.New("no credentials: send the admin key") }
	tests := []struct {
		name   string
		auth   func(*http.Request) error
		method string
		path   string
		status int
		say    string
	}{
		{"API disabled", nil, "GET", "/api/profiles", 503, "ADMIN_API_KEY"},
		{"no credentials", deny, "GET", "/api/profiles", 401, "no credentials"},
		{"outside the prefix", deny, "GET", "/profiles", 404, "/api/"},
		{"unknown route", func(*http.Request) error { return nil }, "GET", "/api/nope", 404, "no function"},
		{"wrong method", func(*http.Request) error { return nil }, "DELETE", "/api/profiles", 405, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHTTPHost(t, handler, tt.auth, httpFn("Profiles", "profiles", "get"))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(rec.Body.String(), tt.say) {
				t.Fatalf("%d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
			}
		})
	}
	if calls != 0 {
		t.Fatalf("the function was invoked %d times", calls)
	}
}

// Every path and method of the OpenAPI document is routed by this host,
// from the repository's function.json files, to the function the document
// names: the document, the routes and the host cannot drift apart.
func TestOpenAPIPathsRouteToTheirFunctions(t *testing.T) {
	fns, err := LoadFunctions(filepath.Join("..", "..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var onlyHTTP []Function
	for _, fn := range fns {
		if b, _ := fn.Trigger(); b.Type == "httpTrigger" {
			onlyHTTP = append(onlyHTTP, fn)
		}
	}
	h := newHTTPHost(t, http.NotFoundHandler(), nil, onlyHTTP...)
	paths := handlers.OpenAPI()["paths"].(map[string]any)
	if len(paths) < 9 {
		t.Fatalf("%d paths", len(paths))
	}
	n := 0
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			concrete := strings.ReplaceAll(strings.TrimPrefix(path, "/api/"), "{name}", "crm")
			fn, params, _ := h.MatchRoute(strings.ToUpper(method), concrete)
			want := op.(map[string]any)["x-function"]
			if fn != want {
				t.Errorf("%s %s routes to %q, the document says %q", method, path, fn, want)
			}
			if strings.Contains(path, "{name}") && params["name"] != "crm" {
				t.Errorf("%s %s: route values %v", method, path, params)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no operations checked")
	}
}

// FuzzMatchRoute: any method and path either routes to a function whose
// template matches it, or to none; never a panic.
func FuzzMatchRoute(f *testing.F) {
	fns := []Function{
		httpFn("Profiles", "profiles", "get", "post"),
		httpFn("ProfileValidate", "profiles/validate", "post"),
		httpFn("Profile", "profiles/{name}", "get", "put", "delete"),
		httpFn("ProfileStatus", "profiles/{name}/status", "get"),
	}
	h, err := New(context.Background(), Options{HandlerURL: "http://127.0.0.1:1", Functions: fns, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"profiles", "profiles/validate", "profiles/crm/status", "profiles/%zz", "//", "profiles/a/b/c"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		fn, params, _ := h.MatchRoute(method, path)
		if fn == "" {
			return
		}
		if fn == "Profile" || fn == "ProfileStatus" {
			if params["name"] == "" {
				t.Fatalf("%s %q: %s without a name", method, path, fn)
			}
		}
	})
}

// An anonymous function (the web UI's) is invoked without Authorize, which
// keyed functions still need, even when no key is configured; Identify
// names a signed-in caller for every function, after the caller's own
// principal headers are dropped.
func TestServeHTTPAnonymousFunctions(t *testing.T) {
	var got []http.Header
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var inv struct {
			Data map[string]struct {
				Headers http.Header `json:"Headers"`
			} `json:"Data"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &inv)
		got = append(got, inv.Data["req"].Headers)
		_, _ = w.Write([]byte(`{"Outputs":{"res":{"statusCode":"200","status":"200","headers":{},"body":"ok"}},"Logs":[],"ReturnValue":null}`))
	})
	ui := httpFn("WebUI", "ui/{*path}", "get", "post")
	ui.Bindings[0].AuthLevel = "anonymous"
	identify := func(r *http.Request) {
		if c, err := r.Cookie("session"); err == nil && c.Value == "good" {
			r.Header.Set("X-MS-CLIENT-PRINCIPAL-NAME", "ops@contoso.example")
			r.Header.Set("X-MS-CLIENT-PRINCIPAL-IDP", "aad")
		}
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()
	h, err := New(context.Background(), Options{HandlerURL: srv.URL, Functions: []Function{ui, httpFn("Profiles", "profiles", "get")},
		Logger: slog.New(slog.DiscardHandler), Identify: identify, APIDisabledReason: "set ADMIN_API_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	do := func(path string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := do("/api/ui/api/profiles", map[string]string{"Cookie": "session=good", "X-MS-CLIENT-PRINCIPAL-NAME": "mallory"}); rec.Code != 200 {
		t.Fatalf("anonymous function: %d %s", rec.Code, rec.Body)
	}
	if rec := do("/api/ui/app.js", map[string]string{"X-MS-CLIENT-PRINCIPAL-NAME": "mallory", "X-MS-CLIENT-PRINCIPAL-IDP": "aad"}); rec.Code != 200 {
		t.Fatalf("anonymous function without a session: %d %s", rec.Code, rec.Body)
	}
	if rec := do("/api/profiles", map[string]string{"Cookie": "session=good"}); rec.Code != 503 || !strings.Contains(rec.Body.String(), "ADMIN_API_KEY") {
		t.Fatalf("keyed function without Authorize: %d %s", rec.Code, rec.Body)
	}
	if len(got) != 2 {
		t.Fatalf("%d invocations, want 2", len(got))
	}
	if got[0].Get("X-MS-CLIENT-PRINCIPAL-NAME") != "ops@contoso.example" || got[0].Get("Cookie") != "" {
		t.Errorf("signed-in invocation headers %v: Identify's principal, no cookie", got[0])
	}
	if got[1].Get("X-MS-CLIENT-PRINCIPAL-NAME") != "" || got[1].Get("X-MS-CLIENT-PRINCIPAL-IDP") != "" {
		t.Errorf("a caller named itself: %v", got[1])
	}
}
