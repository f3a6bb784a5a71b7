package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// limitedRole creates a login role with no privileges and returns a
// connection string for it; the role goes at cleanup.
func limitedRole(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, testConnString())
	if err != nil {
		t.Fatalf("PostgreSQL test database unreachable: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 4)
	rand.Read(b)
	role := "dxlimited" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE ROLE "+quote(role)+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, testConnString())
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close(ctx)
		for _, q := range []string{"DROP OWNED BY " + quote(role), "DROP ROLE " + quote(role)} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	u, err := url.Parse(testConnString())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	return u.String()
}

func TestMissingPermissions(t *testing.T) {
	ctx := t.Context()
	schemaName := freshSchema(t)
	// The owner creates the schema and a table in it.
	owner, err := Open(ctx, testConnString(), &sink.Options{Schema: schemaName})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if err := owner.EnsureTable(ctx, accountTable(t, owner)); err != nil {
		t.Fatal(err)
	}
	limited := limitedRole(t)

	if got, err := MissingPermissions(ctx, testConnString(), schemaName); err != nil || len(got) != 0 {
		t.Fatalf("owner lacks %v, %v; want nothing", got, err)
	}
	got, err := MissingPermissions(ctx, limited, schemaName)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range got {
		lines = append(lines, p.Privilege+" "+p.Object)
	}
	want := []string{"CREATE schema " + schemaName, "USAGE schema " + schemaName}
	tables := []string{"account", "dataexport_tombstone", "dataexport_keys"}
	for _, m := range schema.MetadataTables() {
		tables = append(tables, strings.ToLower(m.Name))
	}
	for _, table := range tables {
		for _, p := range []string{"DELETE", "INSERT", "OWNER", "SELECT", "UPDATE"} {
			want = append(want, p+" table "+schemaName+"."+table)
		}
	}
	slices.Sort(lines)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("limited role lacks %v, want %v", lines, want)
	}

	// Granted the schema, the role can open a sink there and lacks only the
	// privileges on the owner's tables.
	grant(t, "GRANT USAGE, CREATE ON SCHEMA "+quote(schemaName)+" TO "+quote(roleOf(t, limited)))
	s, err := Open(ctx, limited, &sink.Options{Schema: schemaName})
	if err != nil {
		t.Fatalf("Open as a role granted the schema: %v", err)
	}
	s.Close()
	if got, err = MissingPermissions(ctx, limited, schemaName); err != nil || len(got) != 5*len(tables) {
		t.Fatalf("after the grant: %v, %v; want the %d table privileges", got, err, 5*len(tables))
	}

	// A schema that does not exist yet needs CREATE on the database.
	got, err = MissingPermissions(ctx, limited, "nosuchschema")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(testConnString())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Privilege != "CREATE" || got[0].Object != "database "+cfg.Database {
		t.Fatalf("for a missing schema: %v, want CREATE on database %s", got, cfg.Database)
	}
}

// grant runs q as the test database's administrator.
func grant(t *testing.T, q string) {
	t.Helper()
	admin, err := pgx.Connect(t.Context(), testConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(t.Context())
	if _, err := admin.Exec(t.Context(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func roleOf(t *testing.T, connString string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.User
}
