package dataverse

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// readResponseError turns a non-200 response into a *ResponseError and
// closes its body. The body is the documented {"error":{"code","message"}}
// shape; anything else keeps only the status.
func readResponseError(resp *http.Response) *ResponseError {
	defer resp.Body.Close()
	e := &ResponseError{StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var wire struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.Code = strings.ToLower(strings.TrimSpace(wire.Error.Code))
		e.Message = wire.Error.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	// Drain what is left so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	return e
}

// parseRetryAfter reads Retry-After as seconds (Dataverse's form, possibly
// fractional) or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// jitteredBackoff is "full jitter" exponential backoff: uniform in
// [base/2, min(cap, base*2^attempt)], so synchronized clients spread out.
func jitteredBackoff(attempt int, base, limit time.Duration) time.Duration {
	d := base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	lo := base / 2
	if d <= lo {
		return d
	}
	return lo + rand.N(d-lo+1)
}
