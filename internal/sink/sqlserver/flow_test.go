package sqlserver

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/errclass"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

// catalogOf is how sys.columns would describe t's columns.
func catalogOf(t *testing.T, cols []schema.Column) []dbColumn {
	t.Helper()
	out := []dbColumn{
		{Name: "Id", Type: "uniqueidentifier", MaxLength: 16},
		{Name: "SinkCreatedOn", Type: "datetime", MaxLength: 8, Precision: 23, Scale: 3, Nullable: true},
		{Name: "SinkModifiedOn", Type: "datetime", MaxLength: 8, Precision: 23, Scale: 3, Nullable: true},
		{Name: "versionnumber", Type: "bigint", MaxLength: 8, Precision: 19, Nullable: true},
	}
	for _, c := range cols {
		d := dbColumn{Name: c.Name, Nullable: true}
		switch c.Type.Kind {
		case record.String:
			d.Type, d.MaxLength = "nvarchar", 2*c.Type.Length
			if c.Type.Length == 0 {
				d.MaxLength = -1
			}
		case record.Int:
			d.Type, d.MaxLength = "int", 4
			if c.Type.IsBigInt() {
				d.Type, d.MaxLength = "bigint", 8
			}
		case record.Decimal:
			d.Type, d.MaxLength, d.Precision, d.Scale = "decimal", 17, c.Type.Precision, c.Type.Scale
		case record.Float:
			d.Type, d.MaxLength = "float", 8
		case record.Bool:
			d.Type, d.MaxLength = "bit", 1
		case record.DateTime, record.Date:
			d.Type, d.MaxLength = "datetime", 8
		case record.GUID:
			d.Type, d.MaxLength = "uniqueidentifier", 16
		default:
			t.Fatalf("no catalog type for %s", c.Type.Kind)
		}
		out = append(out, d)
	}
	return out
}

// typeCatalogOf is how sys.columns would describe <table>Type.
func typeCatalogOf(table []dbColumn) []dbColumn {
	out := []dbColumn{table[0]}
	out = append(out, table[4:]...)
	v := table[3]
	v.Nullable = false
	return append(out, v)
}

// script answers catalog queries from queues, counts from fixed numbers,
// and anything else with an empty success.
type script struct {
	tableCols [][]dbColumn
	typeCols  [][]dbColumn
	upserted  int64 // -1: the number of rows bulk-copied
	deleted   int64
	failOn    string // a statement containing this fails
	failErr   error  // with this error (default: "injected failure")
	// refuse makes the MERGE fail with error 547 (a CHECK constraint) when
	// the rows bulk-copied before it hold this id.
	refuse string
	copied []string // rendered rows of the last bulk copy
	// removed and holds answer a sweep ([Removed], [Holds]).
	removed, holds int64
}

func (s *script) respond(query string, _ []driver.NamedValue) reply {
	switch {
	case s.failOn != "" && strings.Contains(query, s.failOn):
		if s.failErr != nil {
			return reply{err: s.failErr}
		}
		return reply{err: errors.New("injected failure")}
	case s.refuse != "" && strings.Contains(query, "MERGE") && slices.ContainsFunc(s.copied, func(r string) bool { return strings.Contains(r, s.refuse) }):
		return reply{err: mssql.Error{Number: 3621, Message: "The statement has been terminated.", All: []mssql.Error{
			{Number: 547, Message: "The MERGE statement conflicted with the CHECK constraint \"refuse\"."},
			{Number: 3621, Message: "The statement has been terminated."}}}}
	case s.upserted < 0 && strings.Contains(query, "AS [Upserted]"):
		return count(int64(len(s.copied)))
	case query == tableColumnsQuery:
		if len(s.tableCols) == 0 {
			return catalogColumns()
		}
		c := s.tableCols[0]
		s.tableCols = s.tableCols[1:]
		return catalogColumns(c...)
	case query == typeColumnsQuery:
		if len(s.typeCols) == 0 {
			return catalogColumns()
		}
		c := s.typeCols[0]
		s.typeCols = s.typeCols[1:]
		return catalogColumns(c...)
	case strings.Contains(query, "AS [Upserted]"):
		return count(s.upserted)
	case strings.Contains(query, "AS [Deleted]"):
		return count(s.deleted)
	case strings.Contains(query, "AS [Staged]"):
		return count(int64(len(s.copied)))
	case strings.Contains(query, "AS [Removed]"):
		return reply{cols: []string{"Removed", "Holds"}, rows: [][]driver.Value{{s.removed, s.holds}}}
	}
	return reply{}
}

