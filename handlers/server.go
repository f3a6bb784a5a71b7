package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	dsync "github.com/dataexport/dataexport/internal/sync"
)

// Function names: the folder names under functions/, and the paths the host POSTs to.
const (
	ChangePoller       = "ChangePoller"
	RecordApplier      = "RecordApplier"      // Service Bus trigger (Azure)
	RecordApplierQueue = "RecordApplierQueue" // Storage queue trigger (Azurite, standalone)
)

// Binding names used in the function.json files.
const (
	TimerBinding = "pollTimer"
	QueueBinding = "record"
)

// Poller is the timer-triggered change poller.
type Poller interface {
	PollAll(ctx context.Context) ([]dsync.EntityResult, error)
}

// Applier is the queue-triggered record applier.
type Applier interface {
	Apply(ctx context.Context, body []byte, d dsync.Delivery) (dsync.Report, error)
}

// Options wire the handler server to the core.
type Options struct {
	Poller  Poller
	Applier Applier
	Logger  *slog.Logger
}

// maxBody bounds an invocation body: a Service Bus message is at most 256 KiB
// on Standard; the envelope and double encoding add a little.
const maxBody = 4 << 20

// New returns the custom-handler HTTP server: one route per function, and "/"
// answering the host's readiness probe.
func New(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &server{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /"+ChangePoller, s.changePoller)
	mux.HandleFunc("POST /"+RecordApplier, s.recordApplier)
	mux.HandleFunc("POST /"+RecordApplierQueue, s.recordApplier)
	return mux
}

type server struct{ o Options }

func (s *server) decode(w http.ResponseWriter, r *http.Request) (*InvokeRequest, bool) {
	var req InvokeRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil && len(body) > maxBody {
		err = fmt.Errorf("invocation body larger than %d bytes", maxBody)
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("invalid invocation request: %w", err))
		return nil, false
	}
	return &req, true
}

func (s *server) changePoller(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	var timer TimerInfo
	if raw, ok := req.Data[TimerBinding]; ok {
		if err := json.Unmarshal(raw, &timer); err != nil {
			s.fail(w, r, http.StatusBadRequest, fmt.Errorf("invalid %s timer value: %w", TimerBinding, err))
			return
		}
	}
	results, err := s.o.Poller.PollAll(r.Context())
	logs := make([]string, 0, len(results)+1)
	if timer.IsPastDue {
		logs = append(logs, "timer is past due; catching up")
	}
	for _, res := range results {
		line := fmt.Sprintf("%s/%s phase=%s pages=%d upserts=%d deletes=%d messages=%d caughtUp=%t",
			res.Profile, res.Entity, res.Phase, res.Pages, res.Upserts, res.Deletes, res.Messages, res.CaughtUp)
		if res.Err != nil {
			line += " error=" + res.Err.Error()
		}
		logs = append(logs, line)
	}
	if err != nil {
		// A failed timer invocation shows as a failure in the host's telemetry;
		// the next occurrence retries (timers have no retry of their own).
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	s.ok(w, InvokeResponse{Outputs: map[string]any{}, Logs: logs})
}

func (s *server) recordApplier(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	d := Delivery(req.Metadata)
	body, err := TriggerPayload(req.Data[QueueBinding])
	if err != nil {
		// Nothing to redeliver that could ever succeed: the applier keeps it as
		// unprocessable and the host forgets it.
		body = req.Data[QueueBinding]
	}
	rep, err := s.o.Applier.Apply(r.Context(), body, dsync.Delivery{ID: d.ID, DequeueCount: d.DequeueCount})
	if err != nil {
		// Non-2xx: the host abandons the message and redelivers it.
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	line := fmt.Sprintf("message %s: %s profile=%s entity=%s upserted=%d skipped=%d deleted=%d",
		d.ID, rep.Outcome, rep.Profile, rep.Entity, rep.Result.Upserted, rep.Result.Skipped, rep.Result.Deleted)
	if rep.Err != nil {
		line += " error=" + rep.Err.Error()
	}
	s.ok(w, InvokeResponse{Outputs: map[string]any{}, Logs: []string{line}})
}

func (s *server) ok(w http.ResponseWriter, resp InvokeResponse) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	level := slog.LevelError
	if r.Context().Err() != nil {
		// The host gave up on the invocation (shutdown, timeout): not a fault of ours.
		level = slog.LevelInfo
	}
	s.o.Logger.Log(r.Context(), level, "invocation failed", "function", r.URL.Path[1:], "invocationId", r.Header.Get("X-Azure-Functions-InvocationId"), "status", status, "err", err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(InvokeResponse{Outputs: map[string]any{}, Logs: []string{err.Error()}})
}
