package sqlite

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// The feed serves a handle's rows, typed as given, and refuses every
// statement it cannot answer rightly.
func TestFeed(t *testing.T) {
	ctx := t.Context()
	s := open(t, sink.Options{}).(target)
	if _, err := s.db.ExecContext(ctx, feedCreateSQL(3)); err != nil {
		t.Fatal(err)
	}
	h, release := addFeed([]any{"a", int64(1), "x", "b", int64(2), nil}, 3)
	rows, err := s.db.QueryContext(ctx, `SELECT c0, c1, typeof(c1), c2 FROM `+feedName(3)+` WHERE h = ?`, h)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id, typ string
		var ver int64
		var c2 *string
		if err := rows.Scan(&id, &ver, &typ, &c2); err != nil {
			t.Fatal(err)
		}
		v := "NULL"
		if c2 != nil {
			v = *c2
		}
		got = append(got, strings.Join([]string{id, typ, v}, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "a integer x|b integer NULL"; strings.Join(got, "|") != want {
		t.Errorf("rows = %q, want %q", strings.Join(got, "|"), want)
	}
	release()

	refused := []struct{ name, sql, want string }{
		{"no handle", `SELECT * FROM ` + feedName(3), "must name its rows"},
		{"released handle", `SELECT * FROM ` + feedName(3) + ` WHERE h = 1`, "no rows under handle"},
		{"text handle", `SELECT * FROM ` + feedName(3) + ` WHERE h = 'x'`, "is not an integer"},
		{"width 0", `CREATE VIRTUAL TABLE temp.f0 USING dataexport_rows(0)`, "from 1 to 1999"},
		{"width 2000", `CREATE VIRTUAL TABLE temp.f1 USING dataexport_rows(2000)`, "from 1 to 1999"},
		{"no width", `CREATE VIRTUAL TABLE temp.f2 USING dataexport_rows`, "want one argument"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			rows, err := s.db.QueryContext(ctx, c.sql)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: err = %v, want one containing %q", c.sql, err, c.want)
			}
		})
	}
	t.Run("other width", func(t *testing.T) {
		h, release := addFeed([]any{"a", int64(1)}, 2)
		defer release()
		_, err := s.db.ExecContext(ctx, `SELECT * FROM `+feedName(3)+` WHERE h = ?`, h)
		if err == nil || !strings.Contains(err.Error(), "width 2 read through a table of width 3") {
			t.Errorf("err = %v", err)
		}
	})
}

// Apply leaves no rows behind in the feed, whether its statement succeeds
// or a record makes it fall back to chunks.
func TestApplyReleasesItsFeed(t *testing.T) {
	ctx := t.Context()
	s := open(t, sink.Options{}).(target)
	cols := []record.Column{{Name: "n", Kind: record.Int}}
	tbl := schema.Table{TableName: schema.TableName{Schema: DefaultSchema, Name: "t"}, Columns: []schema.Column{{Name: "n", Type: schema.ColumnType{Kind: record.Int}}}}
	if err := s.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	if err := s.Refuse(ctx, tbl.TableName, "n", 13); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []bool{false, true} {
		var ups []record.Record
		for i := range 10 {
			n := int64(i)
			if bad && i == 5 {
				n = 13
			}
			ups = append(ups, record.Record{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", map[bool]int{false: 0, true: 100}[bad]+i), Version: 1, Values: []record.Value{record.IntValue(n)}})
		}
		res, err := s.Apply(ctx, tbl.TableName, record.Batch{Entity: "t", Columns: cols, Upserts: ups})
		if err != nil {
			t.Fatal(err)
		}
		want := 10
		if bad {
			want = 9
		}
		if res.Upserted != want || len(res.Rejected) != 10-want {
			t.Errorf("bad=%v: %+v, want %d upserted", bad, res, want)
		}
		feeds.Lock()
		left := len(feeds.m)
		feeds.Unlock()
		if left != 0 {
			t.Errorf("bad=%v: %d feeds left after Apply", bad, left)
		}
	}
}
