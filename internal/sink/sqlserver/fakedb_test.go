package sqlserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// A recording database/sql driver: it answers the catalog and count
// queries the sink sends from canned responses, and writes every statement,
// argument, bulk-copied row and transaction boundary to a transcript. It is
// how the Go side of the write path (ordering, transactions, result counts,
// value encoding) is tested without a SQL Server.

// reply is the canned answer to one query.
type reply struct {
	cols []string
	rows [][]driver.Value
	err  error
}

type recorder struct {
	mu      sync.Mutex
	out     strings.Builder
	respond func(query string, args []driver.NamedValue) reply
	copied  func(rows []string) // told the rows of each finished bulk copy
}

func (r *recorder) logf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.out, format, a...)
}

func (r *recorder) transcript() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// newRecordingDB is a *sql.DB over r, limited to one connection like a
// session-bound transaction would be.
func newRecordingDB(r *recorder) *sql.DB {
	db := sql.OpenDB(fakeConnector{r})
	db.SetMaxOpenConns(1)
	return db
}

type fakeConnector struct{ r *recorder }

func (c fakeConnector) Connect(context.Context) (driver.Conn, error) { return &fakeConn{r: c.r}, nil }
func (c fakeConnector) Driver() driver.Driver                        { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

type fakeConn struct{ r *recorder }

func (c *fakeConn) Ping(context.Context) error { return nil }
func (c *fakeConn) Close() error               { return nil }
func (c *fakeConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	c.r.logf("BEGIN TRANSACTION;\n")
	return fakeTx{c.r}, nil
}

func (c *fakeConn) Prepare(query string) (driver.Stmt, error) {
	if cfg, ok := strings.CutPrefix(query, "INSERTBULK "); ok {
		var bc struct {
			TableName   string
			ColumnsName []string
		}
		if err := json.Unmarshal([]byte(cfg), &bc); err != nil {
			return nil, err
		}
		c.r.logf("-- bulk copy into %s (%s)\n", bc.TableName, strings.Join(bc.ColumnsName, ", "))
		return &bulkStmt{r: c.r}, nil
	}
	return &plainStmt{c: c, query: query}, nil
}

func (c *fakeConn) ExecContext(_ context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.r.logf("%s%s\n", query, renderArgs(args))
	rep := c.r.respond(query, args)
	if rep.err != nil {
		c.r.logf("-- error: %v\n", rep.err)
		return nil, rep.err
	}
	return driver.RowsAffected(0), nil
}

func (c *fakeConn) QueryContext(_ context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.r.logf("%s%s\n", query, renderArgs(args))
	rep := c.r.respond(query, args)
	if rep.err != nil {
		c.r.logf("-- error: %v\n", rep.err)
		return nil, rep.err
	}
	return &fakeRows{cols: rep.cols, rows: rep.rows}, nil
}

type fakeTx struct{ r *recorder }

func (t fakeTx) Commit() error   { t.r.logf("COMMIT TRANSACTION;\n"); return nil }
func (t fakeTx) Rollback() error { t.r.logf("ROLLBACK TRANSACTION;\n"); return nil }

type plainStmt struct {
	c     *fakeConn
	query string
}

func (s *plainStmt) Close() error  { return nil }
func (s *plainStmt) NumInput() int { return -1 }
func (s *plainStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.c.ExecContext(context.Background(), s.query, named(args))
}
func (s *plainStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.QueryContext(context.Background(), s.query, named(args))
}

type bulkStmt struct {
	r    *recorder
	rows int
	vals []string
}

func (s *bulkStmt) Close() error  { return nil }
func (s *bulkStmt) NumInput() int { return -1 }
func (s *bulkStmt) Exec(args []driver.Value) (driver.Result, error) {
	if len(args) == 0 {
		s.r.logf("-- bulk copy done: %d rows\n", s.rows)
		if s.r.copied != nil {
			s.r.copied(s.vals)
		}
		return driver.RowsAffected(s.rows), nil
	}
	s.rows++
	vals := make([]string, len(args))
	for i, a := range args {
		vals[i] = renderValue(a)
	}
	s.vals = append(s.vals, strings.Join(vals, " | "))
	s.r.logf("--   row: %s\n", strings.Join(vals, " | "))
	return driver.RowsAffected(1), nil
}
func (s *bulkStmt) Query([]driver.Value) (driver.Rows, error) { return nil, errors.New("not a query") }

type fakeRows struct {
	cols []string
	rows [][]driver.Value
}

func (r *fakeRows) Columns() []string { return r.cols }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

func renderArgs(args []driver.NamedValue) string {
	if len(args) == 0 {
		return ""
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("@p%d = %s", a.Ordinal, renderValue(a.Value))
	}
	return "\n-- args: " + strings.Join(parts, ", ")
}

// renderValue shows a driver value the way SQL Server would read it.
func renderValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if len(v) == 16 {
			if id, err := scanGUID(v); err == nil {
				return "guid " + id
			}
		}
		return fmt.Sprintf("0x%x", v)
	case string:
		return fmt.Sprintf("%q", v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}

// catalogColumns is a reply to tableColumnsQuery or typeColumnsQuery.
func catalogColumns(cols ...dbColumn) reply {
	rep := reply{cols: []string{"name", "type", "max_length", "precision", "scale", "is_nullable"}}
	for _, c := range cols {
		rep.rows = append(rep.rows, []driver.Value{c.Name, c.Type, int64(c.MaxLength), int64(c.Precision), int64(c.Scale), c.Nullable})
	}
	return rep
}

func count(n int64) reply { return reply{cols: []string{"n"}, rows: [][]driver.Value{{n}}} }
