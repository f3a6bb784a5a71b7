package sqlserver

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.sql from the generators")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/sink/sqlserver -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the generator output (rerun with -update if the change is intended):\n%s", path, diff(string(want), got))
	}
	if err := lexCheck(got); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// diff shows the first differing line, enough to find the change.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + a + "\n  got:  " + b
		}
	}
	return "(no line differs)"
}

// The entities below are built by hand, covering every column kind.
var (
	account = schema.Table{
		TableName: schema.TableName{Name: "crm_account"},
		Entity:    "account",
		Columns: []schema.Column{
			{Name: "accountid", Type: schema.ColumnType{Kind: record.GUID}},
			{Name: "name", Type: schema.StringType(160)},
			{Name: "description", Type: schema.StringType(0)},
			{Name: "numberofemployees", Type: schema.IntType()},
			{Name: "entityimage_timestamp", Type: schema.BigIntType()},
			{Name: "revenue", Type: schema.DecimalType(2)},
			{Name: "exchangerate", Type: schema.DecimalType(10)},
			{Name: "address1_latitude", Type: schema.ColumnType{Kind: record.Float}},
			{Name: "creditonhold", Type: schema.ColumnType{Kind: record.Bool}},
			{Name: "createdon", Type: schema.ColumnType{Kind: record.DateTime}},
			{Name: "lastonholdtime", Type: schema.ColumnType{Kind: record.Date}},
			{Name: "ownerid", Type: schema.ColumnType{Kind: record.GUID}},
			{Name: "ownerid_entitytype", Type: schema.StringType(schema.EntityTypeLength)},
			{Name: "statecode", Type: schema.IntType()},
		},
	}
	contact = schema.Table{
		TableName: schema.TableName{Schema: "sales", Name: "contact"},
		Entity:    "contact",
		Columns: []schema.Column{
			{Name: "contactid", Type: schema.ColumnType{Kind: record.GUID}},
			{Name: "fullname", Type: schema.StringType(160)},
			{Name: "birthdate", Type: schema.ColumnType{Kind: record.Date}},
		},
	}
	// An intersect entity: two ids and nothing else, as DES replicated M:N.
	accountleads = schema.Table{
		TableName: schema.TableName{Name: "crm_accountleads"},
		Entity:    "accountleads",
		Columns: []schema.Column{
			{Name: "accountleadid", Type: schema.ColumnType{Kind: record.GUID}},
			{Name: "accountid", Type: schema.ColumnType{Kind: record.GUID}},
			{Name: "leadid", Type: schema.ColumnType{Kind: record.GUID}},
		},
	}
)

var cases = []struct {
	name  string
	opts  sink.Options
	table schema.Table
}{
	{"account", sink.Options{Prefix: "crm"}, account},
	{"contact_deletelog", sink.Options{Schema: "sales", WriteDeleteLog: true}, contact},
	{"accountleads", sink.Options{Prefix: "crm", WriteDeleteLog: true}, accountleads},
}

func TestGoldenSchemaScript(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SchemaScript(&c.opts, c.table)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "schema_"+c.name+".sql", got)
		})
	}
}

// TestGoldenDESTables pins the CREATE TABLE of account and contact as
// schema.Map makes them from DES-shaped metadata: the lookup helpers
// (owneridname, owneridyominame, owneridtype, parentcustomeridname,
// parentcustomeridtype, ...) beside <lookup>_entitytype, a money _base.
func TestGoldenDESTables(t *testing.T) {
	for _, e := range []*dataverse.Entity{sinktest.Account("account"), sinktest.Contact("contact")} {
		tbl, err := schema.Map(e, sink.Options{Prefix: "crm", Schema: "dbo"}.TableOptions())
		if err != nil {
			t.Fatal(err)
		}
		cols, err := columnsOf(tbl)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "des_"+e.LogicalName+".sql", joinBatches([]string{createTableStmt(tbl.TableName, cols)}))
	}
}

