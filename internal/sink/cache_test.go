package sink

import (
	"context"
	"errors"
	"testing"

	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

// The cache every dialect shares: columns read once, read again when a
// batch names one the cache lacks, forgotten after a failure or a
// rejection; Skipped counts what was neither written nor rejected.
func TestColumnCacheApply(t *testing.T) {
	table := schema.TableName{Schema: "s", Name: "t"}
	have := map[string]schema.ColumnType{"name": schema.StringType(5)}
	reads := 0
	read := func(_ context.Context, tn schema.TableName) (map[string]schema.ColumnType, error) {
		reads++
		if tn != table {
			return nil, &NoTableError{Table: tn}
		}
		return have, nil
	}
	var fail error
	write := func(_ context.Context, p Prepared, cols map[string]schema.ColumnType) (Result, error) {
		if fail != nil {
			return Result{}, fail
		}
		if _, ok := cols["name"]; !ok {
			t.Fatal("writer not given the columns")
		}
		// One stored row is newer: one upsert is not written.
		return Result{Upserted: max(0, len(p.Upserts)-1), Deleted: len(p.Deletes)}, nil
	}
	str := []record.Column{{Name: "name", Kind: record.String}}
	batch := func(vals ...string) record.Batch {
		b := record.Batch{Columns: str}
		for i, v := range vals {
			b.Upserts = append(b.Upserts, record.Record{ID: gid(i), Version: 1, Values: []record.Value{record.StringValue(v)}})
		}
		return b
	}
	var c ColumnCache
	ctx := t.Context()

	res, err := c.Apply(ctx, table, batch("a", "b", "c"), read, write)
	if err != nil || res.Counts() != (Counts{Upserted: 2, Skipped: 1}) || reads != 1 {
		t.Fatalf("first Apply = %+v, %v after %d reads", res, err, reads)
	}
	if _, err := c.Apply(ctx, table, batch("a"), read, write); err != nil || reads != 1 {
		t.Fatalf("second Apply read the columns again (%d reads), %v", reads, err)
	}

	// A rejected record: the others written, the columns read again next time.
	res, err = c.Apply(ctx, table, batch("a", "too long", "c"), read, write)
	if err != nil || len(res.Rejected) != 1 || res.Rejected[0].ID != gid(1) || res.Counts() != (Counts{Upserted: 1, Skipped: 1, Rejected: 1}) {
		t.Fatalf("Apply with a long value = %+v, %v", res, err)
	}
	c.Apply(ctx, table, batch("a"), read, write)
	if reads != 2 {
		t.Fatalf("%d reads, want the columns read again after a rejection", reads)
	}

	// A new column: read again once, then named.
	have = map[string]schema.ColumnType{"name": schema.StringType(5), "city": schema.StringType(5)}
	wide := batch("a")
	wide.Columns = append(wide.Columns, record.Column{Name: "city", Kind: record.String})
	wide.Upserts[0].Values = append(wide.Upserts[0].Values, record.StringValue("x"))
	if _, err := c.Apply(ctx, table, wide, read, write); err != nil || reads != 3 {
		t.Fatalf("Apply with a column added elsewhere = %v after %d reads", err, reads)
	}
	wide.Columns[1].Name = "nosuch"
	if _, err := c.Apply(ctx, table, wide, read, write); !errors.Is(err, ErrUnknownColumn) || errclass.Of(err) != errclass.Schema || reads != 4 {
		t.Fatalf("Apply with an unknown column = %v (%s) after %d reads", err, errclass.Of(err), reads)
	}

	// A failed write: the error, and the columns read again next time.
	fail = errclass.With(errclass.Transient, errors.New("connection reset"))
	c.Apply(ctx, table, batch("a"), read, write)
	fail = nil
	before := reads
	c.Apply(ctx, table, batch("a"), read, write)
	if reads != before+1 {
		t.Fatal("the columns were not read again after a failed Apply")
	}
	if _, err := c.Apply(ctx, schema.TableName{Schema: "s", Name: "nosuch"}, batch("a"), read, write); !errors.Is(err, ErrNoTable) {
		t.Fatalf("missing table: %v", err)
	}
}
