// Package sinktest is the acceptance suite every sink dialect passes: tables
// from metadata, exact round trips of every kind, the version-guarded write
// contract of sink.BatchApplier (replays, reordering, tombstones), the delete
// log, errors, schema evolution and the backfill of added columns.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// Target is what the suite drives: a dialect with every capability
// (sink.Destination: a dialect that lacks one does not compile against the
// suite, so nothing is skipped) plus what the suite checks with.
type Target interface {
	sink.Destination
	// Options are the options the sink runs with, Schema resolved.
	Options() sink.Options
	// Tombstones is the tombstone version per id of table.
	Tombstones(ctx context.Context, table schema.TableName) (map[string]int64, error)
	// DeleteLog is the delete log, ordered by RecordId then VersionNumber.
	DeleteLog(ctx context.Context) ([]sink.DeleteLogEntry, error)
	// Refuse makes the destination refuse, from now on, every row of table
	// whose integer column holds value, as a CHECK constraint a customer
	// added would (SQLite: a trigger raising ABORT). Rows already stored
	// are not checked.
	Refuse(ctx context.Context, table schema.TableName, column string, value int64) error
	ViewReader
}

// Opener opens a Target with o on a fresh, empty database or schema (the
// opener picks o.Schema) and closes it and cleans up in t.Cleanup.
type Opener func(t *testing.T, o sink.Options) Target

