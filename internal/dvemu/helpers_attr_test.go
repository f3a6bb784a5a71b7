package dvemu

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestLookupHelpersAreAnnotations: a lookup's auxiliary attributes
// (owneridname, parentcustomeridtype, ...) are in the metadata but are no
// properties: selecting one is refused, and their values come as the
// lookup's FormattedValue (the target's primary name) and
// lookuplogicalname annotations, each only when asked for.
func TestLookupHelpersAreAnnotations(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 20})
	for _, sel := range []string{"owneridname", "owneridyominame", "owneridtype", "parentcustomeridname"} {
		r := do(t, srv, "GET", "/api/data/v9.2/contacts?$select="+sel, map[string][]string{"Prefer": {trackPrefer}})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "Could not find a property named '"+sel+"'") {
			t.Errorf("$select=%s: %d %s", sel, r.status, r.body)
		}
	}
	const formatted = "@OData.Community.Display.V1.FormattedValue"
	const logical = "@Microsoft.Dynamics.CRM.lookuplogicalname"
	for _, tc := range []struct {
		name                   string
		prefer                 []string
		wantNames, wantLogical bool
	}{
		{"lookup types only", []string{trackPrefer, `odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname,Microsoft.Dynamics.CRM.globalmetadataversion"`}, false, true},
		{"formatted values only", []string{trackPrefer, `odata.include-annotations="OData.Community.Display.V1.FormattedValue"`}, true, false},
		{"both", []string{trackPrefer + `,odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"`}, true, true},
		{"none", []string{trackPrefer}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := getPage(t, srv, "/api/data/v9.2/contacts?$select=fullname,parentcustomerid,ownerid,statecode", tc.prefer...)
			named := 0
			for _, row := range p.value {
				for k := range row {
					if strings.HasSuffix(k, formatted) && !tc.wantNames || strings.HasSuffix(k, logical) && !tc.wantLogical {
						t.Fatalf("annotation %s not asked for", k)
					}
				}
				for _, lk := range []string{"_parentcustomerid_value", "_ownerid_value"} {
					id, _ := row[lk].(string)
					name, hasName := row[lk+formatted]
					if id == "" {
						if hasName {
							t.Fatalf("%s: a name on a null lookup", lk)
						}
						continue
					}
					if !tc.wantNames {
						continue
					}
					src, _ := e.Get("contact", row["contactid"].(string))
					ref, _ := src[strings.TrimSuffix(strings.TrimPrefix(lk, "_"), "_value")].(Ref)
					if ref.ID != id {
						t.Fatalf("%s %s: the store holds %v", lk, id, ref)
					}
					want, ok := e.Name(ref.Entity, id)
					if !ok || name != want {
						t.Fatalf("%s %s: name %v, want %q (%v)", lk, id, name, want, ok)
					}
					named++
				}
			}
			if tc.wantNames && named == 0 {
				t.Fatal("no lookup name was checked")
			}
		})
	}
}

// TestCompanionAttributes: auxiliary attributes of a non-lookup (a money
// column's _base) hold values like any column and are read-only on the Web
// API.
func TestCompanionAttributes(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 3})
	if err := e.AddAttribute("account", Attribute{LogicalName: "revenue_base", Type: Money, Precision: 4, AttributeOf: "revenue"}); err != nil {
		t.Fatal(err)
	}
	id := e.IDs("account")[0]
	if err := e.Update("account", id, map[string]any{"revenue_base": "1234.5000"}); err != nil {
		t.Fatal(err)
	}
	p := getPage(t, srv, "/api/data/v9.2/accounts?$select=revenue_base", trackPrefer)
	found := false
	for _, row := range p.value {
		if row["accountid"] == id {
			found = true
			if v := fmt.Sprint(row["revenue_base"]); v != "1234.5000" {
				t.Errorf("revenue_base = %v", row["revenue_base"])
			}
		}
	}
	if !found {
		t.Fatal("row not read")
	}
	r := doBody(t, srv, "PATCH", "/api/data/v9.2/accounts("+id+")", nil, `{"revenue_base": 1}`)
	if r.status != http.StatusBadRequest {
		t.Errorf("writing revenue_base: %d %s", r.status, r.body)
	}
	if err := e.AddAttribute("account", Attribute{LogicalName: "ghost_base", Type: Money, AttributeOf: "ghost"}); err == nil {
		t.Error("an AttributeOf naming no attribute was accepted")
	}
}
