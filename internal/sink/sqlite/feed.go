package sqlite

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"modernc.org/sqlite/vtab"
)

// A batch's upserts reach SQLite through a virtual table, the feed, rather
// than as bound parameters: the driver binds a value under the connection's
// mutex, copies each text into C memory and unbinds it after the
// statement, which cost more than the statement's own work. Through the
// feed, one INSERT … SELECT reads every row of the batch from Go memory.
// `go test ./internal/sink/sqlite -bench Upsert` compares both paths with
// the driver's plain insert.
//
// The feed table of width n is temp.dataexport_rows_n: a hidden column h,
// the handle of the rows (see feeds), then c0 … c(n-1), a row's id,
// version and column values in Prepared.Columns order. A statement must
// constrain h = handle; a scan without it is refused.

// feedModule is the module's name, registered once for every connection
// the driver opens.
const feedModule = "dataexport_rows"

func init() {
	if err := vtab.RegisterModule(nil, feedModule, feedTables{}); err != nil {
		panic(fmt.Sprintf("sqlite sink: registering the %s module: %v", feedModule, err))
	}
}

// feeds holds the rows of statements running now, by handle: the values
// of upsertArgs, width per row.
var feeds = struct {
	sync.Mutex
	next int64
	m    map[int64]feedRows
}{m: map[int64]feedRows{}}

type feedRows struct {
	vals  []any
	width int
}

// addFeed makes vals readable through the feed until the returned release
// is called.
func addFeed(vals []any, width int) (handle int64, release func()) {
	feeds.Lock()
	defer feeds.Unlock()
	feeds.next++
	h := feeds.next
	feeds.m[h] = feedRows{vals: vals, width: width}
	return h, func() {
		feeds.Lock()
		delete(feeds.m, h)
		feeds.Unlock()
	}
}

// feedName names the feed table of width n.
func feedName(n int) string { return `temp."` + feedModule + "_" + strconv.Itoa(n) + `"` }

// feedCreateSQL creates the feed table of width n on the connection, if it
// has none yet.
func feedCreateSQL(n int) string {
	return fmt.Sprintf("CREATE VIRTUAL TABLE IF NOT EXISTS %s USING %s(%d)", feedName(n), feedModule, n)
}

type feedTables struct{}

func (m feedTables) Create(ctx vtab.Context, args []string) (vtab.Table, error) {
	return m.Connect(ctx, args)
}

// Connect declares the table; args are the module, database and table
// names, then the width.
func (feedTables) Connect(ctx vtab.Context, args []string) (vtab.Table, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("%s: want one argument, the width; got %q", feedModule, args[3:])
	}
	n, err := strconv.Atoi(strings.TrimSpace(args[3]))
	if err != nil || n < 1 || n > 1999 {
		return nil, fmt.Errorf("%s: width %q is not a number of columns from 1 to 1999 (SQLite allows 2,000 with h)", feedModule, args[3])
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE x(h HIDDEN")
	for i := range n {
		fmt.Fprintf(&b, ", c%d", i)
	}
	b.WriteString(")")
	if err := ctx.Declare(b.String()); err != nil {
		return nil, err
	}
	return &feedTable{width: n}, nil
}

type feedTable struct{ width int }

// BestIndex takes h = ? and nothing else: without it there are no rows to
// read.
func (t *feedTable) BestIndex(info *vtab.IndexInfo) error {
	for i := range info.Constraints {
		c := &info.Constraints[i]
		if c.Column == 0 && c.Op == vtab.OpEQ && c.Usable {
			c.ArgIndex, c.Omit = 0, true
			info.IdxNum, info.EstimatedCost = 1, 1
			return nil
		}
	}
	info.IdxNum, info.EstimatedCost = 0, 1e18
	return nil
}

func (t *feedTable) Open() (vtab.Cursor, error) { return &feedCursor{width: t.width}, nil }
func (t *feedTable) Disconnect() error          { return nil }
func (t *feedTable) Destroy() error             { return nil }

type feedCursor struct {
	width  int
	handle int64
	vals   []any
	row    int
}

func (c *feedCursor) Filter(idxNum int, _ string, vals []vtab.Value) error {
	if idxNum != 1 || len(vals) != 1 {
		return fmt.Errorf("%s: a statement must name its rows with h = ?", feedModule)
	}
	h, ok := vals[0].(int64)
	if !ok {
		return fmt.Errorf("%s: handle %v is not an integer", feedModule, vals[0])
	}
	feeds.Lock()
	f, ok := feeds.m[h]
	feeds.Unlock()
	if !ok {
		return fmt.Errorf("%s: no rows under handle %d", feedModule, h)
	}
	if f.width != c.width {
		return fmt.Errorf("%s: rows of width %d read through a table of width %d", feedModule, f.width, c.width)
	}
	c.handle, c.vals, c.row = h, f.vals, 0
	return nil
}

func (c *feedCursor) Next() error { c.row++; return nil }
func (c *feedCursor) Eof() bool   { return (c.row+1)*c.width > len(c.vals) }

func (c *feedCursor) Column(col int) (vtab.Value, error) {
	if col == 0 {
		return c.handle, nil
	}
	return c.vals[c.row*c.width+col-1], nil
}

func (c *feedCursor) Rowid() (int64, error) { return int64(c.row), nil }
func (c *feedCursor) Close() error          { c.vals = nil; return nil }
