// Package authtest is a local double of an Entra ID tenant's sign-in
// metadata, for tests of bearer-token checks: over HTTPS it serves the
// tenant's OpenID configuration and its JWKS, and it signs access tokens
// with the published key (or, to test refusals, with one it never
// published).
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tenant is the double's tenant id.
const Tenant = "8a5b2c3d-0000-4000-8000-00000000abcd"

// Audience is the API's application ID URI the tests use.
const Audience = "api://dataexport-test"

// Issuer is a token issuer of the tenant.
type Issuer struct {
	srv      *httptest.Server
	key      *rsa.PrivateKey
	stranger *rsa.PrivateKey
	kid      string
}

// New starts the double.
func New() *Issuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	i := &Issuer{key: key, stranger: stranger, kid: "test-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+Tenant+"/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                i.IssuerURL(),
			"jwks_uri":                              i.srv.URL + "/" + Tenant + "/discovery/v2.0/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /"+Tenant+"/discovery/v2.0/keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "use": "sig", "kid": i.kid,
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	i.srv = httptest.NewTLSServer(mux)
	return i
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Close stops the server.
func (i *Issuer) Close() { i.srv.Close() }

// Authority is the sign-in host to configure (ADMIN_ENTRA_AUTHORITY).
func (i *Issuer) Authority() string { return i.srv.URL }

// Client trusts the double's certificate.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// Certificate is the double's certificate, DER.
func (i *Issuer) Certificate() []byte { return i.srv.Certificate().Raw }

// IssuerURL is the iss of the tenant's v2 tokens.
func (i *Issuer) IssuerURL() string { return i.srv.URL + "/" + Tenant + "/v2.0" }

// Claims are a valid access token's claims for the audience, an hour long;
// edit them to make an invalid one.
func (i *Issuer) Claims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": i.IssuerURL(), "aud": Audience, "tid": Tenant,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"preferred_username": "admin@contoso.example", "oid": "00000000-0000-4000-8000-000000000001",
	}
}

// Token signs claims with the tenant's published key.
func (i *Issuer) Token(c jwt.MapClaims) string { return i.sign(c, i.key, i.kid) }

// StrangerToken signs claims with a key the tenant never published.
func (i *Issuer) StrangerToken(c jwt.MapClaims) string { return i.sign(c, i.stranger, i.kid) }

func (i *Issuer) sign(c jwt.MapClaims, k *rsa.PrivateKey, kid string) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = kid
	s, err := t.SignedString(k)
	if err != nil {
		panic(err)
	}
	return s
}
