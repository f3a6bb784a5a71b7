package destination

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

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
		kept            []string // what the error must still name
		is              error    // errors.Is must still hold, when set
	}{
		{"postgres: unescaped / in the password makes it the database",
			profile.Postgres, "postgres://admin:12/S3CRETPW@127.0.0.1:5432/db?connect_timeout=2",
			[]string{"S3CRETPW"}, nil, nil},
		{"postgres: wrong database, the server names it",
			profile.Postgres, "postgres://postgres:S3CRETPW@127.0.0.1:5432/nosuchdb_x1?connect_timeout=2",
			[]string{"S3CRETPW"}, []string{"127.0.0.1", "5432", "postgres", "nosuchdb_x1"}, nil},
		{"postgres: unescaped # cuts the password into the host",
			profile.Postgres, "postgres://postgres:S3C#RETPW@127.0.0.1:5432/db?connect_timeout=2",
			[]string{"S3C#RETPW", "RETPW"}, nil, nil},
		{"postgres: percent-encoded password and its decoded form",
			profile.Postgres, "postgres://postgres:S3CRET%2FPW@127.0.0.1:1/db?connect_timeout=2",
			[]string{"S3CRET%2FPW", "S3CRET/PW", "S3CRET"}, []string{"127.0.0.1"}, nil},
		{"postgres keywords: refused connection names host and port",
			profile.Postgres, "host=127.0.0.1 port=1 user=admin password=S3CRETPW dbname=crm connect_timeout=2",
			[]string{"S3CRETPW"}, []string{"127.0.0.1", "admin"}, nil},
		{"postgres keywords: unquoted space in the password",
			profile.Postgres, "host=127.0.0.1 port=5432 user=postgres password=S3CRET PW dbname=x connect_timeout=2",
			[]string{"S3CRET"}, nil, nil},
		{"sqlserver URL: unescaped / in the password",
			profile.SQLServer, "sqlserver://sa:12/S3CRETPW@127.0.0.1:1?database=x&dial+timeout=2",
			[]string{"S3CRETPW"}, nil, nil},
		{"sqlserver URL: refused connection names the host",
			profile.SQLServer, "sqlserver://sa:S3CRETPW@127.0.0.1:1?database=crm&dial+timeout=2",
			[]string{"S3CRETPW"}, []string{"127.0.0.1"}, nil},
		{"sqlserver URL: bad parameter",
			profile.SQLServer, "sqlserver://sa:S3CRETPW@127.0.0.1:1?database=x&encrypt=bogus",
			[]string{"S3CRETPW"}, nil, sqlserver.ErrConnString},
		{"sqlserver ADO: unquoted ; in the password",
			profile.SQLServer, "server=127.0.0.1;port=1;user id=sa;password=S3C;RETPW;dial timeout=2",
			[]string{"RETPW"}, nil, nil},
		{"sqlserver ADO: braced password, refused connection",
			profile.SQLServer, "server=127.0.0.1,1;user id=sa;password={S3CRET;PW};dial timeout=2",
			[]string{"S3CRET"}, []string{"127.0.0.1"}, nil},
		{"sqlite: key in the query",
			profile.SQLite, filepath.Join(dir, "NODIR", "x.db") + "?key=S3CRETPW",
			[]string{"S3CRETPW"}, nil, nil},
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
			for _, k := range tc.kept {
				if !strings.Contains(msg, k) {
					t.Errorf("error lost %q: %s", k, msg)
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
		{"pgx quoting a misread URL: the password pieces go, the rest stays",
			"postgres://admin:12/S3CRETPW@db.example.com:5432/db",
			"connect to admin:12: failed to connect to `user=root database=S3CRETPW@db.example.com:5432/db`: lookup admin: no such host",
			[]string{"S3CRETPW"}, []string{"failed to connect to", "no such host", "user=root database=", "db.example.com:5432/db", "lookup admin"}},
		{"decoded password in the text",
			"postgres://u:S3CRET%2FPW%40x@h/db",
			`password authentication failed: "S3CRET/PW@x"`,
			[]string{"S3CRET/PW@x", "S3CRET", "PW@x"}, []string{"password authentication failed"}},
		{"other letter case",
			"host=h password=s3cretpw",
			"role S3CRETPW unknown",
			[]string{"S3CRETPW"}, []string{"role", "unknown"}},
		{"host, port, database and user are kept",
			"postgres://crm_app:Tr0ub4dor@db.example.com:6432/sales?sslmode=require",
			`failed to connect to user=crm_app database=sales host=db.example.com port=6432: password authentication failed for user "crm_app" (Tr0ub4dor)`,
			[]string{"Tr0ub4dor"}, []string{"user=crm_app", "database=sales", "host=db.example.com", "port=6432", `user "crm_app"`}},
		{"a password that is a word of the message is masked only as a whole word",
			"host=dbhost user=u password=not",
			"cannot connect: not authorized",
			[]string{" not "}, []string{"cannot connect", "*** authorized"}},
		{"a password that is a key word is masked where it appears",
			"host=dbhost user=u password=database",
			`FATAL: database "database" does not exist`,
			[]string{`"database"`}, []string{"FATAL:", "does not exist"}},
		{"ADO: server, user and catalog kept, password masked",
			"Server=tcp:sql.example.com,1433;User ID=sa;Password=S3CRETPW;Initial Catalog=Sales",
			"login failed for user sa on Initial Catalog Sales; password S3CRETPW rejected by sql.example.com",
			[]string{"S3CRETPW"}, []string{"login failed for user sa on Initial Catalog Sales", "password", "rejected by sql.example.com"}},
		{"ADO: quoted password with the separator inside",
			`Server=sql.example.com;User ID=sa;Password="p;w=S3CRET";Database=crm`,
			"login failed: p;w=S3CRET",
			[]string{"S3CRET", "p;w=S3CRET"}, []string{"login failed"}},
		{"a SQLite path is not a secret",
			"/var/data/crm.db",
			"unable to open /var/data/crm.db",
			nil, []string{"unable to open /var/data/crm.db"}},
		{"access token in an ODBC string",
			"server=s;database=d;access token=eyJ0eXAiOiJKV1Qi",
			"token eyJ0eXAiOiJKV1Qi refused by s",
			[]string{"eyJ0eXAiOiJKV1Qi"}, []string{"refused by s"}},
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

// FuzzRedact: whatever the connection string, a password given in its URL
// form never survives in an error that quotes the whole string.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"S3CRETPW", "p@ss/w#rd", "not", "a b;c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		// Up to 128 bytes: longer passwords exercise nothing new, and the
		// check below is quadratic in the message, which makes a mutated
		// kilobyte-long input stall the fuzzer's minimisation for minutes.
		if len(pw) < 3 || len(pw) > 128 || strings.ContainsAny(pw, "@?") || !utf8.ValidString(pw) || strings.TrimSpace(pw) != pw {
			return
		}
		word := true
		for _, r := range pw {
			word = word && (unicode.IsLetter(r) || unicode.IsDigit(r))
		}
		if !word {
			return
		}
		conn := "postgres://app:" + url.PathEscape(pw) + "@db.example.com:5432/crm"
		msg := redact(errors.New("cannot open "+conn+": refused, "+pw), conn, "").Error()
		low, lpw := strings.ToLower(msg), strings.ToLower(pw)
		for i := strings.Index(low, lpw); i >= 0; {
			if wordBoundary(low, i, i+len(lpw)) {
				t.Fatalf("%q survives as a word in %q", pw, msg)
			}
			j := strings.Index(low[i+1:], lpw)
			if j < 0 {
				break
			}
			i += 1 + j
		}
		if !strings.Contains(msg, "db.example.com:5432/crm") {
			t.Fatalf("host lost: %q", msg)
		}
	})
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

// Check against the live PostgreSQL: a reachable database with its grants,
// and a refused connection named by host and port, never by password.
func TestCheckPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	ok := profile.Profile{Name: "p", Destination: profile.Destination{Type: profile.Postgres, Connection: "postgres://postgres:S3CRETPW@127.0.0.1:5432/test?sslmode=disable"}}
	if r := Check(ctx, ok, nil); r.Reachable != nil || len(r.Missing) != 0 || r.PermissionsErr != nil {
		t.Fatalf("Check = %+v", r)
	}
	bad := ok
	bad.Destination.Connection = "postgres://postgres:S3CRETPW@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"
	r := Check(ctx, bad, nil)
	if r.Reachable == nil || strings.Contains(r.Reachable.Error(), "S3CRETPW") || !strings.Contains(r.Reachable.Error(), "127.0.0.1") {
		t.Fatalf("Check of a closed port = %v", r.Reachable)
	}
	lite := profile.Profile{Name: "s", Destination: profile.Destination{Type: profile.SQLite, Connection: filepath.Join(t.TempDir(), "x.db")}}
	if r := Check(ctx, lite, nil); r.Reachable != nil || r.PermissionsNote == "" {
		t.Fatalf("Check sqlite = %+v", r)
	}
}
