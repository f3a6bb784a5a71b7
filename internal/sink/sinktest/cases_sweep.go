package sinktest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/sink"
)

// keysOf streams a table's keys into a map.
func (f *fixture) keys(t *testing.T) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := f.s.ScanKeys(t.Context(), f.table.TableName, func(id string, v int64) error {
		if _, dup := got[id]; dup {
			t.Errorf("ScanKeys yielded %s twice", id)
		}
		got[id] = v
		return nil
	})
	if err != nil {
		t.Fatalf("ScanKeys(%s): %v", f.table.TableName, err)
	}
	return got
}

// testScanKeys: every row's lowercase id and version, nothing else; an
// error from the callback stops the scan; a missing table is a
// *sink.NoTableError.
func testScanKeys(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	if got := f.keys(t); len(got) != 0 {
		t.Fatalf("keys of an empty table: %v", got)
	}
	f.apply(t, f.batch(f.recs(rv{1, 3}, rv{2, 5}, rv{3, 7}), del(2, 6)))
	if got, want := f.keys(t), map[string]int64{guid(1): 3, guid(3): 7}; !maps.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	errorAs[*stopError](t, f.s.ScanKeys(t.Context(), f.table.TableName, func(string, int64) error { return &stopError{} }))
	missing := f.s.Options().TableOptions().TableName("nosuch")
	errorAs[*sink.NoTableError](t, f.s.ScanKeys(t.Context(), missing, func(string, int64) error { return nil }))
}

type stopError struct{}

func (*stopError) Error() string { return "stop" }

