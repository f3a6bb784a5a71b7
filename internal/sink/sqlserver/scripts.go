package sqlserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// Scripts are the statements this package runs, written out for a DBA to
// read or run by hand in SSMS/sqlcmd: batches separated by GO lines.

// joinBatches renders statements as a script, one batch each.
func joinBatches(stmts []string) string {
	return strings.Join(stmts, "\nGO\n") + "\nGO\n"
}

func optionsOf(o *sink.Options) (sink.Options, naming, error) {
	var opts sink.Options
	if o != nil {
		opts = *o
	}
	if err := opts.Validate(); err != nil {
		return opts, naming{}, fmt.Errorf("sqlserver: %w", err)
	}
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	n := newNaming(opts.Schema, opts.Prefix)
	n.labelView = opts.LabelView
	return opts, n, nil
}

// SchemaScript is the full, rerunnable DDL of one entity table under o: the
// sink's own tables, the table (created, or completed with missing and
// widened columns), its two table types and its two procedures.
func SchemaScript(o *sink.Options, t schema.Table) (string, error) {
	opts, n, err := optionsOf(o)
	if err != nil {
		return "", err
	}
	t.TableName = n.table(t.TableName)
	if err := t.Check(); err != nil {
		return "", fmt.Errorf("sqlserver: %w", err)
	}
	ob := objectsOf(t.TableName)
	if err := ob.check(); err != nil {
		return "", fmt.Errorf("sqlserver: %w", err)
	}
	cols, err := columnsOf(t)
	if err != nil {
		return "", err
	}
	entity := t.Entity
	if entity == "" {
		entity = t.Name
	}
	w := writeTarget{Table: t.TableName, Entity: entity, Tombstone: n.tombstone()}
	if opts.WriteDeleteLog {
		dl := n.deleteLog()
		w.DeleteLog = &dl
	}
	stmts := sharedTableStmts(n, opts.WriteDeleteLog) // creates the schema first
	if t.Schema != n.schema {
		stmts = append(stmts, schemaStmt(t.Schema))
	}
	stmts = append(stmts, tableStmts(t.TableName, cols)...)
	stmts = append(stmts, idTypeStmt(ob))
	stmts = append(stmts, recreateTypeStmts(ob, cols)...)
	stmts = append(stmts, procStmts(ob, w, cols)...)
	return joinBatches(stmts), nil
}

// MetadataScript creates DES's six metadata tables under o.
func MetadataScript(o *sink.Options) (string, error) {
	_, n, err := optionsOf(o)
	if err != nil {
		return "", err
	}
	stmts, err := metadataTableStmts(n)
	if err != nil {
		return "", err
	}
	return joinBatches(stmts), nil
}

// PermissionsScript is the query listing the required permissions the
// current login lacks on o's schema.
func PermissionsScript(o *sink.Options) (string, error) {
	opts, _, err := optionsOf(o)
	if err != nil {
		return "", err
	}
	return joinBatches([]string{missingPermissionsSQL(opts.Schema)}), nil
}

// GrantScript is what a DBA runs to give user the permissions DES required
// (as in Microsoft's sample), on o's schema.
func GrantScript(o *sink.Options, user string) (string, error) {
	opts, _, err := optionsOf(o)
	if err != nil {
		return "", err
	}
	if err := checkIdent(user); err != nil {
		return "", err
	}
	var db, sc []string
	for _, p := range RequiredPermissions {
		if p.Scope == "DATABASE" {
			db = append(db, p.Name)
		} else {
			sc = append(sc, p.Name)
		}
	}
	return joinBatches([]string{
		fmt.Sprintf("GRANT %s TO %s;", strings.Join(db, ", "), qi(user)),
		fmt.Sprintf("GRANT %s ON SCHEMA::%s TO %s;", strings.Join(sc, ", "), qi(opts.Schema), qi(user)),
	}), nil
}

// CleanupEntityScript drops what the sink created for one entity: its two
// procedures, its table and its two table types (procedures first: a type
// in use cannot be dropped), and removes the entity's tombstones and
// metadata rows. Every object is named exactly: DES's own script matched
// LIKE @prefix + '_%', where '_' is a wildcard and an empty prefix matches
// every object in the schema.
func CleanupEntityScript(o *sink.Options, entity string) (string, error) {
	_, n, err := optionsOf(o)
	if err != nil {
		return "", err
	}
	if err := schema.CheckIdentifier("entity", entity); err != nil {
		return "", fmt.Errorf("sqlserver: %w", err)
	}
	stmts, err := cleanupEntityStmts(n, entity)
	if err != nil {
		return "", err
	}
	return joinBatches(transaction(stmts)), nil
}

