package dataverse_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// protection puts Dataverse-style service protection in front of the
// emulator with lowered limits: at most limit requests per sliding window and
// maxConcurrent in flight, answering 429 + Retry-After (whole seconds) +
// the documented codes. It records whether clients honoured Retry-After.
type protection struct {
	next          http.Handler
	limit         int
	window        time.Duration
	maxConcurrent int

	mu          sync.Mutex
	accepted    []time.Time
	inFlight    int
	maxInFlight int
	throttled   int
	blocked     map[string]time.Time // URL -> earliest allowed retry
	early       []string             // retries that came before their Retry-After
	requests    int
}

func (p *protection) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	key := r.URL.String()
	p.mu.Lock()
	p.requests++
	if until, ok := p.blocked[key]; ok && now.Before(until) {
		p.early = append(p.early, fmt.Sprintf("%s %v early", key, until.Sub(now)))
	}
	if p.inFlight >= p.maxConcurrent {
		p.throttledLocked(w, key, now, time.Second, "0x80072326", "Number of concurrent requests exceeded the limit of 52.")
		return
	}
	cut := now.Add(-p.window)
	for len(p.accepted) > 0 && !p.accepted[0].After(cut) {
		p.accepted = p.accepted[1:]
	}
	if len(p.accepted) >= p.limit {
		wait := p.accepted[0].Add(p.window).Sub(now)
		p.throttledLocked(w, key, now, wait, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
		return
	}
	p.accepted = append(p.accepted, now)
	p.inFlight++
	p.maxInFlight = max(p.maxInFlight, p.inFlight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	p.next.ServeHTTP(w, r)
}

func (p *protection) throttledLocked(w http.ResponseWriter, key string, now time.Time, wait time.Duration, code, msg string) {
	secs := int((wait + time.Second - 1) / time.Second) // Retry-After is whole seconds
	secs = max(secs, 1)
	p.throttled++
	p.blocked[key] = now.Add(time.Duration(secs) * time.Second)
	p.mu.Unlock()
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

// TestEmuThrottledFullRead reads 50,000 accounts through lowered service
// protection limits: the read completes, every Retry-After is honoured and
// the client never exceeds its configured concurrency.
func TestEmuThrottledFullRead(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: a 50,000-row read paced by Retry-After takes several seconds")
	}
	const rows = 50_000
	tests := []struct {
		name          string
		rate          float64 // client token bucket; <0 = none, so the server's limit bites
		wantThrottled bool
	}{
		{"server paces the client with 429", -1, true},
		{"client bucket under the server limit", 4.5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, err := dvemu.New(dvemu.Options{Records: rows, RandSeed: 11})
			if err != nil {
				t.Fatal(err)
			}
			prot := &protection{next: emu, limit: 5, window: time.Second, maxConcurrent: 4, blocked: map[string]time.Time{}}
			srv := httptest.NewServer(prot)
			defer srv.Close()
			const concurrency = 3
			c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{
				Transport: srv.Client(), MaxConcurrency: concurrency, RequestsPerSecond: tt.rate, Burst: 1, MaxRetries: 20,
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			ctx := context.Background()
			e, err := c.Entity(ctx, "account")
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			p := c.NewChangesPager(e, nil)
			for p.More() {
				pg, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				n += len(pg.Upserts)
			}
			elapsed := time.Since(start)
			st := c.Stats()
			prot.mu.Lock()
			defer prot.mu.Unlock()
			t.Logf("%d rows in %v: %d requests, %d answered 429, client waited %v in retries, max in flight %d",
				n, elapsed.Round(time.Millisecond), prot.requests, prot.throttled, st.RetryWait, prot.maxInFlight)
			if n != rows {
				t.Errorf("read %d rows, want %d", n, rows)
			}
			if len(prot.early) > 0 {
				t.Errorf("Retry-After not honoured: %v", prot.early)
			}
			if prot.maxInFlight > concurrency || st.MaxInFlight > concurrency {
				t.Errorf("max in flight %d (client saw %d), configured %d", prot.maxInFlight, st.MaxInFlight, concurrency)
			}
			if (prot.throttled > 0) != tt.wantThrottled {
				t.Errorf("%d throttled answers, want throttling %v", prot.throttled, tt.wantThrottled)
			}
			if int64(prot.throttled) != st.Throttled {
				t.Errorf("client counted %d 429s, server sent %d", st.Throttled, prot.throttled)
			}
		})
	}
}
