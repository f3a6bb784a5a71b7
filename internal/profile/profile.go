// Package profile holds the Export Profile: which entities of an org go to
// which destination, and how. Validation names the field that is wrong, as
// a JSON pointer into the profile document (/entities/2).
package profile

import (
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

// Destination says where rows go. The connection string is a secret: a
// profile names the Key Vault secret holding it (KeyVaultSecretURL, the DES
// "Key Vault URL"), and the app reads it from there when it opens the
// destination. Connection holds the string itself only for local
// development (LOCAL_DEVELOPMENT=true, see Policy) and in profiles saved
// before Key Vault was read; it is never logged or returned.
type Destination struct {
	Type              string `json:"type"`
	KeyVaultSecretURL string `json:"keyVaultSecretUrl,omitempty"`
	Connection        string `json:"connection,omitempty"`
}

// UsesKeyVault reports whether the connection string is read from Key Vault.
func (d Destination) UsesKeyVault() bool { return d.KeyVaultSecretURL != "" }

// State is whether a profile replicates: DES profiles were created, then
// activated.
type State string

const (
	// Inactive: saved, not polled. A profile is created Inactive unless it
	// is created with activation.
	Inactive State = "Inactive"
	// Active: its entities are polled on every ChangePoller run.
	Active State = "Active"
)

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
	// LabelViews configures the view beside each entity table that shows
	// every choice column's label (ours; DES had none).
	LabelViews *LabelViews `json:"labelViews,omitempty"`

	// The store sets these when it reads a profile; they are not part of
	// the profile document a client sends.

	// State is Active or Inactive. A profile stored before states existed
	// has none and counts as Active (it was replicating when it was saved).
	State State `json:"-"`
	// Revision changes on every save: messages carry it so that an applier
	// holding an older copy of the profile reads it again. It is random (or
	// the row's ETag), never derived from the profile's content, which holds
	// a secret.
	Revision string `json:"-"`
	// ETag is the stored row's ETag, for conditional updates (If-Match).
	ETag string `json:"-"`
}

// LabelViews names the label views and picks their language. The zero
// value is <table>_labels in the org's base language.
type LabelViews struct {
	// Name is the view's name, {table} standing for the table's
	// ("{table}_labels" when empty).
	Name string `json:"name,omitempty"`
	// Language is the language code (LCID, e.g. 1031) of the labels; 0
	// or absent: the org's base language.
	Language int `json:"language,omitempty"`
}

// LabelViewName is the label views' name template ("" = the default).
func (p *Profile) LabelViewName() string {
	if p.LabelViews == nil {
		return ""
	}
	return p.LabelViews.Name
}

// LabelLanguage is the language of the label views (0 = the org's base
// language).
func (p *Profile) LabelLanguage() int {
	if p.LabelViews == nil {
		return 0
	}
	return p.LabelViews.Language
}

// IsActive reports whether the poller reads the profile's entities.
func (p *Profile) IsActive() bool { return p.State == "" || p.State == Active }

// EffectiveState is the profile's state, Active for a profile stored
// without one.
func (p *Profile) EffectiveState() State {
	if p.State == "" {
		return Active
	}
	return p.State
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

// ReservedNames cannot name a profile: they are route segments of the
// management API (POST /api/profiles/validate).
var ReservedNames = []string{"validate"}

var (
	alnum      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	nameRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)
	entityRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	viewRe     = regexp.MustCompile(`^[A-Za-z0-9_]{1,63}$`)
	ErrInvalid = errors.New("invalid profile")
)

// FieldError names the field of a profile document that is wrong, as a JSON
// pointer (RFC 6901): "/name", "/entities/2", "/destination/type".
type FieldError struct {
	Pointer string
	Reason  string
}

func (e *FieldError) Error() string { return e.Pointer + ": " + e.Reason }
func (e *FieldError) Unwrap() error { return ErrInvalid }

// FieldErrors lists the field errors in err (a FieldError, or errors
// joined or wrapped around them).
func FieldErrors(err error) []*FieldError {
	if err == nil {
		return nil
	}
	if fe, ok := err.(*FieldError); ok {
		return []*FieldError{fe}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*FieldError
		for _, e := range j.Unwrap() {
			out = append(out, FieldErrors(e)...)
		}
		return out
	}
	return FieldErrors(errors.Unwrap(err))
}

