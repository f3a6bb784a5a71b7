package dvemu

import (
	"net/http"
	"strings"
	"testing"
)

func TestRetrieveRowAndAnnotations(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 2})
	id, err := e.Create("account", map[string]any{"name": "Retrieve", "revenue": "1234567.891", "industrycode": 7, "creditonhold": true, "numberofemployees": 12345})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		url    string
		prefer []string
		status int
		want   map[string]any
	}{
		{"plain", "/api/data/v9.2/accounts(" + id + ")?$select=name,revenue", nil, 200,
			map[string]any{"name": "Retrieve", "accountid": id}},
		{"keyed form", "/api/data/v9.2/accounts(accountid=" + id + ")?$select=name", nil, 200, map[string]any{"name": "Retrieve"}},
		{"formatted values", "/api/data/v9.2/accounts(" + id + ")?$select=revenue,industrycode,creditonhold,numberofemployees", []string{`odata.include-annotations="*"`}, 200,
			map[string]any{
				"revenue@OData.Community.Display.V1.FormattedValue":           "$1,234,567.89",
				"industrycode@OData.Community.Display.V1.FormattedValue":      "Consulting",
				"creditonhold@OData.Community.Display.V1.FormattedValue":      "Yes",
				"numberofemployees@OData.Community.Display.V1.FormattedValue": "12,345",
			}},
		{"missing", "/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)", nil, 404, nil},
		{"not a guid", "/api/data/v9.2/accounts(nope)", nil, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", tc.url, map[string][]string{"Prefer": tc.prefer})
			if r.status != tc.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.json(t)
			if tc.status != http.StatusOK {
				if code, _ := errorOf(t, r); code == "" {
					t.Fatal("no error code")
				}
				return
			}
			if ctx, _ := m["@odata.context"].(string); !strings.HasSuffix(ctx, "/$entity") {
				t.Errorf("context %q", ctx)
			}
			for k, v := range tc.want {
				eq(t, m[k], v)
			}
		})
	}

	p := getPage(t, srv, "/api/data/v9.2/accounts?$select=name", trackPrefer, `odata.include-annotations="Microsoft.Dynamics.CRM.globalmetadataversion"`)
	r := do(t, srv, "GET", "/api/data/v9.2/accounts?$select=name", map[string][]string{"Prefer": {`odata.include-annotations="*"`}})
	v1 := r.json(t)["@Microsoft.Dynamics.CRM.globalmetadataversion"]
	if v1 == nil {
		t.Fatalf("no globalmetadataversion: %s", r.body)
	}
	if err := e.WidenString("account", "name", 200); err != nil {
		t.Fatal(err)
	}
	r = do(t, srv, "GET", p.deltaLink, map[string][]string{"Prefer": {`odata.include-annotations="*"`}})
	if v2 := r.json(t)["@Microsoft.Dynamics.CRM.globalmetadataversion"]; v2 == nil || v2 == v1 {
		t.Fatalf("globalmetadataversion %v -> %v after a schema change", v1, v2)
	}
}

func TestLookupAnnotationsAll(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 2})
	acc := e.IDs("account")[0]
	accVals, _ := e.Get("account", acc)
	id, err := e.Create("contact", map[string]any{"lastname": "Lookup", "parentcustomerid": Ref{"account", acc}})
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, "GET", "/api/data/v9.2/contacts("+id+")?$select=parentcustomerid,ownerid", map[string][]string{"Prefer": {`odata.include-annotations="*"`}})
	m := r.json(t)
	eq(t, m["_parentcustomerid_value"], acc)
	eq(t, m["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "account")
	eq(t, m["_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"], "parentcustomerid_account")
	eq(t, m["_parentcustomerid_value@OData.Community.Display.V1.FormattedValue"], accVals["name"])
	// The creator owns the row.
	eq(t, m["_ownerid_value"], e.IDs("systemuser")[0])
	eq(t, m["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "systemuser")
	eq(t, m["_ownerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"], "ownerid")
}
