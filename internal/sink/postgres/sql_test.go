package postgres

import (
	"flag"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGeneratedSQL(t *testing.T) {
	o := sink.Options{Schema: "dbo", Prefix: "crm"}
	e := sinktest.Account("account")
	tbl, err := schema.Map(e, o.TableOptions())
	if err != nil {
		t.Fatal(err)
	}
	create, err := ensureSQL(tbl, nil)
	if err != nil {
		t.Fatal(err)
	}
	sinktest.Golden(t, "testdata/create_account.sql", strings.Join(create, ";\n")+"\n", *update)
	ctbl, err := schema.Map(sinktest.Contact("contact"), o.TableOptions())
	if err != nil {
		t.Fatal(err)
	}
	ccreate, err := ensureSQL(ctbl, nil)
	if err != nil {
		t.Fatal(err)
	}
	sinktest.Golden(t, "testdata/create_contact.sql", strings.Join(ccreate, ";\n")+"\n", *update)

	// Evolution: a new column, a longer name, more decimal places, bigint.
	old := make([]schema.Column, len(tbl.Columns))
	copy(old, tbl.Columns)
	old = old[:len(old)-1]
	for i := range old {
		switch old[i].Name {
		case "name":
			old[i].Type = schema.StringType(100)
		case "revenue":
			old[i].Type = schema.DecimalType(0)
		case "entityimage_timestamp":
			old[i].Type = schema.IntType()
		}
	}
	evolve, err := ensureSQL(tbl, old)
	if err != nil {
		t.Fatal(err)
	}
	sinktest.Golden(t, "testdata/evolve_account.sql", strings.Join(evolve, ";\n")+"\n", *update)

	quoted := []string{ident(schema.ColID), ident(schema.ColVersion)}
	for _, f := range dataverse.Fields(e)[:4] {
		quoted = append(quoted, ident(f.Column.Name))
	}
	sinktest.Golden(t, "testdata/upsert_account.sql", upsertSQL(tbl.TableName, o.Tombstones(), "dataexport_stage_0123456789abcdef", quoted)+"\n", *update)
	sinktest.Golden(t, "testdata/delete_account.sql", deleteSQL(tbl.TableName, o.Tombstones())+"\n", *update)
	sinktest.Golden(t, "testdata/replace_account.sql", replaceSQL(tbl.TableName, o.Tombstones())+"\n", *update)
	dl := o.DeleteLog()
	sinktest.Golden(t, "testdata/sweep_account.sql", strings.Join([]string{
		keysTableSQL(o.Keys()), scanKeysSQL(tbl.TableName), stageKeysSQL(o.Keys()),
		sweepSQL(tbl.TableName, o.Tombstones(), o.Keys(), &dl), sweepSQL(tbl.TableName, o.Tombstones(), o.Keys(), nil),
	}, ";\n")+"\n", *update)

	lo := o.TableOptions()
	lo.LabelLanguage = 1031
	ltbl, err := schema.Map(e, lo)
	if err != nil || ltbl.Labels == nil {
		t.Fatalf("label view: %v", err)
	}
	vcols := []string{schema.ColID, schema.ColSinkCreatedOn, schema.ColSinkModifiedOn, schema.ColVersion}
	for _, c := range ltbl.Columns {
		vcols = append(vcols, c.Name)
	}
	sinktest.Golden(t, "testdata/view_account.sql", labelViewSQL(ltbl.Labels.Name, ltbl.TableName, vcols, ltbl.Labels)+"\n", *update)

	var meta []string
	for _, m := range schema.MetadataTables() {
		meta = append(meta, metadataCreateSQL(o.TableOptions().TableName(m.Name), m))
	}
	sinktest.Golden(t, "testdata/metadata_tables.sql", strings.Join(meta, ";\n")+"\n", *update)
}
