package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/recovery"
)

// Manager is the management service as the HTTP functions use it.
type Manager interface {
	List(ctx context.Context) ([]manage.ProfileView, error)
	Get(ctx context.Context, name string) (manage.ProfileView, error)
	Create(ctx context.Context, p profile.Profile, activate bool) (manage.ProfileView, error)
	Update(ctx context.Context, name string, p profile.Profile, ifMatch string) (manage.ProfileView, error)
	Delete(ctx context.Context, name, ifMatch string) (manage.DeleteResult, error)
	Activate(ctx context.Context, name, ifMatch string) (manage.ProfileView, error)
	Deactivate(ctx context.Context, name, ifMatch string) (manage.ProfileView, error)
	Validate(ctx context.Context, p profile.Profile) error
	Test(ctx context.Context, name string) (manage.TestReport, error)
	Status(ctx context.Context, name string) (manage.ProfileStatus, error)
	SourceEntities(ctx context.Context) (manage.SourceCatalog, error)
	Metrics(ctx context.Context, name string, hours int) (manage.ProfileMetrics, error)
	Failures(ctx context.Context, name string, q manage.FailuresQuery) (recovery.FailuresReport, error)
	ResyncFailures(ctx context.Context, name, entity string) (recovery.ResyncReport, error)
	ResyncEntity(ctx context.Context, name, entity string) (recovery.EntityResync, error)
	Reconcile(ctx context.Context, name, entity string, limit int) (recovery.ReconcileReport, error)
}

// RoutePrefix is the host's default extensions.http.routePrefix.
const RoutePrefix = "api"

// Route is one HTTP function: a route template (under /api/) and what each
// method does there. Adding a route is one entry in apiRoutes.
type Route struct {
	Function string // the function's name (its folder under functions/)
	Template string // route template: literal segments and {param}s
	Ops      map[string]Op
}

func (rt Route) methods() []string {
	var ms []string
	for m := range rt.Ops {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b string) int { return methodOrder(a) - methodOrder(b) })
	return ms
}

func methodOrder(m string) int {
	return slices.Index([]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, m)
}

// Params are the route's {param} names, in order.
func (rt Route) Params() []string {
	var out []string
	for _, seg := range strings.Split(rt.Template, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, seg[1:len(seg)-1])
		}
	}
	return out
}

// Op is one operation: what it reads and answers (for the OpenAPI
// document) and the call to the service.
type Op struct {
	ID      string
	Summary string
	// Body is a value of the request body's type; nil: no body.
	Body any
	// Query lists the query parameters it reads.
	Query []QueryParam
	// IfMatch: the operation honours If-Match (412 when stale).
	IfMatch bool
	// Result is a value of the success answer's type; Status its code
	// (default 200).
	Result any
	Status int
	// Errors lists the problem statuses it can answer besides 401 and 500.
	Errors []int
	call   func(ctx context.Context, m Manager, c *apiCall) (any, error)
}

// QueryParam is a documented query parameter.
type QueryParam struct {
	Name, Description, Type string // Type: boolean, integer, string
}

// apiCall is one request to an operation.
type apiCall struct {
	req    *HTTPRequest
	name   string // {name}
	me     Me
	entity string // {entity}
}

func (c *apiCall) profileBody() (profile.Profile, error) {
	p, err := profile.Decode(c.req.Body)
	if err != nil {
		return profile.Profile{}, &badRequestError{fields: profile.FieldErrors(err)}
	}
	return p, nil
}

func (c *apiCall) boolQuery(name string) (bool, error) {
	v, ok := c.req.Query[name]
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("?"+name, fmt.Sprintf("%q is not true or false", v))
	}
	return b, nil
}

// intQueryIn reads an integer query parameter within [lo, hi]; def when absent.
func (c *apiCall) intQueryIn(name string, def, lo, hi int) (int, error) {
	v, ok := c.req.Query[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("?"+name, fmt.Sprintf("%q is not a whole number from %d to %d", v, lo, hi))
	}
	return n, nil
}

func (c *apiCall) intQuery(name string) (int, error) {
	v, ok := c.req.Query[name]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badRequest("?"+name, fmt.Sprintf("%q is not a whole number", v))
	}
	return n, nil
}

func (c *apiCall) ifMatch() string { return strings.TrimSpace(c.req.Header("If-Match")) }

// ProfileList is the answer of GET /api/profiles.
type ProfileList struct {
	Profiles []manage.ProfileView `json:"profiles"`
}

// ValidationResult is the answer of POST /api/profiles/validate for a
// valid document (an invalid one is a 422 problem).
type ValidationResult struct {
	Valid bool `json:"valid"`
}

