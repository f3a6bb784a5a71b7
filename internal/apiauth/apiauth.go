// Package apiauth decides who may call the management API where no
// Functions host guards it (dataexport run; the web UI later): the caller
// sends the admin key (x-functions-key header or code query parameter, as
// the host takes function keys), or an Entra ID access token for the
// configured tenant and audience, whose signature is checked against the
// tenant's published keys (JWKS). Nothing is open by default: without a
// key or a tenant, Enabled is false and the API must not be served.
package apiauth

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	gosync "sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultAuthority is the Entra ID (public cloud) sign-in host.
const DefaultAuthority = "https://login.microsoftonline.com"

// Options configure an Authenticator. Key alone, a tenant and an audience
// alone, or both.
type Options struct {
	// Key is the admin key (ADMIN_API_KEY). At least 16 characters.
	Key string
	// TenantID and Audience accept Entra ID access tokens issued by that
	// tenant for that audience (the API's application ID URI or client
	// ID): ADMIN_ENTRA_TENANT_ID, ADMIN_ENTRA_AUDIENCE.
	TenantID, Audience string
	// Authority is the sign-in host (default DefaultAuthority; another
	// cloud, or a local double in tests): its
	// <authority>/<tenant>/v2.0/.well-known/openid-configuration names the
	// issuer and the keys.
	Authority string
	// HTTPClient fetches the OpenID configuration and keys.
	HTTPClient *http.Client
	Now        func() time.Time
}

// SettingHelp says how to turn the API on, for errors and logs.
const SettingHelp = "set ADMIN_API_KEY (at least 16 characters; send it as the x-functions-key header or the code query parameter) or ADMIN_ENTRA_TENANT_ID and ADMIN_ENTRA_AUDIENCE (send an Entra ID access token as Authorization: Bearer)"

// Authenticator checks requests.
type Authenticator struct {
	o Options

	sessMu   gosync.Mutex
	sessions map[string]session

	mu        gosync.Mutex
	issuer    string
	jwksURI   string
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time
}

// New checks the options. An empty Options gives an Authenticator that is
// not Enabled.
func New(o Options) (*Authenticator, error) {
	o.Key = strings.TrimSpace(o.Key)
	if o.Key != "" && len(o.Key) < 16 {
		return nil, errors.New("app setting ADMIN_API_KEY: at least 16 characters")
	}
	if (o.TenantID == "") != (o.Audience == "") {
		return nil, errors.New("app settings ADMIN_ENTRA_TENANT_ID and ADMIN_ENTRA_AUDIENCE: set both or neither")
	}
	if strings.ContainsAny(o.TenantID, "/?#") {
		return nil, fmt.Errorf("app setting ADMIN_ENTRA_TENANT_ID: %q is not a tenant id", o.TenantID)
	}
	if o.Authority == "" {
		o.Authority = DefaultAuthority
	}
	o.Authority = strings.TrimRight(o.Authority, "/")
	if !strings.HasPrefix(o.Authority, "https://") {
		return nil, fmt.Errorf("app setting ADMIN_ENTRA_AUTHORITY: %q is not an https URL", o.Authority)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Authenticator{o: o}, nil
}

// Enabled reports whether any way in is configured.
func (a *Authenticator) Enabled() bool {
	return a != nil && (a.o.Key != "" || a.o.TenantID != "")
}

// Principal is who a request comes from.
type Principal struct {
	// Method is "key" or "entra"; Session is set when the request carried a
	// session cookie of the login form instead (SessionCookie).
	Method  string
	Session bool
	// Name is the token's user or application ("" for the key); ID its
	// object id (oid), when the token has one.
	Name, ID string
}

// Error is a refused request: it says why, without echoing what was sent.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

// Authenticate checks r's credentials for the management API's routes:
// the admin key or an Entra ID access token, as the Functions host takes
// its function keys. The web UI's session cookie is not one (see Session).
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	if !a.Enabled() {
		return Principal{}, &Error{Reason: "the management API is disabled: " + SettingHelp}
	}
	key := r.Header.Get("x-functions-key")
	if key == "" {
		key = r.URL.Query().Get("code")
	}
	bearer, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case key != "":
		if a.o.Key == "" {
			return Principal{}, &Error{Reason: "keys are not accepted here (ADMIN_API_KEY is not set); send an Entra ID bearer token"}
		}
		if subtle.ConstantTimeCompare([]byte(key), []byte(a.o.Key)) != 1 {
			return Principal{}, &Error{Reason: "the key is not the admin key"}
		}
		return Principal{Method: "key"}, nil
	case hasBearer && strings.TrimSpace(bearer) != "":
		if a.o.TenantID == "" {
			return Principal{}, &Error{Reason: "bearer tokens are not accepted here (ADMIN_ENTRA_TENANT_ID is not set); send the admin key in x-functions-key"}
		}
		return a.token(r.Context(), strings.TrimSpace(bearer))
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return Principal{}, &Error{Reason: "the web UI's session cookie is not a credential for the management API's routes (the UI calls them under /api/ui/api/): send the admin key in the x-functions-key header (or the code query parameter), or an Entra ID access token as Authorization: Bearer"}
	}
	return Principal{}, &Error{Reason: "no credentials: send the admin key in the x-functions-key header (or the code query parameter), or an Entra ID access token as Authorization: Bearer"}
}

