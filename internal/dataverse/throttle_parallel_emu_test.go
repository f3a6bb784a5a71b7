package dataverse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// serverMeter wraps the emulator and measures, on the server side, what the
// client did: requests in flight, 429s by error code, and whether each
// request that had been answered 429 came back no earlier than its
// Retry-After.
//
// The emulator's answer is buffered and only sent after the request stops
// being counted as in flight. A request is therefore counted from its
// arrival (the client already holds a concurrency slot for it) until before
// the client can see a byte of the answer (it still holds the slot), so the
// server's count can never exceed the client's real concurrency: an
// overshoot is a client bug, not a race between a handler's return and the
// client's next request.
type serverMeter struct {
	next http.Handler

	mu            sync.Mutex
	requests      int
	inFlight      int
	maxInFlight   int
	throttled     map[string]int       // 429 answers by Dataverse error code
	dataThrottled int                  // 429 answers to data pages (not EntityDefinitions)
	blocked       map[string]time.Time // request -> earliest retry its Retry-After allows
	retried       int                  // requests that came back after a 429
	early         []string             // retries that came before their Retry-After
}

func newServerMeter(next http.Handler) *serverMeter {
	return &serverMeter{next: next, throttled: map[string]int{}, blocked: map[string]time.Time{}}
}

func (m *serverMeter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	// Every reader reads its own entity, so a request URL identifies one
	// logical request and its retries.
	key := r.Method + " " + r.URL.RequestURI()
	m.mu.Lock()
	m.requests++
	if until, ok := m.blocked[key]; ok {
		m.retried++
		if arrived.Before(until) {
			m.early = append(m.early, fmt.Sprintf("%s: %v before its Retry-After ended", key, until.Sub(arrived)))
		}
		delete(m.blocked, key)
	}
	m.inFlight++
	m.maxInFlight = max(m.maxInFlight, m.inFlight)
	m.mu.Unlock()

	rec := httptest.NewRecorder()
	m.next.ServeHTTP(rec, r)

	m.mu.Lock()
	m.inFlight--
	if rec.Code == http.StatusTooManyRequests {
		secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if err != nil {
			secs = 0 // recorded as a 429 without a usable Retry-After; the client must still wait
		}
		// Stamped before the answer leaves: the client starts its wait
		// later, so a correct client always arrives after until.
		m.blocked[key] = time.Now().Add(time.Duration(secs) * time.Second)
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		m.throttled[body.Error.Code]++
		if !strings.Contains(r.URL.Path, "EntityDefinitions") {
			m.dataThrottled++
		}
	}
	m.mu.Unlock()

	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// TestEmuThrottledParallelRead reads 50,000 rows of five entities in
// parallel through the emulator's own service protection limits (lowered):
// every read completes, every Retry-After is honoured as measured by the
// server, and the server never sees more requests in flight than the
// client's MaxConcurrency, which is below the emulator's concurrency limit.
func TestEmuThrottledParallelRead(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: a 50,000-row read paced by Retry-After takes several seconds")
	}
	const (
		perEntity   = 10_000
		clientCap   = 3 // below the emulator's ConcurrencyLimit
		serverLimit = 4
	)
	entities := []string{"account", "contact", "lead", "opportunity", "new_project"}
	emu, err := dvemu.New(dvemu.Options{Records: perEntity, RandSeed: 5, Faults: dvemu.Faults{
		// ~20 requests/s: the ~90 requests the read needs take several windows,
		// so the limit bites on metadata and data pages alike.
		RequestLimit:     20,
		Window:           time.Second,
		ConcurrencyLimit: serverLimit,
		ExecutionLimit:   -1, // only the request and concurrency limits are under test
	}})
	if err != nil {
		t.Fatal(err)
	}
	meter := newServerMeter(emu)
	srv := newServer(t, meter)
	c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{
		Transport:      srv.Client(),
		MaxConcurrency: clientCap,
		// No client-side bucket: the server's limits alone pace the readers.
		RequestsPerSecond: -1,
		PageSize:          2000,
		MaxRetries:        50,
		Logger:            slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	rows := make([]int, len(entities))
	errs := make([]error, len(entities))
	var wg sync.WaitGroup
	for i, name := range entities {
		wg.Go(func() {
			e, err := c.Entity(ctx, name)
			if err != nil {
				errs[i] = err
				return
			}
			for p := c.NewChangesPager(e, nil); p.More(); {
				pg, err := p.NextPage(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				rows[i] += len(pg.Upserts)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	st := c.Stats()
	meter.mu.Lock()
	defer meter.mu.Unlock()
	total := 0
	for i, name := range entities {
		total += rows[i]
		if errs[i] != nil {
			t.Errorf("%s: %v", name, errs[i])
			continue
		}
		if want := len(emu.IDs(name)); rows[i] != want {
			t.Errorf("%s: read %d rows, emulator has %d", name, rows[i], want)
		}
	}
	t.Logf("%d rows of %d entities in %v: %d requests, 429s %v (%d on data pages), %d retries after a 429, max in flight %d (client saw %d)",
		total, len(entities), elapsed.Round(time.Millisecond), meter.requests, meter.throttled, meter.dataThrottled, meter.retried, meter.maxInFlight, st.MaxInFlight)
	if total < 50_000 {
		t.Errorf("read %d rows in all, want at least 50,000", total)
	}
	if meter.maxInFlight > clientCap {
		t.Errorf("server saw %d requests in flight, client cap %d", meter.maxInFlight, clientCap)
	}
	if meter.maxInFlight < 2 {
		t.Errorf("server never saw requests in parallel (max %d): the concurrency bound was not exercised", meter.maxInFlight)
	}
	if len(meter.early) > 0 {
		t.Errorf("Retry-After not honoured:\n%s", strings.Join(meter.early, "\n"))
	}
	if meter.throttled[dataverse.CodeRequestsLimit] == 0 || meter.dataThrottled == 0 {
		t.Errorf("429s %v, %d on data pages: the request limit never bit on data pages, throttling not exercised", meter.throttled, meter.dataThrottled)
	}
	// Every 429 is retried (reads completed), so each left a measured retry.
	if n := sum(meter.throttled); meter.retried == 0 || int64(n) != st.Throttled {
		t.Errorf("server sent %d 429s, client counted %d, %d retries measured", n, st.Throttled, meter.retried)
	}
	// The client's cap is below the emulator's concurrency limit, so the
	// emulator itself must never have refused a request for concurrency.
	if n := meter.throttled[dataverse.CodeConcurrencyLimit]; n > 0 {
		t.Errorf("emulator answered %d requests with the concurrency limit (%d) though the client cap is %d", n, serverLimit, clientCap)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestServerMeterCatchesEarlyRetry proves the meter's Retry-After check can
// fail: a client that resends at once after a 429 is reported.
func TestServerMeterCatchesEarlyRetry(t *testing.T) {
	emu, err := dvemu.New(dvemu.Options{Records: 1, Faults: dvemu.Faults{ThrottleRate: 1, RetryAfter: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	meter := newServerMeter(emu)
	srv := newServer(t, meter)
	for range 2 {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/data/v9.2/accounts?$select=name", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+dvemu.DefaultToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", resp.StatusCode)
		}
	}
	meter.mu.Lock()
	defer meter.mu.Unlock()
	if meter.retried != 1 || len(meter.early) != 1 || meter.throttled[dataverse.CodeRequestsLimit] != 2 {
		t.Errorf("retried %d, early %v, 429s %v; want the immediate resend reported early", meter.retried, meter.early, meter.throttled)
	}
}