// apiRoutes is every HTTP function of the management API.
func apiRoutes() []Route {
	view := manage.ProfileView{}
	doc := profile.Profile{}
	nameErrs := []int{http.StatusNotFound}
	return []Route{
		{"Profiles", "profiles", map[string]Op{
			http.MethodGet: {ID: "listProfiles", Summary: "List the Export Profiles", Result: ProfileList{},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					ps, err := m.List(ctx)
					if ps == nil {
						ps = []manage.ProfileView{}
					}
					return ProfileList{Profiles: ps}, err
				}},
			http.MethodPost: {ID: "createProfile", Summary: "Create an Export Profile (Inactive unless ?activate=true)", Body: doc, Result: view, Status: http.StatusCreated,
				Query:  []QueryParam{{"activate", "create and activate (DES: Create and Activate)", "boolean"}},
				Errors: []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					activate, err := c.boolQuery("activate")
					if err != nil {
						return nil, err
					}
					p, err := c.profileBody()
					if err != nil {
						return nil, err
					}
					return m.Create(ctx, p, activate)
				}},
		}},
		{"ProfileValidate", "profiles/validate", map[string]Op{
			http.MethodPost: {ID: "validateProfile", Summary: "Check a profile document without saving it", Body: doc, Result: ValidationResult{},
				Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					p, err := c.profileBody()
					if err != nil {
						return nil, err
					}
					if err := m.Validate(ctx, p); err != nil {
						return nil, err
					}
					return ValidationResult{Valid: true}, nil
				}},
		}},
		{"Profile", "profiles/{name}", map[string]Op{
			http.MethodGet: {ID: "getProfile", Summary: "Read an Export Profile (its ETag in the ETag header)", Result: view, Errors: nameErrs,
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) { return m.Get(ctx, c.name) }},
			http.MethodPut: {ID: "updateProfile", Summary: "Replace an Export Profile's document", Body: doc, Result: view, IfMatch: true,
				Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity, http.StatusServiceUnavailable},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					p, err := c.profileBody()
					if err != nil {
						return nil, err
					}
					return m.Update(ctx, c.name, p, c.ifMatch())
				}},
			http.MethodDelete: {ID: "deleteProfile", Summary: "Delete an Export Profile, its state and failed records (the destination tables stay)", Result: manage.DeleteResult{}, IfMatch: true,
				Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					return m.Delete(ctx, c.name, c.ifMatch())
				}},
		}},
		{"ProfileActivate", "profiles/{name}/activate", map[string]Op{
			http.MethodPost: {ID: "activateProfile", Summary: "Start replicating (resumes from the saved positions)", Result: view, IfMatch: true,
				Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					return m.Activate(ctx, c.name, c.ifMatch())
				}},
		}},
		{"ProfileDeactivate", "profiles/{name}/deactivate", map[string]Op{
			http.MethodPost: {ID: "deactivateProfile", Summary: "Stop polling (queued changes are still applied)", Result: view, IfMatch: true,
				Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					return m.Deactivate(ctx, c.name, c.ifMatch())
				}},
		}},
		{"ProfileTest", "profiles/{name}/test", map[string]Op{
			http.MethodPost: {ID: "testProfile", Summary: "Check the secret, destination, permissions and entities of a saved profile", Result: manage.TestReport{}, Errors: nameErrs,
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) { return m.Test(ctx, c.name) }},
		}},
		{"ProfileStatus", "profiles/{name}/status", map[string]Op{
			http.MethodGet: {ID: "profileStatus", Summary: "State, Failed Notifications and each entity's phase, counters, last sync, lag and last error", Result: manage.ProfileStatus{}, Errors: nameErrs,
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) { return m.Status(ctx, c.name) }},
		}},
		{"ProfileMetrics", "profiles/{name}/metrics", map[string]Op{
			http.MethodGet: {ID: "profileMetrics", Summary: "Each entity's rows applied, deleted and failed and its lag, per minute, over the last hours (kept 48 h)", Result: manage.ProfileMetrics{},
				Query:  []QueryParam{{"hours", fmt.Sprintf("how many hours back, 1 to %d (default 6)", manage.MaxMetricsHours), "integer"}},
				Errors: []int{http.StatusBadRequest, http.StatusNotFound},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					hours, err := c.intQueryIn("hours", 6, 1, manage.MaxMetricsHours)
					if err != nil {
						return nil, err
					}
					return m.Metrics(ctx, c.name, hours)
				}},
		}},
		{"Me", "me", map[string]Op{
			http.MethodGet: {ID: "me", Summary: "Who the caller is signed in as, and where to sign in and out (the web UI shows it)", Result: Me{},
				call: func(_ context.Context, _ Manager, c *apiCall) (any, error) { return c.me, nil }},
		}},
		{"ProfileFailures", "profiles/{name}/failures", map[string]Op{
			http.MethodGet: {ID: "profileFailures", Summary: "Failed records: counts per entity, the latest failure and resync log lines, a read-only URL of the failures container (valid 24 hours at most)",
				Result: recovery.FailuresReport{}, Errors: []int{http.StatusBadRequest, http.StatusNotFound},
				Query: []QueryParam{{"lines", "how many of the latest log lines to show (default 20, at most 1000)", "integer"},
					{"urlHours", "how long the URL is valid: 1-24 hours (default 24)", "integer"}},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					lines, err := c.intQuery("lines")
					if err != nil {
						return nil, err
					}
					hours, err := c.intQuery("urlHours")
					if err != nil {
						return nil, err
					}
					return m.Failures(ctx, c.name, manage.FailuresQuery{Lines: lines, URLHours: hours})
				}},
		}},
		{"ProfileFailuresResync", "profiles/{name}/failures/resync", map[string]Op{
			http.MethodPost: {ID: "resyncFailures", Summary: "Resync failed records: read them again from Dataverse and apply them; those refused again are logged under forcerefreshfailurelog/",
				Result: recovery.ResyncReport{}, Errors: []int{http.StatusNotFound},
				Query: []QueryParam{{"entity", "only the failed records of this entity", "string"}},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					return m.ResyncFailures(ctx, c.name, c.req.Query["entity"])
				}},
		}},
		{"EntityResync", "profiles/{name}/entities/{entity}/resync", map[string]Op{
			http.MethodPost: {ID: "resyncEntity", Summary: "Read the entity again in full over its table (nothing dropped); rows the source no longer has are removed when the read is done",
				Result: recovery.EntityResync{}, Errors: []int{http.StatusNotFound, http.StatusConflict},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					return m.ResyncEntity(ctx, c.name, c.entity)
				}},
		}},
		{"EntityReconcile", "profiles/{name}/entities/{entity}/reconcile", map[string]Op{
			http.MethodGet: {ID: "reconcileEntity", Summary: "Compare the entity's table with the source by id and version: counts, and the missing, extra and stale ids",
				Result: recovery.ReconcileReport{}, Errors: []int{http.StatusBadRequest, http.StatusNotFound},
				Query: []QueryParam{{"limit", "how many ids of each kind to list (default 20, at most 1000)", "integer"}},
				call: func(ctx context.Context, m Manager, c *apiCall) (any, error) {
					limit, err := c.intQuery("limit")
					if err != nil {
						return nil, err
					}
					return m.Reconcile(ctx, c.name, c.entity, limit)
				}},
		}},
		{"SourceEntities", "source/entities", map[string]Op{
			http.MethodGet: {ID: "sourceEntities", Summary: "The org's tables (change tracking, display names) and N:N relationships", Result: manage.SourceCatalog{},
				Errors: []int{http.StatusServiceUnavailable},
				call:   func(ctx context.Context, m Manager, c *apiCall) (any, error) { return m.SourceEntities(ctx) }},
		}},
		{"OpenAPI", "openapi.json", map[string]Op{
			http.MethodGet: {ID: "openapi", Summary: "This API's OpenAPI 3 document", Result: map[string]any{},
				call: func(context.Context, Manager, *apiCall) (any, error) { return OpenAPI(), nil }},
		}},
	}
}

