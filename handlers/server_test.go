package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dsync "github.com/dataexport/dataexport/internal/sync"
)

type fakePoller struct {
	calls   int
	results []dsync.EntityResult
	err     error
}

func (f *fakePoller) PollAll(context.Context) ([]dsync.EntityResult, error) {
	f.calls++
	return f.results, f.err
}

type fakeApplier struct {
	bodies     []string
	deliveries []dsync.Delivery
	rep        dsync.Report
	err        error
}

func (f *fakeApplier) Apply(_ context.Context, body []byte, d dsync.Delivery) (dsync.Report, error) {
	f.bodies = append(f.bodies, string(body))
	f.deliveries = append(f.deliveries, d)
	return f.rep, f.err
}

// The host's timer invocation, as a Go custom handler receives it under func start.
const timerInvocation = `{
  "Data": {
    "pollTimer": {
      "Schedule": { "AdjustForDST": true },
      "ScheduleStatus": {
        "Last": "2026-11-25T09:00:00.0040000+00:00",
        "Next": "2026-11-25T09:05:00+00:00",
        "LastUpdated": "2026-11-25T09:00:00.0040000+00:00"
      },
      "IsPastDue": true
    }
  },
  "Metadata": {
    "sys": { "MethodName": "ChangePoller", "UtcNow": "2026-11-25T09:05:00.012Z", "RandGuid": "fa3b2fbc-26ed-4fcb-be75-82db8773b519" }
  }
}`

// The host's Storage queue invocation: strings in Metadata are JSON-encoded twice, numbers arrive as strings.
const queueInvocation = `{
  "Data": { "record": "{\"v\":1,\"profile\":\"p\"}" },
  "Metadata": {
    "DequeueCount": "3",
    "ExpirationTime": "2026-12-02T09:00:00+00:00",
    "Id": "\"800ae4b3-bdd2-4c08-badd-f08e5a34b865\"",
    "InsertionTime": "2026-11-25T09:00:00+00:00",
    "NextVisibleTime": "2026-11-25T09:10:01+00:00",
    "PopReceipt": "\"AgAAAAMAAAAAAAAAAgtnj8x+1QE=\"",
    "sys": { "MethodName": "RecordApplierQueue", "UtcNow": "2026-11-25T09:00:01.2Z", "RandGuid": "24ad4c06-0000-0000-0000-000000000000" }
  }
}`

// The host's Service Bus invocation (extension v5 binding contract).
const serviceBusInvocation = `{
  "Data": { "record": {"v":1,"profile":"sb"} },
  "Metadata": {
    "DeliveryCount": "2",
    "LockToken": "\"4e773554-f6b7-4ea2-b07d-4c5fd5aba741\"",
    "MessageId": "\"p/account/1.0\"",
    "ContentType": "\"application/json\"",
    "SequenceNumber": "1",
    "EnqueuedTimeUtc": "2026-11-25T09:00:00",
    "ApplicationProperties": {},
    "MessageReceiver": {}, "MessageSession": {}, "MessageActions": {}, "SessionActions": {}, "ReceiveActions": {},
    "Client": { "FullyQualifiedNamespace": "myns.servicebus.windows.net", "IsClosed": false, "TransportType": 0, "Identifier": "myns-1" },
    "sys": { "MethodName": "RecordApplier", "UtcNow": "2026-11-25T09:00:01.3Z", "RandGuid": "00000000-0000-0000-0000-000000000000" }
  }
}`

func post(t *testing.T, h http.Handler, path, body string) (int, InvokeResponse) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 404 && ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	var out InvokeResponse
	if resp.StatusCode != 404 {
		// Every answer must be the host's envelope, with all three keys.
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			t.Fatalf("response is not JSON: %s", raw)
		}
		for _, k := range []string{"Outputs", "Logs", "ReturnValue"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("response lacks %q: %s", k, raw)
			}
		}
		_ = json.Unmarshal(raw, &out)
	}
	return resp.StatusCode, out
}

