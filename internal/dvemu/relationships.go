package dvemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// 1:N relationships, derived from the lookups of every entity (one per
// lookup target that is an entity of the org), and the metadata resources
// that list them: RelationshipDefinitions (with the OneToMany and ManyToMany
// casts) and each entity's ManyToOneRelationships, OneToManyRelationships
// and ManyToManyRelationships.

// oneToMany is a 1:N relationship: Referenced (the "one") is the lookup's
// target, Referencing holds the lookup.
type oneToMany struct {
	SchemaName                              string
	ReferencedEntity, ReferencedAttribute   string
	ReferencingEntity, ReferencingAttribute string
	ReferencingNavigation                   string // single-valued navigation property on the referencing entity
	IsCustomRelationship                    bool
}

// knownRelationshipNames are the names Dataverse gives some sample-org
// lookups; others are named <referenced>_<referencing>_<lookup> (doc.go).
var knownRelationshipNames = map[string]string{
	"account/primarycontactid/contact":                  "account_primary_contact",
	"account/parentaccountid/account":                   "account_parent_account",
	"contact/parentcustomerid/account":                  "contact_customer_accounts",
	"contact/parentcustomerid/contact":                  "contact_customer_contacts",
	"account/transactioncurrencyid/transactioncurrency": "TransactionCurrency_Account",
	"contact/transactioncurrencyid/transactioncurrency": "TransactionCurrency_Contact",
}

// oneToManyAll lists the org's 1:N relationships in entity and attribute
// order. Callers hold e.mu.
func (e *Emulator) oneToManyAll() []oneToMany {
	var out []oneToMany
	for _, name := range e.order {
		ent := e.tables[name].def
		for i := range ent.Attributes {
			a := &ent.Attributes[i]
			if !a.Type.IsLookup() || a.AttributeOf != "" {
				continue
			}
			for _, target := range a.Targets {
				tt := e.tables[target]
				if tt == nil {
					continue
				}
				schema := knownRelationshipNames[ent.LogicalName+"/"+a.LogicalName+"/"+target]
				if schema == "" {
					schema = target + "_" + ent.LogicalName + "_" + a.LogicalName
				}
				out = append(out, oneToMany{
					SchemaName:       schema,
					ReferencedEntity: target, ReferencedAttribute: tt.def.PrimaryID,
					ReferencingEntity: ent.LogicalName, ReferencingAttribute: a.LogicalName,
					ReferencingNavigation: navigationProperty(a, Ref{Entity: target}),
					IsCustomRelationship:  a.IsCustomAttribute,
				})
			}
		}
	}
	return out
}

// relationshipBaseProps are the RelationshipMetadataBase properties, the
// only ones an uncast RelationshipDefinitions query returns.
var relationshipBaseProps = []string{"@odata.type", "MetadataId", "SchemaName", "RelationshipType", "IsCustomRelationship",
	"IsManaged", "IsValidForAdvancedFind", "IsCustomizable", "SecurityTypes", "IntroducedVersion", "HasChanged"}

func oneToManyObj(rel oneToMany) obj {
	return obj{
		{"@odata.type", "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"},
		{"MetadataId", metadataID("relationship", rel.SchemaName)},
		{"SchemaName", rel.SchemaName},
		{"RelationshipType", "OneToManyRelationship"},
		{"IsCustomRelationship", rel.IsCustomRelationship},
		{"IsManaged", !rel.IsCustomRelationship},
		{"IsValidForAdvancedFind", true},
		{"IsCustomizable", managed(true)},
		{"SecurityTypes", "None"},
		{"IntroducedVersion", "1.0"},
		{"HasChanged", nil},
		{"IsHierarchical", false},
		{"ReferencedAttribute", rel.ReferencedAttribute},
		{"ReferencedEntity", rel.ReferencedEntity},
		{"ReferencingAttribute", rel.ReferencingAttribute},
		{"ReferencingEntity", rel.ReferencingEntity},
		{"ReferencedEntityNavigationPropertyName", rel.SchemaName},
		{"ReferencingEntityNavigationPropertyName", rel.ReferencingNavigation},
		{"RelationshipBehavior", 0},
		{"CascadeConfiguration", obj{{"Assign", "NoCascade"}, {"Delete", "RemoveLink"}, {"Merge", "NoCascade"},
			{"Reparent", "NoCascade"}, {"Share", "NoCascade"}, {"Unshare", "NoCascade"}, {"RollupView", "NoCascade"}}},
	}
}

