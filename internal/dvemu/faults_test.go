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

// Zero Faults mean the documented Dataverse service-protection limits.
func TestFaultDefaults(t *testing.T) {
	cfg := newFaultState(Faults{}, 1, time.Now).cfg
	tests := []struct {
		name      string
		got, want any
	}{
		{"RequestLimit", cfg.RequestLimit, 6000},
		{"Window", cfg.Window, 300 * time.Second},
		{"ConcurrencyLimit", cfg.ConcurrencyLimit, 52},
		{"ExecutionLimit", cfg.ExecutionLimit, 1_200_000 * time.Millisecond},
		{"RetryAfter", cfg.RetryAfter, time.Second},
		{"ServerErrorStatus", cfg.ServerErrorStatus, http.StatusInternalServerError},
		{"SlowDelay", cfg.SlowDelay, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { eq(t, tc.got, tc.want) })
	}
}

// The default limits hold as behaviour too: the 53rd concurrent request and
// the 6,001st request in 300 s are refused with Dataverse's messages.
func TestDefaultLimitsRefuse(t *testing.T) {
	clock := &fixedNow{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFaultState(Faults{}, 1, clock.now)
	admit := func() (func(), *httptest.ResponseRecorder, bool) {
		rec := httptest.NewRecorder()
		rel, _, ok := f.admit(rec)
		return rel, rec, ok
	}
	var held []func()
	for i := range 52 {
		rel, _, ok := admit()
		if !ok {
			t.Fatalf("concurrent request %d refused", i+1)
		}
		held = append(held, rel)
	}
	_, rec, ok := admit()
	if ok {
		t.Fatal("53rd concurrent request admitted")
	}
	if _, msg := errorOf(t, response{body: rec.Body.Bytes()}); msg != "Number of concurrent requests exceeded the limit of 52." {
		t.Fatalf("concurrency message %q", msg)
	}
	for _, rel := range held {
		rel()
	}
	for i := 52; i < 6000; i++ {
		rel, _, ok := admit()
		if !ok {
			t.Fatalf("request %d refused", i+1)
		}
		rel()
	}
	clock.t = clock.t.Add(299 * time.Second)
	_, rec, ok = admit()
	if ok {
		t.Fatal("request 6,001 admitted inside the window")
	}
	if _, msg := errorOf(t, response{body: rec.Body.Bytes()}); msg != "Number of requests exceeded the limit of 6000 over time window of 300 seconds." {
		t.Fatalf("request-limit message %q", msg)
	}
	clock.t = clock.t.Add(time.Second)
	if rel, _, ok := admit(); !ok {
		t.Fatal("refused after the window passed")
	} else {
		rel()
	}
}

func TestFaultsValidate(t *testing.T) {
	tests := []struct {
		name    string
		faults  Faults
		wantErr string
	}{
		{"zero", Faults{}, ""},
		{"rates add up to 1", Faults{ThrottleRate: 0.1, ServerErrorRate: 0.2, SlowRate: 0.3, DropRate: 0.4}, ""},
		{"negative limits mean unlimited", Faults{RequestLimit: -1, ConcurrencyLimit: -1, ExecutionLimit: -1}, ""},
		{"rate above 1", Faults{DropRate: 1.5}, "Faults.DropRate 1.5 is outside [0,1]"},
		{"negative rate", Faults{SlowRate: -0.1}, "Faults.SlowRate -0.1 is outside [0,1]"},
		{"rates above 1 together", Faults{ThrottleRate: 0.6, ServerErrorRate: 0.6}, "Faults rates add up to 1.2, more than 1"},
		{"not a 5xx", Faults{ServerErrorStatus: 429}, "Faults.ServerErrorStatus 429 is not a 5xx status"},
		{"negative window", Faults{Window: -time.Second}, "Faults.Window -1s is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Records: 1, Faults: tc.faults})
			got, want := "", ""
			if err != nil {
				got = err.Error()
			}
			if tc.wantErr != "" {
				want = "dvemu: " + tc.wantErr
			}
			if got != want {
				t.Fatalf("New: %q, want %q", got, want)
			}
		})
	}
}
