package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/profile"
)

// Problem is an RFC 9457 problem details object, the body of every error
// answer of the management API (application/problem+json).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Instance is the request path.
	Instance string `json:"instance,omitempty"`
	// Errors names each wrong field of the request by JSON pointer.
	Errors []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem is one wrong field.
type FieldProblem struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
}

// ProblemContentType is the media type of error answers.
const ProblemContentType = "application/problem+json"

// badRequestError is a request the API cannot read (body, query parameter).
type badRequestError struct{ fields []*profile.FieldError }

func (e *badRequestError) Error() string {
	parts := make([]string, len(e.fields))
	for i, f := range e.fields {
		parts[i] = f.Error()
	}
	return strings.Join(parts, "; ")
}

func badRequest(pointer, reason string) error {
	return &badRequestError{fields: []*profile.FieldError{{Pointer: pointer, Reason: reason}}}
}

// problemFor maps the management service's typed errors to HTTP: this is
// the one place where that mapping lives.
func problemFor(err error) Problem {
	var inv *manage.InvalidError
	var bad *badRequestError
	var param *manage.ParamError
	switch {
	case errors.As(err, &bad):
		return fieldProblem(http.StatusBadRequest, "The request cannot be read", bad.fields)
	case errors.As(err, &param):
		return fieldProblem(http.StatusBadRequest, "The request cannot be read", []*profile.FieldError{{Pointer: "?" + param.Name, Reason: param.Reason}})
	case errors.As(err, &inv):
		return fieldProblem(http.StatusUnprocessableEntity, "The profile is not valid", inv.Fields)
	case errors.Is(err, manage.ErrNotFound):
		return Problem{Status: http.StatusNotFound, Title: "Not found", Detail: err.Error()}
	case errors.Is(err, manage.ErrExists):
		return Problem{Status: http.StatusConflict, Title: "A profile of that name exists", Detail: err.Error()}
	case errors.Is(err, manage.ErrStale):
		return Problem{Status: http.StatusPreconditionFailed, Title: "The profile changed since it was read", Detail: err.Error() + "; GET it again for its current ETag and redo the change"}
	case errors.Is(err, manage.ErrState):
		return Problem{Status: http.StatusConflict, Title: "Not possible in the current state", Detail: err.Error()}
	case errors.Is(err, manage.ErrUnavailable):
		return Problem{Status: http.StatusServiceUnavailable, Title: "A service the check needs cannot be reached", Detail: err.Error()}
	}
	return Problem{Status: http.StatusInternalServerError, Title: "The operation failed", Detail: err.Error()}
}

func fieldProblem(status int, title string, fields []*profile.FieldError) Problem {
	p := Problem{Status: status, Title: title}
	var details []string
	for _, f := range fields {
		p.Errors = append(p.Errors, FieldProblem{Pointer: f.Pointer, Detail: f.Reason})
		details = append(details, f.Error())
	}
	p.Detail = strings.Join(details, "; ")
	return p
}
