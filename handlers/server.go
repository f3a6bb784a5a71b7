package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	dsync "github.com/dataexport/dataexport/internal/sync"
)

// Function names: the folder names under functions/, and the paths the host POSTs to.
const (
	ChangePoller       = "ChangePoller"
	RecordApplier      = "RecordApplier"      // Service Bus trigger (Azure)
	RecordApplierQueue = "RecordApplierQueue" // Storage queue trigger (Azurite, standalone)
	SchemaChange       = "SchemaChange"       // timer trigger: tables follow the metadata
)

// Default trigger binding names, those of the function.json files under
// functions/. Options.Bindings overrides them per function.
const (
	TimerBinding       = "pollTimer"
	SchemaTimerBinding = "schemaTimer"
	QueueBinding       = "record"
)

// Poller is the timer-triggered change poller.
type Poller interface {
	PollAll(ctx context.Context) ([]dsync.EntityResult, error)
}

// SchemaChanger is the timer-triggered SchemaChange function.
type SchemaChanger interface {
	RunAll(ctx context.Context) ([]dsync.SchemaResult, error)
}

// Applier is the queue-triggered record applier.
type Applier interface {
	Apply(ctx context.Context, body []byte, d dsync.Delivery) (dsync.Report, error)
}

// Options wire the handler server to the core.
type Options struct {
	Poller        Poller
	Applier       Applier
	SchemaChanger SchemaChanger
	// Manager answers the HTTP functions (the management API).
	Manager Manager
	Logger  *slog.Logger
	// Bindings maps a function name to the name of its trigger binding, as
	// its function.json declares it (see LoadTriggerBindings): the host keys
	// the trigger value in Data by that name. A function without an entry
	// takes the default name (TimerBinding, QueueBinding) or else the
	// invocation's only Data entry.
	Bindings map[string]string
	// Front is what signs the callers of the HTTP functions in (see Front):
	// FrontNone refuses every HTTP call.
	Front Front
}

// maxBody bounds an invocation body: a Service Bus message is at most 256 KiB
// on Standard; the envelope and double encoding add a little.
const maxBody = 4 << 20

// New returns the custom-handler HTTP server: one route per function of
// Functions, and "/" answering the host's readiness probe.
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
	for _, fn := range Functions() {
		mux.HandleFunc("POST /"+fn.Name, func(w http.ResponseWriter, r *http.Request) { fn.handle(s, w, r) })
	}
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

// timer decodes a timer invocation. The timer value only says whether the
// run is past due: without it the run still happens.
func (s *server) timer(w http.ResponseWriter, r *http.Request, fn, binding string) (TimerInfo, bool) {
	var timer TimerInfo
	req, ok := s.decode(w, r)
	if !ok {
		return timer, false
	}
	if name, raw, err := s.trigger(fn, req.Data, binding); err == nil {
		if err := json.Unmarshal(raw, &timer); err != nil {
			s.fail(w, r, http.StatusBadRequest, fmt.Errorf("invalid %s timer value: %w", name, err))
			return timer, false
		}
	}
	return timer, true
}

func (s *server) changePoller(w http.ResponseWriter, r *http.Request) {
	timer, ok := s.timer(w, r, ChangePoller, TimerBinding)
	if !ok {
		return
	}
	results, err := s.o.Poller.PollAll(r.Context())
	logs := make([]string, 0, len(results)+1)
	if timer.IsPastDue {
		logs = append(logs, "timer is past due; catching up")
	}
	for _, res := range results {
		line := fmt.Sprintf("%s/%s phase=%s pages=%d upserts=%d deletes=%d messages=%d caughtUp=%t",
			res.Profile, res.Entity, res.Phase, res.Pages, res.Upserts, res.Deletes, res.Messages, res.CaughtUp)
		if res.SchemaPending {
			line += " waiting=SchemaChange"
		}
		if res.Backfilled > 0 {
			line += fmt.Sprintf(" backfilled=%d", res.Backfilled)
		}
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

func (s *server) schemaChange(w http.ResponseWriter, r *http.Request) {
	timer, ok := s.timer(w, r, SchemaChange, SchemaTimerBinding)
	if !ok {
		return
	}
	if s.o.SchemaChanger == nil {
		s.fail(w, r, http.StatusInternalServerError, fmt.Errorf("function %s is not configured in this handler", SchemaChange))
		return
	}
	results, err := s.o.SchemaChanger.RunAll(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	var logs []string
	if timer.IsPastDue {
		logs = append(logs, "timer is past due; catching up")
	}
	for _, res := range results {
		if res.Action == dsync.SchemaSkipped {
			continue // nothing was due: no line per entity per run
		}
		line := fmt.Sprintf("%s/%s %s schema=%s", res.Profile, res.Entity, res.Action, res.Schema)
		if len(res.Added) > 0 {
			line += " added=" + strings.Join(res.Added, ",")
		}
		if res.Backfill {
			line += fmt.Sprintf(" backfill=changedAfter:%d", res.BackfillSince)
		}
		if res.Err != nil {
			line += " error=" + res.Err.Error()
		}
		logs = append(logs, line)
	}
	// One entity's failure does not fail the invocation: its line says
	// why, and the next run tries it again.
	s.ok(w, InvokeResponse{Outputs: map[string]any{}, Logs: logs})
}

func (s *server) recordApplier(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	fn := r.URL.Path[1:]
	_, raw, err := s.trigger(fn, req.Data, QueueBinding)
	if err != nil {
		// The message is in the envelope under a name we do not know (or not
		// at all). Answering 2xx would have the host delete it unread; a
		// failure has it redelivered and, in the end, kept in the poison queue.
		s.fail(w, r, http.StatusInternalServerError, fmt.Errorf("function %s: %w", fn, err))
		return
	}
	d := Delivery(req.Metadata)
	body, err := TriggerPayload(raw)
	if err != nil {
		// Nothing to redeliver that could ever succeed: the applier keeps the
		// value as it came as unprocessable and the host forgets it.
		body = raw
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

// trigger finds a function's trigger value in an invocation's Data: under the
// binding name Options.Bindings gives for the function; without one, under
// def, or else the only entry of Data. It returns the name it used.
func (s *server) trigger(fn string, data map[string]json.RawMessage, def string) (string, json.RawMessage, error) {
	if name, ok := s.o.Bindings[fn]; ok {
		if raw, ok := data[name]; ok {
			return name, raw, nil
		}
		return "", nil, fmt.Errorf("the invocation has no Data entry %q, the trigger binding of function.json; Data holds %s", name, dataKeys(data))
	}
	if raw, ok := data[def]; ok {
		return def, raw, nil
	}
	if len(data) == 1 {
		for name, raw := range data {
			return name, raw, nil
		}
	}
	return "", nil, fmt.Errorf("the invocation has no Data entry %q (the default trigger binding name) and no single other entry to use instead; Data holds %s", def, dataKeys(data))
}

func dataKeys(data map[string]json.RawMessage) string {
	if len(data) == 0 {
		return "no entries"
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, strconv.Quote(k))
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
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