// testSweep: the rows the staged key set does not list and whose version
// is not above the sweep's are removed and tombstoned at that version (a
// later older upsert stays out), logged to the DeleteLog; listed rows and
// newer rows stay; an incomplete set removes nothing; a sweep runs again
// harmlessly; keys are cleared per scan and by age, and tables and scans
// are independent.
func testSweep(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t, sink.Options{WriteDeleteLog: true})
	f := addFixture(t, s, Account("account"))
	other := addFixture(t, s, Account("contact"))

	if has, err := s.HasRows(ctx, f.table.TableName); err != nil || has {
		t.Fatalf("HasRows of an empty table = %v, %v", has, err)
	}
	if has, err := s.HasRows(ctx, s.Options().TableOptions().TableName("nosuch")); err != nil || has {
		t.Fatalf("HasRows of a missing table = %v, %v; want false, nil", has, err)
	}
	// 1-6 stored; the source now has 1, 2, 4 (listed) and 6 changed since
	// the scan began (version 60 > 50); 3 and 5 are gone from it.
	f.apply(t, f.batch(f.recs(rv{1, 10}, rv{2, 20}, rv{3, 30}, rv{4, 40}, rv{5, 45}, rv{6, 60})))
	other.apply(t, other.batch(other.recs(rv{3, 30})))
	if has, err := s.HasRows(ctx, f.table.TableName); err != nil || !has {
		t.Fatalf("HasRows = %v, %v; want true", has, err)
	}
	const scan = "0a1b2c3d"
	n1, err := s.StageKeys(ctx, f.table.TableName, scan, []string{guid(1), guid(2)})
	if err != nil || n1 != 2 {
		t.Fatalf("StageKeys = %d, %v; want 2", n1, err)
	}
	// A page staged again (after a crash) and a duplicate within a page
	// count only what is new.
	n2, err := s.StageKeys(ctx, f.table.TableName, scan, []string{guid(2), guid(4), guid(4), guid(7)})
	if err != nil || n2 != 2 {
		t.Fatalf("StageKeys again = %d, %v; want 2 new", n2, err)
	}
	// Another scan of another table holding 3 keeps nothing here.
	if _, err := s.StageKeys(ctx, other.table.TableName, "ffff0000", []string{guid(5)}); err != nil {
		t.Fatal(err)
	}
	staged := int64(n1 + n2)

	_, err = s.Sweep(ctx, f.table.TableName, sink.SweepSpec{Entity: "account", Scan: scan, Staged: staged + 1, Version: 50})
	ie := errorAs[*sink.IncompleteScanError](t, err)
	if ie.Holds != staged || ie.Staged != staged+1 {
		t.Errorf("IncompleteScanError %+v", ie)
	}
	f.assertRows(t, f.recs(rv{1, 10}, rv{2, 20}, rv{3, 30}, rv{4, 40}, rv{5, 45}, rv{6, 60}))

	before := time.Now().UTC().Add(-time.Second)
	removed, err := s.Sweep(ctx, f.table.TableName, sink.SweepSpec{Entity: "account", Scan: scan, Staged: staged, Version: 50})
	if err != nil || removed != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 removed", removed, err)
	}
	want := f.recs(rv{1, 10}, rv{2, 20}, rv{4, 40}, rv{6, 60})
	f.assertRows(t, want)
	f.assertTombstones(t, map[string]int64{guid(3): 50, guid(5): 50})
	other.assertRows(t, other.recs(rv{3, 30}))
	log, err := s.DeleteLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for _, e := range log {
		if e.EntityName != "account" || e.VersionNumber != 50 || !sink.IsGUID(e.ID) || e.SinkDeleteTime.Before(before) {
			t.Errorf("delete log entry %+v", e)
		}
		logged = append(logged, e.RecordID)
	}
	if slices.Sort(logged); !slices.Equal(logged, []string{guid(3), guid(5)}) {
		t.Errorf("delete log records %v, want %s and %s", logged, guid(3), guid(5))
	}

	// A late upsert older than the sweep stays out; a newer one is a
	// record created again.
	assertResult(t, "late upsert", f.apply(t, f.batch(f.recs(rv{3, 31}))), sink.Result{Skipped: 1})
	// Again: nothing more goes.
	if removed, err := s.Sweep(ctx, f.table.TableName, sink.SweepSpec{Entity: "account", Scan: scan, Staged: staged, Version: 50}); err != nil || removed != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0", removed, err)
	}
	f.assertRows(t, want)

	// Cleared keys: the same sweep now finds its set incomplete.
	if err := s.ClearKeys(ctx, f.table.TableName, scan, time.Time{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Sweep(ctx, f.table.TableName, sink.SweepSpec{Entity: "account", Scan: scan, Staged: staged, Version: 50})
	errorAs[*sink.IncompleteScanError](t, err)
	f.assertRows(t, want)
	// An empty set with nothing staged removes every row at or below the
	// version: the source has no rows left.
	if removed, err := s.Sweep(ctx, f.table.TableName, sink.SweepSpec{Entity: "account", Scan: "emptyset", Version: 40}); err != nil || removed != 3 {
		t.Fatalf("Sweep of an empty source = %d, %v; want 3", removed, err)
	}
	f.assertRows(t, f.recs(rv{6, 60}))

	// By age: the other table's set goes only with a bound after it was
	// staged, and only for that table.
	if err := s.ClearKeys(ctx, other.table.TableName, "", before); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sweep(ctx, other.table.TableName, sink.SweepSpec{Scan: "ffff0000", Staged: 1, Version: 1}); err != nil {
		t.Fatalf("a set staged after the bound was cleared: %v", err)
	}
	if err := s.ClearKeys(ctx, other.table.TableName, "", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Sweep(ctx, other.table.TableName, sink.SweepSpec{Scan: "ffff0000", Staged: 1, Version: 1})
	errorAs[*sink.IncompleteScanError](t, err)

	if _, err := s.StageKeys(ctx, f.table.TableName, scan, []string{"not-a-guid"}); err == nil {
		t.Error("StageKeys accepted an id that is not a GUID")
	}
	if _, err := s.Sweep(ctx, f.table.TableName, sink.SweepSpec{Version: 1}); err == nil {
		t.Error("Sweep without a scan id ran")
	}
	// Dropping the table takes its staged keys along.
	if _, err := s.StageKeys(ctx, f.table.TableName, "again", []string{guid(6)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DropTable(ctx, f.table.TableName); err != nil {
		t.Fatal(err)
	}
	f = addFixture(t, s, Account("account"))
	f.apply(t, f.batch(f.recs(rv{6, 60})))
	_, err = s.Sweep(ctx, f.table.TableName, sink.SweepSpec{Scan: "again", Staged: 1, Version: 70})
	errorAs[*sink.IncompleteScanError](t, err)
}
