package dvemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// Every tracked entity serves a change-tracked read with its primary key,
// and every Image companion holds values.
func TestSampleOrgEntities(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 6, RandSeed: 11})
	for _, name := range e.order {
		ent := e.tables[name].def
		t.Run(name, func(t *testing.T) {
			r := do(t, srv, "GET", "/api/data/v9.2/"+ent.EntitySetName, map[string][]string{"Prefer": {trackPrefer}})
			if ent.ChangeTrackingDisabled {
				if r.status != http.StatusBadRequest {
					t.Fatalf("untracked entity answered %d", r.status)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			m := r.json(t)
			if m["@odata.deltaLink"] == nil {
				t.Fatal("no deltaLink")
			}
			rows := m["value"].([]any)
			if want := e.tables[name].n; len(rows) != want {
				t.Fatalf("%d rows, want %d", len(rows), want)
			}
			for _, row := range rows {
				if row.(map[string]any)[ent.PrimaryID] == nil {
					t.Fatalf("row without %s: %v", ent.PrimaryID, row)
				}
			}
		})
	}
	t.Run("image companions", func(t *testing.T) {
		p := getPage(t, srv, "/api/data/v9.2/new_projects?$select=entityimageid,entityimage_url,entityimage_timestamp,new_tags", trackPrefer)
		body := ""
		for _, row := range p.value {
			if id, _ := row["entityimageid"].(string); id != "" {
				body = row["entityimage_url"].(string)
			}
		}
		if !strings.HasPrefix(body, "/Image/download.aspx?Entity=new_project&Attribute=entityimage&Id=") {
			t.Fatalf("entityimage_url %q", body)
		}
	})
}

func TestManyToManyAndGlobalOptionSets(t *testing.T) {
	_, srv := newTestEmu(t, Options{})
	r := do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='systemuser')/ManyToManyRelationships?$select=SchemaName,IntersectEntityName,Entity1LogicalName,Entity1IntersectAttribute,Entity2LogicalName,Entity2IntersectAttribute", nil)
	rels := r.json(t)["value"].([]any)
	if len(rels) != 2 {
		t.Fatalf("systemuser relationships: %s", r.body)
	}
	first := rels[0].(map[string]any)
	eq(t, first["IntersectEntityName"], "systemuserroles")
	eq(t, first["Entity2IntersectAttribute"], "systemuserid")

	r = do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='systemuserroles')?$select=EntitySetName,IsIntersect", nil)
	m := r.json(t)
	eq(t, m["EntitySetName"], "systemuserrolescollection")
	eq(t, m["IsIntersect"], true)

	r = do(t, srv, "GET", "/api/data/v9.2/GlobalOptionSetDefinitions(Name='new_category')", nil)
	m = r.json(t)
	eq(t, m["IsGlobal"], true)
	if opts := m["Options"].([]any); len(opts) != 3 {
		t.Fatalf("options %v", opts)
	}
	if r := do(t, srv, "GET", "/api/data/v9.2/GlobalOptionSetDefinitions?$filter=Name%20eq%20'x'", nil); r.status != 400 {
		t.Fatalf("$filter on GlobalOptionSetDefinitions: %d", r.status)
	}
	r = do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=GlobalOptionSet", nil)
	if !strings.Contains(string(r.body), `"Name":"new_category","IsGlobal":true`) {
		t.Fatalf("global picklist: %s", r.body)
	}
}

func TestIntersectPairsAreDistinct(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 10})
	rows, _, _ := readAll(t, srv, "/api/data/v9.2/teammemberships?$select=systemuserid,teamid", 5000, trackPrefer)
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
	users, teams := e.IDs("systemuser"), e.IDs("team")
	seen := map[string]bool{}
	for _, r := range rows {
		u, tm := r["systemuserid"].(string), r["teamid"].(string)
		if !slices.Contains(users, u) || !slices.Contains(teams, tm) {
			t.Fatalf("pair (%s, %s) does not reference existing rows", u, tm)
		}
		if seen[u+tm] {
			t.Fatalf("pair (%s, %s) twice", u, tm)
		}
		seen[u+tm] = true
	}
}

