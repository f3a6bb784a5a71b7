package manage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/state"
)

// Errors a caller decides on; each face maps them once (HTTP: 404, 409,
// 412, 503; CLI: the message and a non-zero exit).
var (
	// ErrNotFound: no profile (or entity of it) by that name.
	ErrNotFound = errors.New("not found")
	// ErrExists: a profile of that name exists already.
	ErrExists = errors.New("already exists")
	// ErrStale: the profile changed since the ETag the request names was
	// read (If-Match); read it again and redo the change.
	ErrStale = errors.New("changed since it was read")
	// ErrUnavailable: something a check needs could not be reached (the
	// Dataverse org); nothing was changed.
	ErrUnavailable = errors.New("unavailable")
)

// InvalidError says what is wrong with a request, field by field (JSON
// pointers into the body).
type InvalidError struct {
	Fields []*profile.FieldError
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "invalid profile: " + strings.Join(parts, "; ")
}

// Invalid builds an *InvalidError from field errors (nil when err is nil).
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	fes := profile.FieldErrors(err)
	if len(fes) == 0 {
		fes = []*profile.FieldError{{Pointer: "", Reason: err.Error()}}
	}
	return &InvalidError{Fields: fes}
}

func notFound(name string) error {
	return fmt.Errorf("profile %q: %w", name, ErrNotFound)
}

// storeErr translates the store's errors into the service's.
func storeErr(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, state.ErrNotFound):
		return notFound(name)
	case errors.Is(err, state.ErrExists):
		return fmt.Errorf("profile %q: %w", name, ErrExists)
	case errors.Is(err, state.ErrPreconditionFailed):
		return fmt.Errorf("profile %q: %w (If-Match names an older ETag)", name, ErrStale)
	case errors.Is(err, profile.ErrInvalid):
		return Invalid(err)
	}
	return err
}
