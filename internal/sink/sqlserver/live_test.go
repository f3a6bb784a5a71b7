package sqlserver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// envConn names the server the live tests run against, e.g.
// sqlserver://user:pass@host?database=db. Without it they are skipped.
const envConn = "DATAEXPORT_TEST_SQLSERVER"

func liveConn(t testing.TB) string {
	t.Helper()
	c := os.Getenv(envConn)
	if c == "" {
		t.Skipf("%s is not set: no SQL Server to run against (none can run on this machine); set it to a connection string to run the live tests", envConn)
	}
	return c
}

// openLive opens a sink on a fresh schema, dropped with everything in it
// when the test ends.
func openLive(t testing.TB, conn string, o sink.Options) *Sink {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	o.Schema = "dxtest" + hex.EncodeToString(b[:])
	s, err := Open(context.Background(), conn, &o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := dropSchema(context.Background(), s.DB(), o.Schema); err != nil {
			t.Errorf("drop test schema %s: %v", o.Schema, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// dropSchema drops every procedure, table and type of schemaName, then the
// schema. Names come from the catalog, quoted with QUOTENAME.
func dropSchema(ctx context.Context, db *sql.DB, schemaName string) error {
	for _, q := range []string{
		"SELECT N'DROP PROCEDURE ' + QUOTENAME(@p1) + N'.' + QUOTENAME([name]) FROM sys.procedures WHERE [schema_id] = SCHEMA_ID(@p1)",
		"SELECT N'DROP TABLE ' + QUOTENAME(@p1) + N'.' + QUOTENAME([name]) FROM sys.tables WHERE [schema_id] = SCHEMA_ID(@p1)",
		"SELECT N'DROP TYPE ' + QUOTENAME(@p1) + N'.' + QUOTENAME([name]) FROM sys.types WHERE [is_user_defined] = 1 AND [schema_id] = SCHEMA_ID(@p1)",
	} {
		rows, err := db.QueryContext(ctx, q, schemaName)
		if err != nil {
			return err
		}
		var stmts []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return err
			}
			stmts = append(stmts, s)
		}
		rows.Close()
		for _, s := range stmts {
			if _, err := db.ExecContext(ctx, s); err != nil {
				return err
			}
		}
	}
	_, err := db.ExecContext(ctx, "DROP SCHEMA "+qi(schemaName))
	return err
}

// TestSuiteLive runs the shared acceptance suite against a real server.
func TestSuiteLive(t *testing.T) {
	conn := liveConn(t)
	sinktest.Run(t, func(t *testing.T, o sink.Options) sinktest.Target { return target{openLive(t, conn, o)} })
}

// target is the sink plus what the suite needs to plant a refusal.
type target struct{ *Sink }

// Refuse adds a CHECK constraint WITH NOCHECK: stored rows are not checked.
func (s target) Refuse(ctx context.Context, table schema.TableName, column string, value int64) error {
	table = s.resolve(table)
	_, err := s.db.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s WITH NOCHECK ADD CONSTRAINT %s CHECK (%s <> %d);",
		qn(table), qi("refuse_"+column), qi(column), value))
	return err
}

