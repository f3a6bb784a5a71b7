package dataverse

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Dataverse error codes the client gives a meaning to (Web API hex form).
const (
	CodeExpiredVersionStamp             = "0x80044352" // change token (or metadata stamp) expired: full re-read
	CodeChangeTrackingNotEnabled        = "0x80072491"
	CodeChangeTrackingNotEnabledRelated = "0x80072492" // intersect entity whose related entities are not both tracked
	CodeRequestsLimit                   = "0x80072322"
	CodeExecutionTimeLimit              = "0x80072321"
	CodeConcurrencyLimit                = "0x80072326"
)

// Sentinel errors for errors.Is. A *ResponseError or *MalformedError matches
// the sentinel that describes it, so callers never compare codes or strings.
var (
	// ErrRebaseline: the stored change token is no longer valid; drop it and
	// start a new initial read. Dataverse never answers this with an empty delta.
	ErrRebaseline = errors.New("dataverse: change token expired, full re-read needed")
	// ErrChangeTrackingDisabled: the entity is not enabled for change tracking.
	ErrChangeTrackingDisabled = errors.New("dataverse: change tracking not enabled for entity")
	// ErrThrottled: a service protection limit was hit (HTTP 429) and the
	// client gave up waiting (retries exhausted or Retry-After too long).
	ErrThrottled = errors.New("dataverse: throttled by service protection limits")
	// ErrMalformed: the response could not be understood (bad or truncated
	// JSON, a value of the wrong type, a final page without a deltaLink).
	ErrMalformed = errors.New("dataverse: malformed response")
	// ErrNotFound: the entity (or its metadata) does not exist.
	ErrNotFound = errors.New("dataverse: not found")
	// ErrUnauthorized: authentication or authorization failed (401/403).
	ErrUnauthorized = errors.New("dataverse: unauthorized")
)

// ResponseError is a non-success HTTP answer of the Web API, carrying the
// Dataverse error code. It never holds the request URL or headers, so it is
// safe to log.
type ResponseError struct {
	StatusCode int
	Code       string // Dataverse hex code, e.g. 0x80072322; may be empty
	Message    string
	RetryAfter time.Duration // from the Retry-After header, 0 if absent
	Entity     string        // logical name of the entity being read, if known
	Page       int           // 1-based page of the read, 0 for metadata requests
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString("dataverse: ")
	if e.Entity != "" {
		b.WriteString(e.Entity)
		if e.Page > 0 {
			fmt.Fprintf(&b, " page %d", e.Page)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is maps the response onto the sentinel errors.
func (e *ResponseError) Is(target error) bool {
	code := strings.ToLower(e.Code)
	switch target {
	case ErrRebaseline:
		// The HTTP status for an expired token is unconfirmed (400 or 410): the code decides.
		return code == CodeExpiredVersionStamp || (e.StatusCode == http.StatusGone && code == "")
	case ErrChangeTrackingDisabled:
		return code == CodeChangeTrackingNotEnabled || code == CodeChangeTrackingNotEnabledRelated
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests ||
			code == CodeRequestsLimit || code == CodeExecutionTimeLimit || code == CodeConcurrencyLimit
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	}
	return false
}

// Temporary reports whether resending the same request may succeed.
func (e *ResponseError) Temporary() bool {
	return e.Is(ErrThrottled) || e.StatusCode >= 500 || e.StatusCode == http.StatusRequestTimeout
}

// MalformedError is a response the client could not decode. It names the
// entity and page so an operator can find the failing read.
type MalformedError struct {
	Entity string
	Page   int
	Reason string
	Err    error // underlying decode error, may be nil
}

func (e *MalformedError) Error() string {
	s := fmt.Sprintf("dataverse: malformed response for %s page %d: %s", e.Entity, e.Page, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *MalformedError) Unwrap() error { return e.Err }

func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

// IsRebaseline reports whether err asks for a new initial read.
func IsRebaseline(err error) bool { return errors.Is(err, ErrRebaseline) }

// IsThrottled reports whether err is a service protection rejection.
func IsThrottled(err error) bool { return errors.Is(err, ErrThrottled) }

// RetryAfter is the wait the service asked for, if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var re *ResponseError
	if errors.As(err, &re) && re.RetryAfter > 0 {
		return re.RetryAfter, true
	}
	return 0, false
}
