package tests

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/record"
)

// deleteLogCleanup is Microsoft's documented query for the "deleted records
// reinserted" known issue (data-export-service.txt, "Example query for
// entity record deletion"), adapted only where PostgreSQL's syntax differs:
// [dbo].[prefix_account] becomes <schema>.crm_account and [dbo].[prefix_DeleteLog]
// <schema>.crm_DeleteLog (T-SQL's brackets, and the test's schema and
// prefix), CONVERT(uniqueidentifier, recordid) becomes CAST(recordid AS
// uuid) (T-SQL's conversion function), and the seed's &gt; is >. The
// mixed-case names stay as written: PostgreSQL folds unquoted names to the
// lowercase the sink creates.
const deleteLogCleanup = `DELETE FROM {schema}.crm_account A
WHERE id IN (SELECT CAST(recordid AS uuid) FROM {schema}.crm_DeleteLog DL WHERE DL.entityname ='account'
AND DL.VersionNumber > A.VersionNumber)`

// TestPostgresPlainSQL: on PostgreSQL every name is lowercase, so plain
// unquoted SQL works: select id, name from account, and Microsoft's
// DeleteLog clean-up query, which removes a deleted record that came back
// (planted here as DES's known issue left it) and nothing else.
func TestPostgresPlainSQL(t *testing.T) {
	dest, schemaName := destinations(t)["postgres"](t)
	e := newEnv(t, dest, schemaName)
	e.prof.Prefix = "crm"
	e.check(e.app.Store.PutProfile(t.Context(), e.prof))
	e.sync()
	e.mutate()
	e.sync()
	e.assertMatch("before the plain SQL")

	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgURL)
	e.check(err)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET search_path TO "+schemaName); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "select id, name from crm_account")
	e.check(err)
	names := map[string]string{}
	for rows.Next() {
		var id, name string
		var n *string
		e.check(rows.Scan(&id, &n))
		if n != nil {
			name = *n
		}
		names[id] = name
	}
	e.check(rows.Err())
	src := e.source("account", []record.Column{{Name: "name", Kind: record.String}})
	if len(names) != len(src) {
		t.Fatalf("select id, name from crm_account: %d rows, the source has %d", len(names), len(src))
	}
	for _, r := range src {
		if got, ok := names[r.ID]; !ok || got != r.Values[0].S {
			t.Fatalf("account %s: name %q, source %q", r.ID, got, r.Values[0].S)
		}
	}

	// A deleted account comes back at an older version, as DES's known
	// issue brought them back; the delete log has its delete.
	var deleted string
	var version int64
	if err := conn.QueryRow(ctx, "select recordid, versionnumber from crm_deletelog where entityname = 'account' order by versionnumber limit 1").Scan(&deleted, &version); err != nil {
		t.Fatalf("no account delete in crm_deletelog: %v", err)
	}
	if _, err := conn.Exec(ctx, "insert into crm_account (id, versionnumber, name) values ($1, $2, 'Reinserted')", deleted, version-1); err != nil {
		t.Fatal(err)
	}
	tag, err := conn.Exec(ctx, strings.ReplaceAll(deleteLogCleanup, "{schema}", schemaName))
	if err != nil {
		t.Fatalf("the documented clean-up query: %v", err)
	}
	if tag.RowsAffected() != 1 {
		t.Fatalf("the clean-up query removed %d rows, want the reinserted one", tag.RowsAffected())
	}
	e.assertMatch("after the clean-up query")
}
