// Package profile holds the Export Profile: which entities of an org go to
// which destination, and how. Validation names the field that is wrong.
package profile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Destination types.
const (
	SQLite    = "sqlite"
	Postgres  = "postgres"
	SQLServer = "sqlserver"
)

// Destination says where rows go. Connection is a secret (a connection string
// or, for SQLite, a file path); it is never logged or returned by the API.
type Destination struct {
	Type       string `json:"type"`
	Connection string `json:"connection,omitempty"`
}

// Profile is an Export Profile, with the DES defaults where a field is zero.
type Profile struct {
	Name           string      `json:"name"`
	Entities       []string    `json:"entities"`
	Schema         string      `json:"schema,omitempty"`
	Prefix         string      `json:"prefix,omitempty"`
	Destination    Destination `json:"destination"`
	WriteDeleteLog bool        `json:"writeDeleteLog,omitempty"`
	// RetryCount is how often a failing record is retried (DES: 0-20, default 12).
	RetryCount *int `json:"retryCount,omitempty"`
	// RetryIntervalSeconds is the wait between retries (DES: 0-3600, default 5).
	RetryIntervalSeconds *int `json:"retryIntervalSeconds,omitempty"`
}

// Defaults taken from the Data Export Service.
const (
	DefaultRetryCount           = 12
	DefaultRetryIntervalSeconds = 5
)

// Retries returns the effective retry count and interval.
func (p *Profile) Retries() (count, intervalSeconds int) {
	count, intervalSeconds = DefaultRetryCount, DefaultRetryIntervalSeconds
	if p.RetryCount != nil {
		count = *p.RetryCount
	}
	if p.RetryIntervalSeconds != nil {
		intervalSeconds = *p.RetryIntervalSeconds
	}
	return count, intervalSeconds
}

// SchemaOrDefault is the destination schema, with the dialect's default.
func (p *Profile) SchemaOrDefault() string {
	if p.Schema != "" {
		return p.Schema
	}
	switch p.Destination.Type {
	case SQLServer:
		return "dbo"
	case Postgres:
		return "public"
	}
	return "main"
}

var (
	alnum      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	nameRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)
	entityRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	ErrInvalid = errors.New("invalid profile")
)

// FieldError names the profile field that is wrong.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("profile field %q: %s", e.Field, e.Reason) }
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Validate checks every field before anything is built from the profile.
func (p *Profile) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if !nameRe.MatchString(p.Name) {
		bad("name", "must be 1-63 letters, digits, '-' or '_', starting with a letter or digit")
	}
	if len(p.Entities) == 0 {
		bad("entities", "at least one entity is required")
	}
	seen := map[string]bool{}
	for i, e := range p.Entities {
		switch {
		case !entityRe.MatchString(e):
			bad(fmt.Sprintf("entities[%d]", i), "%q is not an entity logical name (lowercase letters, digits, '_')", e)
		case seen[e]:
			bad(fmt.Sprintf("entities[%d]", i), "%q is listed twice", e)
		case e == "activitypointer":
			bad(fmt.Sprintf("entities[%d]", i), "activitypointer cannot be exported; select the concrete activity entities (email, phonecall, task, appointment)")
		}
		seen[e] = true
	}
	if p.Schema != "" && !alnum.MatchString(p.Schema) {
		bad("schema", "only letters and digits are allowed")
	}
	if p.Prefix != "" && (!alnum.MatchString(p.Prefix) || len(p.Prefix) >= 15) {
		bad("prefix", "only letters and digits, fewer than 15 characters")
	}
	switch p.Destination.Type {
	case SQLite, Postgres, SQLServer:
	case "":
		bad("destination.type", "is required (sqlite, postgres or sqlserver)")
	default:
		bad("destination.type", "%q is not one of sqlite, postgres, sqlserver", p.Destination.Type)
	}
	if strings.TrimSpace(p.Destination.Connection) == "" {
		bad("destination.connection", "is required")
	}
	if p.RetryCount != nil && (*p.RetryCount < 0 || *p.RetryCount > 20) {
		bad("retryCount", "must be 0-20")
	}
	if p.RetryIntervalSeconds != nil && (*p.RetryIntervalSeconds < 0 || *p.RetryIntervalSeconds > 3600) {
		bad("retryIntervalSeconds", "must be 0-3600")
	}
	return errors.Join(errs...)
}

// Version is a short fingerprint of everything in p, the connection
// string included: messages carry it so that an applier holding an older
// copy of the profile reads it again. A truncated hash, it reveals nothing
// of the connection string.
func (p Profile) Version() string {
	b, _ := json.Marshal(p)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// SameDestination reports whether p and q write to the same place: the same
// destination, schema and prefix. Entity state (delta links) is only valid
// for the destination it was built in.
func (p Profile) SameDestination(q Profile) bool {
	return p.Destination == q.Destination && p.SchemaOrDefault() == q.SchemaOrDefault() && p.Prefix == q.Prefix
}

// Redacted is p without its secret, fit for logs and API responses.
func (p Profile) Redacted() Profile {
	if p.Destination.Connection != "" {
		p.Destination.Connection = "***"
	}
	return p
}
