package handlers

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/dataexport/dataexport/internal/webui"
)

// The web UI's function: its name and route (under /api/).
const (
	WebUI   = "WebUI"
	UIRoute = "ui/{*path}"
	// UIPath is where the UI is, for links and redirects.
	UIPath = "/" + RoutePrefix + "/ui/"
)

// uiFunction serves the web UI's files to a signed-in caller, as the
// management API's routes are served: through the host's HTTP envelope.
func (s *server) uiFunction(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	var res HTTPResponse
	var hreq *HTTPRequest
	name, raw, err := s.trigger(WebUI, req.Data, HTTPRequestBinding)
	if err == nil {
		if hreq, err = DecodeHTTPRequest(raw); err != nil {
			err = fmt.Errorf("invalid %s value of the invocation: %w", name, err)
		}
	}
	switch {
	case err != nil:
		res = problemResponse(Problem{Status: http.StatusBadRequest, Title: "Invalid HTTP invocation", Detail: err.Error()}, "")
	default:
		if _, ferr := s.caller(hreq); ferr != nil {
			res = problemResponse(Problem{Status: ferr.status, Title: ferr.title, Detail: ferr.detail}, UIPath)
		} else {
			res = uiAsset(hreq)
		}
	}
	s.ok(w, InvokeResponse{Outputs: map[string]any{HTTPResponseBinding: res.output()}, Logs: []string{fmt.Sprintf("%s %s → %d", methodOf(hreq), UIPath+pathParam(hreq), res.Status)}})
}

func pathParam(r *HTTPRequest) string {
	if r == nil {
		return ""
	}
	return strings.TrimPrefix(r.Params["path"], "/")
}

// uiAsset answers one file, with headers that keep the page to its own
// server (Content-Security-Policy) and revalidate it on every load (the
// binary may have been replaced).
func uiAsset(r *HTTPRequest) HTTPResponse {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		res := problemResponse(Problem{Status: http.StatusMethodNotAllowed, Title: "Method not allowed", Detail: "the web UI answers GET"}, UIPath)
		res.Headers["Allow"] = http.MethodGet
		return res
	}
	a, ok := webui.Lookup(pathParam(r))
	if !ok {
		return problemResponse(Problem{Status: http.StatusNotFound, Title: "Not found", Detail: "the web UI has no file " + pathParam(r)}, UIPath+pathParam(r))
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
