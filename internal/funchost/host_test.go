package funchost

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/queue"
	"github.com/dataexport/dataexport/internal/settings"
)

// memQueue is an in-memory queue; Receive hides what it hands out.
type memQueue struct {
	mu       sync.Mutex
	msgs     []queue.Message
	receives atomic.Int64
}

func (q *memQueue) put(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range n {
		q.msgs = append(q.msgs, queue.Message{ID: fmt.Sprint(len(q.msgs), i), DequeueCount: 1, Body: []byte(`{}`)})
	}
}

func (q *memQueue) Receive(_ context.Context, n int, _ time.Duration) ([]queue.Message, error) {
	q.receives.Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.msgs))
	out := q.msgs[:n:n]
	q.msgs = q.msgs[n:]
	return out, nil
}
func (q *memQueue) Delete(context.Context, queue.Message) error       { return nil }
func (q *memQueue) MoveToPoison(context.Context, queue.Message) error { return nil }
func (q *memQueue) Release(_ context.Context, m queue.Message, _ time.Duration) (queue.Message, error) {
	return m, nil
}

// handler counts invocations in flight; each waits for release.
type handler struct {
	inflight, peak, calls atomic.Int64
	release               chan struct{}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	n := h.inflight.Add(1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	if r.URL.Path == "/Apply" {
		<-h.release
	}
	h.inflight.Add(-1)
	h.calls.Add(1)
	_, _ = w.Write([]byte(`{"Outputs":{},"Logs":[],"ReturnValue":null}`))
}

func newHost(t *testing.T, q *memQueue, h *handler, cfg QueueConfig) *Host {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host, err := New(t.Context(), Options{
		HandlerURL: srv.URL,
		Functions: []Function{
			{Name: "Apply", Bindings: []Binding{{Name: "record", Type: "queueTrigger", Direction: "in", QueueName: "q", Connection: "C"}}},
			{Name: "Poll", Bindings: []Binding{{Name: "t", Type: "timerTrigger", Direction: "in", Schedule: "0 0 0 1 1 *"}}},
		},
		Config:    HostConfig{FunctionTimeout: time.Minute, Queues: cfg},
		Settings:  settings.FromMap(map[string]string{"C": "x"}),
		OpenQueue: func(context.Context, string, string) (Queue, error) { return q, nil },
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return host
}

// The host delivers batchSize messages at once and receives the next batch
// when the deliveries in flight drop to newBatchThreshold: at most
// batchSize + newBatchThreshold run at the same time, never more.
func TestQueueDeliveriesRunConcurrently(t *testing.T) {
	q := &memQueue{}
	q.put(40)
	h := &handler{release: make(chan struct{})}
	host := newHost(t, q, h, QueueConfig{BatchSize: 8, NewBatchThreshold: 4, MaxDequeueCount: 5, MaxPollingInterval: time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = host.Run(ctx) }()
	waitFor(t, func() bool { return h.inflight.Load() == 8 }, "8 deliveries in flight")
	for range 4 { // down to the threshold: another batch comes
		h.release <- struct{}{}
	}
	waitFor(t, func() bool { return h.inflight.Load() == 12 }, "12 deliveries in flight")
	go func() {
		for range 40 - 4 {
			h.release <- struct{}{}
		}
	}()
	waitFor(t, func() bool { return h.calls.Load() == 40 }, "all 40 delivered")
	if p := h.peak.Load(); p != 12 {
		t.Fatalf("peak concurrency %d, want batchSize + newBatchThreshold = 12", p)
	}
}

// An idle listener backs off, but a timer invocation (the poller enqueues
// during it) makes it look at once.
func TestTimerWakesQueueListener(t *testing.T) {
	q := &memQueue{}
	h := &handler{release: make(chan struct{}, 100)}
	host := newHost(t, q, h, QueueConfig{BatchSize: 4, NewBatchThreshold: 2, MaxDequeueCount: 5, MaxPollingInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = host.Run(ctx) }()
	// Let the back-off grow past what the test waits below.
	// Six empty polls (at 0, 0.1, 0.3, 0.7, 1.5 and 3.1 s): the next is 3.2 s away.
	waitFor(t, func() bool { return q.receives.Load() >= 6 }, "six empty polls")
	q.put(1)
	h.release <- struct{}{}
	start := time.Now()
	if err := host.FireTimer(ctx, "Poll"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.calls.Load() == 2 }, "the message delivered after the timer")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the message waited %v after the timer invocation", d)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
