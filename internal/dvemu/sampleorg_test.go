package dvemu

import (
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
