package sqlserver

import (
	"context"
	"fmt"
	"slices"

	"github.com/dataexport/dataexport/internal/schema"
)

// applockSQL serialises schema changes to one table across processes: two
// instances racing to create or alter the same objects would otherwise fail
// on each other's half-done DDL. The lock is released with the transaction.
const applockSQL = `DECLARE @r int;
EXEC @r = sp_getapplock @Resource = @p1, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;
IF @r < 0 THROW 51000, N'dataexport: timed out waiting for the schema lock', 1;`

// EnsureTable creates t with its types and procedures if missing, adds
// missing columns and widens narrower ones (a kind change is a
// *schema.IncompatibleChangeError), and recreates <table>Type only when its
// columns differ. It never drops data.
func (s *Sink) EnsureTable(ctx context.Context, t schema.Table) error {
	t, o, cols, err := s.checkTable(t)
	if err != nil {
		return err
	}
	defer s.cols.Forget(t.TableName)

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlserver sink: ensure %s: %w", t.TableName, err)
	}
	if err := s.ensureIn(ctx, tx, t, o, cols); err != nil {
		return rollback(tx, fmt.Errorf("sqlserver sink: ensure %s: %w", t.TableName, err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlserver sink: ensure %s: commit: %w", t.TableName, err)
	}
	s.makeLabelView(ctx, t)
	return nil
}

// checkTable resolves t's name and checks everything EnsureTable will quote:
// the table, its objects' names and its columns (rendered).
func (s *Sink) checkTable(t schema.Table) (schema.Table, objects, []column, error) {
	t.TableName = s.resolve(t.TableName)
	if err := t.Check(); err != nil {
		return t, objects{}, nil, fmt.Errorf("sqlserver sink: %w", err)
	}
	o := objectsOf(t.TableName)
	if err := o.check(); err != nil {
		return t, objects{}, nil, fmt.Errorf("sqlserver sink: %w", err)
	}
	cols, err := columnsOf(t)
	if err != nil {
		return t, objects{}, nil, fmt.Errorf("sqlserver sink: %w", err)
	}
	return t, o, cols, nil
}

// lockTable takes t's schema lock (applockSQL) for the rest of q's
// transaction.
func lockTable(ctx context.Context, q querier, t schema.TableName) error {
	_, err := q.ExecContext(ctx, applockSQL, "dataexport:"+qn(t))
	return err
}

// ensureIn is EnsureTable's work inside its transaction q.
func (s *Sink) ensureIn(ctx context.Context, q querier, t schema.Table, o objects, cols []column) error {
	if err := lockTable(ctx, q, t.TableName); err != nil {
		return err
	}
	return s.ensureLocked(ctx, q, t, o, cols)
}

// ensureLocked brings the table, <table>Type and the procedures in line
// with t; the caller holds the table's schema lock in q's transaction.
func (s *Sink) ensureLocked(ctx context.Context, q querier, t schema.Table, o objects, cols []column) error {
	have, err := readDBColumns(ctx, q, tableColumnsQuery, qn(t.TableName))
	if err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	var stmts []string
	if len(have) == 0 {
		stmts = []string{schemaStmt(t.Schema), createTableStmt(t.TableName, cols)}
		s.log.InfoContext(ctx, "sqlserver sink: creating table", "table", t.TableName.String(), "columns", len(cols))
	} else {
		plan, err := schema.PlanChanges(dataColumns(have), t)
		if err != nil {
			return err
		}
		if stmts, err = planStmts(t.TableName, plan); err != nil {
			return err
		}
		if !plan.Empty() {
			s.log.InfoContext(ctx, "sqlserver sink: altering table", "table", t.TableName.String(), "add", len(plan.Add), "widen", len(plan.Widen))
		}
	}
	if err := s.execAll(ctx, q, stmts); err != nil {
		return err
	}

	// The table type follows the table's columns as they now are, so a
	// narrower wanted type never shrinks the type below the stored column.
	if have, err = readDBColumns(ctx, q, tableColumnsQuery, qn(t.TableName)); err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	cols = storedColumns(cols, have)
	haveType, err := readDBColumns(ctx, q, typeColumnsQuery, o.Type.Schema, o.Type.Name)
	if err != nil {
		return fmt.Errorf("read type %s: %w", o.Type, err)
	}
	stmts = []string{idTypeStmt(o)}
	if !slices.Equal(typeSignature(haveType), typeColumns(cols)) {
		stmts = append(stmts, recreateTypeStmts(o, cols)...)
	}
	stmts = append(stmts, procStmts(o, s.writeTarget(t.TableName, t.Entity), cols)...)
	return s.execAll(ctx, q, stmts)
}

// storedColumns gives each wanted column the type it actually has in the
// table (render of sys.columns), which may be wider than wanted.
func storedColumns(want []column, have []dbColumn) []column {
	byName := make(map[string]dbColumn, len(have))
	for _, c := range have {
		byName[c.Name] = c
	}
	out := make([]column, len(want))
	for i, c := range want {
		if h, ok := byName[c.Name]; ok {
			c.Type = h.render()
		}
		out[i] = c
	}
	return out
}

func (s *Sink) writeTarget(t schema.TableName, entity string) writeTarget {
	w := writeTarget{Table: t, Entity: entity, Tombstone: s.names.tombstone()}
	if s.opts.WriteDeleteLog {
		dl := s.names.deleteLog()
		w.DeleteLog = &dl
	}
	return w
}
