package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// keysTableSQL creates the table of staged keys (see sink.Sweeper).
func keysTableSQL(keys schema.TableName) string {
	return "CREATE TABLE IF NOT EXISTS " + qualified(keys) + ` (
	tablename varchar(128) NOT NULL,
	scanid varchar(32) NOT NULL,
	id uuid NOT NULL,
	stagedon timestamp NOT NULL,
	PRIMARY KEY (tablename, scanid, id)
)`
}

// scanKeysSQL selects every key of table, in no order (no sort on a large
// table).
func scanKeysSQL(table schema.TableName) string {
	return fmt.Sprintf(`SELECT %s::text, coalesce(%s, 0) FROM %s`, ident(schema.ColID), ident(schema.ColVersion), qualified(table))
}

// ScanKeys streams the id and version of every row of table (see
// sink.KeyScanner).
func (s *Sink) ScanKeys(ctx context.Context, table schema.TableName, fn func(id string, version int64) error) error {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return fmt.Errorf("postgres sink: %w", err)
	}
	if _, err := s.freshColumns(ctx, table); err != nil {
		return err
	}
	var id string
	var v int64
	err := s.pool.query(ctx, scanKeysSQL(table), nil, func(rows pgx.Rows) error {
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		return fn(id, v)
	})
	if err != nil {
		return fmt.Errorf("postgres sink: scan keys of %s: %w", table, err)
	}
	return nil
}

// HasRows reports whether table holds a row (see sink.Sweeper).
func (s *Sink) HasRows(ctx context.Context, table schema.TableName) (bool, error) {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return false, fmt.Errorf("postgres sink: %w", err)
	}
	if _, err := s.freshColumns(ctx, table); err != nil {
		var nt *sink.NoTableError
		if errors.As(err, &nt) {
			return false, nil
		}
		return false, err
	}
	var found bool
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+qualified(table)+")").Scan(&found)
	})
	if err != nil {
		return false, fmt.Errorf("postgres sink: read %s: %w", table, err)
	}
	return found, nil
}

// stageKeysSQL adds $3's ids to key set $2 of table $1, skipping those it
// holds ($4 now).
func stageKeysSQL(keys schema.TableName) string {
	return `INSERT INTO ` + qualified(keys) + ` (tablename, scanid, id, stagedon)
SELECT $1, $2, k.id, $4 FROM unnest($3::uuid[]) AS k(id)
ON CONFLICT (tablename, scanid, id) DO NOTHING`
}

// StageKeys adds ids to a key set (see sink.Sweeper).
func (s *Sink) StageKeys(ctx context.Context, table schema.TableName, scan string, ids []string) (int, error) {
	table = s.resolve(table)
	if len(ids) == 0 {
		return 0, nil
	}
	us := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		var err error
		if us[i], err = uuidOf(id); err != nil {
			return 0, fmt.Errorf("postgres sink: stage keys of %s: id %q: %w", table, id, err)
		}
	}
	var n int64
	err := s.pool.with(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, stageKeysSQL(s.opts.Keys()), table.Name, scan, us, time.Now().UTC())
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres sink: stage keys of %s: %w", table, err)
	}
	return int(n), nil
}