func TestIsActivity(t *testing.T) {
	_, srv := newTestEmu(t, Options{})
	r := do(t, srv, "GET", "/api/data/v9.2/EntityDefinitions?$select=LogicalName,IsActivity", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	isActivity := map[string]any{}
	for _, v := range r.json(t)["value"].([]any) {
		m := v.(map[string]any)
		isActivity[m["LogicalName"].(string)] = m["IsActivity"]
	}
	tests := []struct {
		entity string
		want   bool
	}{
		{"email", true},
		{"phonecall", true},
		{"task", true},
		{"appointment", true},
		{"account", false},
		{"contact", false},
		{"activityparty", false},
	}
	for _, tc := range tests {
		t.Run(tc.entity, func(t *testing.T) {
			got, ok := isActivity[tc.entity]
			if !ok {
				t.Fatalf("%s missing from EntityDefinitions", tc.entity)
			}
			eq(t, got, tc.want)
		})
	}
}

// new_project, the custom entity, carries every column type a replicator
// maps, as served by the metadata API.
func TestProjectEntityHasEveryAttributeType(t *testing.T) {
	_, srv := newTestEmu(t, Options{})
	const base = "/api/data/v9.2/EntityDefinitions(LogicalName='new_project')/Attributes"
	get := func(t *testing.T, url string) []any {
		t.Helper()
		r := do(t, srv, "GET", base+url, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", url, r.status, r.body)
		}
		return r.json(t)["value"].([]any)
	}
	// AttributeTypeName tells apart the types AttributeType lumps as Virtual.
	served := map[string]any{}
	for _, v := range get(t, "?$select=LogicalName,AttributeType,AttributeTypeName") {
		a := v.(map[string]any)
		served[a["AttributeTypeName"].(map[string]any)["Value"].(string)] = a["AttributeType"]
	}
	types := []struct{ typeName, attributeType string }{
		{"StringType", "String"}, {"MemoType", "Memo"}, {"IntegerType", "Integer"}, {"BigIntType", "BigInt"},
		{"DecimalType", "Decimal"}, {"DoubleType", "Double"}, {"MoneyType", "Money"}, {"DateTimeType", "DateTime"},
		{"BooleanType", "Boolean"}, {"PicklistType", "Picklist"}, {"MultiSelectPicklistType", "Virtual"},
		{"StateType", "State"}, {"StatusType", "Status"}, {"LookupType", "Lookup"}, {"CustomerType", "Customer"},
		{"OwnerType", "Owner"}, {"UniqueidentifierType", "Uniqueidentifier"}, {"EntityNameType", "EntityName"},
		{"ImageType", "Virtual"}, {"FileType", "Virtual"},
	}
	for _, tc := range types {
		t.Run(tc.typeName, func(t *testing.T) {
			got, ok := served[tc.typeName]
			if !ok {
				t.Fatalf("no %s attribute", tc.typeName)
			}
			eq(t, got, tc.attributeType)
		})
	}
	t.Run("DateTime behaviours", func(t *testing.T) {
		got := map[string]bool{}
		for _, v := range get(t, "/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=LogicalName,DateTimeBehavior") {
			got[v.(map[string]any)["DateTimeBehavior"].(map[string]any)["Value"].(string)] = true
		}
		eq(t, got, map[string]bool{"UserLocal": true, "DateOnly": true, "TimeZoneIndependent": true})
	})
	t.Run("Picklist local and global", func(t *testing.T) {
		got := map[bool]bool{}
		for _, v := range get(t, "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=IsGlobal)") {
			got[v.(map[string]any)["OptionSet"].(map[string]any)["IsGlobal"].(bool)] = true
		}
		eq(t, got, map[bool]bool{false: true, true: true})
	})
}

// Each activityparty row's participationtypemask is a role its activity has
// a PartyList column for (1 from, 2 to, 3 cc, 4 bcc, 5 required attendee,
// 6 optional attendee, 7 organizer).
func TestActivityPartyMaskMatchesRole(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 60, RandSeed: 4})
	tests := []struct {
		activity string
		roles    []int64
	}{
		{"email", []int64{1, 2, 3, 4}},
		{"phonecall", []int64{1, 2}},
		{"appointment", []int64{5, 6, 7}},
	}
	owner := map[string]int{} // activity id -> index in tests
	for k, tc := range tests {
		for _, id := range e.IDs(tc.activity) {
			owner[id] = k
		}
	}
	rows, _, _ := readAll(t, srv, "/api/data/v9.2/activityparties?$select=_activityid_value,participationtypemask", 5000, trackPrefer)
	seen := make([]map[int64]bool, len(tests))
	for k := range seen {
		seen[k] = map[int64]bool{}
	}
	for _, r := range rows {
		id, _ := r["_activityid_value"].(string)
		k, ok := owner[id]
		if !ok {
			t.Fatalf("party row %v belongs to no email, phone call or appointment", r)
		}
		n, ok := r["participationtypemask"].(json.Number)
		mask, err := n.Int64()
		if !ok || err != nil {
			t.Fatalf("participationtypemask %#v", r["participationtypemask"])
		}
		if !slices.Contains(tests[k].roles, mask) {
			t.Fatalf("%s party with participationtypemask %d, want one of %v", tests[k].activity, mask, tests[k].roles)
		}
		seen[k][mask] = true
	}
	for k, tc := range tests {
		t.Run(tc.activity, func(t *testing.T) {
			if len(seen[k]) < 2 {
				t.Fatalf("roles seen %v: too few rows to tell", seen[k])
			}
		})
	}
}