func TestTimerInvocation(t *testing.T) {
	p := &fakePoller{results: []dsync.EntityResult{{Profile: "p", Entity: "account", Phase: "delta", Pages: 2, Upserts: 7, CaughtUp: true}}}
	status, out := post(t, New(Options{Poller: p}), "/ChangePoller", timerInvocation)
	if status != 200 || p.calls != 1 {
		t.Fatalf("status %d, calls %d", status, p.calls)
	}
	if len(out.Logs) != 2 || !strings.Contains(out.Logs[0], "past due") || !strings.Contains(out.Logs[1], "p/account phase=delta pages=2 upserts=7") {
		t.Fatalf("logs %q", out.Logs)
	}
	if out.Outputs == nil || out.ReturnValue != nil {
		t.Fatalf("outputs %v, return %v", out.Outputs, out.ReturnValue)
	}

	p.err = errors.New("profile p entity account: reading page 1: boom")
	status, out = post(t, New(Options{Poller: p}), "/ChangePoller", timerInvocation)
	if status != 500 || len(out.Logs) != 1 || !strings.Contains(out.Logs[0], "boom") {
		t.Fatalf("failing poll: status %d logs %q", status, out.Logs)
	}
}

type fakeSchemaChanger struct {
	calls   int
	results []dsync.SchemaResult
	err     error
}

func (f *fakeSchemaChanger) RunAll(context.Context) ([]dsync.SchemaResult, error) {
	f.calls++
	return f.results, f.err
}

// The host's timer invocation of SchemaChange: the same shape as the
// poller's, under its own binding name (function.json's schemaTimer).
const schemaTimerInvocation = `{
  "Data": {
    "schemaTimer": {
      "Schedule": { "AdjustForDST": true },
      "ScheduleStatus": {
        "Last": "2026-11-25T09:00:00.0040000+00:00",
        "Next": "2026-11-25T09:00:30+00:00",
        "LastUpdated": "2026-11-25T09:00:00.0040000+00:00"
      },
      "IsPastDue": false
    }
  },
  "Metadata": {
    "sys": { "MethodName": "SchemaChange", "UtcNow": "2026-11-25T09:00:30.008Z", "RandGuid": "5d0c3a51-8e64-4b2a-9a52-3f0f2a0e7c11" }
  }
}`

// SchemaChange answers the host's timer invocation with the host's
// envelope: one log line per entity it did something for (none for the
// entities it skipped), a failing entity named in its line without failing
// the invocation, and 500 when it could not run at all.
func TestSchemaChangeInvocation(t *testing.T) {
	c := &fakeSchemaChanger{results: []dsync.SchemaResult{
		{Profile: "p", Entity: "account", Action: dsync.SchemaEvolved, Schema: "1764669630008.0123456789abcdef", Added: []string{"new_region"}, Backfill: true, BackfillSince: 915244},
		{Profile: "p", Entity: "contact", Action: dsync.SchemaSkipped},
		{Profile: "p", Entity: "lead", Action: dsync.SchemaFailed, Err: errors.New("opening destination: connection refused")},
	}}
	bindings := map[string]string{SchemaChange: SchemaTimerBinding}
	status, out := post(t, New(Options{SchemaChanger: c, Bindings: bindings}), "/SchemaChange", schemaTimerInvocation)
	if status != 200 || c.calls != 1 {
		t.Fatalf("status %d, calls %d", status, c.calls)
	}
	want := []string{
		"p/account evolved schema=1764669630008.0123456789abcdef added=new_region backfill=changedAfter:915244",
		"p/lead failed schema= error=opening destination: connection refused",
	}
	if strings.Join(out.Logs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("logs %q\nwant %q", out.Logs, want)
	}
	if out.Outputs == nil || out.ReturnValue != nil {
		t.Fatalf("outputs %v, return %v", out.Outputs, out.ReturnValue)
	}
	// The binding name comes from function.json: an invocation under
	// another name is not taken for the timer.
	if status, _ := post(t, New(Options{SchemaChanger: c, Bindings: bindings}), "/SchemaChange", strings.Replace(schemaTimerInvocation, `"schemaTimer"`, `"pollTimer"`, 1)); status != 200 {
		t.Fatalf("timer value under another name: status %d (the run does not need it)", status)
	}
	if status, _ := post(t, New(Options{SchemaChanger: c}), "/SchemaChange", `{"Data":{"schemaTimer":"x"}}`); status != 400 {
		t.Fatalf("a timer value that is not one: status %d, want 400", status)
	}
	c.err = errors.New("listing profiles: table service unavailable")
	status, out = post(t, New(Options{SchemaChanger: c}), "/SchemaChange", schemaTimerInvocation)
	if status != 500 || len(out.Logs) != 1 || !strings.Contains(out.Logs[0], "table service unavailable") {
		t.Fatalf("failing run: status %d logs %q", status, out.Logs)
	}
}

