package schema_test

import (
	"errors"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/schema"
	"github.com/dataexport/dataexport/internal/sink/sinktest"
)

func TestLabelViewOfAccount(t *testing.T) {
	for _, tt := range []struct {
		name     string
		o        schema.Options
		view     string
		industry string // label of industrycode 1
	}{
		{"default, the user's labels", schema.Options{Prefix: "crm"}, "crm_account_labels", "Accounting"},
		{"German where there is one", schema.Options{LabelView: "v_{table}", LabelLanguage: 1031}, "v_account", "Buchhaltung"},
		{"a language without labels", schema.Options{LabelLanguage: 1036}, "account_labels", "Accounting"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := schema.Map(sinktest.Account("account"), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			lv := tbl.Labels
			if lv == nil || lv.Name.Name != tt.view || lv.Language != tt.o.LabelLanguage {
				t.Fatalf("label view %+v, want %s", lv, tt.view)
			}
			var cols []string
			for c := range lv.Labels {
				cols = append(cols, c)
			}
			want := map[string]bool{"industrycode": true, "statecode": true, "statuscode": true, "donotemail": true, "categories": true}
			if len(cols) != len(want) {
				t.Errorf("labelled columns %v, want %v", cols, want)
			}
			for _, c := range cols {
				if !want[c] {
					t.Errorf("%s labelled", c)
				}
			}
			if l := lv.Labels["industrycode"].Options[0]; l.Value != 1 || l.Label != tt.industry {
				t.Errorf("industrycode 1 = %+v, want %q", l, tt.industry)
			}
			if cl := lv.Labels["donotemail"]; !cl.Bool || cl.Options[0] != (schema.OptionLabel{Value: 0, Label: "Allow"}) {
				t.Errorf("donotemail labels %+v", cl)
			}
			if !lv.Labels["categories"].Multi {
				t.Error("categories is not a label list")
			}
		})
	}
}

func TestLabelViewEdges(t *testing.T) {
	// No choice column: no view.
	e := &dataverse.Entity{LogicalName: "note", PrimaryIDAttribute: "noteid", Attributes: []dataverse.Attribute{
		{LogicalName: "noteid", Type: dataverse.TypeUniqueidentifier, IsValidForRead: true},
		{LogicalName: "subject", Type: dataverse.TypeString, MaxLength: 100, IsValidForRead: true},
	}}
	tbl, err := schema.Map(e, schema.Options{})
	if err != nil || tbl.Labels != nil {
		t.Fatalf("Map = %+v, %v; want no label view", tbl.Labels, err)
	}
	// A column named like a label keeps its name; that label is left out.
	acc := sinktest.Account("account")
	acc.Attributes = append(acc.Attributes, dataverse.Attribute{LogicalName: "statecode_label", Type: dataverse.TypeString, MaxLength: 10, IsValidForRead: true})
	tbl, err = schema.Map(acc, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Labels.Labels["statecode"]; ok {
		t.Error("statecode labelled beside a statecode_label column")
	}
	// A view name too long for an identifier is refused, naming it.
	_, err = schema.Map(sinktest.Account("account"), schema.Options{LabelView: "{table}_labels_of_a_rather_long_name_that_goes_on_and_on_and_on_and_on"})
	var ne *schema.NameError
	if !errors.As(err, &ne) || ne.What != "label view" {
		t.Fatalf("Map with a long view name: %v", err)
	}
	for _, bad := range []string{"labels", "{table}", "{table}-x", "{table}{table}"} {
		if err := schema.CheckLabelViewTemplate(bad); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
	if got := schema.LabelViewName("", schema.TableName{Schema: "s", Name: "t"}); got != (schema.TableName{Schema: "s", Name: "t_labels"}) {
		t.Errorf("default view name %v", got)
	}
}