func fieldErr(pointer, format string, args ...any) error {
	return &FieldError{Pointer: pointer, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks every field before anything is built from the profile:
// the Data Export Service's rules for name, schema, prefix, retries and the
// Key Vault URL form, and ours for entities and the destination type. It
// checks the form only; CheckPolicy says what a deployment accepts, and the
// management service checks the entities against the source.
func (p *Profile) Validate() error {
	var errs []error
	bad := func(pointer, format string, args ...any) {
		errs = append(errs, fieldErr(pointer, format, args...))
	}
	switch {
	case p.Name == "":
		bad("/name", "is required")
	case !nameRe.MatchString(p.Name):
		bad("/name", "%q: must be 1-63 letters, digits, '-' or '_', starting with a letter or digit", p.Name)
	default:
		for _, r := range ReservedNames {
			if strings.EqualFold(p.Name, r) {
				bad("/name", "%q is reserved (a route of the management API)", p.Name)
			}
		}
	}
	if len(p.Entities) == 0 {
		bad("/entities", "at least one entity is required")
	}
	seen := map[string]bool{}
	for i, e := range p.Entities {
		ptr := fmt.Sprintf("/entities/%d", i)
		switch {
		case !entityRe.MatchString(e):
			bad(ptr, "%q is not an entity logical name (lowercase letters, digits, '_')", e)
		case seen[e]:
			bad(ptr, "%q is listed twice", e)
		case e == "activitypointer":
			bad(ptr, "%q (Activity) cannot be exported; select the specific activity entities instead, such as phonecall, appointment, email and task", e)
		}
		seen[e] = true
	}
	if p.Schema != "" && (!alnum.MatchString(p.Schema) || len(p.Schema) > 63) {
		bad("/schema", "%q: only letters and digits, at most 63", p.Schema)
	}
	if p.Prefix != "" && (!alnum.MatchString(p.Prefix) || len(p.Prefix) >= 15) {
		bad("/prefix", "%q: only letters and digits, fewer than 15 characters", p.Prefix)
	}
	switch p.Destination.Type {
	case SQLite, Postgres, SQLServer:
	case "":
		bad("/destination/type", "is required (sqlite, postgres or sqlserver)")
	default:
		bad("/destination/type", "%q is not one of sqlite, postgres, sqlserver", p.Destination.Type)
	}
	d := p.Destination
	switch {
	case d.KeyVaultSecretURL != "" && d.Connection != "":
		bad("/destination/connection", "give keyVaultSecretUrl or connection, not both")
	case d.KeyVaultSecretURL != "":
		if _, err := ParseSecretURL(d.KeyVaultSecretURL); err != nil {
			bad("/destination/keyVaultSecretUrl", "%v", err)
		}
	case strings.TrimSpace(d.Connection) != "":
	default:
		bad("/destination/keyVaultSecretUrl", "is required: the URL of the Key Vault secret holding the destination connection string, https://<vault>.vault.azure.net/secrets/<name>")
	}
	if p.RetryCount != nil && (*p.RetryCount < 0 || *p.RetryCount > 20) {
		bad("/retryCount", "%d: must be 0-20", *p.RetryCount)
	}
	if p.RetryIntervalSeconds != nil && (*p.RetryIntervalSeconds < 0 || *p.RetryIntervalSeconds > 3600) {
		bad("/retryIntervalSeconds", "%d: must be 0-3600", *p.RetryIntervalSeconds)
	}
	if lv := p.LabelViews; lv != nil {
		if n := lv.Name; n != "" && (strings.Count(n, "{table}") != 1 || n == "{table}" || !viewRe.MatchString(strings.Replace(n, "{table}", "t", 1))) {
			bad("/labelViews/name", "%q: must hold {table} once and add letters, digits or '_' to it, e.g. {table}_labels", n)
		}
		if lv.Language < 0 || lv.Language > 65535 {
			bad("/labelViews/language", "%d: must be a language code (LCID) such as 1033 or 1031, or 0 for the org's base language", lv.Language)
		}
	}
	return errors.Join(errs...)
}

// Policy is what a deployment accepts beyond the form of a profile.
type Policy struct {
	// LocalDevelopment (app setting LOCAL_DEVELOPMENT=true) accepts what
	// must never happen in Azure: a plain connection string in the profile
	// (stored in Table storage), and a Key Vault secret URL on a loopback
	// address (a local Key Vault double).
	LocalDevelopment bool
}

// CheckPolicy checks the destination of p against pol. Call it on what a
// client sends: a profile stored with a connection string before Key Vault
// was read keeps working.
func CheckPolicy(p Profile, pol Policy) error {
	if pol.LocalDevelopment {
		return nil
	}
	var errs []error
	if p.Destination.Connection != "" {
		errs = append(errs, fieldErr("/destination/connection", "a plain connection string is accepted only for local development (app setting LOCAL_DEVELOPMENT=true); store it as a Key Vault secret and give the secret's URL in keyVaultSecretUrl"))
	}
	if u, err := ParseSecretURL(p.Destination.KeyVaultSecretURL); err == nil && u.Loopback {
		errs = append(errs, fieldErr("/destination/keyVaultSecretUrl", "%s is a loopback address, accepted only for local development (app setting LOCAL_DEVELOPMENT=true)", u.Host))
	}
	return errors.Join(errs...)
}

// SameDestination reports whether p and q write to the same place: the same
// destination: the same Key Vault secret whatever its version (a secret
// rotated in Key Vault, or pinned to a newer version, is the same
// destination), or a connection string naming the same database (type,
// host, port, instance, database name: Identity, so a string that changes
// only its password or options is the same destination; one that cannot
// be parsed is the same only as the same string); and the same schema and
// prefix. Entity state (delta links) is only valid for the destination it
// was built in.
func (p Profile) SameDestination(q Profile) bool {
	if p.Destination.Type != q.Destination.Type || p.SchemaOrDefault() != q.SchemaOrDefault() || p.Prefix != q.Prefix ||
		secretID(p.Destination.KeyVaultSecretURL) != secretID(q.Destination.KeyVaultSecretURL) {
		return false
	}
	if p.Destination.Connection == q.Destination.Connection {
		return true
	}
	a, okA := p.Destination.Identity()
	b, okB := q.Destination.Identity()
	return okA && okB && a == b
}

func secretID(raw string) string {
	u, err := ParseSecretURL(raw)
	if err != nil {
		return raw
	}
	return u.VaultURL + "/secrets/" + u.Name
}

// Redacted is p without its secret, fit for logs and output.
func (p Profile) Redacted() Profile {
	if p.Destination.Connection != "" {
		p.Destination.Connection = "***"
	}
	return p
}
