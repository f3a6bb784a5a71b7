package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Function is one function of the app: its name (the folder under
// functions/ and the path the host POSTs its invocations to), its trigger,
// and the handler of its invocations. Functions is the one list of them:
// the handler server, the function.json files (GenerateFunctionJSON) and
// the OpenAPI document all derive from it.
type Function struct {
	Name    string
	Trigger Trigger
	handle  func(s *server, w http.ResponseWriter, r *http.Request)
}

// Trigger is a function's trigger binding, as function.json declares it.
type Trigger interface {
	// bindings are the function.json bindings: the trigger first.
	bindings() []binding
}

// binding is one function.json binding; keys keep their order.
type binding [][2]any

// TimerTrigger fires on an NCRONTAB schedule (six fields, seconds first).
type TimerTrigger struct {
	Binding      string
	Schedule     string // "%POLL_SCHEDULE%": an app setting
	RunOnStartup bool
	UseMonitor   bool
}

func (t TimerTrigger) bindings() []binding {
	return []binding{{{"name", t.Binding}, {"type", "timerTrigger"}, {"direction", "in"}, {"schedule", t.Schedule}, {"runOnStartup", t.RunOnStartup}, {"useMonitor", t.UseMonitor}}}
}

// QueueTrigger reads a Storage queue.
type QueueTrigger struct {
	Binding, Queue, Connection string
}

func (t QueueTrigger) bindings() []binding {
	return []binding{{{"name", t.Binding}, {"type", "queueTrigger"}, {"direction", "in"}, {"queueName", t.Queue}, {"connection", t.Connection}}}
}

// ServiceBusTrigger reads a Service Bus queue.
type ServiceBusTrigger struct {
	Binding, Queue, Connection string
	Sessions                   bool
}

func (t ServiceBusTrigger) bindings() []binding {
	return []binding{{{"name", t.Binding}, {"type", "serviceBusTrigger"}, {"direction", "in"}, {"queueName", t.Queue}, {"connection", t.Connection}, {"isSessionsEnabled", t.Sessions}}}
}

// HTTPTrigger answers HTTP requests on /api/<Route> for Methods. The
// request arrives under the binding "req"; the answer goes to the output
// binding "res".
type HTTPTrigger struct {
	Route   string   // route template: profiles/{name}
	Methods []string // upper case
	// AuthLevel is what the host requires before it invokes the function:
	// AuthLevelFunction (the default) a function key, AuthLevelAnonymous
	// nothing (the function refuses on its own what it must).
	AuthLevel string
}

// The authLevel values function.json takes.
const (
	AuthLevelFunction  = "function"
	AuthLevelAnonymous = "anonymous"
)

// HTTP binding names.
const (
	HTTPRequestBinding  = "req"
	HTTPResponseBinding = "res"
)

func (t HTTPTrigger) level() string {
	if t.AuthLevel == "" {
		return AuthLevelFunction
	}
	return t.AuthLevel
}

func (t HTTPTrigger) bindings() []binding {
	methods := make([]string, len(t.Methods))
	for i, m := range t.Methods {
		methods[i] = strings.ToLower(m)
	}
	return []binding{
		{{"name", HTTPRequestBinding}, {"type", "httpTrigger"}, {"direction", "in"}, {"authLevel", t.level()}, {"methods", methods}, {"route", t.Route}},
		{{"name", HTTPResponseBinding}, {"type", "http"}, {"direction", "out"}},
	}
}

// Functions is every function of the app. Adding one is one entry here;
// an HTTP route is one entry in routes.
func Functions() []Function {
	fns := []Function{
		// Runs on startup too: a poll is idempotent and ETag-guarded, so the
		// run a restart or scale-out adds costs one read, and replication
		// resumes at once after a deployment instead of a schedule later.
		{ChangePoller, TimerTrigger{Binding: TimerBinding, Schedule: "%POLL_SCHEDULE%", RunOnStartup: true, UseMonitor: true}, (*server).changePoller},
		{RecordApplier, ServiceBusTrigger{Binding: QueueBinding, Queue: "%RECORDS_QUEUE%", Connection: "ServiceBusConnection"}, (*server).recordApplier},
		{RecordApplierQueue, QueueTrigger{Binding: QueueBinding, Queue: "%RECORDS_QUEUE%", Connection: "AzureWebJobsStorage"}, (*server).recordApplier},
		{SchemaChange, TimerTrigger{Binding: SchemaTimerBinding, Schedule: "%SCHEMA_SCHEDULE%", UseMonitor: true}, (*server).schemaChange},
	}
	// The management API: the host's function keys guard it (scripts, the
	// CLI over HTTP, automation).
	for _, rt := range routes {
		fns = append(fns, Function{Name: rt.Function, Trigger: HTTPTrigger{Route: rt.Template, Methods: rt.methods(), AuthLevel: AuthLevelFunction}, handle: (*server).httpFunction})
	}
	// The web UI: its files and its own calls to the same routes, under
	// /api/ui/ (a catch-all route). A browser holds no function key, so the
	// host lets every request through and the function itself serves only
	// callers App Service Authentication names (see uiFunction).
	fns = append(fns, Function{Name: WebUI, Trigger: HTTPTrigger{Route: UIRoute, Methods: uiMethods(), AuthLevel: AuthLevelAnonymous}, handle: (*server).uiFunction})
	return fns
}

// uiMethods are the methods of the web UI's function: GET for its files,
// and every method of the routes it calls.
func uiMethods() []string {
	ms := []string{http.MethodGet}
	for _, rt := range routes {
		for _, m := range rt.methods() {
			if !slices.Contains(ms, m) {
				ms = append(ms, m)
			}
		}
	}
	slices.SortFunc(ms, func(a, b string) int { return methodOrder(a) - methodOrder(b) })
	return ms
}

// FunctionJSON is the function.json of fn, as the host reads it.
func FunctionJSON(fn Function) []byte {
	var b bytes.Buffer
	b.WriteString("{\n  \"bindings\": [")
	for i, bd := range fn.Trigger.bindings() {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n    {")
		for j, kv := range bd {
			if j > 0 {
				b.WriteString(",")
			}
			k, _ := json.Marshal(kv[0])
			v, _ := json.Marshal(kv[1])
			b.WriteString("\n      ")
			b.Write(k)
			b.WriteString(": ")
			b.Write(v)
		}
		b.WriteString("\n    }")
	}
	b.WriteString("\n  ]\n}\n")
	return b.Bytes()
}

// FunctionNames lists the names of Functions, sorted.
func FunctionNames() []string {
	var out []string
	for _, fn := range Functions() {
		out = append(out, fn.Name)
	}
	slices.Sort(out)
	return out
}