// ViewColumn reads one column of a view per row id.
func (s target) ViewColumn(ctx context.Context, view schema.TableName, column string) (map[string]*string, error) {
	view = s.resolve(view)
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT LOWER(CONVERT(nvarchar(36), %s)), CONVERT(nvarchar(max), %s) FROM %s;", qi(schema.ColID), qi(column), qn(view)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]*string{}
	for rows.Next() {
		var id string
		var v *string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// TestProceduresLive checks that the generated procedures agree with their
// table types and with Apply: rows written through <table>_Upsert and
// <table>_Delete obey the same version rules.
func TestProceduresLive(t *testing.T) {
	conn := liveConn(t)
	s := openLive(t, conn, sink.Options{Prefix: "crm", WriteDeleteLog: true})
	ctx := t.Context()
	tbl := schema.Table{TableName: schema.TableName{Name: "crm_lead"}, Entity: "lead", Columns: []schema.Column{
		{Name: "subject", Type: schema.StringType(100)},
		{Name: "budgetamount", Type: schema.DecimalType(2)},
	}}
	if err := s.EnsureTable(ctx, tbl); err != nil {
		t.Fatal(err)
	}
	o := objectsOf(s.resolve(tbl.TableName))
	id := "0000000a-0000-4000-8000-000000000001"
	script := "DECLARE @r " + qn(o.Type) + ";\n" +
		"INSERT INTO @r ([Id], [subject], [budgetamount], [versionnumber]) VALUES (@p1, N'v2', 2.50, 2), (@p1, N'v1', 1.00, 1);\n" +
		"EXEC " + qn(o.UpsertProc) + " @rows = @r;"
	var n int
	if err := s.DB().QueryRowContext(ctx, script, id).Scan(&n); err != nil {
		t.Fatalf("upsert procedure: %v", err)
	}
	if n != 1 {
		t.Errorf("upsert procedure wrote %d rows, want 1", n)
	}
	cols := []record.Column{{Name: "subject", Kind: record.String}, {Name: "budgetamount", Kind: record.Decimal}}
	rows, err := s.Rows(ctx, tbl.TableName, cols)
	if err != nil {
		t.Fatal(err)
	}
	want := []record.Record{{ID: id, Version: 2, Values: []record.Value{record.StringValue("v2"), record.DecimalValue("2.5")}}}
	if !slices.EqualFunc(rows, want, sameRecord) {
		t.Errorf("rows after procedure %v, want %v", rows, want)
	}
	del := "DECLARE @i " + qn(o.IDType) + ";\nINSERT INTO @i ([Id], [VersionNumber]) VALUES (@p1, 3);\nEXEC " + qn(o.DeleteProc) + " @ids = @i;"
	if err := s.DB().QueryRowContext(ctx, del, id).Scan(&n); err != nil {
		t.Fatalf("delete procedure: %v", err)
	}
	if c, err := s.Count(ctx, tbl.TableName); err != nil || c != 0 || n != 1 {
		t.Errorf("after delete procedure: count %d (%v), deleted %d; want 0, 1", c, err, n)
	}
	// The older upsert, through Apply, stays deleted.
	res, err := s.Apply(ctx, tbl.TableName, record.Batch{Entity: "lead", Columns: cols, Upserts: []record.Record{
		{ID: id, Version: 3, Values: []record.Value{record.StringValue("late"), record.NullValue()}}}})
	if err != nil || res.Counts() != (sink.Counts{Skipped: 1}) {
		t.Errorf("late upsert: %+v, %v; want skipped", res, err)
	}
	if log, err := s.DeleteLog(ctx); err != nil || len(log) != 1 || log[0].RecordID != id || log[0].EntityName != "lead" {
		t.Errorf("delete log %+v, %v", log, err)
	}

	if missing, err := s.MissingPermissions(ctx); err != nil {
		t.Errorf("MissingPermissions: %v", err)
	} else {
		t.Logf("permissions the test login lacks: %v", missing)
	}
	if err := s.EnsureMetadataTables(ctx); err != nil {
		t.Errorf("EnsureMetadataTables: %v", err)
	}
	if err := s.DropEntity(ctx, "lead"); err != nil {
		t.Fatalf("DropEntity: %v", err)
	}
	var left int
	q := "SELECT COUNT(*) FROM sys.objects WHERE [schema_id] = SCHEMA_ID(@p1) AND [name] LIKE N'crm[_]lead%' AND [type] IN ('U', 'P')"
	if err := s.DB().QueryRowContext(ctx, q, s.Options().Schema).Scan(&left); err != nil || left != 0 {
		t.Errorf("after DropEntity %d objects left (%v)", left, err)
	}
}

func sameRecord(a, b record.Record) bool {
	return a.ID == b.ID && a.Version == b.Version && slices.EqualFunc(a.Values, b.Values, record.Value.Equal)
}