// TestGoldenLabelView pins the label view of the DES-shaped account: every
// column, each choice column followed by its label (German where the
// metadata has it, else the user's label), the multi-select's label list.
func TestGoldenLabelView(t *testing.T) {
	o := sink.Options{Prefix: "crm", Schema: "dbo"}.TableOptions()
	o.LabelLanguage = 1031
	tbl, err := schema.Map(sinktest.Account("account"), o)
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Labels == nil {
		t.Fatal("no label view")
	}
	cols := []string{schema.ColID, schema.ColSinkCreatedOn, schema.ColSinkModifiedOn, schema.ColVersion}
	for _, c := range tbl.Columns {
		cols = append(cols, c.Name)
	}
	golden(t, "view_account.sql", joinBatches([]string{labelViewStmt(tbl.Labels.Name, tbl.TableName, cols, tbl.Labels)}))
}

// TestGoldenApply pins the statements Apply sends for a batch that carries
// a subset of the columns.
func TestGoldenApply(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNaming(c.opts.Schema, c.opts.Prefix)
			tn := n.table(c.table.TableName)
			w := writeTarget{Table: tn, Entity: c.table.Entity, Tombstone: n.tombstone()}
			if c.opts.WriteDeleteLog {
				dl := n.deleteLog()
				w.DeleteLog = &dl
			}
			var cols []string
			for i, col := range c.table.Columns {
				if i%2 == 0 {
					cols = append(cols, col.Name)
				}
			}
			got := joinBatches([]string{
				dropTempStmt(stageIDs),
				stageIDsStmt,
				"-- bulk copy: Id, VersionNumber",
				deleteSQL(w, qi(stageIDs)) + "\n" + dropTempStmt(stageIDs),
				dropTempStmt(stageTable),
				stageUpsertStmt(tn, cols),
				"-- bulk copy: " + strings.Join(append([]string{"Id", "versionnumber"}, cols...), ", "),
				upsertSQL(w, cols, qi(stageTable)) + "\n" + dropTempStmt(stageTable),
			})
			golden(t, "apply_"+c.name+".sql", got)
		})
	}
}

// TestGoldenRead pins what Rows and Scan send: the rows in the order of
// the id's text (SQL Server orders uniqueidentifier otherwise).
func TestGoldenRead(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNaming(c.opts.Schema, c.opts.Prefix)
			var cols []record.Column
			for _, col := range c.table.Columns {
				cols = append(cols, record.Column{Name: col.Name, Kind: col.Type.Kind})
			}
			golden(t, "read_"+c.name+".sql", rowsSQL(n.table(c.table.TableName), cols)+"\n")
		})
	}
}

// TestGoldenAlter pins the ALTERs EnsureTable sends when metadata grew: a
// new column, a longer string, int to bigint, more decimal places.
func TestGoldenAlter(t *testing.T) {
	existing := []schema.Column{
		{Name: "name", Type: schema.StringType(100)},
		{Name: "numberofemployees", Type: schema.IntType()},
		{Name: "revenue", Type: schema.DecimalType(2)},
		{Name: "description", Type: schema.StringType(2000)},
		{Name: "creditonhold", Type: schema.ColumnType{Kind: record.Bool}},
	}
	want := schema.Table{TableName: schema.TableName{Schema: "dbo", Name: "crm_account"}, Entity: "account", Columns: []schema.Column{
		{Name: "name", Type: schema.StringType(160)},
		{Name: "numberofemployees", Type: schema.BigIntType()},
		{Name: "revenue", Type: schema.DecimalType(4)},
		{Name: "description", Type: schema.StringType(0)},
		{Name: "creditonhold", Type: schema.ColumnType{Kind: record.Bool}},
		{Name: "telephone1", Type: schema.StringType(50)},
	}}
	plan, err := schema.PlanChanges(existing, want)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := planStmts(want.TableName, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 5 {
		t.Errorf("got %d statements, want 1 add + 4 widen", len(stmts))
	}
	golden(t, "alter_account.sql", joinBatches(stmts))
}

func TestGoldenMetadata(t *testing.T) {
	for _, c := range []struct {
		name string
		opts *sink.Options
	}{
		{"metadata_noprefix.sql", nil},
		{"metadata_crm.sql", &sink.Options{Prefix: "crm", Schema: "sales"}},
	} {
		got, err := MetadataScript(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, c.name, got)
	}
}

func TestGoldenPermissions(t *testing.T) {
	got, err := PermissionsScript(nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "permissions.sql", got)
	got, err = GrantScript(&sink.Options{Schema: "sales"}, "dataexport]user")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "grant.sql", got)
}

