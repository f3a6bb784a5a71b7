package schema_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

func TestMapAccount(t *testing.T) {
	tbl, err := schema.Map(sinktest.Account("account"), schema.Options{Schema: "dbo", Prefix: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.TableName != (schema.TableName{Schema: "dbo", Name: "crm_account"}) || tbl.Entity != "account" {
		t.Fatalf("table %+v entity %q", tbl.TableName, tbl.Entity)
	}
	want := []struct{ name, typ string }{
		{"accountid", "uniqueidentifier"},
		{"name", "nvarchar(160)"},
		{"description", "nvarchar(max)"},
		{"numberofemployees", "int"},
		{"entityimage_timestamp", "bigint"},
		{"exchangerate", "decimal(38,10)"},
		{"address1_latitude", "decimal(38,5)"},
		{"revenue", "decimal(38,2)"},
		{"createdon", "datetime"},
		{"birthday", "datetime(date)"},
		{"donotemail", "bit"},
		{"industrycode", "int"},
		{"categories", "nvarchar(max)"},
		{"statecode", "int"},
		{"statuscode", "int"},
		{"primarycontactid", "uniqueidentifier"},
		{"primarycontactid_entitytype", "nvarchar(128)"},
		{"primarycontactidname", "nvarchar(160)"},
		{"parentcustomerid", "uniqueidentifier"},
		{"parentcustomerid_entitytype", "nvarchar(128)"},
		{"parentcustomeridname", "nvarchar(160)"},
		{"parentcustomeridtype", "nvarchar(4000)"},
		{"ownerid", "uniqueidentifier"},
		{"ownerid_entitytype", "nvarchar(128)"},
		{"owneridtype", "nvarchar(4000)"},
		{"longtext", "nvarchar(4000)"},
		{"owneridname", "nvarchar(100)"},
		{"owneridyominame", "nvarchar(100)"},
		{"revenue_base", "decimal(38,4)"},
	}
	if len(tbl.Columns) != len(want) {
		t.Fatalf("%d columns, want %d: %+v", len(tbl.Columns), len(want), tbl.Columns)
	}
	for i, w := range want {
		c := tbl.Columns[i]
		if c.Name != w.name || c.Type.String() != w.typ {
			t.Errorf("column %d: %s %s, want %s %s", i, c.Name, c.Type, w.name, w.typ)
		}
	}
	// Column kinds agree with the record columns the batches carry.
	for i, f := range dataverse.Fields(sinktest.Account("account")) {
		if k := tbl.Columns[i].Type.Kind; k != f.Column.Kind {
			t.Errorf("column %s kind %s, batch kind %s", f.Column.Name, k, f.Column.Kind)
		}
	}
}

func TestStringLengths(t *testing.T) {
	tests := []struct {
		maxLength int
		want      string
	}{
		{0, "nvarchar(max)"}, {-1, "nvarchar(max)"}, {1, "nvarchar(1)"}, {100, "nvarchar(100)"},
		{3999, "nvarchar(3999)"}, {4000, "nvarchar(4000)"}, {4001, "nvarchar(max)"}, {1048576, "nvarchar(max)"},
	}
	for _, tc := range tests {
		if got := schema.StringType(tc.maxLength).String(); got != tc.want {
			t.Errorf("StringType(%d) = %s, want %s", tc.maxLength, got, tc.want)
		}
	}
}

func TestOptionsAndNames(t *testing.T) {
	tests := []struct {
		name    string
		o       schema.Options
		entity  string
		want    string // table name, or the text the error must contain
		wantErr string // NameError.What
	}{
		{"defaults", schema.Options{}, "account", "account", ""},
		{"prefix", schema.Options{Prefix: "crm"}, "account", "crm_account", ""},
		{"prefix 14 chars", schema.Options{Prefix: strings.Repeat("p", 14)}, "account", strings.Repeat("p", 14) + "_account", ""},
		{"prefix 15 chars", schema.Options{Prefix: strings.Repeat("p", 15)}, "account", "fewer than 15", "prefix"},
		{"prefix underscore", schema.Options{Prefix: "a_b"}, "account", "letters and digits", "prefix"},
		{"schema quote", schema.Options{Schema: `dbo"x`}, "account", "letters and digits", "schema"},
		{"schema dash", schema.Options{Schema: "my-schema"}, "account", "letters and digits", "schema"},
		{"entity with quote", schema.Options{}, `acc"ount`, "only letters", "entity"},
		{"entity empty", schema.Options{}, "", "empty", "entity"},
		{"entity too long", schema.Options{}, strings.Repeat("e", 64), "longer than 63", "entity"},
		{"table too long with prefix", schema.Options{Prefix: "crm"}, strings.Repeat("e", 60), "longer than 63", "table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &dataverse.Entity{LogicalName: tc.entity}
			tbl, err := schema.Map(e, tc.o)
			if tc.wantErr == "" {
				if err != nil || tbl.Name != tc.want {
					t.Fatalf("Map = %q, %v; want %q", tbl.Name, err, tc.want)
				}
				return
			}
			var ne *schema.NameError
			if !errors.As(err, &ne) || ne.What != tc.wantErr || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, schema.ErrInvalidName) {
				t.Fatalf("Map error %v, want a %s NameError containing %q", err, tc.wantErr, tc.want)
			}
		})
	}
}