// relationshipBase keeps the RelationshipMetadataBase part of a relationship.
func relationshipBase(o obj) obj {
	out := obj{}
	for _, m := range o {
		if slices.Contains(relationshipBaseProps, m.k) {
			out = append(out, m)
		}
	}
	return out
}

// manyToManyFull adds the base properties the N:N object lacks.
func manyToManyFull(rel ManyToMany) obj {
	o := manyToManyObj(rel)
	return append(o, member{"IsValidForAdvancedFind", true}, member{"IsCustomizable", managed(true)},
		member{"SecurityTypes", "None"}, member{"IntroducedVersion", "1.0"}, member{"HasChanged", nil})
}

// relationItem is one relationship as a metadata object, with what a key
// matches.
type relationItem struct {
	o      obj
	schema string
}

// relationships lists relationship objects of one kind ("OneToMany",
// "ManyToMany" or "" for both). Callers hold e.mu.
func (e *Emulator) relationships(kind string) []relationItem {
	var out []relationItem
	if kind != "ManyToMany" {
		for _, rel := range e.oneToManyAll() {
			out = append(out, relationItem{o: oneToManyObj(rel), schema: rel.SchemaName})
		}
	}
	if kind != "OneToMany" {
		for _, rel := range relationships {
			out = append(out, relationItem{o: manyToManyFull(rel), schema: rel.SchemaName})
		}
	}
	return out
}

// entityRelationships lists the relationships behind one of an entity's
// navigation properties. Callers hold e.mu.
func (e *Emulator) entityRelationships(ent *Entity, nav string) []relationItem {
	var out []relationItem
	switch nav {
	case "ManyToOneRelationships", "OneToManyRelationships":
		for _, rel := range e.oneToManyAll() {
			if (nav == "ManyToOneRelationships" && rel.ReferencingEntity == ent.LogicalName) ||
				(nav == "OneToManyRelationships" && rel.ReferencedEntity == ent.LogicalName) {
				out = append(out, relationItem{o: oneToManyObj(rel), schema: rel.SchemaName})
			}
		}
	case "ManyToManyRelationships":
		for _, rel := range ent.ManyToMany {
			out = append(out, relationItem{o: manyToManyFull(rel), schema: rel.SchemaName})
		}
	}
	return out
}

// isRelationshipNav reports whether nav is one of EntityMetadata's
// relationship navigation properties.
func isRelationshipNav(nav string) bool {
	return nav == "ManyToOneRelationships" || nav == "OneToManyRelationships" || nav == "ManyToManyRelationships"
}

