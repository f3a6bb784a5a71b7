package sqlite

import (
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
	return s
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
