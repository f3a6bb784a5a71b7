package sink

import (
	"context"
	"fmt"
	"time"

	"github.com/dataexport/dataexport/internal/schema"
)

// KeyScanner streams the key of every row of a table: the destination side
// of a reconcile, which compares (id, versionnumber) with the source's
// without reading any other column.
type KeyScanner interface {
	// ScanKeys hands fn the lowercase id and versionnumber (0 when the
	// column is NULL) of every row of table, in no particular order (a
	// reconcile buckets ids by a hash, never by position: the dialects
	// order GUIDs differently), holding one row at a time. An error from fn
	// stops the scan and is returned.
	ScanKeys(ctx context.Context, table schema.TableName, fn func(id string, version int64) error) error
}

// KeysTable is the sink's own table holding the keys a key scan staged
// (<Prefix>_dataexport_keys: TableName, ScanId, Id, StagedOn; primary key
// (TableName, ScanId, Id)).
const KeysTable = "dataexport_keys"

// Keys is the table of staged keys.
func (o Options) Keys() schema.TableName { return o.TableOptions().TableName(KeysTable) }

// Sweeper removes the rows a full read over an existing table did not see
// and nothing touched since: the last step of a full read that converges.
// The poller streams the source's keys into the destination (StageKeys,
// page by page, resumable), then Sweep deletes in one statement every row
// whose id the source did not list and whose versionnumber is not above
// the version the read reached, tombstoned at that version like any delete
// (so an older upsert still in flight cannot bring the row back) and
// written to the DeleteLog when the sink keeps one. A row created or
// changed after the scan began carries a higher version and stays.
type Sweeper interface {
	// HasRows reports whether table holds at least one row; false when
	// the table does not exist.
	HasRows(ctx context.Context, table schema.TableName) (bool, error)
	// StageKeys adds ids (GUIDs) to the key set scan of table, ignoring
	// ids the set already holds (a page staged again after a crash), and
	// returns how many were new. It is bulk loaded, one transaction.
	StageKeys(ctx context.Context, table schema.TableName, scan string, ids []string) (int, error)
	// Sweep removes, in one transaction under the table's write lock,
	// every row of table whose id is not in the key set s.Scan and whose
	// versionnumber is at most s.Version (or NULL), raises each one's
	// tombstone to s.Version and logs it to the DeleteLog (EntityName
	// s.Entity). The set must hold at least s.Staged keys, what the
	// caller counted as it staged them; fewer (keys removed meanwhile)
	// is an *IncompleteScanError and nothing is removed. Sweep leaves the
	// keys in place (ClearKeys removes them), so it can run again.
	Sweep(ctx context.Context, table schema.TableName, s SweepSpec) (int, error)
	// ClearKeys removes the staged keys of table's scan scan (when not
	// empty) and those of any scan of table staged before before (when
	// not zero): abandoned scans.
	ClearKeys(ctx context.Context, table schema.TableName, scan string, before time.Time) error
}

// SweepSpec says what Sweep removes.
type SweepSpec struct {
	Entity  string // logical name, for the DeleteLog
	Scan    string // the key set the rows to keep are listed in
	Staged  int64  // the keys the set must hold at least
	Version int64  // rows above it stay; tombstones are raised to it
}

// Check refuses a spec no sweep may run with.
func (s SweepSpec) Check() error {
	if s.Scan == "" || len(s.Scan) > 32 {
		return fmt.Errorf("sweep: scan id %q must be 1-32 characters", s.Scan)
	}
	if s.Staged < 0 || s.Version < 0 {
		return fmt.Errorf("sweep: staged %d and version %d must not be negative", s.Staged, s.Version)
	}
	return nil
}

// IncompleteScanError says a key set holds fewer keys than were staged in
// it, so a sweep would remove rows the source still has: nothing was
// removed, and the key scan must start again.
type IncompleteScanError struct {
	Table         schema.TableName
	Scan          string
	Staged, Holds int64
}

func (e *IncompleteScanError) Error() string {
	return fmt.Sprintf("sweep of %s: key set %s holds %d keys, %d were staged; nothing removed, the key scan must start again", e.Table, e.Scan, e.Holds, e.Staged)
}
