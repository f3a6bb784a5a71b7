package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/dataexport/dataexport/internal/webui"
)

// The web UI's function: its name and route (under /api/).
const (
	WebUI   = "WebUI"
	UIRoute = "ui/{*path}"
	// UIPath is where the UI is, for links and redirects.
	UIPath = "/" + RoutePrefix + "/ui/"
	// UIAPIPath is where the UI calls the management API: the same routes
	// as under /api/, answered by the same operations, but reached through
	// the web UI's function, which takes the signed-in principal instead of
	// a function key.
	UIAPIPath = UIPath + "api/"
)

// uiFunction serves the web UI to a caller a trusted front has named (see
// Front): its files, and under api/ its calls to the management API,
// dispatched to the route table the API's own functions use. It is
// anonymous to the host, so it refuses everyone else itself: 401, or, for
// a browser opening a page, a redirect to the sign-in.
func (s *server) uiFunction(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	var res HTTPResponse
	var hreq *HTTPRequest
	var who Caller
	name, raw, err := s.trigger(WebUI, req.Data, HTTPRequestBinding)
	if err == nil {
		if hreq, err = DecodeHTTPRequest(raw); err != nil {
			err = fmt.Errorf("invalid %s value of the invocation: %w", name, err)
		}
	}
	sub := uiSubPath(hreq)
	switch {
	case err != nil:
		res = problemResponse(Problem{Status: http.StatusBadRequest, Title: "Invalid HTTP invocation", Detail: err.Error()}, "")
	default:
		c, ferr := s.caller(hreq)
		switch {
		case ferr != nil && s.o.Front != FrontNone && isNavigation(hreq, sub):
			res = s.signInRedirect(hreq)
		case ferr != nil:
			res = problemResponse(Problem{Status: ferr.status, Title: ferr.title, Detail: ferr.detail}, UIPath+sub)
		case sub == "api" || strings.HasPrefix(sub, "api/"):
			who = c
			res = s.uiAPI(r, hreq, strings.TrimPrefix(strings.TrimPrefix(sub, "api"), "/"), c)
		default:
			who = c
			res = uiAsset(hreq, sub)
		}
	}
	line := fmt.Sprintf("%s %s → %d", methodOf(hreq), UIPath+sub, res.Status)
	if who.Display() != "" {
		line += " by " + who.Display()
	}
	s.ok(w, InvokeResponse{Outputs: map[string]any{HTTPResponseBinding: res.output()}, Logs: []string{line}})
}

// uiAPI answers the UI's call to a management API route (path is what
// follows /api/ui/api/) with the route's operation, as the route's own
// function would.
func (s *server) uiAPI(r *http.Request, req *HTTPRequest, path string, who Caller) HTTPResponse {
	inst := UIAPIPath + path
	rt, params, allowed, ok := matchRoute(req.Method, path)
	switch {
	case !ok && len(allowed) > 0:
		res := problemResponse(Problem{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Detail: fmt.Sprintf("%s does not answer %s; it answers %s", inst, req.Method, strings.Join(allowed, ", "))}, inst)
		res.Headers["Allow"] = strings.Join(allowed, ", ")
		return res
	case !ok:
		return problemResponse(Problem{Status: http.StatusNotFound, Title: "Not found", Detail: "the management API has no route " + path}, inst)
	}
	// The browser sends the front's session cookie with any request to
	// this site, one another site's page makes included. A change must
	// carry a header no plain form or link can send (a script of another
	// origin cannot either without a CORS preflight this app never allows).
	if req.Method != http.MethodGet && req.Method != http.MethodHead && req.Header("X-Requested-With") != "XMLHttpRequest" {
		return problemResponse(Problem{Status: http.StatusForbidden, Title: "Forbidden", Detail: "a change through the web UI needs the header X-Requested-With: XMLHttpRequest (the UI sends it); refused as a possible cross-site request"}, inst)
	}
	req.Params = params
	return s.serveAPI(r.Context(), rt, req, who)
}

// uiSubPath is the part of the request's path after /api/ui/: from the
// request's URL (each segment unescaped, so that an escaped slash stays
// inside its segment), else the host's {path} route value.
func uiSubPath(r *HTTPRequest) string {
	if r == nil {
		return ""
	}
	if u, err := url.Parse(r.URL); err == nil {
		if rest, ok := strings.CutPrefix(u.EscapedPath(), UIPath); ok {
			return rest
		}
		if u.EscapedPath()+"/" == UIPath {
			return ""
		}
	}
	return strings.TrimPrefix(r.Params["path"], "/")
}

// isNavigation: a browser opening a page of the UI (not a script's call,
// not an asset the page loads), which is better sent to the sign-in than
// shown a 401.
func isNavigation(r *HTTPRequest, sub string) bool {
	if r == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) || strings.HasPrefix(sub, "api/") || sub == "api" {
		return false
	}
	return (sub == "" || sub == "index.html") && strings.Contains(r.Header("Accept"), "text/html")
}

// signInRedirect sends a browser to the front's sign-in, back to the UI
// after it.
func (s *server) signInRedirect(r *HTTPRequest) HTTPResponse {
	back := UIPath
	if u, err := url.Parse(r.URL); err == nil && strings.HasPrefix(u.Path, UIPath) {
		back = u.Path
	}
	login := s.me(Caller{}).SignInURL + "?post_login_redirect_uri=" + url.QueryEscape(back)
	return HTTPResponse{Status: http.StatusFound, Headers: map[string]string{"Location": login, "Cache-Control": "no-store", "Content-Type": "text/plain; charset=utf-8"}, Body: []byte("sign in at " + login + "\n")}
}

// uiAsset answers one file, with headers that keep the page to its own
// server (Content-Security-Policy) and revalidate it on every load (the
// binary may have been replaced).
func uiAsset(r *HTTPRequest, path string) HTTPResponse {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		res := problemResponse(Problem{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Detail: "the web UI's files answer GET"}, UIPath+path)
		res.Headers["Allow"] = http.MethodGet
		return res
	}
	p, err := url.PathUnescape(path)
	if err != nil {
		p = path
	}
	a, ok := webui.Lookup(p)
	if !ok {
		return problemResponse(Problem{Status: http.StatusNotFound, Title: "Not found", Detail: "the web UI has no file " + path}, UIPath+path)
	}
	h := map[string]string{
		"Content-Type":            a.ContentType,
		"ETag":                    a.ETag,
		"Cache-Control":           "no-cache",
		"Content-Security-Policy": webui.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, tag := range strings.Split(r.Header("If-None-Match"), ",") {
		if strings.TrimSpace(tag) == a.ETag {
			return HTTPResponse{Status: http.StatusNotModified, Headers: h}
		}
	}
	body := a.Body
	if r.Method == http.MethodHead {
		body = nil
	}
	return HTTPResponse{Status: http.StatusOK, Headers: h, Body: body}
}