// token validates an Entra ID access token: RS256 signed by a key of the
// tenant's JWKS, issued by the tenant, for the audience, within its time.
func (a *Authenticator) token(ctx context.Context, raw string) (Principal, error) {
	if err := a.discover(ctx); err != nil {
		return Principal{}, &Error{Reason: "bearer token not checked: " + err.Error()}
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return a.key(ctx, kid)
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience(a.o.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(2*time.Minute),
		jwt.WithTimeFunc(a.o.Now),
	)
	if err != nil {
		return Principal{}, &Error{Reason: "invalid bearer token: " + err.Error()}
	}
	iss, _ := claims["iss"].(string)
	a.mu.Lock()
	want := a.issuer
	a.mu.Unlock()
	if iss != want && iss != "https://sts.windows.net/"+a.o.TenantID+"/" {
		return Principal{}, &Error{Reason: fmt.Sprintf("invalid bearer token: issuer %q is not tenant %s", iss, a.o.TenantID)}
	}
	if tid, ok := claims["tid"].(string); ok && tid != a.o.TenantID && isGUID(a.o.TenantID) {
		return Principal{}, &Error{Reason: fmt.Sprintf("invalid bearer token: tenant %q is not %s", tid, a.o.TenantID)}
	}
	p := Principal{Method: "entra"}
	for _, c := range []string{"preferred_username", "upn", "appid", "azp", "oid", "sub"} {
		if v, ok := claims[c].(string); ok && v != "" {
			p.Name = v
			break
		}
	}
	p.ID, _ = claims["oid"].(string)
	return p, nil
}

func isGUID(s string) bool { return len(s) == 36 && strings.Count(s, "-") == 4 }

// discover reads the tenant's OpenID configuration once: the issuer and
// where its keys are.
func (a *Authenticator) discover(ctx context.Context) error {
	a.mu.Lock()
	done := a.jwksURI != ""
	a.mu.Unlock()
	if done {
		return nil
	}
	var cfg struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	u := a.o.Authority + "/" + a.o.TenantID + "/v2.0/.well-known/openid-configuration"
	if err := a.getJSON(ctx, u, &cfg); err != nil {
		return err
	}
	if cfg.Issuer == "" || !strings.HasPrefix(cfg.JWKSURI, "https://") {
		return fmt.Errorf("%s names no issuer or no https jwks_uri", u)
	}
	a.mu.Lock()
	a.issuer, a.jwksURI = strings.ReplaceAll(cfg.Issuer, "{tenantid}", a.o.TenantID), cfg.JWKSURI
	a.mu.Unlock()
	return nil
}

// keysTTL is how long a key set is used; an unknown key id refreshes it
// at most every keysRefresh.
const (
	keysTTL     = time.Hour
	keysRefresh = 5 * time.Minute
)

func (a *Authenticator) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	a.mu.Lock()
	k, ok := a.keys[kid]
	have := a.keys != nil
	age := a.o.Now().Sub(a.fetchedAt)
	a.mu.Unlock()
	if ok && age < keysTTL {
		return k, nil
	}
	if have && !ok && age < keysRefresh {
		return nil, fmt.Errorf("signing key %q is not one of the tenant's keys", kid)
	}
	if err := a.fetchKeys(ctx); err != nil {
		return nil, err
	}
	a.mu.Lock()
	k, ok = a.keys[kid]
	a.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("signing key %q is not one of the tenant's keys", kid)
	}
	return k, nil
}

func (a *Authenticator) fetchKeys(ctx context.Context) error {
	a.mu.Lock()
	uri := a.jwksURI
	a.mu.Unlock()
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := a.getJSON(ctx, uri, &set); err != nil {
		return err
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		var ei int
		for _, b := range e {
			ei = ei<<8 | int(b)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ei}
	}
	a.mu.Lock()
	a.keys, a.fetchedAt = keys, a.o.Now()
	a.mu.Unlock()
	return nil
}

func (a *Authenticator) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := a.o.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("reading %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reading %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("reading %s: %w", u, err)
	}
	return nil
}
