package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// Front is what stands in front of the app and names the caller of the web
// UI: it signs the caller in, removes any X-MS-CLIENT-PRINCIPAL* header the
// caller sent, and sets its own. The web UI's function is anonymous to the
// Functions host (a browser holds no function key), so the handler itself
// serves it only to a caller a front it trusts has named; with no such
// front the headers could be forged, and it serves nothing. The management
// API's functions do not depend on it: the host's function keys guard them
// (authLevel function), and the principal only names the caller in logs.
type Front string

const (
	// FrontNone: no front is known; the web UI answers 401 to everyone.
	FrontNone Front = ""
	// FrontEasyAuth: App Service Authentication (Easy Auth), which the
	// platform announces to the app with WEBSITE_AUTH_ENABLED=True.
	FrontEasyAuth Front = "easyauth"
	// FrontStandalone: dataexport run's standalone host, whose sign-in form
	// gives the browser a session cookie (internal/apiauth).
	FrontStandalone Front = "standalone"
)

// Principal headers, as App Service Authentication sets them.
const (
	PrincipalHeader     = "X-MS-CLIENT-PRINCIPAL" // base64 JSON: auth_typ, claims, name_typ
	PrincipalNameHeader = "X-MS-CLIENT-PRINCIPAL-NAME"
	PrincipalIDHeader   = "X-MS-CLIENT-PRINCIPAL-ID"
	PrincipalIDPHeader  = "X-MS-CLIENT-PRINCIPAL-IDP"
)

// Caller is who an HTTP call comes from, as the front says.
type Caller struct {
	// Name is the user (e-mail or UPN) or application; ID the identity
	// provider's id for it; Provider the identity provider (aad for Entra
	// ID; key for the admin key under dataexport run).
	Name, ID, Provider string
}

// Display is the caller's name for logs and the UI.
func (c Caller) Display() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// frontError is a call the web UI refuses before anything is served.
type frontError struct {
	status        int
	title, detail string
}

// principal reads the caller App Service Authentication names: the -NAME,
// -ID and -IDP headers, and X-MS-CLIENT-PRINCIPAL (its auth_typ and name
// claim) where those lack something. ok is false when no caller is named
// completely (a name or an id, and the provider).
func principal(r *HTTPRequest) (Caller, bool) {
	c := Caller{
		Name:     strings.TrimSpace(r.Header(PrincipalNameHeader)),
		ID:       strings.TrimSpace(r.Header(PrincipalIDHeader)),
		Provider: strings.TrimSpace(r.Header(PrincipalIDPHeader)),
	}
	if raw := strings.TrimSpace(r.Header(PrincipalHeader)); raw != "" {
		if p, ok := decodeClientPrincipal(raw); ok {
			if c.Provider == "" {
				c.Provider = p.AuthType
			}
			if c.Name == "" {
				c.Name = p.claim(p.NameType)
			}
		}
	}
	return c, (c.Name != "" || c.ID != "") && c.Provider != ""
}

// clientPrincipal is the JSON of X-MS-CLIENT-PRINCIPAL.
type clientPrincipal struct {
	AuthType string `json:"auth_typ"`
	NameType string `json:"name_typ"`
	Claims   []struct {
		Type  string `json:"typ"`
		Value string `json:"val"`
	} `json:"claims"`
}

func (p clientPrincipal) claim(typ string) string {
	for _, c := range p.Claims {
		if typ != "" && c.Type == typ {
			return c.Value
		}
	}
	return ""
}

func decodeClientPrincipal(raw string) (clientPrincipal, bool) {
	var p clientPrincipal
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(raw); err != nil {
			return p, false
		}
	}
	if json.Unmarshal(b, &p) != nil {
		return p, false
	}
	return p, true
}

// caller returns who a call to the web UI comes from, or why it is
// refused (always 401: nothing is served without a named caller).
func (s *server) caller(r *HTTPRequest) (Caller, *frontError) {
	if s.o.Front == FrontNone {
		return Caller{}, &frontError{http.StatusUnauthorized, "Unauthorized",
			"the web UI is served only behind App Service Authentication (Microsoft Entra ID), which the platform announces with WEBSITE_AUTH_ENABLED=True, and here it is not on: turn it on for the function app (infra/main.bicep configures it; see infra/README.md), or use dataexport run locally. The management API's routes take a function key meanwhile"}
	}
	c, ok := principal(r)
	if !ok {
		how := "sign in with Microsoft Entra ID at /.auth/login/aad"
		if s.o.Front == FrontStandalone {
			how = "sign in at /.auth/login"
		}
		return Caller{}, &frontError{http.StatusUnauthorized, "Unauthorized", "the call carries no signed-in principal: " + how}
	}
	return c, nil
}

// apiCaller is who a call to a management API route comes from, for logs
// and /api/me: the principal a trusted front named, if any (the host's
// function key, which guards the route, names nobody).
func (s *server) apiCaller(r *HTTPRequest) Caller {
	if s.o.Front == FrontNone {
		return Caller{}
	}
	c, ok := principal(r)
	if !ok {
		return Caller{}
	}
	return c
}

// Me is the answer of GET /api/me: the caller, and where the front signs in
// and out.
type Me struct {
	Name       string `json:"name"`
	ID         string `json:"id,omitempty"`
	Provider   string `json:"identityProvider"`
	SignInURL  string `json:"signInUrl"`
	SignOutURL string `json:"signOutUrl"`
}

func (s *server) me(c Caller) Me {
	m := Me{Name: c.Name, ID: c.ID, Provider: c.Provider, SignInURL: "/.auth/login/aad", SignOutURL: "/.auth/logout"}
	if m.Name == "" && m.ID == "" {
		m.Name, m.Provider = "function key", "key"
	}
	if s.o.Front == FrontStandalone {
		m.SignInURL = "/.auth/login"
	}
	return m
}
