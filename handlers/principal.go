package handlers

import (
	"fmt"
	"net/http"
	"strings"
)

// Front is what stands in front of the HTTP functions and vouches for each
// caller: it signs the caller in, removes any X-MS-CLIENT-PRINCIPAL-*
// header the caller sent, and sets its own. The HTTP functions are
// anonymous to the Functions host (function.json authLevel anonymous): a
// browser signed in with Entra ID holds no function key, and the host
// cannot combine its keys with App Service Authentication. So the handler
// itself refuses a call that no front vouched for, and serves nothing when
// it has no front it can trust: with App Service Authentication turned off
// the platform no longer strips those headers, and anyone could forge them.
type Front string

const (
	// FrontNone: no front is known; every HTTP function answers 503.
	FrontNone Front = ""
	// FrontEasyAuth: App Service Authentication (Easy Auth), which the
	// platform announces to the app with WEBSITE_AUTH_ENABLED=True.
	FrontEasyAuth Front = "easyauth"
	// FrontStandalone: dataexport run's standalone host, which checks the
	// admin key, an Entra ID token or its session cookie (internal/apiauth).
	FrontStandalone Front = "standalone"
)

// Principal headers, as App Service Authentication sets them.
const (
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

// frontError is a call the handler refuses before any function runs.
type frontError struct {
	status        int
	title, detail string
}

// caller returns who a call comes from, or why it is refused.
func (s *server) caller(r *HTTPRequest) (Caller, *frontError) {
	if s.o.Front == FrontNone {
		return Caller{}, &frontError{http.StatusServiceUnavailable, "The management API and the web UI are not served here",
			"nothing in front of this app signs callers in: turn on App Service Authentication (Microsoft Entra ID) for the function app, which sets WEBSITE_AUTH_ENABLED=True (infra/main.bicep configures it; see infra/README.md), or use dataexport run locally"}
	}
	c := Caller{
		Name:     strings.TrimSpace(r.Header(PrincipalNameHeader)),
		ID:       strings.TrimSpace(r.Header(PrincipalIDHeader)),
		Provider: strings.TrimSpace(r.Header(PrincipalIDPHeader)),
	}
	if (c.Name == "" && c.ID == "") || c.Provider == "" {
		how := "sign in with Microsoft Entra ID (App Service Authentication), or send an Entra ID access token for this app as Authorization: Bearer"
		if s.o.Front == FrontStandalone {
			how = "sign in at /.auth/login, or send the admin key (x-functions-key) or an Entra ID access token (Authorization: Bearer)"
		}
		return Caller{}, &frontError{http.StatusUnauthorized, "Unauthorized", fmt.Sprintf("the call carries no signed-in principal: %s", how)}
	}
	return c, nil
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
	if s.o.Front == FrontStandalone {
		m.SignInURL = "/.auth/login"
	}
	return m
}
