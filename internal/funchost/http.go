package funchost

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// httpRoute is an HTTP-triggered function's route.
type httpRoute struct {
	function string
	binding  string // the trigger binding name (Data key)
	// anonymous: authLevel anonymous, invoked without Options.Authorize
	// (the function refuses on its own what it must); any other level
	// needs Authorize, as the host needs a key.
	anonymous bool
	out       string // the http output binding name ("res", or "$return")
	segs      []string
	methods   []string // upper case; empty: every method
	literals  int      // literal segments, for precedence
	// catchAll names a last {*name} segment, which takes the rest of the
	// path (none included), as ASP.NET routing does.
	catchAll string
}

// newHTTPRoute parses a function's route template. Literal segments,
// {param} segments and a last {*catchall} segment are served; route
// constraints and optional parameters are refused, never served half.
func newHTTPRoute(fn Function, b Binding) (*httpRoute, error) {
	rt := &httpRoute{function: fn.Name, binding: b.Name, out: "$return", anonymous: strings.EqualFold(b.AuthLevel, "anonymous")}
	for _, ob := range fn.Bindings {
		if ob.Direction == "out" && ob.Type == "http" {
			rt.out = ob.Name
		}
	}
	tmpl := strings.Trim(b.Route, "/")
	if tmpl == "" {
		tmpl = fn.Name // the host's default route is the function name
	}
	segs := strings.Split(tmpl, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{*") && strings.HasSuffix(seg, "}") && i == len(segs)-1 {
			name := seg[2 : len(seg)-1]
			if name == "" || strings.ContainsAny(name, ":?*={}") {
				return nil, fmt.Errorf("function %s: route %q: segment %q is not supported by the standalone host", fn.Name, b.Route, seg)
			}
			rt.catchAll = name
			continue
		}
		if strings.HasPrefix(seg, "{") {
			name := strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}")
			if !strings.HasSuffix(seg, "}") || name == "" || strings.ContainsAny(name, ":?*=") {
				return nil, fmt.Errorf("function %s: route %q: segment %q is not supported by the standalone host (only literal and {param} segments)", fn.Name, b.Route, seg)
			}
		} else {
			if strings.ContainsAny(seg, "{}") || seg == "" {
				return nil, fmt.Errorf("function %s: route %q: segment %q is not supported", fn.Name, b.Route, seg)
			}
			rt.literals++
		}
		rt.segs = append(rt.segs, seg)
	}
	for _, m := range b.Methods {
		rt.methods = append(rt.methods, strings.ToUpper(m))
	}
	return rt, nil
}

// match returns the route values of path's segments, or false.
func (rt *httpRoute) match(segs []string) (map[string]string, bool) {
	params := map[string]string{}
	if rt.catchAll != "" {
		if len(segs) < len(rt.segs) {
			return nil, false
		}
		rest := strings.Join(segs[len(rt.segs):], "/")
		if len(segs) == len(rt.segs)+1 && segs[len(rt.segs)] == "" {
			rest = ""
		}
		params[rt.catchAll] = rest
		segs = segs[:len(rt.segs)]
	}
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	for i, s := range rt.segs {
		if strings.HasPrefix(s, "{") {
			if segs[i] == "" {
				return nil, false
			}
			params[s[1:len(s)-1]] = segs[i]
			continue
		}
		if !strings.EqualFold(s, segs[i]) {
			return nil, false
		}
	}
	return params, true
}

func (rt *httpRoute) allows(method string) bool {
	return len(rt.methods) == 0 || slices.Contains(rt.methods, method)
}

// MatchRoute finds the HTTP function answering method and path (the part
// after the route prefix, e.g. "profiles/crm"), as the host routes: among
// the routes matching the path and the method, the one with more literal
// segments wins (profiles/validate before profiles/{name}). It returns the
// function, its route values, and the methods the path allows when none
// matched the method.
func (h *Host) MatchRoute(method, path string) (function string, params map[string]string, allowed []string) {
	rt, params, allowed := h.matchRoute(method, path)
	if rt == nil {
		return "", nil, allowed
	}
	return rt.function, params, nil
}