// routes is apiRoutes, built once.
var routes = apiRoutes()

// matchRoute finds the route of a method and an escaped path under /api/
// (e.g. "profiles/crm/status"), as the host routes: among the routes whose
// template matches the path and that answer the method, the one with more
// literal segments wins (profiles/validate before profiles/{name}). It
// returns the route values, or the methods the path answers when none
// matched the method.
func matchRoute(method, path string) (Route, map[string]string, []string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return Route{}, nil, nil, false
		}
		segs[i] = u
	}
	var best Route
	var bestParams map[string]string
	bestLiterals, found := -1, false
	var allowed []string
	for _, rt := range routes {
		tmpl := strings.Split(rt.Template, "/")
		if len(tmpl) != len(segs) {
			continue
		}
		params, literals, ok := map[string]string{}, 0, true
		for i, t := range tmpl {
			if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
				if segs[i] == "" {
					ok = false
					break
				}
				params[t[1:len(t)-1]] = segs[i]
				continue
			}
			if !strings.EqualFold(t, segs[i]) {
				ok = false
				break
			}
			literals++
		}
		if !ok {
			continue
		}
		if _, answers := rt.Ops[method]; !answers {
			allowed = append(allowed, rt.methods()...)
			continue
		}
		if literals > bestLiterals {
			best, bestParams, bestLiterals, found = rt, params, literals, true
		}
	}
	if found {
		return best, bestParams, nil, true
	}
	slices.Sort(allowed)
	return Route{}, nil, slices.Compact(allowed), false
}

