package dvemu

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRequestLimit(t *testing.T) {
	clock := &fixedNow{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, srv := newTestEmu(t, Options{Records: 1, Now: clock.now, Faults: Faults{RequestLimit: 3, Window: time.Minute}})
	get := func() response { return do(t, srv, "GET", "/api/data/v9.2/accounts?$select=name", nil) }
	for i := 0; i < 3; i++ {
		if r := get(); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	clock.t = clock.t.Add(20 * time.Second)
	r := get()
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "40" {
		t.Fatalf("status %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if code, msg := errorOf(t, r); code != "0x80072322" || msg != "Number of requests exceeded the limit of 3 over time window of 60 seconds." {
		t.Fatalf("error %s %q", code, msg)
	}
	clock.t = clock.t.Add(40 * time.Second)
	if r := get(); r.status != 200 {
		t.Fatalf("after the window: %d", r.status)
	}
	// The admin API is not limited.
	for i := 0; i < 5; i++ {
		if r := do(t, srv, "GET", "/_emulator/entities/account", nil); r.status != 200 {
			t.Fatalf("admin: %d", r.status)
		}
	}
}

func TestConcurrencyLimit(t *testing.T) {
	f := newFaultState(Faults{ConcurrencyLimit: 2}, 1, time.Now)
	var releases []func()
	for i := 0; i < 2; i++ {
		rel, _, ok := f.admit(httptest.NewRecorder())
		if !ok {
			t.Fatalf("request %d refused", i)
		}
		releases = append(releases, rel)
	}
	rec := httptest.NewRecorder()
	if _, _, ok := f.admit(rec); ok || rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third concurrent request: ok=%v status %d", ok, rec.Code)
	}
	if code, _ := errorOf(t, response{body: rec.Body.Bytes()}); code != "0x80072326" {
		t.Fatalf("code %s", code)
	}
	releases[0]()
	if _, _, ok := f.admit(httptest.NewRecorder()); !ok {
		t.Fatal("refused after a release")
	}
}

func TestInjectedFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		check  func(t *testing.T, r *http.Response, err error)
	}{
		{"throttle", Faults{ThrottleRate: 1, RetryAfter: 3 * time.Second}, func(t *testing.T, r *http.Response, err error) {
			if err != nil || r.StatusCode != 429 || r.Header.Get("Retry-After") != "3" {
				t.Fatalf("%v %v", r, err)
			}
		}},
		{"server error", Faults{ServerErrorRate: 1, ServerErrorStatus: 503}, func(t *testing.T, r *http.Response, err error) {
			if err != nil || r.StatusCode != 503 {
				t.Fatalf("%v %v", r, err)
			}
		}},
		{"drop", Faults{DropRate: 1}, func(t *testing.T, r *http.Response, err error) {
			if err == nil {
				t.Fatalf("dropped connection answered %d", r.StatusCode)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newTestEmu(t, Options{Records: 1, Faults: tc.faults})
			req, _ := http.NewRequest("GET", srv.URL+"/api/data/v9.2/accounts", nil)
			req.Header.Set("Authorization", "Bearer "+DefaultToken)
			resp, err := srv.Client().Do(req)
			if resp != nil {
				defer resp.Body.Close()
			}
			tc.check(t, resp, err)
		})
	}
}

func TestSlowResponse(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 1, Faults: Faults{SlowRate: 1, SlowDelay: 80 * time.Millisecond}})
	start := time.Now()
	if r := do(t, srv, "GET", "/api/data/v9.2/accounts", nil); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Fatalf("answered after %v, want >= 80ms", d)
	}
}

func TestFaultsDeterministicBySeed(t *testing.T) {
	pattern := func(seed int64) string {
		_, srv := newTestEmu(t, Options{Records: 1, RandSeed: seed, Faults: Faults{ThrottleRate: 0.3}})
		b := make([]byte, 60)
		for i := range b {
			b[i] = '.'
			if do(t, srv, "GET", "/api/data/v9.2/accounts?$select=name", nil).status == 429 {
				b[i] = 'T'
			}
		}
		return string(b)
	}
	a, b := pattern(5), pattern(5)
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == "............................................................" {
		t.Fatal("no throttling at rate 0.3")
	}
}

func TestExecutionTimeLimit(t *testing.T) {
	clock := &fixedNow{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFaultState(Faults{ExecutionLimit: time.Nanosecond, Window: time.Minute}, 1, clock.now)
	rel, _, ok := f.admit(httptest.NewRecorder())
	if !ok {
		t.Fatal("first request refused")
	}
	rel() // any serving time exceeds 1ns
	rec := httptest.NewRecorder()
	if _, _, ok := f.admit(rec); ok || rec.Code != http.StatusTooManyRequests {
		t.Fatalf("over the execution budget: ok=%v status %d", ok, rec.Code)
	}
	code, msg := errorOf(t, response{body: rec.Body.Bytes()})
	if code != "0x80072321" || rec.Header().Get("Retry-After") != "60" {
		t.Fatalf("code %s Retry-After %q: %s", code, rec.Header().Get("Retry-After"), msg)
	}
	clock.t = clock.t.Add(time.Minute)
	if _, _, ok := f.admit(httptest.NewRecorder()); !ok {
		t.Fatal("refused after the window passed")
	}
}

func TestBurstRemainingHeader(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 1, Faults: Faults{RequestLimit: 10}})
	r := do(t, srv, "GET", "/api/data/v9.2/accounts?$select=name", nil)
	if got := r.header.Get("x-ms-ratelimit-burst-remaining-xrm-requests"); got != "9" {
		t.Fatalf("burst remaining %q", got)
	}
}
