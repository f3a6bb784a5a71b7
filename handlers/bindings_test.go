package handlers

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// withBinding renames the trigger entry "record" of one of the host's
// invocations; an empty name drops it, leaving Data empty.
func withBinding(invocation, name string) string {
	if name == "" {
		i := strings.Index(invocation, `"Data": {`)
		j := strings.Index(invocation[i:], "},\n") + i
		return invocation[:i] + `"Data": {}` + invocation[j+1:]
	}
	return strings.Replace(invocation, `"record":`, `"`+name+`":`, 1)
}

func TestTriggerBindingName(t *testing.T) {
	const queueBody, sbBody = `{"v":1,"profile":"p"}`, `{"v":1,"profile":"sb"}`
	noData := strings.Replace(queueInvocation, `"Data": { "record": "{\"v\":1,\"profile\":\"p\"}" },`, ``, 1)
	twoEntries := strings.Replace(queueInvocation, `"Data": {`, `"Data": { "extra": "{}",`, 1)
	tests := []struct {
		name       string
		path, body string
		bindings   map[string]string
		wantStatus int
		wantBody   string   // what the applier must receive (status 200)
		wantErr    []string // what the error must name (non-2xx)
	}{
		{"queue default name", "/RecordApplierQueue", queueInvocation, nil, 200, queueBody, nil},
		{"queue other name, only entry", "/RecordApplierQueue", withBinding(queueInvocation, "msg"), nil, 200, queueBody, nil},
		{"queue name from function.json", "/RecordApplierQueue", withBinding(twoEntries, "msg"), map[string]string{RecordApplierQueue: "msg"}, 200, queueBody, nil},
		{"service bus other name, only entry", "/RecordApplier", withBinding(serviceBusInvocation, "message"), nil, 200, sbBody, nil},
		{"service bus name from function.json", "/RecordApplier", withBinding(serviceBusInvocation, "message"), map[string]string{RecordApplier: "message", RecordApplierQueue: "record"}, 200, sbBody, nil},
		{"function.json name absent", "/RecordApplierQueue", queueInvocation, map[string]string{RecordApplierQueue: "msg"}, 500, "", []string{"RecordApplierQueue", `"msg"`, `"record"`}},
		{"service bus function.json name absent", "/RecordApplier", serviceBusInvocation, map[string]string{RecordApplier: "message"}, 500, "", []string{"RecordApplier", `"message"`}},
		{"empty Data", "/RecordApplierQueue", withBinding(queueInvocation, ""), nil, 500, "", []string{"RecordApplierQueue", `"record"`, "no entries"}},
		{"no Data", "/RecordApplierQueue", noData, nil, 500, "", []string{`"record"`, "no entries"}},
		{"service bus empty Data", "/RecordApplier", withBinding(serviceBusInvocation, ""), nil, 500, "", []string{"RecordApplier", `"record"`}},
		{"two unknown entries", "/RecordApplierQueue", withBinding(twoEntries, "msg"), nil, 500, "", []string{`"record"`, `"extra", "msg"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeApplier{rep: dsync.Report{Outcome: dsync.Applied}}
			status, out := post(t, New(Options{Applier: a, Bindings: tt.bindings, Logger: slog.New(slog.DiscardHandler)}), tt.path, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d; logs %q", status, tt.wantStatus, out.Logs)
			}
			if tt.wantStatus == 200 {
				if len(a.bodies) != 1 || a.bodies[0] != tt.wantBody {
					t.Fatalf("applier got %q, want %q", a.bodies, tt.wantBody)
				}
				return
			}
			if len(a.bodies) != 0 {
				t.Errorf("applier was called with %q", a.bodies)
			}
			if len(out.Logs) != 1 {
				t.Fatalf("logs %q", out.Logs)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(out.Logs[0], want) {
					t.Errorf("error %q does not name %s", out.Logs[0], want)
				}
			}
		})
	}
}

// The timer's binding is found the same way; a missing one does not stop the poll.
func TestTimerBindingName(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		bindings map[string]string
		wantLogs int // 2 when IsPastDue was read, 1 otherwise
	}{
		{"default", timerInvocation, nil, 2},
		{"other name, only entry", strings.Replace(timerInvocation, `"pollTimer"`, `"tick"`, 1), nil, 2},
		{"name from function.json", strings.Replace(timerInvocation, `"pollTimer"`, `"tick"`, 1), map[string]string{ChangePoller: "tick"}, 2},
		{"function.json name absent", timerInvocation, map[string]string{ChangePoller: "tick"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &fakePoller{results: []dsync.EntityResult{{Profile: "p", Entity: "account"}}}
			status, out := post(t, New(Options{Poller: p, Bindings: tt.bindings}), "/ChangePoller", tt.body)
			if status != 200 || p.calls != 1 {
				t.Fatalf("status %d, calls %d", status, p.calls)
			}
			if len(out.Logs) != tt.wantLogs {
				t.Fatalf("logs %q, want %d lines", out.Logs, tt.wantLogs)
			}
		})
	}
}

type noProfiles struct{}

func (noProfiles) GetProfile(context.Context, string) (profile.Profile, error) {
	return profile.Profile{}, state.ErrNotFound
}
func (noProfiles) ListProfiles(context.Context) ([]profile.Profile, error) { return nil, nil }

type noDest struct{}

func (noDest) Sink(context.Context, profile.Profile) (sink.Sink, error) { return nil, nil }

type noCounters struct{}

func (noCounters) AddCounters(context.Context, string, string, state.Counters) error { return nil }

type keptBodies struct{ bodies []string }

func (k *keptBodies) WriteFailure(context.Context, string, string, string, string, string, []byte) error {
	return nil
}
func (k *keptBodies) WriteUnprocessable(_ context.Context, _ string, body []byte, _ string) error {
	k.bodies = append(k.bodies, string(body))
	return nil
}

// With the real applier: a message under an unexpected binding name is
// either read (and kept with its content) or refused with a non-2xx, so the
// host redelivers it; it is never answered 200 with an empty body kept.
func TestUnknownBindingNeverLosesTheMessage(t *testing.T) {
	const msg = `{"v":1,"profile":"p","entity":"account"}`
	tests := []struct {
		name       string
		data       string
		wantStatus int
		wantKept   []string
	}{
		{"only entry", `{"msg":"{\"v\":1,\"profile\":\"p\",\"entity\":\"account\"}"}`, 200, []string{msg}},
		{"empty", `{}`, 500, nil},
		{"two entries", `{"msg":"{\"v\":1}","other":"x"}`, 500, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept := &keptBodies{}
			a := dsync.NewApplier(noProfiles{}, noDest{}, noCounters{}, kept, &dsync.ApplierOptions{Logger: slog.New(slog.DiscardHandler)})
			h := New(Options{Applier: a, Logger: slog.New(slog.DiscardHandler)})
			env := `{"Data":` + tt.data + `,"Metadata":{"DequeueCount":"1","Id":"\"m1\""}}`
			status, out := post(t, h, "/"+RecordApplierQueue, env)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d; logs %q", status, tt.wantStatus, out.Logs)
			}
			if len(kept.bodies) != len(tt.wantKept) {
				t.Fatalf("kept %q, want %q", kept.bodies, tt.wantKept)
			}
			for i := range kept.bodies {
				if kept.bodies[i] != tt.wantKept[i] {
					t.Errorf("kept %q, want %q", kept.bodies[i], tt.wantKept[i])
				}
			}
		})
	}
}

func TestLoadTriggerBindings(t *testing.T) {
	got, err := LoadTriggerBindings(filepath.Join("..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ChangePoller: TimerBinding, RecordApplier: QueueBinding, RecordApplierQueue: QueueBinding, SchemaChange: SchemaTimerBinding}
	for _, rt := range routes {
		want[rt.Function] = HTTPRequestBinding
	}
	want[WebUI] = HTTPRequestBinding
	if !maps.Equal(got, want) {
		t.Errorf("repository functions: got %v, want %v", got, want)
	}

	write := func(t *testing.T, dir, fn, json string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "function.json"), []byte(json), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, json string
		want       string // the binding name; "" = an error
	}{
		{"renamed queue trigger", `{"bindings":[{"name":"out","type":"queue","direction":"out"},{"name":"msg","type":"queueTrigger","direction":"in"}]}`, "msg"},
		{"service bus trigger", `{"bindings":[{"name":"message","type":"serviceBusTrigger","direction":"in"}]}`, "message"},
		{"no trigger", `{"bindings":[{"name":"res","type":"http","direction":"out"}]}`, ""},
		{"not JSON", `{"bindings":`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, RecordApplierQueue, tt.json)
			got, err := LoadTriggerBindings(dir)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), RecordApplierQueue) {
					t.Fatalf("got %v, %v; want an error naming the file", got, err)
				}
				return
			}
			if err != nil || got[RecordApplierQueue] != tt.want {
				t.Fatalf("got %v, %v; want %s", got, err, tt.want)
			}
			// The names found take the message to the applier.
			a := &fakeApplier{}
			body := withBinding(queueInvocation, tt.want)
			if status, out := post(t, New(Options{Applier: a, Bindings: got}), "/"+RecordApplierQueue, body); status != http.StatusOK || len(a.bodies) != 1 {
				t.Fatalf("status %d, applier got %q, logs %q", status, a.bodies, out.Logs)
			}
		})
	}
}
