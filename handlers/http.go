package handlers

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// HTTPRequest is an HTTP trigger's request, as the host sends it in
// Data.req (custom handlers without request forwarding): Url, Method,
// Query, Headers, Params (route values), Body.
type HTTPRequest struct {
	URL     string
	Method  string
	Query   map[string]string
	Headers http.Header
	Params  map[string]string
	Body    []byte
}

// Header returns the first value of a request header.
func (r *HTTPRequest) Header(name string) string { return r.Headers.Get(name) }

// maxHTTPBody bounds a request body the API reads.
const maxHTTPBody = 1 << 20

// DecodeHTTPRequest reads Data.req. The host's encodings differ between
// versions, so each is accepted: Query as an object or as a JSON string
// holding one, header and query values as strings or arrays of strings,
// Body as text, as JSON (object or array), or as base64 when the request
// was binary. The envelope's keys are the host's, matched exactly.
func DecodeHTTPRequest(raw json.RawMessage) (*HTTPRequest, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(raw, &env); err != nil || env == nil {
		return nil, fmt.Errorf("the HTTP request is not a JSON object")
	}
	r := &HTTPRequest{Query: map[string]string{}, Headers: http.Header{}, Params: map[string]string{}}
	if v, ok := env["Url"]; ok {
		if err := json.Unmarshal(v, &r.URL); err != nil {
			return nil, fmt.Errorf("Url: not a string")
		}
	}
	if err := json.Unmarshal(env["Method"], &r.Method); err != nil || r.Method == "" {
		return nil, fmt.Errorf("Method: missing or not a string")
	}
	r.Method = strings.ToUpper(r.Method)
	if v, ok := env["Query"]; ok {
		q, err := stringMap(v, true)
		if err != nil {
			return nil, fmt.Errorf("Query: %w", err)
		}
		for k, vals := range q {
			r.Query[k] = strings.Join(vals, ",")
		}
	}
	if v, ok := env["Headers"]; ok {
		h, err := stringMap(v, true)
		if err != nil {
			return nil, fmt.Errorf("Headers: %w", err)
		}
		for k, vals := range h {
			r.Headers[textproto.CanonicalMIMEHeaderKey(k)] = vals
		}
	}
	if v, ok := env["Params"]; ok {
		p, err := stringMap(v, true)
		if err != nil {
			return nil, fmt.Errorf("Params: %w", err)
		}
		for k, vals := range p {
			if len(vals) > 0 {
				r.Params[k] = vals[0]
			}
		}
	}
	if v, ok := env["Body"]; ok {
		b, err := httpBody(v, r.Headers.Get("Content-Type"))
		if err != nil {
			return nil, fmt.Errorf("Body: %w", err)
		}
		r.Body = b
	}
	if len(r.Body) > maxHTTPBody {
		return nil, fmt.Errorf("Body: larger than %d bytes", maxHTTPBody)
	}
	return r, nil
}

// stringMap reads an object of strings or string arrays; a JSON string
// holding such an object is read too when nested is set.
func stringMap(raw json.RawMessage, nested bool) (map[string][]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '"' && nested {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		return stringMap(json.RawMessage(s), false)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not an object")
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = []string{s}
			continue
		}
		var ss []string
		if err := json.Unmarshal(v, &ss); err == nil {
			out[k] = ss
			continue
		}
		// Numbers and booleans (route values such as {id:int}) as text.
		var any json.Number
		if err := json.Unmarshal(v, &any); err == nil {
			out[k] = []string{any.String()}
			continue
		}
		return nil, fmt.Errorf("%q is neither a string nor an array of strings", k)
	}
	return out, nil
}

// httpBody reads Data.req.Body: text (the usual), a JSON value the host
// parsed, or base64 for binary content types.
func httpBody(raw json.RawMessage, contentType string) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '{' || raw[0] == '[' {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("neither text nor JSON")
	}
	ct := strings.ToLower(contentType)
	if strings.HasPrefix(ct, "application/octet-stream") || strings.HasPrefix(ct, "multipart/") {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("binary content not in base64")
		}
		return b, nil
	}
	return []byte(s), nil
}

// HTTPResponse is what an HTTP function answers, sent to the host as the
// "res" output binding.
type HTTPResponse struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// output is the "res" value: all four keys, status as text (some host
// versions require every key; status codes may be strings).
func (r HTTPResponse) output() map[string]any {
	h := map[string]string{}
	for k, v := range r.Headers {
		h[k] = v
	}
	code := strconv.Itoa(r.Status)
	return map[string]any{"statusCode": code, "status": code, "headers": h, "body": string(r.Body)}
}