func openRecorded(t *testing.T, o sink.Options, sc *script) (*Sink, *recorder) {
	t.Helper()
	r := &recorder{respond: sc.respond, copied: func(rows []string) { sc.copied = rows }}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	o.Logger = slog.New(slog.DiscardHandler)
	s, err := open(t.Context(), newRecordingDB(r), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, r
}

// TestFlowEnsureLabelView: the label view is made after the table's
// transaction commits, over the table as it then is; a refused view (no
// CREATE VIEW permission) leaves EnsureTable successful.
func TestFlowEnsureLabelView(t *testing.T) {
	tbl := account
	tbl.Labels = &schema.LabelView{Name: schema.TableName{Name: "crm_account_labels"}, Labels: map[string]schema.ColumnLabels{
		"creditonhold": {Bool: true, Options: []schema.OptionLabel{{Value: 0, Label: "No"}, {Value: 1, Label: "Yes"}}},
		"statecode":    {Options: []schema.OptionLabel{{Value: 0, Label: "Active"}, {Value: 1, Label: "Inactive"}}},
	}}
	full := catalogOf(t, account.Columns)
	sc := &script{tableCols: [][]dbColumn{nil, full, full}}
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, sc)
	if err := s.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	got := r.transcript()
	commit, view := strings.LastIndex(got, "COMMIT"), strings.Index(got, "CREATE OR ALTER VIEW [dbo].[crm_account_labels]")
	if view < 0 || commit < 0 || view < commit {
		t.Fatalf("the view is not made after the commit:\n%s", got)
	}
	golden(t, "flow_ensure_view.sql", got)

	sc.tableCols = [][]dbColumn{full, full, full}
	sc.typeCols = [][]dbColumn{typeCatalogOf(full)}
	sc.failOn = "CREATE OR ALTER VIEW"
	sc.failErr = mssql.Error{Number: 262, Message: "CREATE VIEW permission denied in database 'crm'."}
	if err := s.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatalf("EnsureTable failed on the view: %v", err)
	}
}

func TestFlowEnsureNewTable(t *testing.T) {
	full := catalogOf(t, account.Columns)
	sc := &script{tableCols: [][]dbColumn{nil, full}}
	s, r := openRecorded(t, sink.Options{Prefix: "crm", WriteDeleteLog: true}, sc)
	if err := s.EnsureTable(t.Context(), account); err != nil {
		t.Fatal(err)
	}
	golden(t, "flow_ensure_new.sql", r.transcript())

	// Run again on the finished table: no DDL but the idempotent IdType
	// check and the procedures; the type is not recreated.
	r.out.Reset()
	sc.tableCols = [][]dbColumn{full, full}
	sc.typeCols = [][]dbColumn{typeCatalogOf(full)}
	if err := s.EnsureTable(t.Context(), account); err != nil {
		t.Fatal(err)
	}
	got := r.transcript()
	for _, absent := range []string{"CREATE TABLE", "ALTER TABLE", "DROP TYPE", "CREATE TYPE [dbo].[crm_accountType]"} {
		if strings.Contains(got, absent) {
			t.Errorf("second EnsureTable sent %q:\n%s", absent, got)
		}
	}
	if !strings.Contains(got, "CREATE OR ALTER PROCEDURE [dbo].[crm_account_Upsert]") || !strings.HasSuffix(got, "COMMIT TRANSACTION;\n") {
		t.Errorf("second EnsureTable did not refresh the procedures and commit:\n%s", got)
	}
}

