package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

func open(t *testing.T, o sink.Options) sinktest.Target {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "dest.db"), &o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return target{s}
}

// target is the sink plus what the suite needs to plant a refusal.
type target struct{ *Sink }

// Refuse adds triggers that abort an insert or update of a row whose column
// holds value: SQLite cannot add a CHECK constraint to an existing table,
// and a trigger's ABORT is what a customer would use (SQLITE_CONSTRAINT).
func (s target) Refuse(ctx context.Context, table schema.TableName, column string, value int64) error {
	table = s.resolve(table)
	for _, op := range []string{"INSERT", "UPDATE"} {
		q := fmt.Sprintf(`CREATE TRIGGER %s BEFORE %s ON %s WHEN NEW.%s = %d BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`,
			quote("refuse_"+strings.ToLower(op)+"_"+column), op, qualified(table), quote(column), value)
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// ViewColumn reads one column of a view per row id.
func (s target) ViewColumn(ctx context.Context, view schema.TableName, column string) (map[string]*string, error) {
	view = s.resolve(view)
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT %s, CAST(%s AS TEXT) FROM %s", quote(schema.ColID), quote(column), qualified(view)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*string{}
	for rows.Next() {
		var id string
		var v *string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

func TestSuite(t *testing.T) { sinktest.Run(t, open) }

// The path is the profile's connection, a secret like any other: errors do
// not repeat it.
func TestOpenErrorsHidePath(t *testing.T) {
	tests := []string{
		filepath.Join(t.TempDir(), "no", "such", "dir", "secretname.db"),
		"secret?name.db",
		"",
	}
	for _, path := range tests {
		_, err := Open(t.Context(), path, nil)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", path)
		}
		if path != "" && strings.Contains(err.Error(), "secret") {
			t.Errorf("error reveals the path: %v", err)
		}
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), &sink.Options{Schema: "other"}); err == nil {
		t.Error("Open with a schema other than main succeeded")
	}
}

// Another process re-creates a table with another column kind (a
// re-baseline after a type change): this sink's cached columns are stale,
// and at most one Apply may fail on them before it reads them again.
func TestStaleColumnCacheRecovers(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	a, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tn := schema.TableName{Name: "acct"}
	table := func(ct schema.ColumnType) schema.Table {
		return schema.Table{TableName: tn, Entity: "acct", Columns: []schema.Column{{Name: "x", Type: ct}}}
	}
	const id = "00000000-0000-4000-8000-000000000001"
	if err := b.EnsureTable(ctx, table(schema.StringType(10))); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, tn, record.Batch{Columns: []record.Column{{Name: "x", Kind: record.String}},
		Upserts: []record.Record{{ID: id, Version: 1, Values: []record.Value{record.StringValue("a")}}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.DropTable(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureTable(ctx, table(schema.IntType())); err != nil {
		t.Fatal(err)
	}
	batch := record.Batch{Columns: []record.Column{{Name: "x", Kind: record.Int}},
		Upserts: []record.Record{{ID: id, Version: 2, Values: []record.Value{record.IntValue(7)}}}}
	if _, err := a.Apply(ctx, tn, batch); err == nil {
		return // read afresh at once: fine too
	}
	if res, err := a.Apply(ctx, tn, batch); err != nil || res.Upserted != 1 {
		t.Fatalf("second Apply after the table changed = %+v, %v; the stale column list was not read again", res, err)
	}
}

// A trigger that refuses a row with RAISE(ROLLBACK) ends the whole
// transaction, not just the statement: the row-by-row retry inside the
// transaction must notice and leave the splitting to separate
// transactions, so the good rows and the deletes are still written.
func TestRefusalThatRollsBack(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "dest.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tbl := schema.Table{TableName: schema.TableName{Name: "acct"}, Entity: "acct", Columns: []schema.Column{{Name: "n", Type: schema.IntType()}}}
	if err := s.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `CREATE TRIGGER refuse BEFORE INSERT ON acct WHEN NEW.n < 0 BEGIN SELECT RAISE(ROLLBACK, 'refused'); END`); err != nil {
		t.Fatal(err)
	}
	id := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }
	cols := []record.Column{{Name: "n", Kind: record.Int}}
	var ups []record.Record
	for i := range 100 {
		n := int64(i)
		if i == 5 || i == 70 {
			n = -1
		}
		ups = append(ups, record.Record{ID: id(i), Version: 1, Values: []record.Value{record.IntValue(n)}})
	}
	res, err := s.Apply(ctx, tbl.TableName, record.Batch{Columns: cols, Upserts: ups, Deletes: []record.Delete{{ID: id(500), Version: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts() != (sink.Counts{Upserted: 98, Deleted: 1, Rejected: 2}) || res.Rejected[0].ID != id(5) || res.Rejected[1].ID != id(70) {
		t.Fatalf("Apply = %+v, want 98 written, the delete applied, %s and %s rejected", res, id(5), id(70))
	}
	if n, err := s.Count(ctx, tbl.TableName); err != nil || n != 98 {
		t.Fatalf("Count = %d, %v; want 98", n, err)
	}
	tombs, err := s.Tombstones(ctx, tbl.TableName)
	if err != nil || tombs[id(500)] != 3 {
		t.Fatalf("tombstones %v, %v; want the delete's", tombs, err)
	}
}