func TestGoldenCleanup(t *testing.T) {
	got, err := CleanupEntityScript(&sink.Options{Prefix: "crm"}, "lead")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "cleanup_entity_crm_lead.sql", got)
	// No prefix: DES's LIKE '_%' would have matched every object; ours
	// names each one.
	got, err = CleanupEntityScript(nil, "lead")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(got), " LIKE ") {
		t.Error("cleanup script uses LIKE")
	}
	golden(t, "cleanup_entity_noprefix_lead.sql", got)
	got, err = CleanupProfileScript(&sink.Options{Prefix: "crm", Schema: "sales"}, []string{"account", "contact"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "cleanup_profile_crm.sql", got)
}

// TestGoldenOddIdentifiers runs the generators on names the portable checks
// would refuse, to pin how brackets and quotes are escaped.
func TestGoldenOddIdentifiers(t *testing.T) {
	tn := schema.TableName{Schema: "we]ird", Name: "it's [odd]"}
	cols := []column{
		{Name: "col]umn", Type: "nvarchar(10)", Want: schema.StringType(10)},
		{Name: "o'brien", Type: "int", Want: schema.BigIntType()},
		{Name: "sp ace; DROP TABLE x--", Type: "bit"},
	}
	ob := objectsOf(tn)
	w := writeTarget{Table: tn, Entity: "it's", Tombstone: schema.TableName{Schema: "we]ird", Name: "t]omb"}}
	stmts := append(tableStmts(tn, cols), idTypeStmt(ob))
	stmts = append(stmts, recreateTypeStmts(ob, cols)...)
	stmts = append(stmts, procStmts(ob, w, cols)...)
	got := joinBatches(stmts)
	golden(t, "odd_identifiers.sql", got)

	// Every odd name must come back intact from the quoted text.
	ids, _, err := lex(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"we]ird", "it's [odd]", "col]umn", "o'brien", "sp ace; DROP TABLE x--", "EPK[we]ird].[it's [odd]]", "it's [odd]Type", "t]omb"} {
		if !ids[want] {
			t.Errorf("identifier %q not found intact in the generated script", want)
		}
	}
}

// TestGoldenSweep pins what a full read's last step sends: the key scan of
// a reconcile, the staging of the source's keys, the sweep (with and
// without the delete log) and the clearing of key sets.
func TestGoldenSweep(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := newNaming(c.opts.Schema, c.opts.Prefix)
			tn := n.table(c.table.TableName)
			w := writeTarget{Table: tn, Entity: c.table.Entity, Tombstone: n.tombstone()}
			if c.opts.WriteDeleteLog {
				dl := n.deleteLog()
				w.DeleteLog = &dl
			}
			got := joinBatches([]string{
				keysTableStmt(n),
				scanKeysSQL(tn),
				hasRowsSQL(tn),
				dropTempStmt(stageScanKeys),
				stageScanKeysStmt,
				"-- bulk copy: Id",
				stageKeysSQL(n.keys(), tn, "0a1b2c3d") + "\n" + dropTempStmt(stageScanKeys),
				sweepSQL(w, n.keys(), sink.SweepSpec{Entity: c.table.Entity, Scan: "0a1b2c3d", Staged: 12345, Version: 1002345}),
				clearKeysSQL(n.keys(), tn),
			})
			golden(t, "sweep_"+c.name+".sql", got)
		})
	}
}