func TestFlowEnsureEvolves(t *testing.T) {
	old := []schema.Column{
		{Name: "accountid", Type: schema.ColumnType{Kind: record.GUID}},
		{Name: "name", Type: schema.StringType(100)},
		{Name: "numberofemployees", Type: schema.IntType()},
		{Name: "revenue", Type: schema.DecimalType(2)},
	}
	want := schema.Table{TableName: schema.TableName{Name: "crm_account"}, Entity: "account", Columns: []schema.Column{
		{Name: "accountid", Type: schema.ColumnType{Kind: record.GUID}},
		{Name: "name", Type: schema.StringType(80)}, // narrower: kept at 100
		{Name: "numberofemployees", Type: schema.BigIntType()},
		{Name: "revenue", Type: schema.DecimalType(4)},
		{Name: "telephone1", Type: schema.StringType(50)},
	}}
	after := []schema.Column{old[0], old[1], want.Columns[2], want.Columns[3], want.Columns[4]}
	sc := &script{
		tableCols: [][]dbColumn{catalogOf(t, old), catalogOf(t, after)},
		typeCols:  [][]dbColumn{typeCatalogOf(catalogOf(t, old))},
	}
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, sc)
	r.out.Reset()
	if err := s.EnsureTable(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got := r.transcript()
	golden(t, "flow_ensure_evolve.sql", got)
	// The recreated type follows the stored (wider) name column.
	if !strings.Contains(got, "[name] nvarchar(100) NULL,\n    [numberofemployees] bigint NULL") {
		t.Error("table type does not follow the stored column types")
	}

	// A kind change is refused before any DDL, and rolled back.
	r.out.Reset()
	sc.tableCols = [][]dbColumn{catalogOf(t, after)}
	bad := want
	bad.Columns = append([]schema.Column(nil), want.Columns...)
	bad.Columns[1] = schema.Column{Name: "name", Type: schema.IntType()}
	err := s.EnsureTable(t.Context(), bad)
	var ice *schema.IncompatibleChangeError
	if !errors.As(err, &ice) || ice.Column != "name" {
		t.Fatalf("EnsureTable with a kind change = %v, want *schema.IncompatibleChangeError for name", err)
	}
	if tr := r.transcript(); strings.Contains(tr, "ALTER") || !strings.HasSuffix(tr, "ROLLBACK TRANSACTION;\n") {
		t.Errorf("kind change sent DDL or did not roll back:\n%s", tr)
	}
}

func TestFlowApply(t *testing.T) {
	cols := []record.Column{{Name: "name", Kind: record.String}, {Name: "revenue", Kind: record.Decimal}, {Name: "createdon", Kind: record.DateTime}, {Name: "lastonholdtime", Kind: record.Date}, {Name: "ownerid", Kind: record.GUID}, {Name: "creditonhold", Kind: record.Bool}}
	when := time.Date(2024, 2, 29, 13, 45, 30, 0, time.UTC)
	row := func(name string) []record.Value {
		return []record.Value{record.StringValue(name), record.DecimalValue("1.005"), record.DateTimeValue(when), record.DateValue(when), record.GUIDValue("ABCDEF00-0000-4000-8000-0000000000FF"), record.BoolValue(true)}
	}
	b := record.Batch{Entity: "account", Columns: cols,
		Upserts: []record.Record{
			{ID: "00000001-0000-4000-8000-000000000001", Version: 3, Values: row("v3")},
			{ID: "00000001-0000-4000-8000-000000000001", Version: 2, Values: row("v2 (older duplicate)")},
			{ID: "00000002-0000-4000-8000-000000000002", Version: 1, Values: []record.Value{record.NullValue(), record.NullValue(), record.NullValue(), record.NullValue(), record.NullValue(), record.NullValue()}},
		},
		Deletes: []record.Delete{{ID: "00000003-0000-4000-8000-000000000003", Version: 9}, {ID: "00000003-0000-4000-8000-000000000003", Version: 7}},
	}
	sc := &script{tableCols: [][]dbColumn{catalogOf(t, account.Columns)}, upserted: 1, deleted: 1}
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, sc)
	r.out.Reset()
	res, err := s.Apply(t.Context(), account.TableName, b)
	if err != nil {
		t.Fatal(err)
	}
	// One duplicate dropped in Go, one row the server's version guard kept out.
	if want := (sink.Counts{Upserted: 1, Skipped: 2, Deleted: 1}); res.Counts() != want {
		t.Errorf("Result %+v, want %+v", res.Counts(), want)
	}
	golden(t, "flow_apply.sql", r.transcript())

	// The columns are cached: a second batch reads no catalog.
	r.out.Reset()
	one := record.Record{ID: b.Upserts[0].ID, Version: 4, Values: b.Upserts[0].Values[:1]}
	if _, err := s.Apply(t.Context(), account.TableName, record.Batch{Entity: "account", Columns: cols[:1], Upserts: []record.Record{one}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.transcript(), "sys.columns") {
		t.Error("second Apply read the catalog again")
	}

	// A failing statement rolls back, names the table, and drops the cache.
	r.out.Reset()
	sc.failOn = "MERGE [dbo].[crm_account]"
	sc.tableCols = [][]dbColumn{catalogOf(t, account.Columns)}
	_, err = s.Apply(t.Context(), account.TableName, b)
	if err == nil || !strings.Contains(err.Error(), "crm_account") || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Apply with a failing MERGE = %v", err)
	}
	if !strings.HasSuffix(r.transcript(), "ROLLBACK TRANSACTION;\n") {
		t.Errorf("no rollback:\n%s", r.transcript())
	}
	r.out.Reset()
	sc.failOn = ""
	if _, err := s.Apply(t.Context(), account.TableName, b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.transcript(), "sys.columns") {
		t.Error("Apply after a failure did not read the columns again")
	}
}

