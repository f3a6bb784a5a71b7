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

// serveGlobalOptionSet answers GlobalOptionSetDefinitions[(key)]
// [/Microsoft.Dynamics.CRM.OptionSetMetadata]; the collection does not
// support $filter, as in Dataverse.
func (e *Emulator) serveGlobalOptionSet(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet {
		notImplemented("creating or changing option sets over the Web API").write(w)
		return
	}
	q := odataQuery(r.URL.RawQuery)
	segs := strings.Split(rest, "/")
	name, key := segment(segs[0])
	if name != "GlobalOptionSetDefinitions" || len(segs) > 2 {
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", rest))
		return
	}
	if key == "" && q.Has("$filter") {
		writeError(w, http.StatusBadRequest, codeBadSegment, "The query parameter $filter is not supported on GlobalOptionSetDefinitions.")
		return
	}
	if aerr := metaOptions(q, "$select"); aerr != nil {
		aerr.write(w)
		return
	}
	base := e.baseURL(r) + "/api/data/v9.2/$metadata#GlobalOptionSetDefinitions"
	typeName := "OptionSetMetadataBase"
	if len(segs) == 2 {
		// Every global option set of the sample org is an OptionSetMetadata
		// (none is Boolean): the cast keeps them all.
		switch segs[1] {
		case "Microsoft.Dynamics.CRM.OptionSetMetadata":
			typeName = "OptionSetMetadata"
		case "Microsoft.Dynamics.CRM.BooleanOptionSetMetadata":
			typeName = "BooleanOptionSetMetadata"
		default:
			writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", segs[1]))
			return
		}
		base += "/" + segs[1]
	}
	if s := q.Get("$select"); s != "" {
		base += "(" + s + ")"
	}
	sel := splitList(q.Get("$select"))
	render := func(os *OptionSet) (obj, *apiError) {
		o := globalOptionSetObj(os)
		if err := checkProps(o, sel, typeName); err != nil {
			return nil, err
		}
		return selectProps(o, sel), nil
	}
	// A Boolean cast matches none of the (Picklist) global option sets.
	matches := func(*OptionSet) bool { return typeName != "BooleanOptionSetMetadata" }
	if key == "" {
		items := []obj{}
		for _, n := range slices.Sorted(maps.Keys(globalOptionSets)) {
			if !matches(globalOptionSets[n]) {
				continue
			}
			o, aerr := render(globalOptionSets[n])
			if aerr != nil {
				aerr.write(w)
				return
			}
			items = append(items, o)
		}
		writeObj(w, http.StatusOK, obj{{"@odata.context", base}, {"value", items}})
		return
	}
	prop, val := keyValue(key)
	for n, os := range globalOptionSets {
		if ((prop == "Name" && n == val) || (prop == "MetadataId" && metadataID("optionset", n) == val)) && matches(os) {
			o, aerr := render(os)
			if aerr != nil {
				aerr.write(w)
				return
			}
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
