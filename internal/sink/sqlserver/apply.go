package sqlserver

import (
	"context"
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

// Apply writes b to table (see sink.BatchApplier), each write one
// transaction: deletes, then upserts. Values bulk copy would mangle or the
// server would refuse mid-load are rejected before anything is sent; a
// record the MERGE refuses (a constraint) is isolated by splitting the
// write.
func (s *Sink) Apply(ctx context.Context, table schema.TableName, b record.Batch) (sink.Result, error) {
	table = s.resolve(table)
	if err := checkName(table); err != nil {
		return sink.Result{}, fmt.Errorf("sqlserver sink: %w", err)
	}
	entity := b.Entity
	if entity == "" {
		entity = table.Name
	}
	return s.cols.Apply(ctx, table, b, s.columns, func(ctx context.Context, p sink.Prepared, cols map[string]schema.ColumnType) (sink.Result, error) {
		return s.write(ctx, table, entity, p, cols)
	})
}

func (s *Sink) write(ctx context.Context, table schema.TableName, entity string, p sink.Prepared, cols map[string]schema.ColumnType) (sink.Result, error) {
	types := make([]schema.ColumnType, len(p.Columns))
	for i, c := range p.Columns {
		types[i] = cols[c.Name]
	}
	res := sink.Result{Rejected: checkUpserts(p, types)}
	p = p.Without(res.Rejected)
	if len(p.Upserts) == 0 && len(p.Deletes) == 0 {
		return res, nil
	}
	w := s.writeTarget(table, entity)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sink.Result{}, fmt.Errorf("sqlserver sink: apply to %s: %w", table, err)
	}
	fail := func(err error) (sink.Result, error) {
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
	}
	if err := tx.Commit(); err != nil {
		return sink.Result{}, fmt.Errorf("sqlserver sink: apply to %s: commit: %w", table, err)
	}
	return res, nil
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
	if err := tx.QueryRowContext(ctx, upsertSQL(w, names, qi(stageTable), p.Overwrite)+"\n"+dropTempStmt(stageTable)).Scan(&n); err != nil {
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
