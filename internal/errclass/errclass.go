// Package errclass sorts errors into the classes the applier acts on: a
// destination that cannot be reached now (transient), a record it refuses
// (record), a table behind its metadata (schema), and settings only an
// operator can fix (configuration). Everything else is Unknown, which keeps
// the old rule: retried with the profile's retries, then kept as failed
// records.
//
// One classifier for every dialect: the driver codes of PostgreSQL
// (SQLSTATE), SQLite (result codes) and SQL Server (error numbers) are
// mapped here, beside the generic rules (context deadlines, network
// errors), so that call sites branch on a class, never on error text.
package errclass

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
)

// Class is what kind of failure an error is.
type Class int

const (
	// Unknown is an error no rule recognises.
	Unknown Class = iota
	// Transient: the destination is unreachable, busy or failing over
	// (connection refused or lost, timeout, deadlock, throttling). Waiting
	// helps; the record is not at fault.
	Transient
	// Record: the destination refuses this record (constraint, conversion,
	// value too long). Other records of the batch may be fine.
	Record
	// Schema: the table lacks a column or is missing; it catches up when
	// the metadata is applied.
	Schema
	// Configuration: credentials, permissions or a missing database: an
	// operator must act; the records are not at fault.
	Configuration
)

var names = [...]string{Unknown: "unknown", Transient: "transient", Record: "record", Schema: "schema", Configuration: "configuration"}

func (c Class) String() string {
	if c < 0 || int(c) >= len(names) {
		return "unknown"
	}
	return names[c]
}

// Parse is the Class named s (String's form); Unknown for any other text.
func Parse(s string) Class {
	for i, n := range names {
		if n == s {
			return Class(i)
		}
	}
	return Unknown
}

// Waits reports whether an error of class c leaves the records alone and
// waits for the destination (transient, schema, configuration): retrying it
// must not use up a record's retries.
func (c Class) Waits() bool { return c == Transient || c == Schema || c == Configuration }

// Classer is implemented by errors that know their class (the sink's typed
// errors, and errors marked with With).
type Classer interface {
	ErrorClass() Class
}

// With marks err as being of class c. The mark wins over every rule that
// would look inside err; nil stays nil.
func With(c Class, err error) error {
	if err == nil {
		return nil
	}
	return &marked{c: c, err: err}
}

type marked struct {
	c   Class
	err error
}

func (m *marked) Error() string     { return m.err.Error() }
func (m *marked) Unwrap() error     { return m.err }
func (m *marked) ErrorClass() Class { return m.c }

// Of classifies err. It looks, in order, for a class an error in the chain
// declares (Classer, outermost first), a driver's code (PostgreSQL,
// SQL Server, SQLite), and then the generic signs of an unreachable
// destination: a context deadline or cancellation, a network error, a
// connection reset, refused or closed mid-stream.
func Of(err error) Class {
	if err == nil {
		return Unknown
	}
	var cl Classer
	if errors.As(err, &cl) {
		if c := cl.ErrorClass(); c != Unknown {
			return c
		}
	}
	if c, ok := postgres(err); ok {
		return c
	}
	if c, ok := sqlServer(err); ok {
		return c
	}
	if c, ok := sqlite(err); ok {
		return c
	}
	if generic(err) {
		return Transient
	}
	return Unknown
}

// generic reports the signs of a destination that could not be reached or
// answered too late, whatever the driver.
func generic(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The invocation ran out of time or the host is stopping: the
		// message comes back; the record is not at fault.
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// The server closed the connection mid-answer.
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true // dial, DNS, read and write failures, timeouts
	}
	return false
}
