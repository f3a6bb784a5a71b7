package sqlserver

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
)

// withRemoved is account's catalog with two columns of removed attributes,
// stored out of name order.
func withRemoved(t *testing.T) []dbColumn {
	t.Helper()
	return catalogOf(t, append(slices.Clone(account.Columns),
		schema.Column{Name: "telephone9", Type: schema.StringType(50)},
		schema.Column{Name: "fax", Type: schema.StringType(50)},
	))
}

func TestFlowDropColumns(t *testing.T) {
	before, after := withRemoved(t), catalogOf(t, account.Columns)
	sc := &script{
		tableCols: [][]dbColumn{before, after, after},
		// <table>Type still has the removed columns: it is recreated.
		typeCols: [][]dbColumn{typeCatalogOf(before)},
	}
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, sc)
	name := s.resolve(account.TableName)
	s.cols.Put(name, map[string]schema.ColumnType{"fax": schema.StringType(50)})
	r.out.Reset()
	if err := s.DropColumns(t.Context(), account, []string{"telephone9", "fax"}); err != nil {
		t.Fatal(err)
	}
	got := r.transcript()
	golden(t, "flow_drop_columns.sql", got)
	if !strings.Contains(got, "ALTER TABLE [dbo].[crm_account] DROP COLUMN [fax], [telephone9];") {
		t.Error("the columns are not dropped in one sorted statement")
	}
	_, typ, ok := strings.Cut(got, "CREATE TYPE [dbo].[crm_accountType] AS TABLE (")
	typ, _, _ = strings.Cut(typ, ");")
	if !ok || strings.Contains(typ, "[fax]") || strings.Contains(typ, "[telephone9]") || !strings.Contains(typ, "[statecode] int NULL") {
		t.Errorf("<table>Type not recreated with the remaining columns:\n%s", typ)
	}
	if n := strings.Count(got, "sp_getapplock"); n != 1 {
		t.Errorf("schema lock taken %d times, want once", n)
	}
	if !strings.HasSuffix(got, "COMMIT TRANSACTION;\n") {
		t.Error("DropColumns did not commit")
	}
	if _, ok := s.cols.Get(name); ok {
		t.Error("DropColumns kept the cached column list")
	}
}

func TestRemovedColumns(t *testing.T) {
	system := catalogOf(t, nil)
	tests := []struct {
		name    string
		stored  []dbColumn
		declare []schema.Column
		want    []string
	}{
		{"removed columns, sorted", withRemoved(t), account.Columns, []string{"fax", "telephone9"}},
		{"nothing removed", catalogOf(t, account.Columns), account.Columns, nil},
		{"system columns never listed, whatever t declares", catalogOf(t, account.Columns[:1]), nil, []string{"accountid"}},
		{"system columns in another case are system columns",
			append(slices.Clone(system), dbColumn{Name: "VersionNumber", Type: "bigint", MaxLength: 8, Nullable: true}), nil, nil},
		{"a declared column stored in another case is not removed",
			catalogOf(t, []schema.Column{{Name: "Name", Type: schema.StringType(160)}, {Name: "old", Type: schema.IntType()}}),
			[]schema.Column{{Name: "name", Type: schema.StringType(160)}}, []string{"old"}},
		{"a name that needs quoting", catalogOf(t, []schema.Column{{Name: "a]b", Type: schema.IntType()}}), nil, []string{"a]b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, r := openRecorded(t, sink.Options{Prefix: "crm"}, &script{tableCols: [][]dbColumn{tc.stored}})
			r.out.Reset()
			tbl := schema.Table{TableName: account.TableName, Entity: "account", Columns: tc.declare}
			got, err := s.RemovedColumns(t.Context(), tbl)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("RemovedColumns = %q, want %q", got, tc.want)
			}
			if tr := r.transcript(); strings.Contains(tr, "ALTER") || strings.Contains(tr, "DROP") {
				t.Errorf("RemovedColumns changed the schema:\n%s", tr)
			}
		})
	}
}

func TestDropColumnsRefuses(t *testing.T) {
	tests := []struct {
		name   string
		names  []string
		column string // the column the error names; "" when none
	}{
		{"declared column", []string{"name"}, "name"},
		{"system column", []string{"versionnumber"}, "versionnumber"},
		{"key column", []string{"Id"}, "Id"},
		{"unknown column", []string{"nosuch"}, "nosuch"},
		{"one bad name among removed ones", []string{"fax", "name", "telephone9"}, "name"},
		{"no name", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, r := openRecorded(t, sink.Options{Prefix: "crm"}, &script{tableCols: [][]dbColumn{withRemoved(t)}})
			r.out.Reset()
			err := s.DropColumns(t.Context(), account, tc.names)
			var de *sink.DropColumnError
			if !errors.As(err, &de) || de.Column != tc.column {
				t.Fatalf("DropColumns(%q) = %v, want *sink.DropColumnError for %q", tc.names, err, tc.column)
			}
			if !strings.Contains(err.Error(), tc.column) || !strings.Contains(err.Error(), "crm_account") {
				t.Errorf("error %q does not name the column and the table", err)
			}
			tr := r.transcript()
			if strings.Contains(tr, "ALTER") || strings.Contains(tr, "DROP") || strings.Contains(tr, "CREATE") {
				t.Errorf("a refused DropColumns sent DDL:\n%s", tr)
			}
			if !strings.HasSuffix(tr, "ROLLBACK TRANSACTION;\n") {
				t.Errorf("a refused DropColumns did not roll back:\n%s", tr)
			}
		})
	}
}

func TestDropColumnsMissingTable(t *testing.T) {
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, &script{}) // every catalog read is empty
	var nt *sink.NoTableError
	want := schema.TableName{Schema: "dbo", Name: "crm_account"}

	_, err := s.RemovedColumns(t.Context(), account)
	if !errors.As(err, &nt) || nt.Table != want {
		t.Errorf("RemovedColumns on a missing table = %v, want *sink.NoTableError for %s", err, want)
	}

	r.out.Reset()
	err = s.DropColumns(t.Context(), account, []string{"fax"})
	if !errors.As(err, &nt) || nt.Table != want {
		t.Errorf("DropColumns on a missing table = %v, want *sink.NoTableError for %s", err, want)
	}
	if tr := r.transcript(); strings.Contains(tr, "ALTER") || strings.Contains(tr, "CREATE") || !strings.HasSuffix(tr, "ROLLBACK TRANSACTION;\n") {
		t.Errorf("DropColumns on a missing table sent DDL or did not roll back:\n%s", tr)
	}
}

func TestDropColumnsBadNames(t *testing.T) {
	s, r := openRecorded(t, sink.Options{Prefix: "crm"}, &script{})
	r.out.Reset()
	bad := schema.Table{TableName: schema.TableName{Name: "x]; DROP TABLE y"}, Entity: "x",
		Columns: []schema.Column{{Name: "a", Type: schema.ColumnType{Kind: record.Int}}}}
	if _, err := s.RemovedColumns(t.Context(), bad); !errors.Is(err, schema.ErrInvalidName) {
		t.Errorf("RemovedColumns with a bad table name = %v, want schema.ErrInvalidName", err)
	}
	if err := s.DropColumns(t.Context(), bad, []string{"a"}); !errors.Is(err, schema.ErrInvalidName) {
		t.Errorf("DropColumns with a bad table name = %v, want schema.ErrInvalidName", err)
	}
	if tr := r.transcript(); tr != "" {
		t.Errorf("statements sent for a bad name:\n%s", tr)
	}
}
