package apiauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dataexport/dataexport/internal/apiauth/authtest"
)

const key = "0123456789abcdef-admin"

func request(header map[string]string, query string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/profiles"+query, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func TestNewRefusesHalfSettings(t *testing.T) {
	for _, o := range []Options{{Key: "short"}, {TenantID: authtest.Tenant}, {Audience: "api://x"}, {TenantID: "a/b", Audience: "x"}, {TenantID: "t", Audience: "a", Authority: "http://login"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	a, err := New(Options{})
	if err != nil || a.Enabled() {
		t.Fatalf("empty options: %v, enabled %v", err, a.Enabled())
	}
	if _, err := a.Authenticate(request(map[string]string{"x-functions-key": key}, "")); err == nil || !strings.Contains(err.Error(), "ADMIN_API_KEY") {
		t.Fatalf("disabled: %v", err)
	}
}

func TestKey(t *testing.T) {
	a, err := New(Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header map[string]string
		query  string
		ok     bool
	}{
		{"header", map[string]string{"x-functions-key": key}, "", true},
		{"code query", nil, "?code=" + key, true},
		{"wrong key", map[string]string{"x-functions-key": key + "x"}, "", false},
		{"no credentials", nil, "", false},
		{"bearer without a tenant", map[string]string{"Authorization": "Bearer abc"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(request(tt.header, tt.query))
			if (err == nil) != tt.ok {
				t.Fatalf("Authenticate = %+v, %v; want ok=%v", p, err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Fatalf("the error echoes the key: %v", err)
			}
		})
	}
}

// Entra ID tokens against the local tenant double: signature by a
// published key, issuer, audience, tenant and times are all checked.
func TestBearerToken(t *testing.T) {
	iss := authtest.New()
	defer iss.Close()
	a, err := New(Options{TenantID: authtest.Tenant, Audience: authtest.Audience, Authority: iss.Authority(), HTTPClient: iss.Client()})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(jwt.MapClaims)) string {
		c := iss.Claims()
		f(c)
		return iss.Token(c)
	}
	tests := []struct {
		name, token, say string
	}{
		{"valid", iss.Token(iss.Claims()), ""},
		{"v1 issuer", edit(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/" + authtest.Tenant + "/" }), ""},
		{"signed by an unpublished key", iss.StrangerToken(iss.Claims()), "verification"},
		{"other audience", edit(func(c jwt.MapClaims) { c["aud"] = "api://other" }), "aud"},
		{"other issuer", edit(func(c jwt.MapClaims) { c["iss"] = "https://login.example/evil/v2.0" }), "issuer"},
		{"other tenant", edit(func(c jwt.MapClaims) { c["tid"] = "11111111-0000-4000-8000-000000000000" }), "tenant"},
		{"expired", edit(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), "expired"},
		{"no expiry", edit(func(c jwt.MapClaims) { delete(c, "exp") }), "exp"},
		{"not yet valid", edit(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), "not valid yet"},
		{"unsigned", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, iss.Claims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(), "signing method"},
		{"garbage", "not.a.token", "invalid bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(request(map[string]string{"Authorization": "Bearer " + tt.token}, ""))
			if tt.say == "" {
				if err != nil || p.Method != "entra" || p.Name != "admin@contoso.example" {
					t.Fatalf("Authenticate = %+v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.say) {
				t.Fatalf("Authenticate = %+v, %v; want an error saying %q", p, err, tt.say)
			}
		})
	}
	// The key is refused when only tokens are configured.
	if _, err := a.Authenticate(request(map[string]string{"x-functions-key": key}, "")); err == nil {
		t.Fatal("a key was accepted without ADMIN_API_KEY")
	}
}
