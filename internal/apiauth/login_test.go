package apiauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The login form gives the browser an HttpOnly, SameSite=Strict session
// cookie for the key; the cookie then names the key's principal to the web
// UI (Session) until logout, and is no credential for the API's routes
// (Authenticate); a UI file without a session is the form, with 401, while
// the UI's API path goes on to the host (the function refuses it there); a
// wrong key is refused without echoing it; the redirect stays on the UI.
func TestLoginFront(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	a, err := New(Options{Key: key, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var reached []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.URL.Path)
		if _, err := a.Session(r); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	front := a.LoginFront(next, "/api/ui/", "/api/ui/api/")
	do := func(r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		front.ServeHTTP(rec, r)
		return rec
	}
	rec := do(httptest.NewRequest("GET", "/api/ui/", nil))
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), `<form method="post" action="/.auth/login">`) || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("UI page without credentials: %d %s", rec.Code, rec.Body)
	}
	if rec := do(httptest.NewRequest("GET", "/", nil)); rec.Code != 303 || rec.Header().Get("Location") != "/api/ui/" {
		t.Fatalf("/: %d %v", rec.Code, rec.Header())
	}
	login := func(cred, back string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/.auth/login", strings.NewReader(url.Values{"credential": {cred}, "redirect": {back}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(r)
	}
	rec = login("wrong-key-0123456789", "/api/ui/")
	if rec.Code != 401 || strings.Contains(rec.Body.String(), "wrong-key") || !strings.Contains(rec.Body.String(), "not the admin key") || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("wrong key: %d %s", rec.Code, rec.Body)
	}
	rec = login(key, "https://evil.example/api/ui/")
	cookies := rec.Result().Cookies()
	if rec.Code != 303 || rec.Header().Get("Location") != "/api/ui/" || len(cookies) != 1 {
		t.Fatalf("login: %d %v", rec.Code, rec.Header())
	}
	c := cookies[0]
	if c.Name != SessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || strings.Contains(c.Value, key) {
		t.Fatalf("cookie %+v", c)
	}
	if rec := login(key, "/api/ui/#/profiles/crm"); rec.Header().Get("Location") != "/api/ui/#/profiles/crm" {
		t.Fatalf("redirect on the UI: %v", rec.Header().Get("Location"))
	}
	withCookie := func(method, path string) *http.Request {
		r := httptest.NewRequest(method, path, nil)
		r.AddCookie(c)
		return r
	}
	if rec := do(withCookie("GET", "/api/ui/api/profiles")); rec.Code != 200 {
		t.Fatalf("the UI's API path with the cookie: %d %s", rec.Code, rec.Body)
	}
	p, err := a.Session(withCookie("GET", "/api/ui/api/profiles"))
	if err != nil || !p.Session || p.Method != "key" {
		t.Fatalf("session principal %+v, %v", p, err)
	}
	if _, err := a.Authenticate(withCookie("GET", "/api/profiles")); err == nil || !strings.Contains(err.Error(), "/api/ui/api/") {
		t.Fatalf("the session cookie on an API route: %v, want refused", err)
	}
	// Without a session the UI's API path is not the form: the host and
	// the web UI's function answer it (401 problem+json there).
	reached = nil
	if rec := do(httptest.NewRequest("GET", "/api/ui/api/profiles", nil)); rec.Code != 401 || strings.Contains(rec.Body.String(), "<form") || len(reached) != 1 {
		t.Fatalf("the UI's API path without a session: %d %v %s", rec.Code, reached, rec.Body)
	}
	if rec := do(withCookie("GET", "/.auth/logout")); rec.Code != 303 || rec.Result().Cookies()[0].MaxAge >= 0 {
		t.Fatalf("logout: %d %v", rec.Code, rec.Result().Cookies())
	}
	if rec := do(withCookie("GET", "/api/ui/app.js")); rec.Code != 401 {
		t.Fatalf("after logout: %d", rec.Code)
	}
	tok, _ := a.StartSession(Principal{Method: "key"}, time.Time{})
	now = now.Add(SessionTTL + time.Second)
	if _, err := a.Session(withCookieValue(tok)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired session: %v", err)
	}
}

func withCookieValue(v string) *http.Request {
	r := httptest.NewRequest("GET", "/api/profiles", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: v})
	return r
}

// With no credential configured the UI says how to turn sign-in on.
func TestLoginFrontDisabled(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.LoginFront(http.NotFoundHandler(), "/api/ui/", "/api/ui/api/").ServeHTTP(rec, httptest.NewRequest("GET", "/api/ui/", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "ADMIN_API_KEY") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