// isNavigation reports whether name is a navigation property of a record:
// a lookup's single-valued one or a relationship's collection.
func (e *Emulator) isNavigation(ent *Entity, name string) bool {
	for i := range ent.Attributes {
		a := &ent.Attributes[i]
		if a.Type.IsLookup() && (name == a.LogicalName || strings.HasPrefix(name, a.LogicalName+"_")) {
			return true
		}
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, rel := range e.oneToManyAll() {
		if rel.ReferencedEntity == ent.LogicalName && rel.SchemaName == name {
			return true
		}
	}
	return slices.ContainsFunc(ent.ManyToMany, func(m ManyToMany) bool { return m.SchemaName == name })
}

// relationshipQuery renders a list of relationship objects under $select
// and $filter; base limits them to RelationshipMetadataBase (uncast).
func relationshipQuery(items []relationItem, q query, typeName string, base bool) ([]obj, *apiError) {
	if err := metaOptions(q, "$select", "$filter"); err != nil {
		return nil, err
	}
	f, err := parseFilter(q.Get("$filter"))
	if err != nil {
		return nil, err
	}
	sel := splitList(q.Get("$select"))
	out := []obj{}
	for _, it := range items {
		o := it.o
		if base {
			o = relationshipBase(o)
		}
		if aerr := checkProps(o, sel, typeName); aerr != nil {
			return nil, aerr
		}
		if aerr := f.check(o, typeName); aerr != nil {
			return nil, aerr
		}
		if f.match(o) {
			out = append(out, selectProps(o, sel))
		}
	}
	return out, nil
}

// serveRelationshipDefinitions answers RelationshipDefinitions[(key)]
// [/Microsoft.Dynamics.CRM.<OneToMany|ManyToMany>RelationshipMetadata].
func (e *Emulator) serveRelationshipDefinitions(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet {
		notImplemented("creating or changing relationships over the Web API").write(w)
		return
	}
	q := odataQuery(r.URL.RawQuery)
	segs := strings.Split(rest, "/")
	name, key := segment(segs[0])
	if name != "RelationshipDefinitions" || len(segs) > 2 {
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", rest))
		return
	}
	kind, typeName := "", "RelationshipMetadataBase"
	if len(segs) == 2 {
		switch segs[1] {
		case "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata":
			kind, typeName = "OneToMany", "OneToManyRelationshipMetadata"
		case "Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata":
			kind, typeName = "ManyToMany", "ManyToManyRelationshipMetadata"
		default:
			writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", segs[1]))
			return
		}
	}
	ctx := e.baseURL(r) + "/api/data/v9.2/$metadata#RelationshipDefinitions"
	if kind != "" {
		ctx += "/" + segs[1]
	}
	if s := q.Get("$select"); s != "" {
		ctx += "(" + s + ")"
	}
	e.mu.RLock()
	items := e.relationships(kind)
	e.mu.RUnlock()
	if key != "" {
		prop, val := keyValue(key)
		var match []relationItem
		for _, it := range items {
			if (prop == "SchemaName" && it.schema == val) || (prop == "MetadataId" && metadataID("relationship", it.schema) == val) {
				match = append(match, it)
			}
		}
		if prop != "SchemaName" && prop != "MetadataId" {
			badRequest("RelationshipDefinitions keys are MetadataId or SchemaName, not %s.", prop).write(w)
			return
		}
		if len(match) == 0 {
			writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("Could not find relationship with key %s.", key))
			return
		}
		if q.Has("$filter") {
			badRequest("$filter is not valid on a single relationship.").write(w)
			return
		}
		objs, aerr := relationshipQuery(match, q, typeName, kind == "")
		if aerr != nil {
			aerr.write(w)
			return
		}
		writeObj(w, http.StatusOK, append(obj{{"@odata.context", ctx + "/$entity"}}, objs[0]...))
		return
	}
	objs, aerr := relationshipQuery(items, q, typeName, kind == "")
	if aerr != nil {
		aerr.write(w)
		return
	}
	writeObj(w, http.StatusOK, obj{{"@odata.context", ctx}, {"value", objs}})
}

// serveEntityRelationships answers EntityDefinitions(..)/<nav>[(key)].
func (e *Emulator) serveEntityRelationships(w http.ResponseWriter, q query, ent *Entity, nav, navKey, ctx string) {
	items := e.entityRelationships(ent, nav)
	typeName := "OneToManyRelationshipMetadata"
	if nav == "ManyToManyRelationships" {
		typeName = "ManyToManyRelationshipMetadata"
	}
	if navKey != "" {
		prop, val := keyValue(navKey)
		var match []relationItem
		for _, it := range items {
			if (prop == "SchemaName" && it.schema == val) || (prop == "MetadataId" && metadataID("relationship", it.schema) == val) {
				match = append(match, it)
			}
		}
		if len(match) == 0 {
			writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("Could not find relationship with key %s.", navKey))
			return
		}
		objs, aerr := relationshipQuery(match, q, typeName, false)
		if aerr != nil {
			aerr.write(w)
			return
		}
		writeObj(w, http.StatusOK, append(obj{{"@odata.context", ctx + "/$entity"}}, objs[0]...))
		return
	}
	objs, aerr := relationshipQuery(items, q, typeName, false)
	if aerr != nil {
		aerr.write(w)
		return
	}
	writeObj(w, http.StatusOK, obj{{"@odata.context", ctx}, {"value", objs}})
}

// ---- metadata query checks ----

// metaOptions refuses query options a metadata resource does not take.
func metaOptions(q query, allowed ...string) *apiError {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch {
		case slices.Contains(allowed, k) || strings.HasPrefix(k, "@"):
		case strings.HasPrefix(k, "$") && (servedNowhere[k] || k == "$orderby" || k == "$top" || k == "$count" || k == "$expand" || k == "$filter" || k == "$select" || k == "$skiptoken"):
			return notImplemented("the query option %s on this metadata resource", k)
		case strings.HasPrefix(k, "$"):
			return badRequest("The query parameter '%s' is not supported.", k)
		default:
			return notImplemented("the query parameter '%s'", k)
		}
	}
	return nil
}

// checkProps refuses a $select naming a property the object does not have
// (Dataverse's message; properties the emulator does not render are
// reported the same way, see doc.go).
func checkProps(o obj, sel []string, typeName string) *apiError {
	for _, s := range sel {
		if _, ok := o.get(s); !ok && s != "MetadataId" {
			return badRequest("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", s, typeName)
		}
	}
	return nil
}
