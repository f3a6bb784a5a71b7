package errclass

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	mssql "github.com/microsoft/go-mssqldb"
	_ "modernc.org/sqlite"
)

// fakeSQLite has the shape of modernc.org/sqlite's *Error, whose fields
// cannot be set from outside that package.
type fakeSQLite struct {
	code int
	msg  string
}

func (e *fakeSQLite) Error() string { return e.msg }
func (e *fakeSQLite) Code() int     { return e.code }

func pg(code string) error { return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "x"} }

func ms(numbers ...int32) error {
	var all []mssql.Error
	for _, n := range numbers {
		all = append(all, mssql.Error{Number: n, Message: fmt.Sprint("error ", n)})
	}
	last := all[len(all)-1]
	last.All = all
	return last
}

func TestOf(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, Unknown},
		{"plain error", errors.New("something odd"), Unknown},
		{"marked", With(Schema, errors.New("x")), Schema},
		{"mark wins over the driver code", With(Configuration, pg("23505")), Configuration},
		{"mark of Unknown looks inside", With(Unknown, pg("40P01")), Transient},
		{"wrapped mark", fmt.Errorf("apply: %w", With(Record, errors.New("x"))), Record},

		// Generic: context, network, closed connections.
		{"deadline", fmt.Errorf("apply: %w", context.DeadlineExceeded), Transient},
		{"cancelled", context.Canceled, Transient},
		{"connection refused", fmt.Errorf("connect: %w", dial), Transient},
		{"dns", &net.DNSError{Err: "no such host", Name: "db.example", IsNotFound: true}, Transient},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), Transient},
		{"broken pipe", syscall.EPIPE, Transient},
		{"eof mid-answer", fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), Transient},
		{"bad conn", driver.ErrBadConn, Transient},
		{"conn done", sql.ErrConnDone, Transient},

		// PostgreSQL SQLSTATE.
		{"pg connection failure 08006", pg("08006"), Transient},
		{"pg cannot connect now 57P03", pg("57P03"), Transient},
		{"pg admin shutdown 57P01", pg("57P01"), Transient},
		{"pg query canceled 57014", pg("57014"), Transient},
		{"pg deadlock 40P01", pg("40P01"), Transient},
		{"pg serialization 40001", pg("40001"), Transient},
		{"pg too many connections 53300", pg("53300"), Transient},
		{"pg disk full 53100", pg("53100"), Transient},
		{"pg read-only after failover 25006", pg("25006"), Transient},
		{"pg lock not available 55P03", pg("55P03"), Transient},
		{"pg check violation 23514", pg("23514"), Record},
		{"pg not null 23502", pg("23502"), Record},
		{"pg unique 23505", pg("23505"), Record},
		{"pg string too long 22001", pg("22001"), Record},
		{"pg numeric out of range 22003", pg("22003"), Record},
		{"pg invalid text 22P02", pg("22P02"), Record},
		{"pg index row too large 54000", pg("54000"), Record},
		{"pg undefined column 42703", pg("42703"), Schema},
		{"pg undefined table 42P01", pg("42P01"), Schema},
		{"pg missing schema 3F000", pg("3F000"), Schema},
		{"pg datatype mismatch 42804", pg("42804"), Schema},
		{"pg wrong password 28P01", pg("28P01"), Configuration},
		{"pg no such role 28000", pg("28000"), Configuration},
		{"pg permission denied 42501", pg("42501"), Configuration},
		{"pg no such database 3D000", pg("3D000"), Configuration},
		{"pg database dropped 57P04", pg("57P04"), Configuration},
		{"pg syntax error 42601", pg("42601"), Unknown},
		{"pg internal error XX000", pg("XX000"), Unknown},
		{"pg connection closed by the driver", fmt.Errorf("apply: %w", pgconn.ErrConnClosed), Transient},
		{"pg wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", pg("23514"))), Record},

		// SQL Server error numbers; the reason comes before 3621.
		{"ms deadlock 1205", ms(1205), Transient},
		{"ms timeout -2", ms(-2), Transient},
		{"ms lock timeout 1222", ms(1222), Transient},
		{"ms azure 40197", ms(40197), Transient},
		{"ms azure busy 40501", ms(40501), Transient},
		{"ms azure unavailable 40613", ms(40613), Transient},
		{"ms azure 49918", ms(49918), Transient},
		{"ms azure 49919", ms(49919), Transient},
		{"ms azure 49920", ms(49920), Transient},
		{"ms cannot open database 4060", ms(4060), Configuration},
		{"ms login failed 18456", ms(18456), Configuration},
		{"ms permission denied 229", ms(229), Configuration},
		{"ms primary key 2627 then 3621", ms(2627, 3621), Record},
		{"ms duplicate key 2601", ms(2601, 3621), Record},
		{"ms check 547", ms(547, 3621), Record},
		{"ms truncated 8152", ms(8152, 3621), Record},
		{"ms truncated 2628", ms(2628, 3621), Record},
		{"ms null 515", ms(515, 3621), Record},
		{"ms invalid column 207", ms(207), Schema},
		{"ms invalid object 208", ms(208), Schema},
		{"ms statement terminated alone", ms(3621), Unknown},
		{"ms inside a server error", fmt.Errorf("apply: %w", mssql.ServerError{}), Unknown},
		{"ms pointer", &mssql.Error{Number: 1205}, Transient},

		// SQLite result codes, extended codes by their primary code.
		{"sqlite busy", &fakeSQLite{5, "database is locked (5) (SQLITE_BUSY)"}, Transient},
		{"sqlite busy snapshot", &fakeSQLite{5 | 2<<8, "x"}, Transient},
		{"sqlite locked", &fakeSQLite{6, "x"}, Transient},
		{"sqlite full", &fakeSQLite{13, "x"}, Transient},
		{"sqlite ioerr write", &fakeSQLite{10 | 3<<8, "x"}, Transient},
		{"sqlite cantopen", &fakeSQLite{14, "x"}, Transient},
		{"sqlite check", &fakeSQLite{19 | 1<<8, "CHECK constraint failed"}, Record},
		{"sqlite not null", &fakeSQLite{19 | 5<<8, "NOT NULL constraint failed"}, Record},
		{"sqlite mismatch", &fakeSQLite{20, "datatype mismatch"}, Record},
		{"sqlite toobig", &fakeSQLite{18, "string or blob too big"}, Record},
		{"sqlite readonly", &fakeSQLite{8, "attempt to write a readonly database"}, Configuration},
		{"sqlite corrupt", &fakeSQLite{11, "x"}, Configuration},
		{"sqlite no such table", &fakeSQLite{1, "SQL logic error: no such table: main.account (1)"}, Schema},
		{"sqlite no column", &fakeSQLite{1, "table account has no column named x (1)"}, Schema},
		{"sqlite syntax", &fakeSQLite{1, "SQL logic error: near \"x\": syntax error (1)"}, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

// Real driver errors, not look-alikes: an SQLite constraint and missing
// table, and a PostgreSQL connection refused.
func TestOfRealDriverErrors(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x INTEGER CHECK (x > 0))`); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO t VALUES (-1)`)
	if c := Of(err); c != Record {
		t.Errorf("SQLite CHECK violation %v: %s, want record", err, c)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO nosuch VALUES (1)`)
	if c := Of(err); c != Schema {
		t.Errorf("SQLite missing table %v: %s, want schema", err, c)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = pgconn.Connect(ctx, "postgres://u@"+addr+"/db?connect_timeout=5")
	if c := Of(err); c != Transient {
		t.Errorf("PostgreSQL connection refused %v: %s, want transient", err, c)
	}
}

func TestClassNames(t *testing.T) {
	for _, c := range []Class{Unknown, Transient, Record, Schema, Configuration} {
		if Parse(c.String()) != c {
			t.Errorf("Parse(%q) = %v", c.String(), Parse(c.String()))
		}
	}
	if Class(42).String() != "unknown" || Parse("nonsense") != Unknown {
		t.Error("out-of-range classes must read as unknown")
	}
	waits := map[Class]bool{Transient: true, Schema: true, Configuration: true}
	for _, c := range []Class{Unknown, Transient, Record, Schema, Configuration} {
		if c.Waits() != waits[c] {
			t.Errorf("%s.Waits() = %t", c, c.Waits())
		}
	}
	if With(Record, nil) != nil {
		t.Error("With(nil) must stay nil")
	}
}