func (h *Host) matchRoute(method, path string) (*httpRoute, map[string]string, []string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, nil
		}
		segs[i] = u
	}
	var best *httpRoute
	var bestParams map[string]string
	var allowed []string
	for _, rt := range h.routes {
		params, ok := rt.match(segs)
		if !ok {
			continue
		}
		if !rt.allows(method) {
			allowed = append(allowed, rt.methods...)
			continue
		}
		if best == nil || rt.literals > best.literals || (rt.literals == best.literals && best.catchAll != "" && rt.catchAll == "") {
			best, bestParams = rt, params
		}
	}
	if best != nil {
		return best, bestParams, nil
	}
	slices.Sort(allowed)
	return nil, nil, slices.Compact(allowed)
}

// maxAPIBody bounds a request body the standalone host forwards.
const maxAPIBody = 1 << 20

// ServeHTTP answers /<routePrefix>/... like the Functions host behind App
// Service Authentication: the principal headers a caller sent are dropped
// and Options.Identify may set its own (the sign-in in front of the host);
// then the HTTP function of the route is found and, unless its authLevel
// is anonymous, the caller is checked (Options.Authorize, the host's key
// check; with none, those functions are refused and say why); the host's
// HTTP-trigger invocation is POSTed to the handler, and the function's
// "res" output is the answer. Credentials (x-functions-key, the code query
// parameter, Authorization, cookies) are consumed here and not handed to
// the function.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix := "/" + h.o.Config.RoutePrefix + "/"
	if h.o.Config.RoutePrefix == "" {
		prefix = "/"
	}
	if !strings.HasPrefix(r.URL.Path, prefix) {
		writeProblem(w, http.StatusNotFound, "Not found", fmt.Sprintf("the API is under %s", prefix), r.URL.Path)
		return
	}
	// As App Service Authentication does, the caller's own principal
	// headers are dropped: only Identify and Authorize may set them.
	for k := range r.Header {
		if u := strings.ToUpper(k); strings.HasPrefix(u, "X-MS-CLIENT-PRINCIPAL") || strings.HasPrefix(u, "X-MS-TOKEN-") {
			r.Header.Del(k)
		}
	}
	if h.o.Identify != nil {
		h.o.Identify(r)
	}
	rt, params, allowed := h.matchRoute(r.Method, strings.TrimPrefix(r.URL.EscapedPath(), strings.TrimSuffix(prefix, "/")))
	if rt == nil {
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeProblem(w, http.StatusMethodNotAllowed, "Method not allowed", fmt.Sprintf("%s answers %s", r.URL.Path, strings.Join(allowed, ", ")), r.URL.Path)
			return
		}
		writeProblem(w, http.StatusNotFound, "Not found", "no function answers "+r.URL.Path, r.URL.Path)
		return
	}
	if !rt.anonymous {
		if h.o.Authorize == nil {
			writeProblem(w, http.StatusServiceUnavailable, "The management API is disabled", h.o.APIDisabledReason, r.URL.Path)
			return
		}
		if err := h.o.Authorize(r); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dataexport"`)
			writeProblem(w, http.StatusUnauthorized, "Unauthorized", err.Error(), r.URL.Path)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAPIBody+1))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "The request body cannot be read", err.Error(), r.URL.Path)
		return
	}
	if len(body) > maxAPIBody {
		writeProblem(w, http.StatusRequestEntityTooLarge, "Request body too large", fmt.Sprintf("at most %d bytes", maxAPIBody), r.URL.Path)
		return
	}
	inv := h.httpInvocation(r, rt, params, body)
	out, err := h.invoke(r.Context(), rt.function, inv)
	if err != nil {
		// The host answers 500 when the function fails.
		h.o.Logger.Error("HTTP function failed", "function", rt.function, "err", err)
		writeProblem(w, http.StatusInternalServerError, "The function failed", "function "+rt.function+" failed; see the log", r.URL.Path)
		return
	}
	if err := writeHTTPOutput(w, rt, out); err != nil {
		h.o.Logger.Error("HTTP function answered no usable output", "function", rt.function, "err", err)
		writeProblem(w, http.StatusInternalServerError, "The function's answer cannot be used", err.Error(), r.URL.Path)
	}
}

// credentialHeaders never reach the function.
var credentialHeaders = []string{"X-Functions-Key", "Authorization", "Cookie"}

