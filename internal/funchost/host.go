package funchost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	gosync "sync"
	"time"

	"github.com/dataexport/dataexport/internal/queue"
	"github.com/dataexport/dataexport/internal/settings"
)

// Queue is what the host needs of a Storage queue.
type Queue interface {
	Receive(ctx context.Context, max int, visibility time.Duration) ([]queue.Message, error)
	Delete(ctx context.Context, m queue.Message) error
	MoveToPoison(ctx context.Context, m queue.Message) error
	// Release makes a failed message visible again after the delay.
	Release(ctx context.Context, m queue.Message, after time.Duration) (queue.Message, error)
}

// QueueOpener opens the queue a trigger names, given its connection setting's value.
type QueueOpener func(ctx context.Context, connection, queueName string) (Queue, error)

// Options configure the standalone host.
type Options struct {
	HandlerURL string // base URL of the custom handler, e.g. http://127.0.0.1:7072
	Functions  []Function
	Config     HostConfig
	Settings   *settings.Settings
	OpenQueue  QueueOpener
	Client     *http.Client // default: timeout = FunctionTimeout
	Logger     *slog.Logger
	Now        func() time.Time
	// Authorize checks a request to an HTTP function whose authLevel is not
	// anonymous (ServeHTTP), as the host checks its function keys, and may
	// set the principal headers (X-MS-CLIENT-PRINCIPAL-*) the function
	// sees. nil: those functions are not served, and every request to them
	// is answered 503 with APIDisabledReason.
	Authorize         func(r *http.Request) error
	APIDisabledReason string
	// Identify is what App Service Authentication does in front of the
	// host with AllowAnonymous: it names a signed-in caller in the
	// principal headers (the caller's own are dropped before) and blocks
	// nobody. It runs for every HTTP request; nil names nobody.
	Identify func(r *http.Request)
}

// Host fires the triggers of a set of functions against a custom handler.
type Host struct {
	o      Options
	timers map[string]*timer
	queues map[string]Queue
	routes []*httpRoute
	wake   map[string]chan struct{} // per queue function: poll now
	lease  time.Duration            // how long a message stays hidden while its invocation runs
}

type timer struct {
	fn       Function
	binding  Binding
	schedule *Schedule
	mu       gosync.Mutex // one run at a time, like the host's singleton
	last     time.Time
}

// New resolves every trigger: timer schedules are parsed and queues opened.
// HTTP routes are parsed (ServeHTTP answers them). A trigger type the
// standalone host cannot serve (Service Bus) is logged and left out.
func New(ctx context.Context, o Options) (*Host, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Settings == nil {
		o.Settings = settings.FromMap(nil)
	}
	if o.Config.FunctionTimeout == 0 {
		o.Config = DefaultHostConfig()
	}
	if o.Config.Queues.BatchSize <= 0 {
		o.Config.Queues.BatchSize = 1
	}
	o.Config.Queues.NewBatchThreshold = min(max(o.Config.Queues.NewBatchThreshold, 0), o.Config.Queues.BatchSize)
	if o.Client == nil {
		// Keep a connection per concurrent delivery instead of dialling anew.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = o.Config.Queues.BatchSize + o.Config.Queues.NewBatchThreshold + 2
		o.Client = &http.Client{Timeout: o.Config.FunctionTimeout, Transport: t}
	}
	h := &Host{o: o, timers: map[string]*timer{}, queues: map[string]Queue{}, wake: map[string]chan struct{}{}, lease: o.Config.FunctionTimeout}
	for _, fn := range o.Functions {
		b, _ := fn.Trigger()
		switch b.Type {
		case "timerTrigger":
			expr, err := o.Settings.Expand(b.Schedule)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", fn.Name, err)
			}
			s, err := ParseSchedule(expr)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", fn.Name, err)
			}
			h.timers[fn.Name] = &timer{fn: fn, binding: b, schedule: s}
		case "queueTrigger":
			name, err := o.Settings.Expand(b.QueueName)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", fn.Name, err)
			}
			conn := o.Settings.Get(b.Connection)
			if conn == "" {
				return nil, fmt.Errorf("function %s: app setting %q (the queue connection) is not set", fn.Name, b.Connection)
			}
			q, err := o.OpenQueue(ctx, conn, name)
			if err != nil {
				return nil, fmt.Errorf("function %s: opening queue %s: %w", fn.Name, name, err)
			}
			h.queues[fn.Name] = q
			h.wake[fn.Name] = make(chan struct{}, 1)
		case "httpTrigger":
			rt, err := newHTTPRoute(fn, b)
			if err != nil {
				return nil, err
			}
			h.routes = append(h.routes, rt)
		default:
			o.Logger.Info("trigger not served by the standalone host; skipping function", "function", fn.Name, "trigger", b.Type)
		}
	}
	return h, nil
}

