package dvemu

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// N:N relationships and global option sets.

func manyToManyObj(rel ManyToMany) obj {
	return obj{
		{"@odata.type", "#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata"},
		{"MetadataId", metadataID("relationship", rel.SchemaName)},
		{"SchemaName", rel.SchemaName},
		{"RelationshipType", "ManyToManyRelationship"},
		{"IntersectEntityName", rel.IntersectEntityName},
		{"Entity1LogicalName", rel.Entity1LogicalName},
		{"Entity1IntersectAttribute", rel.Entity1IntersectAttribute},
		{"Entity1NavigationPropertyName", rel.SchemaName},
		{"Entity2LogicalName", rel.Entity2LogicalName},
		{"Entity2IntersectAttribute", rel.Entity2IntersectAttribute},
		{"Entity2NavigationPropertyName", rel.SchemaName},
		{"IsCustomRelationship", rel.IsCustomRelationship},
		{"IsManaged", !rel.IsCustomRelationship},
	}
}

// serveGlobalOptionSet answers GlobalOptionSetDefinitions(Name='x'); the
// collection does not support $filter, as in Dataverse.
func (e *Emulator) serveGlobalOptionSet(w http.ResponseWriter, r *http.Request, rest string) {
	q := odataQuery(r.URL.RawQuery)
	name, key := segment(rest)
	if name != "GlobalOptionSetDefinitions" || strings.Contains(rest, "/") {
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", rest))
		return
	}
	base := e.baseURL(r) + "/api/data/v9.2/$metadata#GlobalOptionSetDefinitions"
	if key == "" {
		if q.Has("$filter") {
			writeError(w, http.StatusBadRequest, codeBadSegment, "The query parameter $filter is not supported on GlobalOptionSetDefinitions.")
			return
		}
		items := []obj{}
		for _, n := range slices.Sorted(maps.Keys(globalOptionSets)) {
			items = append(items, selectProps(globalOptionSetObj(globalOptionSets[n]), splitList(q.Get("$select"))))
		}
		writeObj(w, http.StatusOK, obj{{"@odata.context", base}, {"value", items}})
		return
	}
	prop, val := keyValue(key)
	for n, os := range globalOptionSets {
		if (prop == "Name" && n == val) || (prop == "MetadataId" && metadataID("optionset", n) == val) {
			o := selectProps(globalOptionSetObj(os), splitList(q.Get("$select")))
			writeObj(w, http.StatusOK, append(obj{{"@odata.context", base + "/$entity"}}, o...))
			return
		}
	}
	writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("Could not find optionset with key %s.", key))
}

func globalOptionSetObj(os *OptionSet) obj {
	a := &Attribute{LogicalName: os.Name, SchemaName: os.Name, Type: Picklist, OptionSet: os}
	o := optionSetObj(&Entity{}, a)
	return append(obj{{"@odata.type", "#Microsoft.Dynamics.CRM.OptionSetMetadata"}}, o...)
}
