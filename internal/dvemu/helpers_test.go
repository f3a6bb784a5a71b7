package dvemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// fixedNow is a settable clock for tests.
type fixedNow struct{ t time.Time }

func (f *fixedNow) now() time.Time { return f.t }

func newTestEmu(t *testing.T, opts Options) (*Emulator, *httptest.Server) {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

func do(t *testing.T, srv *httptest.Server, method, url string, headers map[string][]string) response {
	t.Helper()
	if len(url) > 0 && url[0] == '/' {
		url = srv.URL + url
	}
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := headers["Authorization"]; !ok {
		req.Header.Set("Authorization", "Bearer "+DefaultToken)
	}
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// page is one decoded change-tracking page.
type page struct {
	context, nextLink, deltaLink string
	value                        []map[string]any
	header                       http.Header
}

func getPage(t *testing.T, srv *httptest.Server, url string, prefer ...string) page {
	t.Helper()
	r := do(t, srv, "GET", url, map[string][]string{"Prefer": prefer})
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, r.status, r.body)
	}
	m := r.json(t)
	p := page{header: r.header}
	p.context, _ = m["@odata.context"].(string)
	p.nextLink, _ = m["@odata.nextLink"].(string)
	p.deltaLink, _ = m["@odata.deltaLink"].(string)
	vs, ok := m["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %s", r.body)
	}
	for _, v := range vs {
		p.value = append(p.value, v.(map[string]any))
	}
	if p.nextLink != "" && p.deltaLink != "" {
		t.Fatalf("page has both nextLink and deltaLink: %s", r.body)
	}
	return p
}

// readAll follows nextLinks (sending only maxpagesize after the first page,
// like real clients) and returns every entry, the pages and the final deltaLink.
func readAll(t *testing.T, srv *httptest.Server, url string, pageSize int, first ...string) ([]map[string]any, []page, string) {
	t.Helper()
	mp := "odata.maxpagesize=" + itoa(pageSize)
	var all []map[string]any
	var pages []page
	p := getPage(t, srv, url, append(first, mp)...)
	for {
		pages = append(pages, p)
		all = append(all, p.value...)
		if p.nextLink == "" {
			break
		}
		if len(pages) > 10000 {
			t.Fatal("too many pages")
		}
		p = getPage(t, srv, p.nextLink, mp)
	}
	return all, pages, p.deltaLink
}

func itoa(n int) string { return strconv.Itoa(n) }

func httptestServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
