package dataverse_test

import (
	"context"
	"errors"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// authLog records what reached the emulator's OAuth token endpoint and which
// Authorization headers the Web API requests carried.
type authLog struct {
	next http.Handler

	mu       sync.Mutex
	scopes   []string // scope form field of each token request
	clientID []string
	tokPaths []string
	apiAuth  []string // Authorization header of each Web API request
	apiPaths []string
}

func (l *authLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		// ParseForm fills r.PostForm, which the emulator then reads as is.
		if err := r.ParseForm(); err == nil {
			l.mu.Lock()
			l.scopes = append(l.scopes, r.PostForm.Get("scope"))
			l.clientID = append(l.clientID, r.PostForm.Get("client_id"))
			l.tokPaths = append(l.tokPaths, r.URL.Path)
			l.mu.Unlock()
		}
	case strings.HasPrefix(r.URL.Path, "/api/data/"):
		l.mu.Lock()
		l.apiAuth = append(l.apiAuth, r.Header.Get("Authorization"))
		l.apiPaths = append(l.apiPaths, r.URL.Path)
		l.mu.Unlock()
	}
	l.next.ServeHTTP(w, r)
}

// TestClientSecretCredentialEndToEnd goes the production way from settings
// to data: NewCredential (real azidentity, client secret) against the
// emulator's Entra stand-in over TLS, then NewClient reading
// EntityDefinitions and a page of changes. The token request must ask for
// "<org>/.default" and every Web API request must carry the issued token.
func TestClientSecretCredentialEndToEnd(t *testing.T) {
	const (
		tenant   = "00000000-0000-0000-0000-0000000000aa"
		clientID = "00000000-0000-0000-0000-0000000000bb"
		secret   = "emu-s3cret-value"
		issued   = "issued-by-emulator-entra"
	)
	tests := []struct {
		name   string
		secret string
		ok     bool
	}{
		{"right secret reads metadata and changes", secret, true},
		{"wrong secret fails before any Web API request", "wrong-s3cret-value", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, err := dvemu.New(dvemu.Options{Records: 7, RandSeed: 3, Token: issued, ClientID: clientID, ClientSecret: secret,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			log := &authLog{next: emu}
			// MSAL only talks to https authorities. Handshakes cut off by
			// Close are logged by the server; they are not what is tested.
			srv := httptest.NewUnstartedServer(log)
			srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)
			srv.StartTLS()
			t.Cleanup(srv.Close)

			cred, err := dataverse.NewCredential(dataverse.AuthSettings{
				Method: dataverse.AuthClientSecret, TenantID: tenant, ClientID: clientID, ClientSecret: tt.secret,
				AuthorityHost: srv.URL, DisableInstanceDiscovery: true, Transport: srv.Client(),
			})
			if err != nil {
				t.Fatal(err)
			}
			c, err := dataverse.NewClient(srv.URL, cred, &dataverse.ClientOptions{Transport: srv.Client(), PageSize: 5, MaxRetries: -1,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			ents, err := c.Entities(ctx, true)
			if !tt.ok {
				var authErr *azidentity.AuthenticationFailedError
				if !errors.As(err, &authErr) {
					t.Fatalf("err = %v, want an azidentity.AuthenticationFailedError", err)
				}
				if strings.Contains(err.Error(), tt.secret) || strings.Contains(err.Error(), secret) {
					t.Error("error text contains a client secret")
				}
				log.mu.Lock()
				defer log.mu.Unlock()
				if len(log.scopes) == 0 {
					t.Error("the token endpoint was never asked")
				}
				if len(log.apiAuth) != 0 {
					t.Errorf("%d Web API requests sent without a token", len(log.apiAuth))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) == 0 {
				t.Fatal("no entity definitions")
			}
			e, err := c.Entity(ctx, "account")
			if err != nil {
				t.Fatal(err)
			}
			pg, err := c.NewChangesPager(e, nil).NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(pg.Upserts) != 5 {
				t.Errorf("first page has %d rows, want 5", len(pg.Upserts))
			}

			log.mu.Lock()
			defer log.mu.Unlock()
			// One token for the whole run: the client caches it.
			if len(log.scopes) != 1 {
				t.Fatalf("%d token requests, want 1", len(log.scopes))
			}
			if want := srv.URL + "/.default"; !strings.Contains(" "+log.scopes[0]+" ", " "+want+" ") {
				t.Errorf("token request scope %q lacks %q", log.scopes[0], want)
			}
			if log.clientID[0] != clientID || log.tokPaths[0] != "/"+tenant+"/oauth2/v2.0/token" {
				t.Errorf("token request by %q to %s, want %q to the tenant %s", log.clientID[0], log.tokPaths[0], clientID, tenant)
			}
			var sawDefs, sawData bool
			for i, a := range log.apiAuth {
				if a != "Bearer "+issued {
					t.Errorf("%s: Authorization %q, want the issued bearer token", log.apiPaths[i], a)
				}
				sawDefs = sawDefs || strings.HasSuffix(log.apiPaths[i], "/EntityDefinitions")
				sawData = sawData || strings.HasSuffix(log.apiPaths[i], "/"+e.EntitySetName)
			}
			if !sawDefs || !sawData {
				t.Errorf("Web API requests %v: want EntityDefinitions and %s", log.apiPaths, e.EntitySetName)
			}
		})
	}
}
