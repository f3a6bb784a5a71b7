// Package kvtest is an HTTPS double of the Azure Key Vault secrets REST API,
// for tests that run the real azsecrets client: GET
// /secrets/{name}[/{version}] with the bearer challenge (401 with
// WWW-Authenticate naming the authority and resource, then the request
// again with a token), secret bundles, and Key Vault's error bodies for
// missing, disabled and forbidden secrets. Anything else is refused with
// 501, never answered wrongly.
package kvtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"
)

// Resource is the challenge's resource: the Key Vault audience.
const Resource = "https://vault.azure.net"

// Tenant is the tenant the challenge names.
const Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// Vault is a running double.
type Vault struct {
	srv *httptest.Server
	// Token, when set, is the only bearer token accepted; otherwise any
	// non-empty token is.
	Token string

	mu      gosync.Mutex
	secrets map[string][]version // by name; last = latest
	denied  bool

	challenges atomic.Int64 // 401s sent
	reads      atomic.Int64 // secret bundles returned
}

type version struct {
	id, value string
	enabled   bool
	created   time.Time
}

// New starts a double on 127.0.0.1 with a self-signed certificate; Close
// stops it.
func New() *Vault {
	v := &Vault{secrets: map[string][]version{}}
	v.srv = httptest.NewTLSServer(http.HandlerFunc(v.serve))
	return v
}

// Close stops the server.
func (v *Vault) Close() { v.srv.Close() }

// URL is the vault URL, https://127.0.0.1:<port>.
func (v *Vault) URL() string { return v.srv.URL }

// Client is an HTTP client that trusts the double's certificate.
func (v *Vault) Client() *http.Client { return v.srv.Client() }

// CertPEM is the double's certificate, for a process that must trust it
// (SSL_CERT_FILE).
func (v *Vault) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: v.srv.Certificate().Raw})
}

// SetSecret adds a new version of a secret and returns the version id.
func (v *Vault) SetSecret(name, value string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	v.mu.Lock()
	defer v.mu.Unlock()
	v.secrets[name] = append(v.secrets[name], version{id: id, value: value, enabled: true, created: time.Now()})
	return id
}

// SecretURL is the URL of a secret's latest version.
func (v *Vault) SecretURL(name string) string { return v.srv.URL + "/secrets/" + name }

// Disable disables every version of a secret (Key Vault answers 403).
func (v *Vault) Disable(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range v.secrets[name] {
		v.secrets[name][i].enabled = false
	}
}

// Deny makes every read fail with 403, as for an identity without the
// Key Vault Secrets User role.
func (v *Vault) Deny(deny bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.denied = deny
}

// Challenges is how many 401 challenges were sent.
func (v *Vault) Challenges() int64 { return v.challenges.Load() }

// Reads is how many secret values were returned.
func (v *Vault) Reads() int64 { return v.reads.Load() }

var (
	secretPath = regexp.MustCompile(`^/secrets/([0-9A-Za-z-]{1,127})/?([0-9a-f]{32})?$`)
)

func (v *Vault) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("api-version") == "" {
		writeError(w, http.StatusBadRequest, "BadParameter", "The 'api-version' query parameter is required.")
		return
	}
	m := secretPath.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodGet || m == nil {
		writeError(w, http.StatusNotImplemented, "NotImplementedByDouble", fmt.Sprintf("the Key Vault double serves GET /secrets/{name}[/{version}] only, not %s %s", r.Method, r.URL.Path))
		return
	}
	auth := r.Header.Get("Authorization")
	token, isBearer := strings.CutPrefix(auth, "Bearer ")
	if !isBearer || token == "" || (v.Token != "" && token != v.Token) {
		v.challenges.Add(1)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="https://login.microsoftonline.com/%s", resource="%s"`, Tenant, Resource))
		msg := "AKV10000: Request is missing a Bearer or PoP token."
		if auth != "" {
			msg = "AKV10022: Invalid audience or token."
		}
		writeError(w, http.StatusUnauthorized, "Unauthorized", msg)
		return
	}
	name, ver := m[1], m[2]
	v.mu.Lock()
	denied := v.denied
	versions := v.secrets[name]
	v.mu.Unlock()
	if denied {
		writeError(w, http.StatusForbidden, "Forbidden", "Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'")
		return
	}
	var found *version
	for i := range versions {
		if ver == "" || versions[i].id == ver {
			found = &versions[i]
		}
	}
	if found == nil {
		writeError(w, http.StatusNotFound, "SecretNotFound", fmt.Sprintf("A secret with (name/id) %s was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.", strings.TrimSuffix(name+"/"+ver, "/")))
		return
	}
	if !found.enabled {
		writeError(w, http.StatusForbidden, "Forbidden", "Operation get is not allowed on a disabled secret.")
		return
	}
	v.reads.Add(1)
	t := found.created.Unix()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"value": found.value,
		"id":    fmt.Sprintf("https://%s/secrets/%s/%s", r.Host, name, found.id),
		"attributes": map[string]any{
			"enabled": true, "created": t, "updated": t,
			"recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90,
		},
		"tags": map[string]string{},
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
