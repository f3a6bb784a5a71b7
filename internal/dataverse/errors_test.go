package dataverse

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestChangesErrors(t *testing.T) {
	const truncated = `{"@odata.context":"x","value":[{"accountid":"60c4e274-0d87-e711-80e5-00155db19e6d","name":"Mon`
	row := func(extra string) string {
		return `{"value":[{"accountid":"60c4e274-0d87-e711-80e5-00155db19e6d","versionnumber":5` + extra + `}]`
	}
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		fixture    string
		want       error
		wantInErr  []string
		retryAfter time.Duration
	}{
		{name: "expired token 400", status: 400, fixture: "pages/error_expired.json", want: ErrRebaseline, wantInErr: []string{"0x80044352", "account page 1"}},
		{name: "expired token 410", status: 410, fixture: "pages/error_expired.json", want: ErrRebaseline},
		{name: "untracked by code", status: 400, fixture: "pages/error_untracked.json", want: ErrChangeTrackingDisabled},
		{name: "untracked: no deltaLink, preference not applied", status: 200, body: row("") + `}`, want: ErrChangeTrackingDisabled},
		{name: "throttled beyond MaxRetryAfter", status: 429, header: map[string]string{"Retry-After": "3600"},
			fixture: "pages/error_throttled.json", want: ErrThrottled, retryAfter: time.Hour},
		{name: "truncated body", status: 200, body: truncated, want: ErrMalformed, wantInErr: []string{"account page 1"}},
		{name: "not JSON", status: 200, body: `<html>oops</html>`, want: ErrMalformed},
		{name: "no value array", status: 200, body: `{"@odata.deltaLink":"x"}`, want: ErrMalformed},
		{name: "string in integer column", status: 200, body: row(`,"numberofemployees":"12"`) + `,"@odata.deltaLink":"http://h/x"}`,
			header: map[string]string{"Preference-Applied": "odata.track-changes"}, want: ErrMalformed, wantInErr: []string{"numberofemployees"}},
		{name: "bad GUID", status: 200, body: `{"value":[{"accountid":"nope","versionnumber":1}]}`, want: ErrMalformed, wantInErr: []string{"accountid"}},
		{name: "row without versionnumber or etag", status: 200, body: `{"value":[{"accountid":"60c4e274-0d87-e711-80e5-00155db19e6d"}]}`, want: ErrMalformed, wantInErr: []string{"60c4e274-0d87-e711-80e5-00155db19e6d"}},
		{name: "final page without deltaLink", status: 200, body: row("") + `}`,
			header: map[string]string{"Preference-Applied": "odata.track-changes"}, want: ErrMalformed, wantInErr: []string{"deltaLink"}},
		{name: "forbidden", status: 403, body: `{"error":{"code":"0x80040220","message":"PrivilegeDenied"}}`, want: ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if serveMetadata(t, w, r) {
					return
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if tt.fixture != "" {
					serveFixture(t, w, r, tt.status, tt.fixture)
					return
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			})
			c := f.client(t, &ClientOptions{MaxRetryAfter: time.Minute})
			p := c.NewChangesPager(accountEntity(t, c), nil)
			_, err := p.NextPage(context.Background())
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, s := range tt.wantInErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if tt.retryAfter > 0 {
				if d, ok := RetryAfter(err); !ok || d != tt.retryAfter {
					t.Errorf("RetryAfter = %v %v, want %v", d, ok, tt.retryAfter)
				}
			}
			if strings.Contains(err.Error(), testToken) {
				t.Error("error leaks the token")
			}
			if !p.More() {
				t.Error("pager gave up after an error")
			}
		})
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	var calls atomic.Int32
	f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if serveMetadata(t, w, r) {
			return
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			serveFixture(t, w, r, 429, "pages/error_throttled.json")
			return
		}
		serveAccountPages(t, w, r)
	})
	c := f.client(t, nil)
	p := c.NewChangesPager(accountEntity(t, c), nil)
	start := time.Now()
	page, err := p.NextPage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("429 with Retry-After: 1 → page after %v", elapsed)
	if elapsed < time.Second {
		t.Errorf("retried after %v, before Retry-After elapsed", elapsed)
	}
	if len(page.Upserts) != 2 || calls.Load() != 2 {
		t.Errorf("upserts=%d calls=%d", len(page.Upserts), calls.Load())
	}
	if s := c.Stats(); s.Throttled != 1 || s.Retries != 1 || s.RetryWait != time.Second {
		t.Errorf("stats = %+v", s)
	}
}

