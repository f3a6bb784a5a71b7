package sqlite

import (
	"flag"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGeneratedSQL(t *testing.T) {
	o := sink.Options{Schema: DefaultSchema, Prefix: "crm"}
	e := sinktest.Account("account")
	tbl, err := schema.Map(e, o.TableOptions())
	if err != nil {
		t.Fatal(err)
	}
	create, err := createSQL(tbl)
	if err != nil {
		t.Fatal(err)
	}
	sinktest.Golden(t, "testdata/create_account.sql", create+"\n", *update)
	ctbl, err := schema.Map(sinktest.Contact("contact"), o.TableOptions())
	if err != nil {
		t.Fatal(err)
	}
	ccreate, err := createSQL(ctbl)
	if err != nil {
		t.Fatal(err)
	}
	sinktest.Golden(t, "testdata/create_contact.sql", ccreate+"\n", *update)
	var cols []record.Column
	for _, f := range dataverse.Fields(e)[:4] {
		cols = append(cols, f.Column)
	}
	sinktest.Golden(t, "testdata/upsert_account.sql", upsertSQL(tbl.TableName, o.Tombstones(), cols, valuesSource(2, 2+len(cols)), false)+"\n", *update)
	sinktest.Golden(t, "testdata/upsert_account_overwrite.sql", upsertSQL(tbl.TableName, o.Tombstones(), cols, valuesSource(2, 2+len(cols)), true)+"\n", *update)
	sinktest.Golden(t, "testdata/upsert_account_feed.sql", feedCreateSQL(2+len(cols))+";\n"+upsertSQL(tbl.TableName, o.Tombstones(), cols, feedSource(2+len(cols)), false)+"\n", *update)

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
