package dvemu

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

func attrsByName(t *testing.T, v any) map[string]map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := map[string]map[string]any{}
	for _, x := range list {
		a := x.(map[string]any)
		out[a["LogicalName"].(string)] = a
	}
	return out
}

func TestEntityDefinitionWithAttributes(t *testing.T) {
	_, srv := newTestEmu(t, Options{})
	url := "/api/data/v9.2/EntityDefinitions(LogicalName='account')?$select=LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,ObjectTypeCode,ChangeTrackingEnabled,IsIntersect,IsActivity,OwnershipType" +
		"&$expand=Attributes($select=LogicalName,SchemaName,AttributeType,AttributeTypeName,IsValidForRead,AttributeOf,IsPrimaryId,IsPrimaryName,IsLogical,IsCustomAttribute)"
	r := do(t, srv, "GET", url, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	want := map[string]any{"LogicalName": "account", "SchemaName": "Account", "EntitySetName": "accounts", "PrimaryIdAttribute": "accountid",
		"PrimaryNameAttribute": "name", "ObjectTypeCode": json.Number("1"), "ChangeTrackingEnabled": true, "IsIntersect": false,
		"IsActivity": false, "OwnershipType": "UserOwned", "MetadataId": "70816501-edb9-4740-a16c-6a5efbc05d84"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, ok := m["DisplayName"]; ok {
		t.Error("DisplayName returned although not selected")
	}
	attrs := attrsByName(t, m["Attributes"])
	tests := []struct {
		name, odataType, attrType, typeName string
		primaryID, primaryName              bool
		attributeOf                         any
	}{
		{"accountid", "#Microsoft.Dynamics.CRM.UniqueIdentifierAttributeMetadata", "Uniqueidentifier", "UniqueidentifierType", true, false, nil},
		{"name", "#Microsoft.Dynamics.CRM.StringAttributeMetadata", "String", "StringType", false, true, nil},
		{"description", "#Microsoft.Dynamics.CRM.MemoAttributeMetadata", "Memo", "MemoType", false, false, nil},
		{"revenue", "#Microsoft.Dynamics.CRM.MoneyAttributeMetadata", "Money", "MoneyType", false, false, nil},
		{"address1_latitude", "#Microsoft.Dynamics.CRM.DoubleAttributeMetadata", "Double", "DoubleType", false, false, nil},
		{"new_discountrate", "#Microsoft.Dynamics.CRM.DecimalAttributeMetadata", "Decimal", "DecimalType", false, false, nil},
		{"primarycontactid", "#Microsoft.Dynamics.CRM.LookupAttributeMetadata", "Lookup", "LookupType", false, false, nil},
		{"primarycontactidname", "#Microsoft.Dynamics.CRM.StringAttributeMetadata", "String", "StringType", false, false, "primarycontactid"},
		{"ownerid", "#Microsoft.Dynamics.CRM.LookupAttributeMetadata", "Owner", "OwnerType", false, false, nil},
		{"statecode", "#Microsoft.Dynamics.CRM.StateAttributeMetadata", "State", "StateType", false, false, nil},
		{"statuscode", "#Microsoft.Dynamics.CRM.StatusAttributeMetadata", "Status", "StatusType", false, false, nil},
		{"versionnumber", "#Microsoft.Dynamics.CRM.BigIntAttributeMetadata", "BigInt", "BigIntType", false, false, nil},
		{"createdon", "#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata", "DateTime", "DateTimeType", false, false, nil},
		{"creditonhold", "#Microsoft.Dynamics.CRM.BooleanAttributeMetadata", "Boolean", "BooleanType", false, false, nil},
		{"industrycode", "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata", "Picklist", "PicklistType", false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := attrs[tc.name]
			if a == nil {
				t.Fatalf("attribute missing")
			}
			got := map[string]any{"@odata.type": a["@odata.type"], "AttributeType": a["AttributeType"], "TypeName": a["AttributeTypeName"].(map[string]any)["Value"],
				"IsPrimaryId": a["IsPrimaryId"], "IsPrimaryName": a["IsPrimaryName"], "AttributeOf": a["AttributeOf"], "IsValidForRead": a["IsValidForRead"]}
			want := map[string]any{"@odata.type": tc.odataType, "AttributeType": tc.attrType, "TypeName": tc.typeName,
				"IsPrimaryId": tc.primaryID, "IsPrimaryName": tc.primaryName, "AttributeOf": tc.attributeOf, "IsValidForRead": true}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
			if a["MetadataId"] == nil || a["MetadataId"] == "" {
				t.Fatal("MetadataId missing")
			}
			// Type-specific properties only come through casts, as documented.
			for _, k := range []string{"MaxLength", "Precision", "Targets", "OptionSet", "DateTimeBehavior"} {
				if _, ok := a[k]; ok {
					t.Errorf("%s present without a cast", k)
				}
			}
		})
	}
}

func TestAttributeCasts(t *testing.T) {
	_, srv := newTestEmu(t, Options{})
	tests := []struct {
		name   string
		url    string
		attr   string
		check  func(t *testing.T, a map[string]any)
		status int
	}{
		{"string MaxLength", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=LogicalName,MaxLength", "name",
			func(t *testing.T, a map[string]any) {
				eq(t, a["MaxLength"], json.Number("160"))
				absent(t, a, "FormatName")
			}, 200},
		{"memo MaxLength", "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.MemoAttributeMetadata?$select=LogicalName,MaxLength", "description",
			func(t *testing.T, a map[string]any) { eq(t, a["MaxLength"], json.Number("2000")) }, 200},
		{"money precision", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.MoneyAttributeMetadata?$select=LogicalName,Precision,PrecisionSource,MinValue,MaxValue", "revenue",
			func(t *testing.T, a map[string]any) {
				eq(t, a["Precision"], json.Number("2"))
				eq(t, a["PrecisionSource"], json.Number("2"))
				if a["MaxValue"] == nil {
					t.Error("MaxValue missing")
				}
			}, 200},
		{"decimal precision", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.DecimalAttributeMetadata", "new_discountrate",
			func(t *testing.T, a map[string]any) { eq(t, a["Precision"], json.Number("2")) }, 200},
		{"date only", "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=LogicalName,DateTimeBehavior,Format", "birthdate",
			func(t *testing.T, a map[string]any) {
				eq(t, a["DateTimeBehavior"].(map[string]any)["Value"], "DateOnly")
				eq(t, a["Format"], "DateOnly")
			}, 200},
		{"user local", "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=LogicalName,DateTimeBehavior", "createdon",
			func(t *testing.T, a map[string]any) {
				eq(t, a["DateTimeBehavior"].(map[string]any)["Value"], "UserLocal")
			}, 200},
		{"customer targets", "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,Targets", "parentcustomerid",
			func(t *testing.T, a map[string]any) {
				eq(t, a["Targets"], []any{"account", "contact"})
				eq(t, a["AttributeType"], nil)
			}, 200},
		{"owner targets", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,Targets,AttributeType", "ownerid",
			func(t *testing.T, a map[string]any) {
				eq(t, a["Targets"], []any{"systemuser", "team"})
				eq(t, a["AttributeType"], "Owner")
			}, 200},
		{"picklist options", "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)", "gendercode",
			func(t *testing.T, a map[string]any) {
				opts := a["OptionSet"].(map[string]any)["Options"].([]any)
				eq(t, len(opts), 2)
				o := opts[1].(map[string]any)
				eq(t, o["Value"], json.Number("2"))
				eq(t, o["Label"].(map[string]any)["UserLocalizedLabel"].(map[string]any)["Label"], "Female")
				eq(t, o["Label"].(map[string]any)["LocalizedLabels"].([]any)[0].(map[string]any)["LanguageCode"], json.Number("1033"))
				if a["GlobalOptionSet"] == nil {
					t.Error("GlobalOptionSet missing")
				}
			}, 200},
		{"status options carry State", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet", "statuscode",
			func(t *testing.T, a map[string]any) {
				o := a["OptionSet"].(map[string]any)["Options"].([]any)[1].(map[string]any)
				eq(t, o["@odata.type"], "#Microsoft.Dynamics.CRM.StatusOptionMetadata")
				eq(t, o["Value"], json.Number("2"))
				eq(t, o["State"], json.Number("1"))
			}, 200},
		{"state options carry DefaultStatus", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.StateAttributeMetadata?$select=LogicalName&$expand=OptionSet", "statecode",
			func(t *testing.T, a map[string]any) {
				o := a["OptionSet"].(map[string]any)["Options"].([]any)[0].(map[string]any)
				eq(t, o["@odata.type"], "#Microsoft.Dynamics.CRM.StateOptionMetadata")
				eq(t, o["DefaultStatus"], json.Number("1"))
				eq(t, o["InvariantName"], "Active")
			}, 200},
		{"boolean true/false options", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.BooleanAttributeMetadata?$select=LogicalName&$expand=OptionSet", "creditonhold",
			func(t *testing.T, a map[string]any) {
				os := a["OptionSet"].(map[string]any)
				eq(t, os["TrueOption"].(map[string]any)["Value"], json.Number("1"))
				eq(t, os["FalseOption"].(map[string]any)["Label"].(map[string]any)["UserLocalizedLabel"].(map[string]any)["Label"], "No")
			}, 200},
		{"single attribute cast", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=MaxLength", "",
			func(t *testing.T, a map[string]any) { eq(t, a["MaxLength"], json.Number("160")) }, 200},
		{"enum cast rejected", "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.EnumAttributeMetadata", "", nil, 400},
		{"unknown entity", "EntityDefinitions(LogicalName='nope')", "", nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", "/api/data/v9.2/"+tc.url, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.check == nil {
				if r.json(t)["error"] == nil {
					t.Fatalf("no error body: %s", r.body)
				}
				return
			}
			m := r.json(t)
			if tc.attr == "" {
				tc.check(t, m)
				return
			}
			a := attrsByName(t, m["value"])[tc.attr]
			if a == nil {
				t.Fatalf("attribute %s missing from %s", tc.attr, r.body)
			}
			tc.check(t, a)
		})
	}
}

func TestAttributeFilterOnExpand(t *testing.T) {
	_, srv := newTestEmu(t, Options{})
	r := do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')?$select=LogicalName&$expand=Attributes($select=LogicalName;$filter=AttributeType%20eq%20Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist')", nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	attrs := attrsByName(t, r.json(t)["Attributes"])
	if len(attrs) != 2 || attrs["industrycode"] == nil || attrs["accountcategorycode"] == nil {
		t.Fatalf("filtered attributes = %v", attrs)
	}
}

func eq(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

func absent(t *testing.T, m map[string]any, k string) {
	t.Helper()
	if _, ok := m[k]; ok {
		t.Errorf("%s present although not selected", k)
	}
}