func TestColumnCollisions(t *testing.T) {
	tests := []struct {
		attr string
		ok   bool
	}{
		{"id", false}, {"sinkcreatedon", false}, {"SinkModifiedOn", false}, {"name", true}, {"bad name", false}, {"9lives", false},
	}
	for _, tc := range tests {
		e := &dataverse.Entity{LogicalName: "thing", Attributes: []dataverse.Attribute{
			{LogicalName: tc.attr, Type: dataverse.TypeString, IsValidForRead: true, MaxLength: 10},
		}}
		_, err := schema.Map(e, schema.Options{})
		if (err == nil) != tc.ok {
			t.Errorf("attribute %q: error %v, want ok=%v", tc.attr, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.attr) {
			t.Errorf("attribute %q: error %q does not name it", tc.attr, err)
		}
	}
}

func TestPlanChanges(t *testing.T) {
	s := func(n int) schema.ColumnType { return schema.StringType(n) }
	dt := schema.ColumnType{Kind: record.DateTime}
	date := schema.ColumnType{Kind: record.Date}
	guid := schema.ColumnType{Kind: record.GUID}
	tests := []struct {
		name      string
		have      []schema.Column
		want      []schema.Column
		add       []string
		widen     []string // column:to
		wantError string   // incompatible column
	}{
		{"same", []schema.Column{{"a", s(10)}}, []schema.Column{{"a", s(10)}}, nil, nil, ""},
		{"add", []schema.Column{{"a", s(10)}}, []schema.Column{{"a", s(10)}, {"b", guid}}, []string{"b"}, nil, ""},
		{"longer string", []schema.Column{{"a", s(10)}}, []schema.Column{{"a", s(20)}}, nil, []string{"a:nvarchar(20)"}, ""},
		{"unbounded string", []schema.Column{{"a", s(10)}}, []schema.Column{{"a", s(0)}}, nil, []string{"a:nvarchar(max)"}, ""},
		{"shorter string kept", []schema.Column{{"a", s(20)}}, []schema.Column{{"a", s(10)}}, nil, nil, ""},
		{"bounded after unbounded kept", []schema.Column{{"a", s(0)}}, []schema.Column{{"a", s(10)}}, nil, nil, ""},
		{"int to bigint", []schema.Column{{"a", schema.IntType()}}, []schema.Column{{"a", schema.BigIntType()}}, nil, []string{"a:bigint"}, ""},
		{"bigint to int kept", []schema.Column{{"a", schema.BigIntType()}}, []schema.Column{{"a", schema.IntType()}}, nil, nil, ""},
		{"more scale", []schema.Column{{"a", schema.DecimalType(2)}}, []schema.Column{{"a", schema.DecimalType(4)}}, nil, []string{"a:decimal(38,4)"}, ""},
		{"less scale kept", []schema.Column{{"a", schema.DecimalType(4)}}, []schema.Column{{"a", schema.DecimalType(2)}}, nil, nil, ""},
		{"date and datetime alike", []schema.Column{{"a", dt}}, []schema.Column{{"a", date}}, nil, nil, ""},
		{"removed column kept", []schema.Column{{"a", s(10)}, {"gone", guid}}, []schema.Column{{"a", s(10)}}, nil, nil, ""},
		{"string to int", []schema.Column{{"a", s(10)}}, []schema.Column{{"a", schema.IntType()}}, nil, nil, "a"},
		{"guid to string", []schema.Column{{"a", guid}}, []schema.Column{{"a", s(36)}}, nil, nil, "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := schema.Table{TableName: schema.TableName{Name: "t"}, Columns: tc.want}
			p, err := schema.PlanChanges(tc.have, want)
			if tc.wantError != "" {
				var ic *schema.IncompatibleChangeError
				if !errors.As(err, &ic) || ic.Column != tc.wantError || !errors.Is(err, schema.ErrIncompatibleChange) {
					t.Fatalf("error %v, want IncompatibleChangeError on %s", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var add, widen []string
			for _, c := range p.Add {
				add = append(add, c.Name)
			}
			for _, w := range p.Widen {
				widen = append(widen, w.Column+":"+w.To.String())
			}
			if strings.Join(add, ",") != strings.Join(tc.add, ",") || strings.Join(widen, ",") != strings.Join(tc.widen, ",") {
				t.Fatalf("plan add=%v widen=%v, want add=%v widen=%v", add, widen, tc.add, tc.widen)
			}
		})
	}
}

// Image attributes become their companion columns only (DES stored no image
// bytes); File, PartyList and virtual attributes, and the companions of a
// file, become no column.
func TestMapImageFileAndSkipped(t *testing.T) {
	a := func(name string, typ dataverse.AttributeType, of string, maxLen int) dataverse.Attribute {
		return dataverse.Attribute{LogicalName: name, Type: typ, AttributeOf: of, MaxLength: maxLen, IsValidForRead: true}
	}
	e := &dataverse.Entity{LogicalName: "new_project", PrimaryIDAttribute: "new_projectid", Attributes: []dataverse.Attribute{
		a("new_projectid", dataverse.TypeUniqueidentifier, "", 0),
		a("entityimage", dataverse.TypeImage, "", 0),
		a("entityimageid", dataverse.TypeUniqueidentifier, "entityimage", 0),
		a("entityimage_url", dataverse.TypeString, "entityimage", 200),
		a("entityimage_timestamp", dataverse.TypeBigInt, "entityimage", 0),
		a("new_contract", dataverse.TypeFile, "", 0),
		a("new_contract_name", dataverse.TypeString, "new_contract", 200),
		a("new_attendees", dataverse.TypePartyList, "", 0),
		a("new_computed", dataverse.TypeVirtual, "", 0),
	}}
	tbl, err := schema.Map(e, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range tbl.Columns {
		got = append(got, c.Name+" "+c.Type.String())
	}
	want := []string{"new_projectid uniqueidentifier", "entityimageid uniqueidentifier", "entityimage_url nvarchar(200)", "entityimage_timestamp bigint"}
	if !slices.Equal(got, want) {
		t.Fatalf("columns %q, want %q", got, want)
	}
}