// sweepSQL removes the rows of table that key set $2 does not list and
// whose version is not above $3, raises their tombstones to $3 and, with a
// delete log, logs them; it returns how many it removed ($1 table name, $4
// now, $5 entity). The delete log's ids are made in the statement: md5 of
// random text cast to uuid works on every PostgreSQL version the sink
// supports (gen_random_uuid is core only from 13).
func sweepSQL(table, tombs, keys schema.TableName, deleteLog *schema.TableName) string {
	id, v := ident(schema.ColID), ident(schema.ColVersion)
	q := fmt.Sprintf(`WITH gone AS (DELETE FROM %[1]s t
	WHERE (t.%[4]s <= $3 OR t.%[4]s IS NULL)
	AND NOT EXISTS (SELECT 1 FROM %[2]s k WHERE k.tablename = $1 AND k.scanid = $2 AND k.id = t.%[3]s)
	RETURNING t.%[3]s AS id),
raised AS (INSERT INTO %[5]s AS x (tablename, id, versionnumber, deletedon) SELECT $1, g.id, $3, $4 FROM gone g
	ON CONFLICT (tablename, id) DO UPDATE SET versionnumber = EXCLUDED.versionnumber, deletedon = EXCLUDED.deletedon
	WHERE x.versionnumber < EXCLUDED.versionnumber)`, qualified(table), qualified(keys), id, v, qualified(tombs))
	if deleteLog != nil {
		q += fmt.Sprintf(`,
logged AS (INSERT INTO %s (id, entityname, recordid, sinkdeletetime, versionnumber)
	SELECT md5(random()::text || clock_timestamp()::text || g.id::text)::uuid, $5, g.id::text, $4, $3 FROM gone g)`, qualified(*deleteLog))
	}
	return q + `
SELECT count(*) FROM gone`
}

// Sweep removes the rows the source no longer has (see sink.Sweeper).
func (s *Sink) Sweep(ctx context.Context, table schema.TableName, sp sink.SweepSpec) (int, error) {
	table = s.resolve(table)
	if err := (&schema.Table{TableName: table}).Check(); err != nil {
		return 0, fmt.Errorf("postgres sink: %w", err)
	}
	if err := sp.Check(); err != nil {
		return 0, fmt.Errorf("postgres sink: %w", err)
	}
	if _, err := s.freshColumns(ctx, table); err != nil {
		return 0, err
	}
	entity := sp.Entity
	if entity == "" {
		entity = table.Name
	}
	var dl *schema.TableName
	if s.opts.WriteDeleteLog {
		t := s.opts.DeleteLog()
		dl = &t
	}
	var removed int64
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		// The table's writers take turns (see write): no batch runs
		// between the count and the delete.
		if err := lockTable(ctx, tx, table); err != nil {
			return err
		}
		var holds int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+qualified(s.opts.Keys())+` WHERE tablename = $1 AND scanid = $2`, table.Name, sp.Scan).Scan(&holds); err != nil {
			return err
		}
		if holds < sp.Staged {
			return &sink.IncompleteScanError{Table: table, Scan: sp.Scan, Staged: sp.Staged, Holds: holds}
		}
		// One pass over each side: a nested loop, which the planner picks
		// when the key set was staged since the last ANALYZE (it then
		// guesses one key), probes the keys once per row of the table.
		if _, err := tx.Exec(ctx, "SET LOCAL enable_nestloop = off"); err != nil {
			return err
		}
		args := []any{table.Name, sp.Scan, sp.Version, time.Now().UTC().Truncate(time.Microsecond)}
		if dl != nil {
			args = append(args, entity)
		}
		return tx.QueryRow(ctx, sweepSQL(table, s.opts.Tombstones(), s.opts.Keys(), dl), args...).Scan(&removed)
	})
	if err != nil {
		var ie *sink.IncompleteScanError
		if errors.As(err, &ie) {
			return 0, err
		}
		return 0, fmt.Errorf("postgres sink: sweep %s: %w", table, err)
	}
	return int(removed), nil
}

// ClearKeys removes abandoned or used key sets (see sink.Sweeper). It
// takes the table's writer lock, as Sweep does: keys never go between a
// sweep's count and its delete.
func (s *Sink) ClearKeys(ctx context.Context, table schema.TableName, scan string, before time.Time) error {
	table = s.resolve(table)
	if scan == "" && before.IsZero() {
		return nil
	}
	err := s.pool.tx(ctx, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, table); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM `+qualified(s.opts.Keys())+` WHERE tablename = $1 AND (scanid = $2 OR stagedon < $3)`,
			table.Name, scan, before.UTC())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres sink: clear staged keys of %s: %w", table, err)
	}
	return nil
}
