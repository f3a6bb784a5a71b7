package postgres

import (
	"bytes"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// TestMigrateMixedCaseLayout: tables the previous version created (DES's
// mixed-case names, quoted; prefix CRM) are renamed in place when the sink
// opens and keep their rows; tombstones and the version guard go on
// working; a table of the user's is left alone; a second open changes
// nothing.
func TestMigrateMixedCaseLayout(t *testing.T) {
	ctx := t.Context()
	sch := freshSchema(t)
	ddl, err := os.ReadFile("testdata/previous_layout.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, testConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const kept, gone = "0000000a-0000-4000-8000-000000000001", "0000000a-0000-4000-8000-000000000002"
	for _, q := range []string{
		"CREATE SCHEMA " + quote(sch),
		strings.ReplaceAll(string(ddl), "{schema}", quote(sch)),
		`INSERT INTO ` + quote(sch) + `."CRM_account" ("Id", "SinkCreatedOn", "SinkModifiedOn", versionnumber, accountid, name) VALUES ('` + kept + `', now(), now(), 7, '` + kept + `', 'Kept Ltd')`,
		`INSERT INTO ` + quote(sch) + `."CRM_dataexport_tombstone" VALUES ('CRM_account', '` + gone + `', 9, now())`,
		`INSERT INTO ` + quote(sch) + `."CRM_DeleteLog" VALUES ('0000000b-0000-4000-8000-000000000001', 'account', '` + gone + `', now(), 9)`,
		`INSERT INTO ` + quote(sch) + `."CRM_AttributeMetadata" ("Id", "EntityName", "AttributeName") VALUES ('0000000c-0000-4000-8000-000000000001', 'account', 'name')`,
		// The user's own table, mixed case, is none of the sink's.
		`CREATE TABLE ` + quote(sch) + `."MyReport" ("Id" uuid, "Total" integer)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}

	var logs bytes.Buffer
	o := sink.Options{Schema: sch, Prefix: "CRM", WriteDeleteLog: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	s, err := Open(ctx, testConnString(), &o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.Contains(logs.String(), "names made lowercase") {
		t.Errorf("the rename was not logged:\n%s", logs.String())
	}

	// Every name of the sink's is lowercase now; the user's table is not.
	rows, err := conn.Query(ctx, `SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind = 'r' AND (c.relname <> lower(c.relname) OR a.attname <> lower(a.attname)) ORDER BY 1`, sch)
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mixed, []string{"MyReport.Id", "MyReport.Total"}) {
		t.Errorf("mixed-case names after the open: %v, want only the user's MyReport", mixed)
	}
	// The rows are there, reached by plain SQL.
	var name string
	if err := conn.QueryRow(ctx, "SELECT name FROM "+sch+".crm_account WHERE id = '"+kept+"'").Scan(&name); err != nil || name != "Kept Ltd" {
		t.Fatalf("select name from crm_account: %q, %v", name, err)
	}
	var logged, meta int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+sch+".crm_deletelog WHERE recordid = '"+gone+"' AND versionnumber = 9").Scan(&logged); err != nil || logged != 1 {
		t.Fatalf("delete log rows %d, %v", logged, err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+sch+".crm_attributemetadata WHERE attributename = 'name'").Scan(&meta); err != nil || meta != 1 {
		t.Fatalf("attribute metadata rows %d, %v", meta, err)
	}
	tombs, err := s.Tombstones(ctx, schema.TableName{Name: "CRM_account"})
	if err != nil || tombs[gone] != 9 {
		t.Fatalf("tombstones %v, %v; want %s at 9", tombs, err, gone)
	}

	// The sink writes the migrated table: the version guard and the
	// tombstone hold.
	tbl, err := schema.Map(sinktest.Account("account"), s.Options().TableOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	var cols []record.Column
	for _, c := range tbl.Columns {
		cols = append(cols, record.Column{Name: c.Name, Kind: c.Type.Kind})
	}
	row := func(id string, v int64) record.Record {
		vals := make([]record.Value, len(cols))
		vals[1] = record.StringValue("Written at " + id[len(id)-1:])
		return record.Record{ID: id, Version: v, Values: vals}
	}
	res, err := s.Apply(ctx, tbl.TableName, record.Batch{Entity: "account", Columns: cols,
		Upserts: []record.Record{row(kept, 6), row(gone, 8)}})
	if err != nil || res.Upserted != 0 || res.Skipped != 2 {
		t.Fatalf("older versions: %+v, %v; want both skipped", res, err)
	}
	if res, err = s.Apply(ctx, tbl.TableName, record.Batch{Entity: "account", Columns: cols, Upserts: []record.Record{row(kept, 8)}}); err != nil || res.Upserted != 1 {
		t.Fatalf("newer version: %+v, %v", res, err)
	}

	// Opening again finds nothing to rename.
	logs.Reset()
	s2, err := Open(ctx, testConnString(), &o)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if strings.Contains(logs.String(), "lowercase") {
		t.Errorf("a second open renamed again:\n%s", logs.String())
	}
}