func TestFlowApplyErrors(t *testing.T) {
	full := catalogOf(t, account.Columns)
	tests := []struct {
		name      string
		tableCols [][]dbColumn
		batch     record.Batch
		is        error
		reads     int // catalog reads expected
	}{
		{"unknown column: read once (not cached, so fresh), then named", [][]dbColumn{full, full},
			record.Batch{Entity: "account", Columns: []record.Column{{Name: "nosuch", Kind: record.String}},
				Upserts: []record.Record{{ID: "00000001-0000-4000-8000-000000000001", Version: 1, Values: []record.Value{record.StringValue("x")}}}},
			sink.ErrUnknownColumn, 1},
		{"missing table", nil,
			record.Batch{Entity: "account", Deletes: []record.Delete{{ID: "00000001-0000-4000-8000-000000000001", Version: 1}}},
			sink.ErrNoTable, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := &script{tableCols: tc.tableCols}
			s, r := openRecorded(t, sink.Options{Prefix: "crm"}, sc)
			r.out.Reset()
			_, err := s.Apply(t.Context(), account.TableName, tc.batch)
			if !errors.Is(err, tc.is) || errclass.Of(err) != errclass.Schema {
				t.Fatalf("Apply = %v (%s), want %v of class schema", err, errclass.Of(err), tc.is)
			}
			tr := r.transcript()
			if n := strings.Count(tr, "sys.columns"); n != tc.reads {
				t.Errorf("%d catalog reads, want %d", n, tc.reads)
			}
			if strings.Contains(tr, "BEGIN TRANSACTION") {
				t.Errorf("a transaction was opened for a batch refused up front:\n%s", tr)
			}
		})
	}
}

