package handlers

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/webui"
)

// uiInvocation is the host's invocation of the WebUI function for a
// request to /api/ui/<path> (path escaped, with its query if any), as the
// host sends it: the URL, the catch-all route value, the headers.
func uiInvocation(method, path string, headers map[string][]string, body string) string {
	u, _ := url.Parse("https://myapp.azurewebsites.net" + UIPath + path)
	query := map[string]string{}
	for k, v := range u.Query() {
		query[k] = v[0]
	}
	p, _ := url.PathUnescape(u.EscapedPath()[len(UIPath):])
	h := map[string][]string{"Content-Type": {"application/json"}}
	for k, v := range headers {
		h[k] = v
	}
	req := map[string]any{"Url": u.String(), "Method": method, "Query": query, "Headers": h, "Params": map[string]string{"path": p}}
	if body != "" {
		req["Body"] = body
	}
	b, _ := json.Marshal(map[string]any{"Data": map[string]any{"req": req}, "Metadata": map[string]any{}})
	return string(b)
}

// signedIn are the headers App Service Authentication sets for a user it
// signed in, X-Requested-With as the UI's script adds it.
func signedIn(extra ...string) map[string][]string {
	h := map[string][]string{PrincipalNameHeader: {"admin@contoso.example"}, PrincipalIDHeader: {"9b1c-oid"}, PrincipalIDPHeader: {"aad"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = []string{extra[i+1]}
	}
	return h
}

// The web UI's function serves its files to a signed-in caller only, with
// a policy that keeps the page to its own server; a browser without a
// principal is sent to the sign-in, anything else gets 401; without a
// front the handler can trust (WEBSITE_AUTH_ENABLED not True), the
// principal headers mean nothing and nothing is served.
func TestWebUIFunction(t *testing.T) {
	h := New(Options{Front: FrontEasyAuth, Logger: slog.New(slog.DiscardHandler)})
	for _, p := range []string{"", "index.html", "app.js", "app.css"} {
		r := invokeHTTP(t, h, WebUI, uiInvocation("GET", p, signedIn(), ""))
		a, _ := webui.Lookup(p)
		if r.StatusCode != "200" || r.Body != string(a.Body) || r.Headers["Content-Type"] != a.ContentType || r.Headers["Content-Security-Policy"] != webui.ContentSecurityPolicy {
			t.Fatalf("%q: %s %v", p, r.StatusCode, r.Headers)
		}
		if !strings.Contains(r.Headers["Content-Security-Policy"], "default-src 'none'") {
			t.Fatalf("CSP %q", r.Headers["Content-Security-Policy"])
		}
		if r := invokeHTTP(t, h, WebUI, uiInvocation("GET", p, signedIn("If-None-Match", a.ETag), "")); r.StatusCode != "304" || r.Body != "" {
			t.Fatalf("%q revalidated: %s", p, r.StatusCode)
		}
	}
	if r := invokeHTTP(t, h, WebUI, uiInvocation("GET", "..%2F..%2Fgo.mod", signedIn(), "")); r.StatusCode != "404" {
		t.Fatalf("outside the UI: %s", r.StatusCode)
	}
	// The base64 principal alone names the caller too.
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"auth_typ":"aad","name_typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress","claims":[{"typ":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress","val":"ops@contoso.example"}]}`))
	if r := invokeHTTP(t, h, WebUI, uiInvocation("GET", "app.js", map[string][]string{PrincipalHeader: {b64}, PrincipalIDHeader: {"oid-2"}}, "")); r.StatusCode != "200" {
		t.Fatalf("with X-MS-CLIENT-PRINCIPAL: %s %s", r.StatusCode, r.Body)
	}

	// Without a principal: a browser opening the UI goes to the sign-in
	// and comes back; an asset or a call gets 401, and nothing of the UI.
	nav := map[string][]string{"Accept": {"text/html,application/xhtml+xml"}}
	r := invokeHTTP(t, h, WebUI, uiInvocation("GET", "", nav, ""))
	if r.StatusCode != "302" || r.Headers["Location"] != "/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fui%2F" {
		t.Fatalf("a browser without a principal: %s %v", r.StatusCode, r.Headers)
	}
	incomplete := map[string][]string{PrincipalNameHeader: {"admin@contoso.example"}} // no provider
	for _, hd := range []map[string][]string{nil, incomplete, {PrincipalHeader: {"not base64!"}, PrincipalIDHeader: {"x"}}} {
		for _, p := range []string{"app.js", "index.html", "api/profiles", "api/me"} {
			r := invokeHTTP(t, h, WebUI, uiInvocation("GET", p, hd, ""))
			if r.StatusCode != "401" || strings.Contains(r.Body, "function (") || strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, "/.auth/login/aad") {
				t.Fatalf("%s with %v: %s %.200s", p, hd, r.StatusCode, r.Body)
			}
		}
	}

	// No trusted front: the same headers could come from anyone.
	m := &fakeManager{}
	none := New(Options{Manager: m, Logger: slog.New(slog.DiscardHandler)})
	for _, p := range []string{"", "app.js", "api/profiles"} {
		r := invokeHTTP(t, none, WebUI, uiInvocation("GET", p, signedIn("Accept", "text/html"), ""))
		if r.StatusCode != "401" || !strings.Contains(r.Body, "WEBSITE_AUTH_ENABLED") {
			t.Fatalf("%q without a front: %s %s", p, r.StatusCode, r.Body)
		}
	}
	if len(m.calls) != 0 {
		t.Fatalf("the service was called without a front: %v", m.calls)
	}
}

// The UI's calls under /api/ui/api/ reach the operations of the same
// routes as /api/ does, with the caller's name; a change needs
// X-Requested-With; unknown routes and methods are refused as the API
// refuses them.
func TestWebUIDispatchesToTheAPIRoutes(t *testing.T) {
	m := &fakeManager{profiles: map[string]manage.ProfileView{}}
	h := New(Options{Front: FrontEasyAuth, Manager: m, Logger: slog.New(slog.DiscardHandler)})
	xhr := signedIn("X-Requested-With", "XMLHttpRequest")

	r := invokeHTTP(t, h, WebUI, uiInvocation("GET", "api/me", xhr, ""))
	if r.StatusCode != "200" || !strings.Contains(r.Body, `"name": "admin@contoso.example"`) || !strings.Contains(r.Body, `"signInUrl": "/.auth/login/aad"`) {
		t.Fatalf("me: %s %s", r.StatusCode, r.Body)
	}
	// profiles/validate is the literal route, not profiles/{name}.
	if r := invokeHTTP(t, h, WebUI, uiInvocation("POST", "api/profiles/validate", xhr, validDoc)); r.StatusCode != "200" || !slices.Equal(m.calls, []string{"Validate"}) {
		t.Fatalf("validate: %s %v %s", r.StatusCode, m.calls, r.Body)
	}
	m.calls = nil
	// A change without X-Requested-With: refused before the service.
	if r := invokeHTTP(t, h, WebUI, uiInvocation("POST", "api/profiles/crm/activate", signedIn(), "")); r.StatusCode != "403" || len(m.calls) != 0 || !strings.Contains(r.Body, "X-Requested-With") {
		t.Fatalf("a change without X-Requested-With: %s %v %s", r.StatusCode, m.calls, r.Body)
	}
	tests := []struct {
		method, path, status, allow string
	}{
		{"GET", "api/nope", "404", ""},
		{"GET", "api/profiles/crm/entities", "404", ""},
		{"DELETE", "api/profiles", "405", "GET, POST"},
		{"PUT", "app.js", "405", "GET"},
	}
	for _, tt := range tests {
		r := invokeHTTP(t, h, WebUI, uiInvocation(tt.method, tt.path, xhr, ""))
		if r.StatusCode != tt.status || r.Headers["Allow"] != tt.allow || r.Headers["Content-Type"] != ProblemContentType {
			t.Errorf("%s %s: %s Allow %q %s", tt.method, tt.path, r.StatusCode, r.Headers["Allow"], r.Body)
		}
	}
	if len(m.calls) != 0 {
		t.Fatalf("refused calls reached the service: %v", m.calls)
	}
}

// Every operation answers the same through its own function and through
// the web UI's: one route table, one implementation.
func TestEveryRouteThroughTheWebUI(t *testing.T) {
	n := 0
	for _, rt := range routes {
		for method := range rt.Ops {
			params := map[string]string{}
			path := rt.Template
			for _, p := range rt.Params() {
				v := map[string]string{"name": "crm", "entity": "account"}[p]
				params[p] = v
				path = strings.ReplaceAll(path, "{"+p+"}", v)
			}
			body := ""
			if rt.Ops[method].Body != nil {
				body = validDoc
			}
			direct := &fakeManager{profiles: map[string]manage.ProfileView{"crm": {Name: "crm", ETag: `W/"1"`}}}
			rd := invokeHTTP(t, New(Options{Front: FrontEasyAuth, Manager: direct, Logger: slog.New(slog.DiscardHandler)}), rt.Function, envelope(method, params, nil, body))
			viaUI := &fakeManager{profiles: map[string]manage.ProfileView{"crm": {Name: "crm", ETag: `W/"1"`}}}
			ru := invokeHTTP(t, New(Options{Front: FrontEasyAuth, Manager: viaUI, Logger: slog.New(slog.DiscardHandler)}), WebUI, uiInvocation(method, "api/"+path, signedIn("X-Requested-With", "XMLHttpRequest"), body))
			if rd.StatusCode != ru.StatusCode || !slices.Equal(direct.calls, viaUI.calls) || rd.Body != ru.Body && rt.Function != "Me" && rt.Function != "OpenAPI" {
				t.Errorf("%s /api/%s: direct %s %v, through the UI %s %v\n%s\n%s", method, path, rd.StatusCode, direct.calls, ru.StatusCode, viaUI.calls, rd.Body, ru.Body)
			}
			if rd.StatusCode >= "300" {
				t.Errorf("%s /api/%s: %s %s", method, path, rd.StatusCode, rd.Body)
			}
			n++
		}
	}
	if n < 18 {
		t.Fatalf("%d operations tried", n)
	}
}

// The management API's functions are guarded by the host's function keys
// (authLevel function): the handler answers them without a principal,
// which only names the caller when a trusted front set it.
func TestAPIFunctionsNeedNoPrincipal(t *testing.T) {
	m := &fakeManager{}
	for _, front := range []Front{FrontNone, FrontEasyAuth, FrontStandalone} {
		h := New(Options{Front: front, Manager: m, Logger: slog.New(slog.DiscardHandler)})
		if r := invokeHTTP(t, h, "Profiles", envelopeWith("GET", nil, nil, "", nil)); r.StatusCode != "200" {
			t.Fatalf("front %q: Profiles with a function key only: %s %s", front, r.StatusCode, r.Body)
		}
		r := invokeHTTP(t, h, "Me", envelopeWith("GET", nil, nil, "", nil))
		if r.StatusCode != "200" || !strings.Contains(r.Body, `"name": "function key"`) {
			t.Fatalf("front %q: me with a function key: %s %s", front, r.StatusCode, r.Body)
		}
		r = invokeHTTP(t, h, "Me", envelopeWith("GET", nil, nil, "", signedIn()))
		named := strings.Contains(r.Body, `"name": "admin@contoso.example"`)
		if named != (front != FrontNone) {
			t.Fatalf("front %q: me with principal headers: %s (they name the caller only behind a trusted front)", front, r.Body)
		}
	}
}

// Every function of the API asks the host for a function key; the web
// UI's asks for nothing (it checks the principal itself) and answers every
// method the routes it calls answer.
func TestAuthLevels(t *testing.T) {
	n := 0
	for _, fn := range Functions() {
		trig, ok := fn.Trigger.(HTTPTrigger)
		if !ok {
			continue
		}
		n++
		want := AuthLevelFunction
		if fn.Name == WebUI {
			want = AuthLevelAnonymous
			if !slices.Equal(trig.Methods, []string{"GET", "POST", "PUT", "DELETE"}) {
				t.Errorf("WebUI methods %v", trig.Methods)
			}
		}
		if !strings.Contains(string(FunctionJSON(fn)), `"authLevel": "`+want+`"`) {
			t.Errorf("%s: authLevel is not %s:\n%s", fn.Name, want, FunctionJSON(fn))
		}
	}
	if n != len(routes)+1 {
		t.Fatalf("%d HTTP functions, want %d routes and the web UI", n, len(routes))
	}
	for _, a := range webui.Names() {
		if a == "api" || strings.HasPrefix(a, "api/") {
			t.Errorf("web UI file %s hides the UI's API path", a)
		}
	}
}