// RouteOf returns the route of a function.
func RouteOf(function string) (Route, bool) {
	for _, rt := range routes {
		if rt.Function == function {
			return rt, true
		}
	}
	return Route{}, false
}

// httpFunction answers one HTTP trigger invocation: the request is in
// Data.req, the answer goes to the "res" output. The invocation itself
// succeeds (200) whatever the API answers, as the host requires.
func (s *server) httpFunction(w http.ResponseWriter, r *http.Request) {
	fn := r.URL.Path[1:]
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	rt, _ := RouteOf(fn)
	var res HTTPResponse
	var hreq *HTTPRequest
	name, raw, err := s.trigger(fn, req.Data, HTTPRequestBinding)
	if err == nil {
		if hreq, err = DecodeHTTPRequest(raw); err != nil {
			err = fmt.Errorf("invalid %s value of the invocation: %w", name, err)
		}
	}
	// The host has checked the function key (authLevel function) before
	// it invoked this; the principal, when a trusted front names one, only
	// says who in the log line and /api/me.
	var who Caller
	if err != nil {
		res = problemResponse(Problem{Status: http.StatusBadRequest, Title: "Invalid HTTP invocation", Detail: err.Error()}, "")
	} else {
		who = s.apiCaller(hreq)
		res = s.serveAPI(r.Context(), rt, hreq, who)
	}
	line := fmt.Sprintf("%s %s → %d", methodOf(hreq), instance(hreq, rt), res.Status)
	if who.Display() != "" {
		line += " by " + who.Display()
	}
	s.ok(w, InvokeResponse{Outputs: map[string]any{HTTPResponseBinding: res.output()}, Logs: []string{line}})
}

func methodOf(r *HTTPRequest) string {
	if r == nil {
		return "?"
	}
	return r.Method
}

// instance is the request's path, for logs and problem details.
func instance(r *HTTPRequest, rt Route) string {
	if r != nil {
		if u, err := url.Parse(r.URL); err == nil && u.Path != "" {
			return u.Path
		}
	}
	return "/" + RoutePrefix + "/" + rt.Template
}

// serveAPI runs the operation of a request and builds its answer.
func (s *server) serveAPI(ctx context.Context, rt Route, r *HTTPRequest, who Caller) HTTPResponse {
	path := instance(r, rt)
	op, ok := rt.Ops[r.Method]
	if !ok {
		res := problemResponse(Problem{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Detail: fmt.Sprintf("%s does not answer %s; it answers %s", path, r.Method, strings.Join(rt.methods(), ", "))}, path)
		res.Headers["Allow"] = strings.Join(rt.methods(), ", ")
		return res
	}
	if s.o.Manager == nil && op.ID != "openapi" {
		return problemResponse(Problem{Status: http.StatusServiceUnavailable, Title: "The management service is not configured", Detail: "this handler was started without the management service"}, path)
	}
	c := &apiCall{req: r, name: r.Params["name"], entity: r.Params["entity"], me: s.me(who)}
	for _, p := range rt.Params() {
		if r.Params[p] == "" {
			return problemResponse(Problem{Status: http.StatusNotFound, Title: "Not found", Detail: "the route value {" + p + "} is missing"}, path)
		}
	}
	out, err := op.call(ctx, s.o.Manager, c)
	if err != nil {
		p := problemFor(err)
		if p.Status >= 500 {
			s.o.Logger.ErrorContext(ctx, "management API call failed", "method", r.Method, "path", path, "status", p.Status, "err", err)
		}
		return problemResponse(p, path)
	}
	status := op.Status
	if status == 0 {
		status = http.StatusOK
	}
	res := jsonResponse(status, out)
	if v, ok := out.(manage.ProfileView); ok {
		res.Headers["ETag"] = v.ETag
		if status == http.StatusCreated {
			res.Headers["Location"] = "/" + RoutePrefix + "/profiles/" + url.PathEscape(v.Name)
		}
	}
	return res
}

func jsonResponse(status int, v any) HTTPResponse {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return problemResponse(Problem{Status: http.StatusInternalServerError, Title: "The answer cannot be encoded", Detail: err.Error()}, "")
	}
	return HTTPResponse{Status: status, Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: append(b, '\n')}
}

func problemResponse(p Problem, path string) HTTPResponse {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Instance == "" {
		p.Instance = path
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	return HTTPResponse{Status: p.Status, Headers: map[string]string{"Content-Type": ProblemContentType}, Body: append(b, '\n')}
}
