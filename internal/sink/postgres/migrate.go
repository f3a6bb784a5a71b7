package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dataexport/dataexport/internal/schema"
)

// migrateNames renames, in tx (Open's, under the schema's DDL lock), what
// earlier versions created with DES's mixed-case names: the sink's own
// tables (tombstones, DeleteLog, the metadata tables) and every entity
// table of the prefix (told by its Id, SinkCreatedOn and SinkModifiedOn
// columns) get lowercase table and column names; tombstones name their
// tables in lowercase. Rows stay; only names change. Nothing else in the
// schema is touched, and a name whose lowercase form is taken is left
// alone with a warning. Run again, it finds nothing to do.
func (s *Sink) migrateNames(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT c.relname, a.attname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum`, s.opts.Schema)
	if err != nil {
		return err
	}
	tables := map[string][]string{}
	var order []string
	var name, col string
	if _, err := pgx.ForEachRow(rows, []any{&name, &col}, func() error {
		if _, seen := tables[name]; !seen {
			order = append(order, name)
		}
		tables[name] = append(tables[name], col)
		return nil
	}); err != nil {
		return err
	}
	own := map[string]bool{lower(s.opts.Tombstones().Name): true, lower(s.opts.DeleteLog().Name): true}
	for _, m := range schema.MetadataTables() {
		own[lower(s.opts.TableOptions().TableName(m.Name).Name)] = true
	}
	prefix := ""
	if s.opts.Prefix != "" {
		prefix = lower(s.opts.Prefix) + "_"
	}
	isEntity := func(table string, cols []string) bool {
		return strings.HasPrefix(lower(table), prefix) && slices.Contains(cols, schema.ColID) &&
			slices.Contains(cols, schema.ColSinkCreatedOn) && slices.Contains(cols, schema.ColSinkModifiedOn)
	}
	log := s.opts.Log()
	renamed := 0
	for _, table := range order {
		cols := tables[table]
		if !own[lower(table)] && !isEntity(table, cols) {
			continue
		}
		t := schema.TableName{Schema: s.opts.Schema, Name: table}
		for _, c := range cols {
			if c == lower(c) {
				continue
			}
			if slices.Contains(cols, lower(c)) {
				log.WarnContext(ctx, "postgres sink: a column kept its mixed-case name: its lowercase name is taken", "table", t.String(), "column", c)
				continue
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s RENAME COLUMN %s TO %s", quote(t.Schema), quote(table), quote(c), ident(c))); err != nil {
				return fmt.Errorf("%s column %s: %w", t, c, err)
			}
			renamed++
		}
		if table != lower(table) {
			if _, taken := tables[lower(table)]; taken {
				log.WarnContext(ctx, "postgres sink: a table kept its mixed-case name: its lowercase name is taken", "table", t.String())
				continue
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s RENAME TO %s", quote(t.Schema), quote(table), ident(table))); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			renamed++
		}
	}
	if renamed > 0 {
		// Tombstones name their tables as the sink does now. Only after a
		// rename: a login may lack UPDATE on a table it needs not change.
		err := inSavepoint(ctx, tx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE "+qualified(s.opts.Tombstones())+" SET tablename = lower(tablename) WHERE tablename <> lower(tablename)")
			return err
		})
		if err != nil && !isUndefinedTable(err) {
			return fmt.Errorf("tombstones: %w", err)
		}
		log.InfoContext(ctx, "postgres sink: table and column names made lowercase", "schema", s.opts.Schema, "renamed", renamed)
	}
	return nil
}

// isUndefinedTable reports a statement on a table that does not exist
// (SQLSTATE 42P01): no tombstone table yet.
func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}
