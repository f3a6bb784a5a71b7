package sqlserver

import (
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// Another process widens a column: the value checks run against this
// sink's cached types, so at most one Apply may reject a value the column
// now takes before the types are read again.
func TestStaleColumnCacheRecovers(t *testing.T) {
	narrow := []schema.Column{{Name: "name", Type: schema.StringType(5)}}
	wide := []schema.Column{{Name: "name", Type: schema.StringType(50)}}
	// The catalog answers nvarchar(5) first, then nvarchar(50) on every
	// later read.
	sc := &script{tableCols: [][]dbColumn{catalogOf(t, narrow), catalogOf(t, wide), catalogOf(t, wide), catalogOf(t, wide)}, upserted: 1}
	s, _ := openRecorded(t, sink.Options{}, sc)
	tn := schema.TableName{Name: "acct"}
	batch := func(v int64, val string) record.Batch {
		return record.Batch{Columns: []record.Column{{Name: "name", Kind: record.String}},
			Upserts: []record.Record{{ID: "00000000-0000-4000-8000-000000000001", Version: v, Values: []record.Value{record.StringValue(val)}}}}
	}
	if _, err := s.Apply(t.Context(), tn, batch(1, "abc")); err != nil {
		t.Fatal(err)
	}
	long := batch(2, strings.Repeat("y", 20))
	if res, err := s.Apply(t.Context(), tn, long); err == nil && len(res.Rejected) == 0 {
		return // read afresh at once: fine too
	}
	if res, err := s.Apply(t.Context(), tn, long); err != nil || len(res.Rejected) > 0 {
		t.Fatalf("second Apply after the column was widened: %+v, %v; the stale types were not read again", res, err)
	}
}
