package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Permission is one grant the Data Export Service required of its login.
type Permission struct {
	Scope string // DATABASE or SCHEMA
	Name  string // e.g. CREATE TABLE
	Code  string // DES's permission type code, e.g. CRTB
}

func (p Permission) String() string { return p.Scope + " " + p.Name + " (" + p.Code + ")" }

// RequiredPermissions are the seed's lists: database permissions, then the
// permissions on the destination schema.
var RequiredPermissions = []Permission{
	{"DATABASE", "CREATE TABLE", "CRTB"},
	{"DATABASE", "CREATE TYPE", "CRTY"},
	{"DATABASE", "CREATE VIEW", "CRVW"},
	{"DATABASE", "CREATE PROCEDURE", "CRPR"},
	{"DATABASE", "ALTER ANY USER", "ALUS"},
	{"DATABASE", "VIEW DATABASE STATE", "VWDS"},
	{"SCHEMA", "ALTER", "AL"},
	{"SCHEMA", "INSERT", "IN"},
	{"SCHEMA", "DELETE", "DL"},
	{"SCHEMA", "SELECT", "SL"},
	{"SCHEMA", "UPDATE", "UP"},
	{"SCHEMA", "EXECUTE", "EX"},
	{"SCHEMA", "REFERENCES", "RF"},
}

// missingPermissionsSQL lists the required permissions the current login
// does not hold. HAS_PERMS_BY_NAME counts implied grants (db_owner,
// CONTROL, role membership) as fn_my_permissions does, and answers NULL for
// a schema that does not exist, which counts as missing.
func missingPermissionsSQL(schemaName string) string {
	var b strings.Builder
	b.WriteString("SELECT [p].[scope], [p].[permission_name]\nFROM (VALUES\n")
	for i, p := range RequiredPermissions {
		sep := ","
		if i == len(RequiredPermissions)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    (%d, %s, %s)%s\n", i, ql(p.Scope), ql(p.Name), sep)
	}
	b.WriteString(") AS [p]([ord], [scope], [permission_name])\n")
	b.WriteString("WHERE ISNULL(CASE [p].[scope]\n")
	b.WriteString("    WHEN N'DATABASE' THEN HAS_PERMS_BY_NAME(NULL, N'DATABASE', [p].[permission_name])\n")
	fmt.Fprintf(&b, "    ELSE HAS_PERMS_BY_NAME(%s, N'SCHEMA', [p].[permission_name]) END, 0) = 0\n", ql(schemaName))
	b.WriteString("ORDER BY [p].[ord];")
	return b.String()
}

// MissingPermissions reports which RequiredPermissions the login of db
// lacks on the database and on schemaName (dbo when empty). An empty result
// means the login can do everything DES needed.
func MissingPermissions(ctx context.Context, db *sql.DB, schemaName string) ([]Permission, error) {
	if schemaName == "" {
		schemaName = DefaultSchema
	}
	if err := checkIdent(schemaName); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, missingPermissionsSQL(schemaName))
	if err != nil {
		return nil, fmt.Errorf("sqlserver: check permissions: %w", err)
	}
	defer rows.Close()
	var out []Permission
	for rows.Next() {
		var scope, name string
		if err := rows.Scan(&scope, &name); err != nil {
			return nil, fmt.Errorf("sqlserver: check permissions: %w", err)
		}
		for _, p := range RequiredPermissions {
			if p.Scope == scope && p.Name == name {
				out = append(out, p)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlserver: check permissions: %w", err)
	}
	return out, nil
}
