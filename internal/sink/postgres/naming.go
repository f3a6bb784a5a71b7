package postgres

import (
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
)

// Names on PostgreSQL are lowercase: every table and column the sink
// creates or reads is named by ident (or lower, where pgx quotes), so that
// plain SQL reaches them unquoted (select id, name from account), as
// PostgreSQL folds unquoted names to lowercase. DES's mixed-case names
// (Id, SinkCreatedOn, DeleteLog, OptionSetMetadata, VersionNumber) are
// written in lowercase; SQL Server and SQLite keep them (both compare names
// case-insensitively). The schema is the profile's, as given. Tables of
// the earlier mixed-case layout are renamed when the sink opens (migrate.go).

// lower is the name of a table or column as the sink writes it.
func lower(name string) string { return strings.ToLower(name) }

// ident is a table or column name in SQL: lowercase, quoted (a reserved
// word is a valid logical name).
func ident(name string) string { return quote(lower(name)) }

// qualified is a table's schema-qualified name in SQL.
func qualified(t schema.TableName) string { return quote(t.Schema) + "." + ident(t.Name) }

// lowerAll is names in lowercase (COPY column lists, which pgx quotes).
func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = lower(n)
	}
	return out
}