// CleanupProfileScript drops every object of the given entities and the
// sink's own tables (tombstones, DeleteLog, the metadata tables): what DES
// told users to do before recreating a profile.
func CleanupProfileScript(o *sink.Options, entities []string) (string, error) {
	_, n, err := optionsOf(o)
	if err != nil {
		return "", err
	}
	var stmts []string
	for _, e := range entities {
		if err := schema.CheckIdentifier("entity", e); err != nil {
			return "", fmt.Errorf("sqlserver: %w", err)
		}
		st, err := cleanupEntityStmts(n, e)
		if err != nil {
			return "", err
		}
		stmts = append(stmts, st...)
	}
	for _, m := range schema.MetadataTables() {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+qn(n.shared(m.Name))+";")
	}
	stmts = append(stmts,
		"DROP TABLE IF EXISTS "+qn(n.deleteLog())+";",
		"DROP TABLE IF EXISTS "+qn(n.tombstone())+";",
		"DROP TABLE IF EXISTS "+qn(n.keys())+";")
	return joinBatches(transaction(stmts)), nil
}

// dropTableStmts drops one entity table with its label view, procedures
// and types (procedures first: a type in use cannot be dropped), its
// tombstones and its staged keys.
func dropTableStmts(n naming, t schema.TableName) ([]string, error) {
	ob := objectsOf(t)
	if err := ob.check(); err != nil {
		return nil, fmt.Errorf("sqlserver: %w", err)
	}
	tb, keys := n.tombstone(), n.keys()
	return []string{
		// Only a view: another entity's table may have the name.
		fmt.Sprintf("IF OBJECT_ID(%s, N'V') IS NOT NULL\n    DROP VIEW %s;", qobj(n.view(t)), qn(n.view(t))),
		"DROP PROCEDURE IF EXISTS " + qn(ob.UpsertProc) + ";",
		"DROP PROCEDURE IF EXISTS " + qn(ob.DeleteProc) + ";",
		"DROP TABLE IF EXISTS " + qn(ob.Table) + ";",
		"DROP TYPE IF EXISTS " + qn(ob.Type) + ";",
		"DROP TYPE IF EXISTS " + qn(ob.IDType) + ";",
		fmt.Sprintf("IF OBJECT_ID(%s, N'U') IS NOT NULL\n    DELETE FROM %s WHERE [TableName] = %s;", qobj(tb), qn(tb), ql(t.Name)),
		fmt.Sprintf("IF OBJECT_ID(%s, N'U') IS NOT NULL\n    DELETE FROM %s WHERE [TableName] = %s;", qobj(keys), qn(keys), ql(t.Name)),
	}, nil
}

// cleanupEntityStmts is dropTableStmts for the entity's table plus the
// entity's rows in the metadata tables.
func cleanupEntityStmts(n naming, entity string) ([]string, error) {
	stmts, err := dropTableStmts(n, n.shared(entity))
	if err != nil {
		return nil, err
	}
	for _, m := range schema.MetadataTables() {
		if m.Key != "EntityName" {
			continue // GlobalOptionSetMetadata: shared by entities
		}
		mt := n.shared(m.Name)
		stmts = append(stmts, fmt.Sprintf("IF OBJECT_ID(%s, N'U') IS NOT NULL\n    DELETE FROM %s WHERE [EntityName] = %s;", qobj(mt), qn(mt), ql(entity)))
	}
	return stmts, nil
}

// transaction wraps statements so that a failure leaves everything in place.
func transaction(stmts []string) []string {
	body := strings.Join(stmts, "\n")
	return []string{"SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n" + body + "\nCOMMIT TRANSACTION;"}
}

// DropEntity runs CleanupEntityScript's statements for entity.
func (s *Sink) DropEntity(ctx context.Context, entity string) error {
	if err := schema.CheckIdentifier("entity", entity); err != nil {
		return fmt.Errorf("sqlserver sink: %w", err)
	}
	stmts, err := cleanupEntityStmts(s.names, entity)
	if err != nil {
		return err
	}
	return s.drop(ctx, s.names.shared(entity), stmts)
}

// DropTable drops an entity table, its types, procedures and tombstones:
// the explicit cleanup for an entity removed from a profile.
func (s *Sink) DropTable(ctx context.Context, table schema.TableName) error {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return fmt.Errorf("sqlserver sink: %w", err)
	}
	stmts, err := dropTableStmts(s.names, table)
	if err != nil {
		return err
	}
	return s.drop(ctx, table, stmts)
}

// drop runs stmts in one transaction under the table's schema lock.
func (s *Sink) drop(ctx context.Context, table schema.TableName, stmts []string) error {
	defer s.cols.Forget(table)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlserver sink: drop %s: %w", table, err)
	}
	if _, err := tx.ExecContext(ctx, applockSQL, "dataexport:"+qn(table)); err != nil {
		return rollback(tx, fmt.Errorf("sqlserver sink: drop %s: %w", table, err))
	}
	if err := s.execAll(ctx, tx, stmts); err != nil {
		return rollback(tx, fmt.Errorf("sqlserver sink: drop %s: %w", table, err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlserver sink: drop %s: commit: %w", table, err)
	}
	s.log.InfoContext(ctx, "sqlserver sink: table dropped", "table", table.String())
	return nil
}
