package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// testConnString is the test database; DATAEXPORT_TEST_POSTGRES overrides it.
func testConnString() string {
	if s := os.Getenv("DATAEXPORT_TEST_POSTGRES"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// freshSchema names a new schema and drops it (with everything in it) when
// the test ends. PostgreSQL must be reachable: these tests fail, not skip.
func freshSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testConnString())
	if err != nil {
		t.Fatalf("PostgreSQL test database unreachable (start it at 127.0.0.1:5432, database test, user postgres, or set DATAEXPORT_TEST_POSTGRES): %v", err)
	}
	conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "sinktest" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, testConnString())
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+quote(name)+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

func open(t *testing.T, o sink.Options) sinktest.Target {
	t.Helper()
	o.Schema = freshSchema(t)
	s, err := Open(t.Context(), testConnString(), &o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return target{s}
}

// target is the sink plus what the suite needs to plant a refusal.
type target struct{ *Sink }

// Refuse adds a CHECK constraint, NOT VALID so stored rows are not checked.
func (s target) Refuse(ctx context.Context, table schema.TableName, column string, value int64) error {
	table = s.resolve(table)
	return s.pool.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s <> %d) NOT VALID",
			qualified(table), ident("refuse_"+column), ident(column), value))
		return err
	})
}

// ViewColumn reads one column of a view per row id.
func (s target) ViewColumn(ctx context.Context, view schema.TableName, column string) (map[string]*string, error) {
	view = s.resolve(view)
	out := map[string]*string{}
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, fmt.Sprintf("SELECT %s::text, %s::text FROM %s", ident(schema.ColID), ident(column), qualified(view)))
		if err != nil {
			return err
		}
		var id string
		var v *string
		_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
			out[id] = v
			return nil
		})
		return err
	})
	return out, err
}

func TestSuite(t *testing.T) { sinktest.Run(t, open) }

// Connection strings are secrets: no error repeats them.
func TestOpenErrorsHideSecrets(t *testing.T) {
	const secret = "s3cretPassw0rd"
	tests := []string{
		"postgres://postgres:" + secret + "@127.0.0.1:1/test?connect_timeout=2",
		"postgres://postgres:" + secret + "@[::1/test",
		"host=127.0.0.1 port=1 user=postgres password=" + secret + " connect_timeout=2",
		"host=127.0.0.1 port=notanumber password=" + secret,
	}
	for _, cs := range tests {
		_, err := Open(t.Context(), cs, nil)
		if err == nil {
			t.Fatalf("Open succeeded on a bad connection string")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error reveals the password: %v", err)
		}
		_, err = MissingPermissions(t.Context(), cs, "")
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("MissingPermissions error %v: must fail without the password", err)
		}
	}
}
