package dvemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

func rmcURL(query string, stamp string) string {
	u := "/api/data/v9.2/RetrieveMetadataChanges(Query=@p1"
	if stamp != "" {
		u += ",ClientVersionStamp=@p2,DeletedMetadataFilters=Microsoft.Dynamics.CRM.DeletedMetadataFilters'Default'"
	}
	u += ")?@p1=" + url.QueryEscape(query)
	if stamp != "" {
		u += "&@p2=" + url.QueryEscape("'"+stamp+"'")
	}
	return u
}

func TestRetrieveMetadataChanges(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 1})
	const query = `{"Properties":{"AllProperties":false,"PropertyNames":["SchemaName","Attributes"]},
		"Criteria":{"FilterOperator":"Or","Conditions":[
			{"ConditionOperator":"Equals","PropertyName":"LogicalName","Value":{"Type":"System.String","Value":"account"}},
			{"ConditionOperator":"Equals","PropertyName":"LogicalName","Value":{"Type":"System.String","Value":"contact"}}]},
		"AttributeQuery":{"Properties":{"AllProperties":false,"PropertyNames":["LogicalName","MaxLength","AttributeTypeName"]},
			"Criteria":{"FilterOperator":"And","Conditions":[{"ConditionOperator":"Equals","PropertyName":"IsValidForCreate","Value":{"Type":"System.Boolean","Value":"True"}}]}},
		"LabelQuery":{"FilterLanguages":[1033],"MissingLabelBehavior":0}}`

	r := do(t, srv, "GET", rmcURL(query, ""), nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var full struct {
		ServerVersionStamp string
		EntityMetadata     []struct {
			LogicalName, SchemaName string
			HasChanged              *bool
			Attributes              []map[string]any
		}
	}
	if err := json.Unmarshal(r.body, &full); err != nil {
		t.Fatal(err)
	}
	if len(full.EntityMetadata) != 2 || full.EntityMetadata[0].SchemaName != "Account" || full.ServerVersionStamp == "" {
		t.Fatalf("full read: %+v", full)
	}
	name := map[string]map[string]any{}
	for _, a := range full.EntityMetadata[0].Attributes {
		name[a["LogicalName"].(string)] = a
	}
	if name["accountid"] != nil || name["versionnumber"] != nil {
		t.Fatal("attributes not valid for create were returned")
	}
	eq(t, name["name"]["@odata.type"], "#Microsoft.Dynamics.CRM.ComplexStringAttributeMetadata")
	eq(t, name["name"]["MaxLength"], float64(160))

	// Nothing changed: no entities.
	r = do(t, srv, "GET", rmcURL(query, full.ServerVersionStamp), nil)
	var delta struct {
		ServerVersionStamp string
		EntityMetadata     []struct {
			LogicalName string
			HasChanged  *bool
			Attributes  []map[string]any
		}
	}
	if err := json.Unmarshal(r.body, &delta); err != nil || len(delta.EntityMetadata) != 0 {
		t.Fatalf("unchanged: %s", r.body)
	}

	if err := e.WidenString("contact", "jobtitle", 250); err != nil {
		t.Fatal(err)
	}
	r = do(t, srv, "GET", rmcURL(query, full.ServerVersionStamp), nil)
	if err := json.Unmarshal(r.body, &delta); err != nil {
		t.Fatal(err)
	}
	if len(delta.EntityMetadata) != 1 || delta.EntityMetadata[0].LogicalName != "contact" || *delta.EntityMetadata[0].HasChanged ||
		len(delta.EntityMetadata[0].Attributes) != 1 || delta.EntityMetadata[0].Attributes[0]["MaxLength"] != float64(250) ||
		delta.EntityMetadata[0].Attributes[0]["HasChanged"] != true {
		t.Fatalf("after widening: %s", r.body)
	}
	if delta.ServerVersionStamp == full.ServerVersionStamp {
		t.Fatal("ServerVersionStamp did not move")
	}

	r = do(t, srv, "GET", rmcURL(query, "1!01/01/2020 00:00:00"), nil)
	if code, _ := errorOf(t, r); code != "0x80044352" {
		t.Fatalf("stale stamp: %d %s", r.status, code)
	}
}