// Run runs the whole suite against the dialect that open opens.
func Run(t *testing.T, open Opener) {
	t.Run("CreateFromMetadata", func(t *testing.T) { testCreate(t, open) })
	t.Run("RoundTripEveryKind", func(t *testing.T) { testRoundTrip(t, open) })
	t.Run("Semantics", func(t *testing.T) { testSemantics(t, open) })
	t.Run("OrderFree", func(t *testing.T) { testOrderFree(t, open) })
	t.Run("TablesIndependent", func(t *testing.T) { testTablesIndependent(t, open) })
	t.Run("DeleteLog", func(t *testing.T) { testDeleteLog(t, open) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, open) })
	t.Run("RejectedRecords", func(t *testing.T) { testRejected(t, open) })
	t.Run("AddColumn", func(t *testing.T) { testAddColumn(t, open) })
	t.Run("TableColumns", func(t *testing.T) { testTableColumns(t, open) })
	t.Run("Backfill", func(t *testing.T) { testBackfill(t, open) })
	t.Run("Widen", func(t *testing.T) { testWiden(t, open) })
	t.Run("IncompatibleChange", func(t *testing.T) { testIncompatible(t, open) })
	t.Run("Prefix", func(t *testing.T) { testPrefix(t, open) })
	t.Run("LargeBatch", func(t *testing.T) { testLargeBatch(t, open) })
	t.Run("Metadata", func(t *testing.T) { testMetadata(t, open) })
	t.Run("MetadataConcurrent", func(t *testing.T) { testMetadataConcurrent(t, open) })
	t.Run("ScanKeys", func(t *testing.T) { testScanKeys(t, open) })
	t.Run("Sweep", func(t *testing.T) { testSweep(t, open) })
	t.Run("DropTable", func(t *testing.T) { testDropTable(t, open) })
	t.Run("DropColumns", func(t *testing.T) { testDropColumns(t, open) })
	t.Run("SinkTimes", func(t *testing.T) { testSinkTimes(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("IntersectAndActivityParty", func(t *testing.T) { testRelations(t, open) })
	t.Run("LabelView", func(t *testing.T) { testLabelView(t, open) })
}

// fixture is an entity table created in a target.
type fixture struct {
	s     Target
	e     *dataverse.Entity
	table schema.Table
	cols  []record.Column
}

// newFixture opens a target and creates the table of e in it.
func newFixture(t *testing.T, open Opener, o sink.Options, e *dataverse.Entity) *fixture {
	t.Helper()
	s := open(t, o)
	return addFixture(t, s, e)
}

func addFixture(t *testing.T, s Target, e *dataverse.Entity) *fixture {
	t.Helper()
	tbl, err := schema.Map(e, s.Options().TableOptions())
	if err != nil {
		t.Fatalf("schema.Map(%s): %v", e.LogicalName, err)
	}
	if err := s.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatalf("EnsureTable(%s): %v", tbl.TableName, err)
	}
	f := &fixture{s: s, e: e, table: tbl}
	for _, fl := range dataverse.Fields(e) {
		f.cols = append(f.cols, fl.Column)
	}
	return f
}

func (f *fixture) batch(ups []record.Record, dels ...record.Delete) record.Batch {
	return record.Batch{Entity: f.e.LogicalName, Columns: f.cols, Upserts: ups, Deletes: dels}
}

func (f *fixture) apply(t *testing.T, b record.Batch) sink.Result {
	t.Helper()
	res, err := f.s.Apply(t.Context(), f.table.TableName, b)
	if err != nil {
		t.Fatalf("Apply(%s): %v", f.table.TableName, err)
	}
	for _, r := range res.Rejected {
		t.Errorf("Apply(%s) rejected %s: %v", f.table.TableName, r.ID, r.Err)
	}
	return res
}

// assertRows checks that the table holds exactly want (any order), every
// column compared exactly; decimals compared in canonical form.
func (f *fixture) assertRows(t *testing.T, want []record.Record) {
	t.Helper()
	got, err := f.s.Rows(t.Context(), f.table.TableName, f.cols)
	if err != nil {
		t.Fatalf("Rows(%s): %v", f.table.TableName, err)
	}
	want = slices.Clone(want)
	slices.SortFunc(want, func(a, b record.Record) int { return strings.Compare(a.ID, b.ID) })
	if len(got) != len(want) {
		t.Fatalf("%s holds %d rows, want %d (ids got %v, want %v)", f.table.TableName, len(got), len(want), ids(got), ids(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Version != w.Version {
			t.Fatalf("row %d: id/version %s/%d, want %s/%d", i, g.ID, g.Version, w.ID, w.Version)
		}
		for j, c := range f.cols {
			wv := canonical(f.s, w.Values[j])
			if !g.Values[j].Equal(wv) {
				t.Errorf("record %s column %s (%s): got %s %q, want %s %q", w.ID, c.Name, c.Kind, g.Values[j].Kind, clip(g.Values[j].String()), wv.Kind, clip(wv.String()))
			}
		}
	}
}

func (f *fixture) assertTombstones(t *testing.T, want map[string]int64) {
	t.Helper()
	got, err := f.s.Tombstones(t.Context(), f.table.TableName)
	if err != nil {
		t.Fatalf("Tombstones: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("tombstones %v, want %v", got, want)
	}
	for id, v := range want {
		if got[id] != v {
			t.Fatalf("tombstones %v, want %v", got, want)
		}
	}
}

// TimeRounder is implemented by a Target whose DateTime columns keep less
// than microseconds (SQL Server datetime, as DES used: 1/300 s); the suite
// then expects a written time as the column holds it.
type TimeRounder interface {
	StoredTime(t time.Time) time.Time
}

func canonical(s Target, v record.Value) record.Value {
	switch v.Kind {
	case record.DateTime:
		if r, ok := s.(TimeRounder); ok {
			v = v.WithTime(r.StoredTime(v.Time()))
		}
	case record.Decimal:
		v.S = sink.CanonicalDecimal(v.S)
	case record.GUID:
		v.S = strings.ToLower(v.S)
	}
	return v
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

func ids(rs []record.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s@%d", r.ID[:8], r.Version)
	}
	return out
}

// assertResult compares the counts of two results (rejections by number).
func assertResult(t *testing.T, step string, got, want sink.Result) {
	t.Helper()
	if got.Counts() != want.Counts() {
		t.Errorf("%s: result %+v, want %+v", step, got.Counts(), want.Counts())
	}
}

// errorAs fails unless err matches target.
func errorAs[E error](t *testing.T, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want %T", err, err, e)
	}
	return e
}