func TestQueueInvocations(t *testing.T) {
	tests := []struct {
		path, body, wantBody, wantID string
		wantCount                    int64
	}{
		{"/RecordApplierQueue", queueInvocation, `{"v":1,"profile":"p"}`, "800ae4b3-bdd2-4c08-badd-f08e5a34b865", 3},
		{"/RecordApplier", serviceBusInvocation, `{"v":1,"profile":"sb"}`, "p/account/1.0", 2},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			a := &fakeApplier{rep: dsync.Report{Outcome: dsync.Applied, Profile: "p", Entity: "account"}}
			status, out := post(t, New(Options{Applier: a}), tt.path, tt.body)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			if len(a.bodies) != 1 || a.bodies[0] != tt.wantBody {
				t.Fatalf("applier got %q, want %q", a.bodies, tt.wantBody)
			}
			if d := a.deliveries[0]; d.ID != tt.wantID || d.DequeueCount != tt.wantCount {
				t.Fatalf("delivery %+v", d)
			}
			if len(out.Logs) != 1 || !strings.Contains(out.Logs[0], "applied") {
				t.Fatalf("logs %q", out.Logs)
			}

			// A failure must be a non-2xx answer, so that the host redelivers.
			a.err = errors.New("database is locked")
			status, out = post(t, New(Options{Applier: a}), tt.path, tt.body)
			if status != 500 || !strings.Contains(out.Logs[0], "database is locked") {
				t.Fatalf("failing apply: status %d logs %q", status, out.Logs)
			}
		})
	}
}

func TestInvalidInvocations(t *testing.T) {
	h := New(Options{Poller: &fakePoller{}, Applier: &fakeApplier{}})
	for _, tt := range []struct{ path, body string }{
		{"/ChangePoller", `not json`},
		{"/ChangePoller", `{"Data":{"pollTimer":"x"}}`},
		{"/RecordApplierQueue", `{"Data":`},
	} {
		if status, out := post(t, h, tt.path, tt.body); status != 400 || len(out.Logs) != 1 || !strings.Contains(out.Logs[0], "invalid") {
			t.Errorf("%s %q: status %d logs %q", tt.path, tt.body, status, out.Logs)
		}
	}
	if status, _ := post(t, h, "/Nope", `{}`); status != 404 {
		t.Errorf("unknown function: %d", status)
	}
	// The readiness probe: any answer will do, 200 is polite.
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readiness: %v %v", resp, err)
	}
}

func TestTriggerPayload(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{`"{\"a\":1}"`, `{"a":1}`},
		{`"\"{\\\"a\\\":1}\""`, `{"a":1}`},
		{`"plain text"`, `plain text`},
	} {
		got, err := TriggerPayload(json.RawMessage(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: got %q %v, want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := TriggerPayload(nil); err == nil {
		t.Error("missing value: want an error")
	}
}
