package handlers

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/webui"
)

func uiEnvelope(path string, headers map[string][]string) string {
	return envelopeWith("GET", map[string]string{"path": path}, nil, "", headers)
}

// The web UI's function serves its files to a signed-in caller only, with
// a policy that keeps the page to its own server; without a front the
// handler can trust, it serves nothing at all.
func TestWebUIFunction(t *testing.T) {
	signedIn := map[string][]string{PrincipalNameHeader: {"admin@contoso.example"}, PrincipalIDPHeader: {"aad"}}
	h := New(Options{Front: FrontEasyAuth, Logger: slog.New(slog.DiscardHandler)})
	for _, p := range []string{"", "index.html", "app.js", "app.css"} {
		r := invokeHTTP(t, h, WebUI, uiEnvelope(p, signedIn))
		a, _ := webui.Lookup(p)
		if r.StatusCode != "200" || r.Body != string(a.Body) || r.Headers["Content-Type"] != a.ContentType || r.Headers["Content-Security-Policy"] != webui.ContentSecurityPolicy {
			t.Fatalf("%q: %s %v", p, r.StatusCode, r.Headers)
		}
		if !strings.Contains(r.Headers["Content-Security-Policy"], "default-src 'none'") {
			t.Fatalf("CSP %q", r.Headers["Content-Security-Policy"])
		}
		cached := map[string][]string{"If-None-Match": {a.ETag}}
		for k, v := range signedIn {
			cached[k] = v
		}
		if r := invokeHTTP(t, h, WebUI, uiEnvelope(p, cached)); r.StatusCode != "304" || r.Body != "" {
			t.Fatalf("%q revalidated: %s", p, r.StatusCode)
		}
	}
	if r := invokeHTTP(t, h, WebUI, uiEnvelope("../../go.mod", signedIn)); r.StatusCode != "404" {
		t.Fatalf("outside the UI: %s", r.StatusCode)
	}
	if r := invokeHTTP(t, h, WebUI, uiEnvelope("", nil)); r.StatusCode != "401" {
		t.Fatalf("without a principal: %s %s", r.StatusCode, r.Body)
	}
	if r := invokeHTTP(t, h, "Profiles", envelopeWith("GET", nil, nil, "", nil)); r.StatusCode != "401" || !strings.Contains(r.Body, "Entra ID") {
		t.Fatalf("API without a principal: %s %s", r.StatusCode, r.Body)
	}
	none := New(Options{Logger: slog.New(slog.DiscardHandler)})
	for _, fn := range []string{WebUI, "Profiles", "OpenAPI"} {
		if r := invokeHTTP(t, none, fn, uiEnvelope("", signedIn)); r.StatusCode != "503" || !strings.Contains(r.Body, "WEBSITE_AUTH_ENABLED") {
			t.Fatalf("%s without a front: %s %s", fn, r.StatusCode, r.Body)
		}
	}
	m := &fakeManager{}
	r := invokeHTTP(t, New(Options{Front: FrontStandalone, Manager: m, Logger: slog.New(slog.DiscardHandler)}), "Me", envelopeWith("GET", nil, nil, "", signedIn))
	if r.StatusCode != "200" || !strings.Contains(r.Body, `"name": "admin@contoso.example"`) || !strings.Contains(r.Body, `"identityProvider": "aad"`) {
		t.Fatalf("me: %s %s", r.StatusCode, r.Body)
	}
}
