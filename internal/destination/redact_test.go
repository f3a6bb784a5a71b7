package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/sink/sqlserver"
)

// Real drivers against malformed or wrong connection strings: whatever the
// driver or the server echoes, no fragment of the secret reaches the error.
// PostgreSQL is the local server (127.0.0.1:5432, trust auth: it checks the
// user and database, not the password); nothing listens on 127.0.0.1:1.
func TestOpenErrorsHideSecrets(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, typ, conn string
		secrets         []string // no fragment listed may appear
		is              error    // errors.Is must still hold, when set
	}{
		{"postgres: unescaped / in the password makes it the database",
			profile.Postgres, "postgres://admin:12/S3CRETPW@127.0.0.1:5432/db?connect_timeout=2",
			[]string{"S3CRETPW"}, nil},
		{"postgres: password typed as the user, echoed by the server",
			profile.Postgres, "postgres://S3CRETPW@127.0.0.1:5432/postgres?connect_timeout=2",
			[]string{"S3CRETPW"}, nil},
		{"postgres: password typed as the database, echoed by the server",
			profile.Postgres, "postgres://postgres@127.0.0.1:5432/S3CRETPW?connect_timeout=2",
			[]string{"S3CRETPW"}, nil},
		{"postgres: unescaped # cuts the password into the host",
			profile.Postgres, "postgres://postgres:S3C#RETPW@127.0.0.1:5432/db?connect_timeout=2",
			[]string{"S3C#RETPW", "RETPW"}, nil},
		{"postgres: percent-encoded password and its decoded form",
			profile.Postgres, "postgres://postgres@127.0.0.1:5432/S3CRET%2FPW?connect_timeout=2",
			[]string{"S3CRET%2FPW", "S3CRET/PW", "S3CRET"}, nil},
		{"postgres keywords: password value in the user slot",
			profile.Postgres, "host=127.0.0.1 port=5432 user=S3CRETPW password=S3CRETPW dbname=postgres connect_timeout=2",
			[]string{"S3CRETPW"}, nil},
		{"postgres keywords: unquoted space in the password",
			profile.Postgres, "host=127.0.0.1 port=5432 user=postgres password=S3CRET PW dbname=x connect_timeout=2",
			[]string{"S3CRET"}, nil},
		{"sqlserver URL: unescaped / in the password",
			profile.SQLServer, "sqlserver://sa:12/S3CRETPW@127.0.0.1:1?database=x&dial+timeout=2",
			[]string{"S3CRETPW"}, nil},
		{"sqlserver URL: password typed as the host",
			profile.SQLServer, "sqlserver://sa@S3CRETPW.invalid:1?dial+timeout=2",
			[]string{"S3CRETPW"}, nil},
		{"sqlserver URL: bad parameter",
			profile.SQLServer, "sqlserver://sa:S3CRETPW@127.0.0.1:1?database=x&encrypt=bogus",
			[]string{"S3CRETPW"}, sqlserver.ErrConnString},
		{"sqlserver ADO: password typed as the server",
			profile.SQLServer, "server=S3CRETPW;port=1;user id=sa;password=S3CRETPW;dial timeout=2",
			[]string{"S3CRETPW"}, nil},
		{"sqlserver ADO: unquoted ; in the password",
			profile.SQLServer, "server=127.0.0.1;port=1;user id=sa;password=S3C;RETPW;dial timeout=2",
			[]string{"RETPW"}, nil},
		{"sqlserver ADO: braced password, refused connection",
			profile.SQLServer, "server=127.0.0.1,1;user id=sa;password={S3CRET;PW};dial timeout=2",
			[]string{"S3CRET"}, nil},
		{"sqlite: secret directory that does not exist",
			profile.SQLite, filepath.Join(dir, "S3CRETDIR", "x.db"),
			[]string{"S3CRETDIR"}, nil},
		{"sqlite: file URI",
			profile.SQLite, "file:" + filepath.Join(dir, "S3CRETDIR", "x.db"),
			[]string{"S3CRETDIR"}, nil},
		{"sqlite: query in the path",
			profile.SQLite, filepath.Join(dir, "S3CRETDIR.db") + "?key=S3CRETPW",
			[]string{"S3CRETDIR", "S3CRETPW"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			p := profile.Profile{Name: "p1", Entities: []string{"account"}, Destination: profile.Destination{Type: tc.typ, Connection: tc.conn}}
			s, err := Open(ctx, p, nil)
			if err == nil {
				s.Close()
				t.Fatal("open succeeded; the case must fail to open")
			}
			msg := err.Error()
			t.Log(msg)
			for _, secret := range tc.secrets {
				if strings.Contains(strings.ToLower(msg), strings.ToLower(secret)) {
					t.Errorf("error contains %q: %s", secret, msg)
				}
			}
			if want := "profile p1: opening " + tc.typ + " destination: " + tc.typ + " sink: "; !strings.HasPrefix(msg, want) {
				t.Errorf("error %q does not start with %q", msg, want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
		})
	}
}

// secretError stands for a driver error value that holds the secret.
type secretError struct{ conn string }

func (e *secretError) Error() string { return "cannot connect with " + e.conn }

func TestRedact(t *testing.T) {
	tests := []struct {
		name, conn, text string
		gone, kept       []string
	}{
		{"pgx quoting a misread URL",
			"postgres://admin:12/S3CRETPW@db.example.com:5432/db",
			"connect to admin:12: failed to connect to `user=root database=S3CRETPW@db.example.com:5432/db`: lookup admin: no such host",
			[]string{"S3CRETPW", "db.example.com", "admin"}, []string{"failed to connect to", "no such host", "user=root database="}},
		{"decoded password in the text",
			"postgres://u:S3CRET%2FPW%40x@h/db",
			`password authentication failed: "S3CRET/PW@x"`,
			[]string{"S3CRET/PW@x", "S3CRET", "PW@x"}, []string{"password authentication failed"}},
		{"other letter case",
			"host=h password=s3cretpw",
			"role S3CRETPW unknown",
			[]string{"S3CRETPW"}, []string{"role", "unknown"}},
		{"a password that is a key word is masked where it is a value",
			"host=dbhost user=u password=database",
			`FATAL: database "database" does not exist`,
			[]string{`"database"`}, []string{"FATAL:", "does not exist"}},
		{"a password that is the scheme word",
			"postgres://u:postgres@dbhost/x",
			"auth failed with postgres",
			[]string{"postgres"}, []string{"auth failed with"}},
		{"ADO keys of several words are kept, values masked",
			"Server=tcp:sql.example.com,1433;User ID=sa;Password=S3CRETPW;Initial Catalog=Sales",
			"login failed for user ID sa on Initial Catalog Sales; password S3CRETPW rejected by sql.example.com",
			[]string{"S3CRETPW", "Sales", "sql.example.com"}, []string{"login failed for user ID sa on Initial Catalog", "password", "rejected by"}},
		{"the whole string echoed",
			"/var/data/S3CRET.db",
			"unable to open /var/data/S3CRET.db",
			[]string{"S3CRET", "/var/data"}, []string{"unable to open"}},
		{"short pieces are left",
			"postgres://u:pw@h/db",
			"user u, db db",
			nil, []string{"user u, db db"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := redact(errors.New(tc.text), tc.conn, "").Error()
			for _, g := range tc.gone {
				if strings.Contains(msg, g) {
					t.Errorf("%q still in %q", g, msg)
				}
			}
			for _, k := range tc.kept {
				if !strings.Contains(msg, k) {
					t.Errorf("%q lost from %q", k, msg)
				}
			}
		})
	}
}

// The redacted error matches its cause's sentinels but does not hand out
// the driver's error values, which hold the secret.
func TestRedactKeepsIsHidesValues(t *testing.T) {
	const conn = "postgres://u:S3CRETPW@h/db"
	cause := fmt.Errorf("dial: %w: %w", context.DeadlineExceeded, &secretError{conn: conn})
	err := fmt.Errorf("profile p: %w", redact(cause, conn, ""))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("errors.Is(err, context.DeadlineExceeded) = false")
	}
	var se *secretError
	if errors.As(err, &se) {
		t.Errorf("errors.As reached the driver error: %v", se)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, err); strings.Contains(s, "S3CRETPW") {
			t.Errorf("%s prints the secret: %s", f, s)
		}
	}
}

// The redacted error keeps the class of its cause: the applier waits for
// an unreachable destination or a refused login instead of failing records.
func TestRedactKeepsTheClass(t *testing.T) {
	const conn = "postgres://u:S3CRETPW@h/db"
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		cause error
		want  errclass.Class
	}{
		{fmt.Errorf("postgres sink: connect: %w", refused), errclass.Transient},
		{fmt.Errorf("postgres sink: %w", &pgconn.PgError{Code: "28P01", Message: "password authentication failed"}), errclass.Configuration},
		{errors.New("something else"), errclass.Unknown},
	} {
		err := fmt.Errorf("profile p: %w", redact(tc.cause, conn, ""))
		if c := errclass.Of(err); c != tc.want {
			t.Errorf("class of redacted %v: %s, want %s", tc.cause, c, tc.want)
		}
	}
}