// Records refused before anything is sent (by Prepare, or by the checks
// bulk copy needs) are rejected alone: a batch of only such records opens
// no transaction; the good records of a mixed batch are written.
func TestFlowApplyRejects(t *testing.T) {
	full := catalogOf(t, account.Columns)
	good := record.Record{ID: "00000009-0000-4000-8000-000000000009", Version: 1, Values: []record.Value{record.StringValue("fine"), record.IntValue(1)}}
	cols := []record.Column{{Name: "name", Kind: record.String}, {Name: "numberofemployees", Kind: record.Int}}
	tests := []struct {
		name   string
		batch  record.Batch
		column string // the column the rejection names
	}{
		{"bad delete id", record.Batch{Entity: "account", Deletes: []record.Delete{{ID: "x'; drop table y; --", Version: 1}}}, ""},
		{"string longer than its column", record.Batch{Entity: "account", Columns: cols,
			Upserts: []record.Record{{ID: "00000001-0000-4000-8000-000000000001", Version: 1, Values: []record.Value{record.StringValue(strings.Repeat("x", 161)), record.IntValue(1)}}}}, "name"},
		{"int beyond 32 bits (bulk copy would keep its low bits)", record.Batch{Entity: "account", Columns: cols,
			Upserts: []record.Record{{ID: "00000001-0000-4000-8000-000000000001", Version: 1, Values: []record.Value{record.StringValue("x"), record.IntValue(1 << 40)}}}}, "numberofemployees"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := &script{tableCols: [][]dbColumn{full, full, full}, upserted: 1}
			s, r := openRecorded(t, sink.Options{Prefix: "crm"}, sc)
			r.out.Reset()
			res, err := s.Apply(t.Context(), account.TableName, tc.batch)
			if err != nil || len(res.Rejected) != 1 {
				t.Fatalf("Apply = %+v, %v; want one rejection and no error", res, err)
			}
			var be *sink.BatchError
			if rej := res.Rejected[0]; !errors.As(rej.Err, &be) || rej.Class != errclass.Record || be.Column != tc.column {
				t.Fatalf("rejection %+v, want a record-class *sink.BatchError naming column %q", rej, tc.column)
			}
			if tr := r.transcript(); strings.Contains(tr, "BEGIN TRANSACTION") {
				t.Errorf("a transaction was opened for a batch of refused records:\n%s", tr)
			}

			// With a good record beside it, that one is written.
			r.out.Reset()
			b := tc.batch
			b.Columns = cols
			b.Upserts = append(append([]record.Record(nil), b.Upserts...), good)
			res, err = s.Apply(t.Context(), account.TableName, b)
			if err != nil || len(res.Rejected) != 1 || res.Upserted != 1 {
				t.Fatalf("mixed batch: %+v, %v; want one written, one rejected", res, err)
			}
			tr := r.transcript()
			if strings.Count(tr, "BEGIN TRANSACTION") != 1 || strings.Count(tr, "--   row:") != 1 || !strings.Contains(tr, good.ID) {
				t.Errorf("mixed batch: want one transaction copying only the good record:\n%s", tr)
			}
		})
	}
}

// A record the server refuses in the MERGE (error 547, a CHECK constraint)
// is isolated by splitting the batch: the golden transcript shows each
// transaction, the bad record alone in the last failed one.
func TestFlowApplyIsolatesARefusedRecord(t *testing.T) {
	bad := "00000003-0000-4000-8000-000000000003"
	sc := &script{tableCols: [][]dbColumn{catalogOf(t, account.Columns)}, refuse: bad, upserted: -1}
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, sc)
	r.out.Reset()
	cols := []record.Column{{Name: "name", Kind: record.String}}
	var ups []record.Record
	for i := 1; i <= 4; i++ {
		ups = append(ups, record.Record{ID: fmt.Sprintf("%08d-0000-4000-8000-%012d", i, i), Version: 1, Values: []record.Value{record.StringValue(fmt.Sprint("n", i))}})
	}
	res, err := s.Apply(t.Context(), account.TableName, record.Batch{Entity: "account", Columns: cols, Upserts: ups})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].ID != bad || errclass.Of(res.Rejected[0].Err) != errclass.Record || res.Upserted != 3 {
		t.Fatalf("Apply = %+v, want 3 written and %s rejected", res, bad)
	}
	golden(t, "flow_isolate.sql", r.transcript())
	// A transient error while splitting fails the whole Apply.
	sc.tableCols = [][]dbColumn{catalogOf(t, account.Columns)}
	sc.failOn = "MERGE"
	sc.failErr = mssql.Error{Number: 1205, Message: "deadlock victim"}
	if _, err := s.Apply(t.Context(), account.TableName, record.Batch{Entity: "account", Columns: cols, Upserts: ups}); errclass.Of(err) != errclass.Transient {
		t.Fatalf("Apply with a deadlock = %v, want a transient error", err)
	}
}