// Run serves every trigger until ctx ends.
func (h *Host) Run(ctx context.Context) error {
	var wg gosync.WaitGroup
	for name, t := range h.timers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.runTimer(ctx, name, t)
		}()
	}
	for name := range h.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.runQueue(ctx, name)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (h *Host) runTimer(ctx context.Context, name string, t *timer) {
	if t.binding.RunOnStartup {
		if err := h.FireTimer(ctx, name); err != nil && ctx.Err() == nil {
			h.o.Logger.Error("timer invocation failed", "function", name, "err", err)
		}
	}
	for {
		next := t.schedule.Next(h.o.Now())
		if next.IsZero() {
			// ParseSchedule rejects such a schedule; never fire in a tight loop.
			h.o.Logger.Error("timer stopped: its schedule has no next occurrence", "function", name, "schedule", t.schedule.String())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		if err := h.FireTimer(ctx, name); err != nil && ctx.Err() == nil {
			h.o.Logger.Error("timer invocation failed", "function", name, "err", err)
		}
	}
}

// FireTimer invokes a timer function once, as the host does when its schedule fires.
func (h *Host) FireTimer(ctx context.Context, name string) error {
	t, ok := h.timers[name]
	if !ok {
		return fmt.Errorf("no timer function %q", name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// The poller enqueues during its invocation: the queue listeners look
	// at once rather than after an idle back-off, as the Functions host's
	// Service Bus trigger sees a message as soon as it is sent.
	h.wakeQueues()
	defer h.wakeQueues()
	now := h.o.Now().UTC()
	last := t.last
	lastText := "0001-01-01T00:00:00"
	if !last.IsZero() {
		lastText = last.Format(dotnetTime)
	}
	body := map[string]any{
		"Data": map[string]any{
			t.binding.Name: map[string]any{
				"Schedule": map[string]any{"AdjustForDST": true},
				"ScheduleStatus": map[string]any{
					"Last":        lastText,
					"Next":        t.schedule.Next(now).Format(dotnetTime),
					"LastUpdated": now.Format(dotnetTime),
				},
				"IsPastDue": false,
			},
		},
		"Metadata": map[string]any{"sys": h.sys(name, now)},
	}
	t.last = now
	_, err := h.invoke(ctx, name, body)
	return err
}

const dotnetTime = "2006-01-02T15:04:05.0000000-07:00"

// minPollingInterval is the Functions host's shortest queue polling delay.
const minPollingInterval = 100 * time.Millisecond

func (h *Host) wakeQueues() {
	for _, w := range h.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// runQueue hands a queue's messages to its function as the Functions host
// does: BatchSize received at once and delivered concurrently, the next
// batch received when the deliveries in flight drop to NewBatchThreshold;
// polling again at once while messages come and backing off exponentially
// up to maxPollingInterval only while the queue stays empty.
func (h *Host) runQueue(ctx context.Context, name string) {
	q := h.queues[name]
	cfg := h.o.Config.Queues
	limit := cfg.BatchSize + cfg.NewBatchThreshold
	done := make(chan struct{}, limit)
	var wg gosync.WaitGroup
	defer wg.Wait()
	inflight := 0
	idle := minPollingInterval
	for ctx.Err() == nil {
		for inflight > cfg.NewBatchThreshold || inflight == limit {
			select {
			case <-ctx.Done():
				return
			case <-done:
				inflight--
			}
		}
		for drained := false; !drained; { // count what finished meanwhile
			select {
			case <-done:
				inflight--
			default:
				drained = true
			}
		}
		msgs, err := q.Receive(ctx, min(cfg.BatchSize, limit-inflight), h.lease)
		if err != nil && ctx.Err() == nil {
			h.o.Logger.Error("queue polling failed", "function", name, "err", err)
		}
		for _, m := range msgs {
			inflight++
			wg.Go(func() {
				defer func() { done <- struct{}{} }()
				if err := h.deliver(ctx, name, q, m); err != nil && ctx.Err() == nil {
					h.o.Logger.Error("queue delivery failed", "function", name, "err", err)
				}
			})
		}
		if len(msgs) > 0 {
			idle = minPollingInterval
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-h.wake[name]:
			idle = minPollingInterval
		case <-time.After(idle):
			idle = min(idle*2, max(h.o.Config.Queues.MaxPollingInterval, minPollingInterval))
		}
	}
}

// DrainQueue hands every visible message of a queue function's queue to the
// function, a batch at a time delivered concurrently, until a receive finds
// none. It returns how many were handed over.
func (h *Host) DrainQueue(ctx context.Context, name string) (int, error) {
	total := 0
	for {
		n, err := h.pollQueue(ctx, name)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

func (h *Host) pollQueue(ctx context.Context, name string) (int, error) {
	q, ok := h.queues[name]
	if !ok {
		return 0, fmt.Errorf("no queue function %q", name)
	}
	msgs, err := q.Receive(ctx, h.o.Config.Queues.BatchSize, h.lease)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(msgs))
	var wg gosync.WaitGroup
	for i, m := range msgs {
		wg.Go(func() { errs[i] = h.deliver(ctx, name, q, m) })
	}
	wg.Wait()
	return len(msgs), errors.Join(errs...)
}

func (h *Host) deliver(ctx context.Context, name string, q Queue, m queue.Message) error {
	log := h.o.Logger.With("function", name, "messageId", m.ID, "dequeueCount", m.DequeueCount)
	if m.DequeueCount > h.o.Config.Queues.MaxDequeueCount {
		log.Warn("message exceeded maxDequeueCount; moving it to the poison queue")
		return q.MoveToPoison(ctx, m)
	}
	body := map[string]any{
		"Data": map[string]any{h.queueBinding(name): string(m.Body)},
		"Metadata": map[string]any{
			"DequeueCount":    m.DequeueCount,
			"ExpirationTime":  m.ExpirationTime.UTC().Format(time.RFC3339),
			"Id":              strconv.Quote(m.ID),
			"InsertionTime":   m.InsertionTime.UTC().Format(time.RFC3339),
			"NextVisibleTime": m.NextVisibleTime.UTC().Format(time.RFC3339),
			"PopReceipt":      strconv.Quote(m.PopReceipt),
			"sys":             h.sys(name, h.o.Now().UTC()),
		},
	}
	if _, err := h.invoke(ctx, name, body); err != nil {
		log.Warn("invocation failed; the message will be retried", "err", err)
		if m.DequeueCount >= h.o.Config.Queues.MaxDequeueCount {
			return errors.Join(err, q.MoveToPoison(ctx, m))
		}
		_, rerr := q.Release(ctx, m, h.o.Config.Queues.VisibilityTimeout)
		return errors.Join(err, rerr)
	}
	return q.Delete(ctx, m)
}

func (h *Host) queueBinding(name string) string {
	for _, fn := range h.o.Functions {
		if fn.Name == name {
			b, _ := fn.Trigger()
			return b.Name
		}
	}
	return "record"
}

func (h *Host) sys(name string, now time.Time) map[string]any {
	return map[string]any{"MethodName": name, "UtcNow": now.Format(time.RFC3339Nano), "RandGuid": newGUID()}
}

// InvokeError is a non-2xx answer of the handler.
type InvokeError struct {
	Function string
	Status   int
	Body     string
}

func (e *InvokeError) Error() string {
	return fmt.Sprintf("function %s answered %d: %s", e.Function, e.Status, e.Body)
}

// invoke POSTs one invocation; it returns the decoded response body.
func (h *Host) invoke(ctx context.Context, name string, body any) (map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.o.HandlerURL+"/"+name, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Azure-Functions-InvocationId", newGUID())
	req.Header.Set("X-Azure-Functions-HostVersion", "4.0.0-standalone")
	req.Header.Set("User-Agent", "Azure-Functions-Host/4.0.0-standalone")
	resp, err := h.o.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoking %s: %w", name, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return nil, &InvokeError{Function: name, Status: resp.StatusCode, Body: string(rb)}
	}
	var out map[string]any
	if err := json.Unmarshal(rb, &out); err != nil {
		return nil, fmt.Errorf("function %s answered a body that is not the response envelope: %w", name, err)
	}
	if logs, ok := out["Logs"].([]any); ok {
		for _, l := range logs {
			h.o.Logger.Debug("function log", "function", name, "log", l)
		}
	}
	return out, nil
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
