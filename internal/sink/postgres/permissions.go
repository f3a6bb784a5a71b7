package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/schema"
)

// Permission is a privilege the sink needs and the login lacks.
type Permission struct {
	Object    string // "database test", "schema crm", "table crm.account"
	Privilege string // CREATE, USAGE, TEMPORARY, SELECT, INSERT, UPDATE, DELETE, OWNER
	Why       string
}

func (p Permission) String() string {
	return fmt.Sprintf("%s on %s (%s)", p.Privilege, p.Object, p.Why)
}

// permissionsSQL lists what the current login lacks: $1 is the schema.
// Database CREATE matters only while the schema does not exist; ALTER
// TABLE needs ownership (or membership in the owning role).
const permissionsSQL = `WITH s AS (SELECT to_regnamespace(quote_ident($1)) AS oid),
need(object, privilege, why) AS (
	SELECT 'database ' || current_database(), 'CREATE', 'create the schema'
	WHERE (SELECT oid FROM s) IS NULL AND NOT has_database_privilege(current_database(), 'CREATE')
	UNION ALL
	SELECT 'database ' || current_database(), 'TEMPORARY', 'staging tables for batch upserts'
	WHERE NOT has_database_privilege(current_database(), 'TEMPORARY')
	UNION ALL
	SELECT 'schema ' || $1, p, w FROM (VALUES ('USAGE', 'use its tables'), ('CREATE', 'create entity and metadata tables')) AS v(p, w)
	WHERE (SELECT oid FROM s) IS NOT NULL AND NOT has_schema_privilege((SELECT oid FROM s), p)
	UNION ALL
	SELECT 'table ' || $1 || '.' || c.relname, p, w
	FROM pg_class c, (VALUES ('SELECT', 'read versions'), ('INSERT', 'insert rows'), ('UPDATE', 'update rows'), ('DELETE', 'delete rows')) AS v(p, w)
	WHERE c.relnamespace = (SELECT oid FROM s) AND c.relkind IN ('r', 'p') AND NOT has_table_privilege(c.oid, p)
	UNION ALL
	SELECT 'table ' || $1 || '.' || c.relname, 'OWNER', 'add and widen columns (ALTER TABLE)'
	FROM pg_class c
	WHERE c.relnamespace = (SELECT oid FROM s) AND c.relkind IN ('r', 'p') AND NOT pg_has_role(c.relowner, 'USAGE')
)
SELECT object, privilege, why FROM need ORDER BY object, privilege`

// MissingPermissions reports what the login of connString lacks to run a
// sink in schemaName (public when empty): create the schema or tables in
// it, stage batches, and read, write and alter every table already there.
// An empty result means the sink can run. The connection string is never
// part of an error.
func MissingPermissions(ctx context.Context, connString, schemaName string) ([]Permission, error) {
	if schemaName == "" {
		schemaName = DefaultSchema
	}
	if err := (schema.Options{Schema: schemaName}).Validate(); err != nil {
		return nil, fmt.Errorf("postgres sink: %w", err)
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, errors.New("postgres sink: connection string cannot be parsed")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, permissionsSQL, schemaName)
	if err != nil {
		return nil, fmt.Errorf("postgres sink: check permissions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Permission, error) {
		var p Permission
		err := r.Scan(&p.Object, &p.Privilege, &p.Why)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres sink: check permissions: %w", err)
	}
	return out, nil
}