func TestFlowReplaceMetadata(t *testing.T) {
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, &script{})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sets := schema.Metadata([]*dataverse.Entity{sinktest.Account("account")}, now)
	r.out.Reset()
	if err := s.EnsureMetadataTables(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceMetadata(t.Context(), sets); err != nil {
		t.Fatal(err)
	}
	golden(t, "flow_metadata.sql", r.transcript())

	// A malformed set is refused before any statement.
	r.out.Reset()
	bad := []schema.MetadataRows{sets[4]}
	bad[0].Rows = [][]record.Value{{record.IntValue(1)}}
	if err := s.ReplaceMetadata(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "TargetMetadata") {
		t.Errorf("ReplaceMetadata with a short row = %v", err)
	}
	bad[0].Rows = [][]record.Value{{record.IntValue(1), record.NullValue(), record.NullValue(), record.NullValue()}}
	if err := s.ReplaceMetadata(t.Context(), bad); err == nil {
		t.Error("ReplaceMetadata accepted an int in an nvarchar column")
	}
	if tr := r.transcript(); tr != "" {
		t.Errorf("statements sent for a refused set:\n%s", tr)
	}
}

func TestFlowDropTable(t *testing.T) {
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, &script{})
	r.out.Reset()
	if err := s.DropTable(t.Context(), account.TableName); err != nil {
		t.Fatal(err)
	}
	golden(t, "flow_drop_table.sql", r.transcript())
	if err := s.DropTable(t.Context(), schema.TableName{Name: "x]; DROP TABLE y"}); !errors.Is(err, schema.ErrInvalidName) {
		t.Errorf("DropTable with a bad name = %v, want schema.ErrInvalidName", err)
	}
}

// Open warns about missing DES permissions but still opens: the login may
// have been granted what it needs some other way than the check sees.
func TestFlowOpenWarnsMissingPermissions(t *testing.T) {
	var logged strings.Builder
	r := &recorder{respond: func(query string, _ []driver.NamedValue) reply {
		if strings.Contains(query, "HAS_PERMS_BY_NAME") {
			return reply{cols: []string{"scope", "permission_name"}, rows: [][]driver.Value{{"DATABASE", "CREATE TYPE"}, {"SCHEMA", "EXECUTE"}}}
		}
		return reply{}
	}}
	o := sink.Options{Schema: "dbo", Logger: slog.New(slog.NewTextHandler(&logged, nil))}
	s, err := open(t.Context(), newRecordingDB(r), o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range []string{"level=WARN", "DATABASE CREATE TYPE (CRTY)", "SCHEMA EXECUTE (EX)"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logged.String())
		}
	}
}

// TestFlowSweep: staging a page of keys is one transaction (temp table,
// bulk copy, one INSERT); a sweep is one transaction that commits when the
// key set is complete and rolls back with an *IncompleteScanError when not.
func TestFlowSweep(t *testing.T) {
	sc := &script{tableCols: [][]dbColumn{catalogOf(t, account.Columns), catalogOf(t, account.Columns)}, removed: 2, holds: 3}
	s, r := openRecorded(t, sink.Options{Prefix: "crm", WriteDeleteLog: true}, sc)
	r.out.Reset()
	ids := []string{"00000001-0000-4000-8000-000000000001", "00000002-0000-4000-8000-000000000002", "00000003-0000-4000-8000-000000000003"}
	n, err := s.StageKeys(t.Context(), account.TableName, "0a1b2c3d", ids)
	if err != nil || n != 3 {
		t.Fatalf("StageKeys = %d, %v", n, err)
	}
	removed, err := s.Sweep(t.Context(), account.TableName, sink.SweepSpec{Entity: "account", Scan: "0a1b2c3d", Staged: 3, Version: 77})
	if err != nil || removed != 2 {
		t.Fatalf("Sweep = %d, %v", removed, err)
	}
	golden(t, "flow_sweep.sql", r.transcript())

	r.out.Reset()
	sc.removed = -1
	_, err = s.Sweep(t.Context(), account.TableName, sink.SweepSpec{Entity: "account", Scan: "0a1b2c3d", Staged: 4, Version: 77})
	var ie *sink.IncompleteScanError
	if !errors.As(err, &ie) || ie.Holds != 3 || ie.Staged != 4 {
		t.Fatalf("Sweep of an incomplete set = %v", err)
	}
	if !strings.HasSuffix(r.transcript(), "ROLLBACK TRANSACTION;\n") {
		t.Errorf("no rollback:\n%s", r.transcript())
	}
	if _, err := s.StageKeys(t.Context(), account.TableName, "0a1b2c3d", []string{"nope"}); err == nil {
		t.Error("StageKeys accepted an id that is not a GUID")
	}
}