// httpInvocation is the host's invocation of an HTTP trigger (no request
// forwarding): Data.<binding> holds Url, Method, Query, Headers (arrays of
// values), Params (route values), Identities and Body (text; base64 for a
// binary content type; absent without a body). Metadata holds the route
// and query values, JSON-encoded a second time, and sys.
func (h *Host) httpInvocation(r *http.Request, rt *httpRoute, params map[string]string, body []byte) map[string]any {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := r.URL.Query()
	q.Del("code")
	query := map[string]string{}
	for k, vs := range q {
		query[k] = strings.Join(vs, ",")
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	headers := map[string][]string{}
	for k, vs := range r.Header {
		if slices.Contains(credentialHeaders, http.CanonicalHeaderKey(k)) {
			continue
		}
		headers[k] = vs
	}
	req := map[string]any{
		"Url": u.String(), "Method": r.Method, "Query": query, "Headers": headers,
		"Params": params, "Identities": "[]",
	}
	if len(body) > 0 {
		ct := strings.ToLower(r.Header.Get("Content-Type"))
		if strings.HasPrefix(ct, "application/octet-stream") || strings.HasPrefix(ct, "multipart/") {
			req["Body"] = base64.StdEncoding.EncodeToString(body)
		} else {
			req["Body"] = string(body)
		}
	}
	meta := map[string]any{"sys": h.sys(rt.function, h.o.Now().UTC())}
	for k, v := range query {
		meta[k] = strconv.Quote(v)
	}
	for k, v := range params {
		meta[k] = strconv.Quote(v)
	}
	meta["Query"] = query
	meta["Headers"] = headers
	return map[string]any{"Data": map[string]any{rt.binding: req}, "Metadata": meta}
}

// writeHTTPOutput writes the function's HTTP output: Outputs.<res> (or
// ReturnValue for $return), an object whose keys are matched without
// regard to case: statusCode (or status; a number or text), headers, body
// (text; another JSON value is sent as JSON).
func writeHTTPOutput(w http.ResponseWriter, rt *httpRoute, out map[string]any) error {
	var v any
	if rt.out == "$return" {
		v = out["ReturnValue"]
	} else if outputs, ok := out["Outputs"].(map[string]any); ok {
		v = outputs[rt.out]
	}
	res, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("function %s set no %q output object", rt.function, rt.out)
	}
	field := func(name string) (any, bool) {
		for k, x := range res {
			if strings.EqualFold(k, name) {
				return x, true
			}
		}
		return nil, false
	}
	status := http.StatusOK
	for _, k := range []string{"statusCode", "status"} {
		if x, ok := field(k); ok && x != nil {
			n, err := statusOf(x)
			if err != nil {
				return fmt.Errorf("function %s: %s: %w", rt.function, k, err)
			}
			status = n
			break
		}
	}
	if hx, ok := field("headers"); ok && hx != nil {
		hm, ok := hx.(map[string]any)
		if !ok {
			return fmt.Errorf("function %s: headers is not an object", rt.function)
		}
		for k, x := range hm {
			switch val := x.(type) {
			case string:
				w.Header().Set(k, val)
			case []any:
				for _, e := range val {
					w.Header().Add(k, fmt.Sprint(e))
				}
			default:
				w.Header().Set(k, fmt.Sprint(val))
			}
		}
	}
	var body []byte
	if bx, ok := field("body"); ok && bx != nil {
		switch val := bx.(type) {
		case string:
			body = []byte(val)
		default:
			b, err := json.Marshal(val)
			if err != nil {
				return err
			}
			body = b
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", "application/json")
			}
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

func statusOf(x any) (int, error) {
	var n int
	switch v := x.(type) {
	case float64:
		n = int(v)
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not a status code", v)
		}
		n = i
	default:
		return 0, errors.New("not a status code")
	}
	if n < 100 || n > 599 {
		return 0, fmt.Errorf("%d is not a status code", n)
	}
	return n, nil
}

// writeProblem answers an error of the host itself as problem+json.
func writeProblem(w http.ResponseWriter, status int, title, detail, instance string) {
	b, _ := json.MarshalIndent(struct {
		Type     string `json:"type"`
		Title    string `json:"title"`
		Status   int    `json:"status"`
		Detail   string `json:"detail,omitempty"`
		Instance string `json:"instance,omitempty"`
	}{"about:blank", title, status, detail, instance}, "", "  ")
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