func TestRetryServerErrorsWithBackoff(t *testing.T) {
	tests := []struct {
		name     string
		failures int32
		status   int
		retries  int
		wantErr  bool
	}{
		{"503 twice then ok", 2, 503, 0, false},
		{"500 sql deadlock then ok", 1, 500, 0, false},
		{"retries exhausted", 5, 503, 2, true},
		{"retries disabled", 1, 502, -1, true},
		{"400 not retried", 1, 400, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if serveMetadata(t, w, r) {
					return
				}
				if calls.Add(1) <= tt.failures {
					w.WriteHeader(tt.status)
					_, _ = w.Write([]byte(`{"error":{"code":"0x80044150","message":"Sql error: Generic SQL error."}}`))
					return
				}
				serveAccountPages(t, w, r)
			})
			c := f.client(t, &ClientOptions{MaxRetries: tt.retries, RetryDelay: 5 * time.Millisecond, MaxRetryDelay: 20 * time.Millisecond})
			_, err := c.NewChangesPager(accountEntity(t, c), nil).NextPage(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			wantCalls := tt.failures + 1
			switch {
			case tt.retries < 0 || tt.status == 400:
				wantCalls = 1
			case tt.wantErr:
				wantCalls = int32(tt.retries) + 1
			}
			if calls.Load() != wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), wantCalls)
			}
		})
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	f := newFakeOrg(t, fixtureHandler(t))
	cred := &countingCred{tokens: []string{"stale", testToken}}
	c, err := NewClient(f.srv.URL, cred, &ClientOptions{Transport: f.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Entity(context.Background(), "account"); err != nil {
		t.Fatal(err)
	}
	if cred.calls.Load() != 2 {
		t.Errorf("GetToken called %d times, want 2", cred.calls.Load())
	}
	if got := cred.scope.Load(); got == nil || *got != f.srv.URL+"/.default" {
		t.Errorf("scope = %v", got)
	}

	bad := &countingCred{tokens: []string{"wrong", "still-wrong"}}
	c2, _ := NewClient(f.srv.URL+"/", bad, &ClientOptions{Transport: f.srv.Client()})
	_, err = c2.Entity(context.Background(), "account")
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "still-wrong") {
		t.Errorf("err = %v", err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"5", 5 * time.Second}, {"0", 0}, {"0.5", 500 * time.Millisecond}, {"-3", 0}, {"soon", 0},
		{"Thu, 01 Jan 2026 00:00:30 GMT", 30 * time.Second},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestJitteredBackoffBounds(t *testing.T) {
	base, limit := 100*time.Millisecond, time.Second
	for attempt := range 8 {
		hi := min(base<<attempt, limit)
		for range 50 {
			d := jitteredBackoff(attempt, base, limit)
			if d < base/2 || d > hi {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, base/2, hi)
			}
		}
	}
}

// A large untracked table pages like a plain query; the missing deltaLink at
// the end is reported as ErrChangeTrackingDisabled, not as a malformed page,
// because the first answer never confirmed odata.track-changes.
func TestUntrackedMultiPage(t *testing.T) {
	f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		if serveMetadata(t, w, r) {
			return
		}
		if r.URL.Query().Has("$skiptoken") {
			_, _ = w.Write([]byte(`{"value":[{"accountid":"70c4e274-0d87-e711-80e5-00155db19e6d","versionnumber":2}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"value":[{"accountid":"60c4e274-0d87-e711-80e5-00155db19e6d","versionnumber":1}],` +
			`"@odata.nextLink":"http://` + r.Host + `/api/data/v9.2/accounts?$skiptoken=x"}`))
	})
	c := f.client(t, nil)
	p := c.NewChangesPager(accountEntity(t, c), nil)
	if _, err := p.NextPage(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := p.NextPage(context.Background())
	if !errors.Is(err, ErrChangeTrackingDisabled) || !strings.Contains(err.Error(), "page 2") {
		t.Errorf("err = %v, want ErrChangeTrackingDisabled on page 2", err)
	}
}

// A body broken off by the connection is read again; JSON that is simply
// wrong is not (TestChangesErrors "string in integer column").
func TestBrokenBodyIsReadAgain(t *testing.T) {
	tests := []struct {
		name      string
		breaks    int32
		wantErr   error
		wantCalls int32
	}{
		{"once", 1, nil, 2},
		{"every time", 100, ErrMalformed, 1 + bodyRetries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
				if serveMetadata(t, w, r) {
					return
				}
				if calls.Add(1) <= tt.breaks {
					// Promise more than is sent: the client sees the connection end mid-body.
					w.Header().Set("Content-Length", "100000")
					w.WriteHeader(200)
					_, _ = w.Write([]byte(`{"value":[{"accountid":"60c4e274-0d87-e711-80e5-00155db19e6d","na`))
					return
				}
				serveAccountPages(t, w, r)
			})
			c := f.client(t, nil)
			page, err := c.NewChangesPager(accountEntity(t, c), nil).NextPage(context.Background())
			if tt.wantErr == nil && (err != nil || len(page.Upserts) != 2) {
				t.Fatalf("page %+v, err %v", page, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if calls.Load() != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}

// A 503 asking for an hour (maintenance) is returned at once, like a long
// 429: past MaxRetryAfter the caller reschedules instead of sleeping in a
// function.
func TestLongRetryAfterOn503IsReturned(t *testing.T) {
	var calls atomic.Int64
	f := newFakeOrg(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := f.client(t, &ClientOptions{MaxRetryAfter: 30 * time.Second, MaxRetries: 5})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := c.Entity(ctx, "account")
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusServiceUnavailable || re.RetryAfter != time.Hour {
		t.Fatalf("err = %v; want the 503 with its one-hour Retry-After", err)
	}
	if ctx.Err() != nil || calls.Load() != 1 {
		t.Fatalf("%d requests, context %v; want one request and no wait", calls.Load(), ctx.Err())
	}
}
