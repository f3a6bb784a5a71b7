package dataverse

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeOrg serves recorded wire JSON (testdata/) the way the Web API would,
// and records what the client sent.
type fakeOrg struct {
	t      *testing.T
	srv    *httptest.Server
	handle func(w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	reqs []http.Request
}

const testToken = "test-token"

func newFakeOrg(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *fakeOrg {
	t.Helper()
	f := &fakeOrg{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, *r.Clone(r.Context()))
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.handle(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOrg) client(t *testing.T, o *ClientOptions) *Client {
	t.Helper()
	if o == nil {
		o = &ClientOptions{}
	}
	o.Transport = f.srv.Client()
	c, err := NewClient(f.srv.URL, StaticToken(testToken), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeOrg) requests() []http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]http.Request(nil), f.reqs...)
}

// serveFixture writes testdata/<name> with [Org URI] replaced by the server's URL.
func serveFixture(t *testing.T, w http.ResponseWriter, r *http.Request, status int, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Errorf("fixture: %v", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	body := strings.ReplaceAll(string(b), "[Org URI]", "http://"+r.Host)
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// serveMetadata answers the EntityDefinitions requests of Client.Entity for account.
func serveMetadata(t *testing.T, w http.ResponseWriter, r *http.Request) bool {
	const root = "/api/data/v9.2/EntityDefinitions(LogicalName='account')"
	p := r.URL.Path
	switch {
	case p == root:
		serveFixture(t, w, r, 200, "metadata/entity_account.json")
	case strings.HasPrefix(p, root+"/Attributes/Microsoft.Dynamics.CRM."):
		serveFixture(t, w, r, 200, "metadata/cast_"+strings.TrimPrefix(p, root+"/Attributes/Microsoft.Dynamics.CRM.")+".json")
	case p == root+"/ManyToManyRelationships":
		serveFixture(t, w, r, 200, "metadata/m2m.json")
	case strings.HasPrefix(p, "/api/data/v9.2/EntityDefinitions("):
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"0x80060888","message":"Could not find entity"}}`))
	default:
		return false
	}
	return true
}

// serveAccountPages answers an initial read of accounts in two pages and the
// delta reads that follow.
func serveAccountPages(t *testing.T, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch tok := q.Get("$deltatoken"); {
	case strings.HasPrefix(tok, "919042!"):
		serveFixture(t, w, r, 200, "pages/delta_1.json")
	case strings.HasPrefix(tok, "919058!"):
		serveFixture(t, w, r, 200, "pages/delta_empty.json")
	case tok != "":
		serveFixture(t, w, r, 400, "pages/error_expired.json")
	case q.Has("$skiptoken"):
		serveFixture(t, w, r, 200, "pages/initial_2.json")
	default:
		if strings.Contains(r.Header.Get("Prefer"), "odata.track-changes") {
			w.Header().Set("Preference-Applied", "odata.track-changes")
		}
		serveFixture(t, w, r, 200, "pages/initial_1.json")
	}
}

func fixtureHandler(t *testing.T) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if serveMetadata(t, w, r) {
			return
		}
		if r.URL.Path == "/api/data/v9.2/accounts" {
			serveAccountPages(t, w, r)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}
}
