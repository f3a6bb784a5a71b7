package dvemu

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

// A minimal Microsoft Entra ID stand-in so azidentity's ClientSecretCredential
// can be pointed at the emulator (ClientOptions.Cloud.ActiveDirectoryAuthorityHost
// = emulator URL, DisableInstanceDiscovery = true; MSAL needs https, so use a
// TLS server). Tokens issued are Options.Token; they never expire here.

// serveOAuth answers the token and discovery endpoints; it reports false
// when the path is not one of them.
func (e *Emulator) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 4 && parts[1] == "oauth2" && parts[2] == "v2.0" && parts[3] == "token":
		e.serveToken(w, r)
	case len(parts) == 4 && parts[1] == "v2.0" && parts[2] == ".well-known" && parts[3] == "openid-configuration":
		base := e.baseURL(r) + "/" + parts[0]
		writeObj(w, http.StatusOK, obj{
			{"token_endpoint", base + "/oauth2/v2.0/token"},
			{"token_endpoint_auth_methods_supported", []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}},
			{"jwks_uri", base + "/discovery/v2.0/keys"},
			{"response_modes_supported", []string{"query", "fragment", "form_post"}},
			{"subject_types_supported", []string{"pairwise"}},
			{"id_token_signing_alg_values_supported", []string{"RS256"}},
			{"response_types_supported", []string{"code", "id_token", "code id_token", "id_token token"}},
			{"scopes_supported", []string{"openid", "profile", "email", "offline_access"}},
			{"issuer", base + "/v2.0"},
			{"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
			{"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
			{"end_session_endpoint", base + "/oauth2/v2.0/logout"},
			{"tenant_region_scope", "NA"},
		})
	default:
		return false
	}
	return true
}

func (e *Emulator) serveToken(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeObj(w, status, obj{{"error", code}, {"error_description", desc}})
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain a form.")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type '"+gt+"'.")
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	if e.opts.ClientID != "" && id != e.opts.ClientID {
		oauthErr(http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier '"+id+"' was not found in the directory.")
		return
	}
	if e.opts.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(e.opts.ClientSecret)) != 1 {
		oauthErr(http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
		return
	}
	// MSAL adds "openid profile offline_access" to the resource's /.default scope.
	if !slices.ContainsFunc(strings.Fields(r.PostForm.Get("scope")), func(s string) bool { return strings.HasSuffix(s, "/.default") }) {
		oauthErr(http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.")
		return
	}
	writeObj(w, http.StatusOK, obj{{"token_type", "Bearer"}, {"expires_in", 3599}, {"ext_expires_in", 3599}, {"access_token", e.opts.Token}})
}
