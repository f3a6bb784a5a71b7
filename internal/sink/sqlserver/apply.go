package sqlserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// Write path: bulk copy (mssql.CopyIn, TDS BulkLoadBCP) into a session temp
// table, then one set-based statement. A TVP would need a Go struct type
// per entity (go-mssqldb reflects TVP rows from struct fields), while our
// rows are dynamic; bulk copy streams []any rows, is the fastest load path
// the server has, and the MERGE that follows is the text of the
// <table>_Upsert procedure with the staging table as its source.
const (
	stageTable = "#dataexport_stage"
	stageIDs   = "#dataexport_ids"
)

// Apply writes b to table in one transaction; see sink.BatchApplier.
func (s *Sink) Apply(ctx context.Context, table schema.TableName, b record.Batch) (sink.Result, error) {
	res, err := s.apply(ctx, table, b)
	if err != nil {
		// The cached column list may be what failed: another process may
		// have widened, retyped or re-created the table. The next attempt
		// reads it again.
		s.forget(s.resolve(table))
	}
	return res, err
}

func (s *Sink) apply(ctx context.Context, table schema.TableName, b record.Batch) (sink.Result, error) {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return sink.Result{}, fmt.Errorf("sqlserver sink: %w", err)
	}
	p, cols, err := s.prepare(ctx, table, b)
	if err != nil {
		return sink.Result{}, err
	}
	res := sink.Result{Skipped: p.Skipped}
	if len(p.Upserts) == 0 && len(p.Deletes) == 0 {
		return res, nil
	}
	types := make([]schema.ColumnType, len(p.Columns))
	for i, c := range p.Columns {
		types[i] = cols[c.Name]
	}
	if err := checkUpserts(p, types); err != nil {
		return sink.Result{}, err
	}
	entity := b.Entity
	if entity == "" {
		entity = table.Name
	}
	w := s.writeTarget(table, entity)

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sink.Result{}, fmt.Errorf("sqlserver sink: apply to %s: %w", table, err)
	}
	fail := func(err error) (sink.Result, error) {
		// The cached columns may be stale (another process altered the
		// table); read them again next time.
		s.forget(table)
		return sink.Result{}, rollback(tx, fmt.Errorf("sqlserver sink: apply to %s: %w", table, err))
	}
	// Deletes first, then upserts: both are version-guarded, so the rows
	// end the same either way, but this way an upsert older than a delete
	// in the same batch counts as skipped rather than written and removed.
	if len(p.Deletes) > 0 {
		n, err := s.delete(ctx, tx, w, p.Deletes)
		if err != nil {
			return fail(err)
		}
		res.Deleted = n
	}
	if len(p.Upserts) > 0 {
		n, err := s.upsert(ctx, tx, w, p, types)
		if err != nil {
			return fail(err)
		}
		res.Upserted = n
		res.Skipped += len(p.Upserts) - n
	}
	if err := tx.Commit(); err != nil {
		s.forget(table)
		return sink.Result{}, fmt.Errorf("sqlserver sink: apply to %s: commit: %w", table, err)
	}
	return res, nil
}

// prepare checks b against the table's columns, reading them again once if
// a column is unknown (another process may have added it).
func (s *Sink) prepare(ctx context.Context, table schema.TableName, b record.Batch) (sink.Prepared, map[string]schema.ColumnType, error) {
	cols, err := s.columns(ctx, s.db, table, false)
	if err != nil {
		return sink.Prepared{}, nil, err
	}
	p, err := sink.Prepare(table, b, cols)
	if errors.Is(err, sink.ErrUnknownColumn) {
		if cols, err = s.columns(ctx, s.db, table, true); err != nil {
			return sink.Prepared{}, nil, err
		}
		p, err = sink.Prepare(table, b, cols)
	}
	return p, cols, err
}

func (s *Sink) upsert(ctx context.Context, tx querierTx, w writeTarget, p sink.Prepared, types []schema.ColumnType) (int, error) {
	names := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		names[i] = c.Name
	}
	if err := s.execAll(ctx, tx, []string{dropTempStmt(stageTable), stageUpsertStmt(w.Table, names)}); err != nil {
		return 0, fmt.Errorf("create staging table: %w", err)
	}
	if err := copyUpserts(ctx, tx, p, types); err != nil {
		return 0, fmt.Errorf("bulk copy: %w", err)
	}
	// The staging table goes in the same round trip, after the count.
	var n int
	if err := tx.QueryRowContext(ctx, upsertSQL(w, names, qi(stageTable))+"\n"+dropTempStmt(stageTable)).Scan(&n); err != nil {
		return 0, fmt.Errorf("merge: %w", err)
	}
	return n, nil
}

func (s *Sink) delete(ctx context.Context, tx querierTx, w writeTarget, dels []record.Delete) (int, error) {
	if err := s.execAll(ctx, tx, []string{dropTempStmt(stageIDs), stageIDsStmt}); err != nil {
		return 0, fmt.Errorf("create staging table: %w", err)
	}
	if err := copyDeletes(ctx, tx, dels); err != nil {
		return 0, fmt.Errorf("bulk copy: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, deleteSQL(w, qi(stageIDs))+"\n"+dropTempStmt(stageIDs)).Scan(&n); err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	return n, nil
}
