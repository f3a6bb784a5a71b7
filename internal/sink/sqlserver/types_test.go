package sqlserver

import (
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
)

func TestSQLType(t *testing.T) {
	tests := []struct {
		in   schema.ColumnType
		want string
	}{
		{schema.StringType(160), "nvarchar(160)"},
		{schema.ColumnType{Kind: record.String, Length: 4000}, "nvarchar(4000)"},
		{schema.StringType(0), "nvarchar(max)"},
		{schema.ColumnType{Kind: record.String, Length: 4001}, "nvarchar(max)"},
		{schema.IntType(), "int"},
		{schema.BigIntType(), "bigint"},
		{schema.DecimalType(2), "decimal(38,2)"},
		{schema.DecimalType(10), "decimal(38,10)"},
		{schema.ColumnType{Kind: record.Decimal, Scale: 4}, "decimal(38,4)"},
		{schema.ColumnType{Kind: record.Float}, "float"},
		{schema.ColumnType{Kind: record.Bool}, "bit"},
		{schema.ColumnType{Kind: record.DateTime}, "datetime"},
		{schema.ColumnType{Kind: record.Date}, "datetime"},
		{schema.ColumnType{Kind: record.GUID}, "uniqueidentifier"},
	}
	for _, tc := range tests {
		got, err := sqlType(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("sqlType(%+v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []schema.ColumnType{{Kind: record.Null}, {Kind: record.Decimal, Precision: 39}, {Kind: record.Decimal, Precision: 38, Scale: 39}} {
		if got, err := sqlType(bad); err == nil {
			t.Errorf("sqlType(%+v) = %q, want an error", bad, got)
		}
	}
}

// A column as sys.columns reports it must map back to the type it was
// created from, and render as the same text, or EnsureTable would widen or
// recreate types forever.
func TestCatalogRoundTrip(t *testing.T) {
	tests := []struct {
		db   dbColumn
		want schema.ColumnType
	}{
		{dbColumn{Name: "a", Type: "nvarchar", MaxLength: 320}, schema.StringType(160)},
		{dbColumn{Name: "a", Type: "nvarchar", MaxLength: -1}, schema.StringType(0)},
		{dbColumn{Name: "a", Type: "int", MaxLength: 4, Precision: 10}, schema.IntType()},
		{dbColumn{Name: "a", Type: "bigint", MaxLength: 8, Precision: 19}, schema.BigIntType()},
		{dbColumn{Name: "a", Type: "decimal", MaxLength: 17, Precision: 38, Scale: 2}, schema.DecimalType(2)},
		{dbColumn{Name: "a", Type: "float", MaxLength: 8, Precision: 53}, schema.ColumnType{Kind: record.Float}},
		{dbColumn{Name: "a", Type: "bit", MaxLength: 1, Precision: 1}, schema.ColumnType{Kind: record.Bool}},
		{dbColumn{Name: "a", Type: "datetime", MaxLength: 8, Precision: 23, Scale: 3}, schema.ColumnType{Kind: record.DateTime}},
		{dbColumn{Name: "a", Type: "uniqueidentifier", MaxLength: 16}, schema.ColumnType{Kind: record.GUID}},
		{dbColumn{Name: "a", Type: "xml", MaxLength: -1}, schema.ColumnType{Kind: record.Null}},
	}
	for _, tc := range tests {
		got := tc.db.columnType()
		if got != tc.want {
			t.Errorf("%s: columnType = %+v, want %+v", tc.db.Type, got, tc.want)
			continue
		}
		if got.Kind == record.Null {
			continue
		}
		typ, err := sqlType(got)
		if err != nil || typ != tc.db.render() {
			t.Errorf("%s: sqlType %q (%v) differs from render %q", tc.db.Type, typ, err, tc.db.render())
		}
	}
}

func TestTypeSignature(t *testing.T) {
	cols, err := columnsOf(schema.Table{TableName: schema.TableName{Name: "t"}, Columns: []schema.Column{
		{Name: "name", Type: schema.StringType(100)},
		{Name: "revenue", Type: schema.DecimalType(2)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	stored := []dbColumn{
		{Name: "Id", Type: "uniqueidentifier", MaxLength: 16},
		{Name: "name", Type: "nvarchar", MaxLength: 200, Nullable: true},
		{Name: "revenue", Type: "decimal", MaxLength: 17, Precision: 38, Scale: 2, Nullable: true},
		{Name: "versionnumber", Type: "bigint", MaxLength: 8, Precision: 19},
	}
	if !slices.Equal(typeSignature(stored), typeColumns(cols)) {
		t.Fatalf("same type compares different:\n%q\n%q", typeSignature(stored), typeColumns(cols))
	}
	for i, mod := range []func([]dbColumn){
		func(c []dbColumn) { c[1].MaxLength = 100 },        // narrower string
		func(c []dbColumn) { c[2].Scale = 4 },              // other scale
		func(c []dbColumn) { c[3].Nullable = true },        // nullability
		func(c []dbColumn) { c[1], c[2] = c[2], c[1] },     // order
		func(c []dbColumn) { c[1].Name = "Name" },          // case of a name
		func(c []dbColumn) { c[2].Type = "numeric" },       // type
		func(c []dbColumn) { c[0].Type = "nvarchar" },      // id type
		func(c []dbColumn) { c[3].Name = "VersionNumber" }, // system column name
	} {
		changed := slices.Clone(stored)
		mod(changed)
		if slices.Equal(typeSignature(changed), typeColumns(cols)) {
			t.Errorf("change %d not detected", i)
		}
	}
	// storedColumns takes the table's actual (wider) types for the type.
	got := storedColumns(cols, []dbColumn{{Name: "name", Type: "nvarchar", MaxLength: -1}})
	if got[0].Type != "nvarchar(max)" || got[1].Type != "decimal(38,2)" {
		t.Errorf("storedColumns = %+v", got)
	}
}
