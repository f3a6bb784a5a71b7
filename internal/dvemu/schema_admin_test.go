package dvemu

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRuntimeMetadataChanges(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 3})
	ids := e.IDs("account")

	if err := e.AddAttribute("account", Attribute{LogicalName: "new_tier", SchemaName: "new_Tier", Type: String, MaxLength: 20, IsCustomAttribute: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.WidenString("account", "accountnumber", 40); err != nil {
		t.Fatal(err)
	}
	if err := e.AddOption("account", "industrycode", 99, "Space Mining", nil); err != nil {
		t.Fatal(err)
	}

	// Metadata reflects the changes.
	r := do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=LogicalName,MaxLength", nil)
	attrs := attrsByName(t, r.json(t)["value"])
	eq(t, attrs["new_tier"]["MaxLength"], json.Number("20"))
	eq(t, attrs["accountnumber"]["MaxLength"], json.Number("40"))
	r = do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes(LogicalName='industrycode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet", nil)
	if !strings.Contains(string(r.body), `"Value":99`) || !strings.Contains(string(r.body), "Space Mining") {
		t.Fatalf("new option missing: %s", r.body)
	}

	// Data: existing rows read null in the new column; writes use the new limits.
	p := getPage(t, srv, "/api/data/v9.2/accounts?$select=name,new_tier", trackPrefer)
	for _, row := range p.value {
		if v, ok := row["new_tier"]; !ok || v != nil {
			t.Fatalf("new column on an existing row = %v (present %v)", v, ok)
		}
	}
	if err := e.Update("account", ids[0], map[string]any{"new_tier": "gold", "accountnumber": strings.Repeat("9", 40), "industrycode": 99}); err != nil {
		t.Fatal(err)
	}
	d := getPage(t, srv, p.deltaLink)
	if len(d.value) != 1 || d.value[0]["new_tier"] != "gold" {
		t.Fatalf("delta %v", d.value)
	}

	errTests := []struct {
		name string
		err  error
	}{
		{"duplicate", e.AddAttribute("account", Attribute{LogicalName: "name", Type: String, MaxLength: 5})},
		{"narrowing", e.WidenString("account", "accountnumber", 10)},
		{"widen non-string", e.WidenString("account", "revenue", 10)},
		{"duplicate option", e.AddOption("account", "industrycode", 1, "again", nil)},
		{"status without state", e.AddOption("account", "statuscode", 5, "Other", nil)},
		{"unknown attribute", e.AddOption("account", "nope", 5, "x", nil)},
	}
	for _, tc := range errTests {
		var me *MetadataError
		if !errors.As(tc.err, &me) {
			t.Errorf("%s: err = %v, want *MetadataError", tc.name, tc.err)
		}
	}
}
