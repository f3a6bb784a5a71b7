package dvemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// serveAPI routes a Web API path (after /api/data/v9.2/).
func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	if strings.HasPrefix(rest, "RetrieveMetadataChanges(") {
		e.serveMetadataChanges(w, r, rest)
		return
	}
	if strings.HasPrefix(rest, "RetrieveTotalRecordCount(") {
		e.serveRecordCount(w, r, rest)
		return
	}
	if rest == "WhoAmI" || rest == "WhoAmI()" {
		e.serveWhoAmI(w, r)
		return
	}
	if strings.HasPrefix(rest, "GlobalOptionSetDefinitions") {
		e.serveGlobalOptionSet(w, r, rest)
		return
	}
	if strings.HasPrefix(rest, "RelationshipDefinitions") {
		e.serveRelationshipDefinitions(w, r, rest)
		return
	}
	if rest == "$batch" {
		notImplemented("$batch requests").write(w)
		return
	}
	if rest == "$metadata" {
		notImplemented("the $metadata (CSDL) document").write(w)
		return
	}
	if strings.HasPrefix(rest, "EntityDefinitions") {
		if r.Method != http.MethodGet {
			notImplemented("creating or changing entity definitions over the Web API").write(w)
			return
		}
		e.serveEntityDefinitions(w, r, rest)
		return
	}
	set, sub, _ := strings.Cut(rest, "/")
	set, key := segment(set)
	e.mu.RLock()
	t := e.bySet[set]
	e.mu.RUnlock()
	if t == nil {
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", set))
		return
	}
	switch {
	case key != "" && sub == "":
		e.mu.RLock()
		ent := t.def
		e.mu.RUnlock()
		id, aerr := rowKey(ent, key)
		if aerr != nil {
			aerr.write(w)
			return
		}
		switch r.Method {
		case http.MethodGet:
			e.serveRow(w, r, t, id)
		case http.MethodPatch:
			e.servePatch(w, r, t, id)
		case http.MethodDelete:
			e.serveDelete(w, r, t, id)
		case http.MethodPut:
			notImplemented("PUT on a record; update with PATCH").write(w)
		default:
			writeError(w, http.StatusMethodNotAllowed, codeBadSegment, "The HTTP method '"+r.Method+"' is not supported on a record.")
		}
	case key != "":
		e.serveRecordPath(w, t, sub)
	case sub == "":
		e.serveEntitySet(w, r, t, false)
	case sub == "$count":
		e.serveEntitySet(w, r, t, true)
	default:
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", sub))
	}
}

// serveRecordPath answers {set}(id)/<segment>: a column or navigation
// property of the record (documented single-property reads and writes, $ref)
// is refused as not implemented; anything else does not exist.
func (e *Emulator) serveRecordPath(w http.ResponseWriter, t *table, sub string) {
	e.mu.RLock()
	ent := t.def
	e.mu.RUnlock()
	first, _, _ := strings.Cut(sub, "/")
	if _, a := ent.attr(first); a != nil || first == "$ref" || strings.HasPrefix(first, "Microsoft.Dynamics.CRM.") || e.isNavigation(ent, first) {
		notImplemented("record paths like '%s' (single properties, navigation, $ref, bound functions)", sub).write(w)
		return
	}
	writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", first))
}

// segment splits "Name(key)" into name and key ("" when absent).
func segment(s string) (name, key string) {
	i := strings.IndexByte(s, '(')
	if i < 0 || !strings.HasSuffix(s, ")") {
		return s, ""
	}
	return s[:i], s[i+1 : len(s)-1]
}

// keyValue reads a key predicate: LogicalName='x' -> ("LogicalName","x"),
// a bare GUID -> ("MetadataId", guid).
func keyValue(key string) (prop, value string) {
	if p, v, ok := strings.Cut(key, "="); ok {
		return strings.TrimSpace(p), strings.Trim(strings.TrimSpace(v), "'")
	}
	return "MetadataId", strings.Trim(key, "'")
}

func (e *Emulator) findEntity(key string) *Entity {
	prop, val := keyValue(key)
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, name := range e.order {
		ent := e.tables[name].def
		if (prop == "LogicalName" && ent.LogicalName == val) || (prop == "MetadataId" && metadataID(ent.LogicalName) == val) {
			return ent
		}
	}
	return nil
}

func (e *Emulator) serveEntityDefinitions(w http.ResponseWriter, r *http.Request, rest string) {
	q := odataQuery(r.URL.RawQuery)
	segs := strings.Split(rest, "/")
	name, key := segment(segs[0])
	if name != "EntityDefinitions" {
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", segs[0]))
		return
	}
	base := e.baseURL(r) + "/api/data/v9.2/$metadata#"
	if key == "" {
		if len(segs) > 1 {
			writeError(w, http.StatusBadRequest, codeBadSegment, "Navigation from the EntityDefinitions collection needs a key.")
			return
		}
		e.serveEntityCollection(w, q, base)
		return
	}
	ent := e.findEntity(key)
	if ent == nil {
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("Could not find entity with key %s.", key))
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if len(segs) == 1 {
		if aerr := metaOptions(q, "$select", "$expand"); aerr != nil {
			aerr.write(w)
			return
		}
		o, aerr := e.entityWithExpand(ent, q.Get("$select"), q.Get("$expand"))
		if aerr != nil {
			aerr.write(w)
			return
		}
		ctx := base + "EntityDefinitions"
		if s := q.Get("$select"); s != "" {
			ctx += "(" + s + ")"
		}
		writeObj(w, http.StatusOK, append(obj{{"@odata.context", ctx + "/$entity"}}, o...))
		return
	}
	nav, navKey := segment(segs[1])
	if isRelationshipNav(nav) {
		if len(segs) > 2 {
			notImplemented("the path '%s'", rest).write(w)
			return
		}
		ctx := base + "EntityDefinitions('" + ent.LogicalName + "')/" + nav
		if s := q.Get("$select"); s != "" {
			ctx += "(" + s + ")"
		}
		e.serveEntityRelationships(w, q, ent, nav, navKey, ctx)
		return
	}
	if nav != "Attributes" {
		switch nav {
		case "Keys", "Privileges", "Settings":
			notImplemented("the EntityMetadata navigation %s", nav).write(w)
		default:
			writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", segs[1]))
		}
		return
	}
	allowed := []string{"$select", "$expand", "$filter"}
	if navKey != "" {
		allowed = allowed[:2]
	}
	if aerr := metaOptions(q, allowed...); aerr != nil {
		aerr.write(w)
		return
	}
	cast := ""
	if len(segs) > 2 {
		cast = segs[2]
		if len(segs) > 3 {
			notImplemented("the path '%s' (navigation below an attribute)", rest).write(w)
			return
		}
		if !knownAttributeCast(cast) && cast != "Microsoft.Dynamics.CRM.EnumAttributeMetadata" {
			writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", cast))
			return
		}
		if cast == "Microsoft.Dynamics.CRM.EnumAttributeMetadata" {
			writeError(w, http.StatusBadRequest, codeBadSegment, "Type 'Microsoft.Dynamics.CRM.EnumAttributeMetadata' is abstract and cannot be used in a cast.")
			return
		}
	}
	sel, expand := splitList(q.Get("$select")), parseExpand(q.Get("$expand"))
	ctx := base + "EntityDefinitions('" + ent.LogicalName + "')/Attributes"
	if cast != "" {
		ctx += "/" + cast
	}
	if s := q.Get("$select"); s != "" {
		ctx += "(" + s + ")"
	}
	if navKey != "" {
		prop, val := keyValue(navKey)
		for i := range ent.Attributes {
			a := &ent.Attributes[i]
			if (prop == "LogicalName" && a.LogicalName == val) || (prop == "MetadataId" && metadataID(ent.LogicalName, a.LogicalName) == val) {
				if cast != "" && a.odataType() != "#"+cast {
					break
				}
				o, aerr := attrRender(ent, a, i, cast, sel, expand)
				if aerr != nil {
					aerr.write(w)
					return
				}
				writeObj(w, http.StatusOK, append(obj{{"@odata.context", ctx + "/$entity"}}, o...))
				return
			}
		}
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("Could not find attribute with key %s.", navKey))
		return
	}
	f, ferr := parseFilter(q.Get("$filter"))
	if ferr != nil {
		ferr.write(w)
		return
	}
	items := []obj{}
	for i := range ent.Attributes {
		a := &ent.Attributes[i]
		if cast != "" && a.odataType() != "#"+cast {
			continue
		}
		full := attrObj(ent, a, i)
		if cast != "" {
			full = castObj(ent, a, i)
		}
		if aerr := f.check(full, attrTypeName(cast)); aerr != nil {
			aerr.write(w)
			return
		}
		if !f.match(full) {
			continue
		}
		o, aerr := attrRender(ent, a, i, cast, sel, expand)
		if aerr != nil {
			aerr.write(w)
			return
		}
		items = append(items, o)
	}
	writeObj(w, http.StatusOK, obj{{"@odata.context", ctx}, {"value", items}})
}

// knownAttributeCast reports whether cast names a concrete attribute type.
func knownAttributeCast(cast string) bool {
	for _, ti := range typeInfos {
		if cast == "Microsoft.Dynamics.CRM."+ti.odataType && ti.odataType != "AttributeMetadata" {
			return true
		}
	}
	return false
}

// attrTypeName is the metadata type of attributes reached with cast.
func attrTypeName(cast string) string {
	if cast == "" {
		return "AttributeMetadata"
	}
	return strings.TrimPrefix(cast, "Microsoft.Dynamics.CRM.")
}

// attrRender renders one attribute: common properties, or the derived
// type's when reached through a cast, with $select and $expand=OptionSet.
func attrRender(ent *Entity, a *Attribute, col int, cast string, sel []string, expand []expandItem) (obj, *apiError) {
	var o obj
	if cast != "" {
		o = castObj(ent, a, col)
	} else {
		o = attrObj(ent, a, col)
	}
	if err := checkProps(o, sel, attrTypeName(cast)); err != nil {
		return nil, err
	}
	o = selectProps(o, sel)
	for _, x := range expand {
		switch {
		case cast != "" && (x.name == "OptionSet" || (x.name == "GlobalOptionSet" && (a.Type == Picklist || a.Type == MultiSelectPicklist))) && hasOptionSet(a):
			if err := expandOptions(x, "$select"); err != nil {
				return nil, err
			}
			os := optionSetObj(ent, a)
			osSel := splitList(x.options["$select"])
			if err := checkProps(os, osSel, "OptionSetMetadataBase"); err != nil {
				return nil, err
			}
			o = append(o, member{x.name, selectProps(os, osSel)})
		default:
			return nil, badRequest("Could not find a property named '%s' on type '%s'.", x.name, strings.TrimPrefix(a.odataType(), "#"))
		}
	}
	return o, nil
}

// expandOptions refuses options inside $expand=X(...) other than allowed.
func expandOptions(x expandItem, allowed ...string) *apiError {
	for k := range x.options {
		if !slices.Contains(allowed, k) {
			return notImplemented("%s inside $expand=%s(...)", k, x.name)
		}
	}
	return nil
}

// entityWithExpand renders an entity with $select and its $expand of
// Attributes and the relationship collections. Callers hold e.mu.
func (e *Emulator) entityWithExpand(ent *Entity, selRaw, expandRaw string) (obj, *apiError) {
	full := entityObj(ent)
	sel := splitList(selRaw)
	if err := checkProps(full, sel, "EntityMetadata"); err != nil {
		return nil, err
	}
	o := selectProps(full, sel)
	for _, x := range parseExpand(expandRaw) {
		if isRelationshipNav(x.name) {
			if err := expandOptions(x, "$select", "$filter"); err != nil {
				return nil, err
			}
			typeName := "OneToManyRelationshipMetadata"
			if x.name == "ManyToManyRelationships" {
				typeName = "ManyToManyRelationshipMetadata"
			}
			q := query{}
			for k, v := range x.options {
				q[k] = v
			}
			items, err := relationshipQuery(e.entityRelationships(ent, x.name), q, typeName, false)
			if err != nil {
				return nil, err
			}
			o = append(o, member{x.name, items})
			continue
		}
		if x.name != "Attributes" {
			return nil, badRequest("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.", x.name)
		}
		if err := expandOptions(x, "$select", "$filter"); err != nil {
			return nil, err
		}
		f, err := parseFilter(x.options["$filter"])
		if err != nil {
			return nil, err
		}
		asel := splitList(x.options["$select"])
		attrs := []obj{}
		for i := range ent.Attributes {
			a := &ent.Attributes[i]
			ao := attrObj(ent, a, i)
			if err := checkProps(ao, asel, "AttributeMetadata"); err != nil {
				return nil, err
			}
			if err := f.check(ao, "AttributeMetadata"); err != nil {
				return nil, err
			}
			if f.match(ao) {
				attrs = append(attrs, selectProps(ao, asel))
			}
		}
		o = append(o, member{"Attributes", attrs})
	}
	return o, nil
}

func (e *Emulator) serveEntityCollection(w http.ResponseWriter, q query, base string) {
	get := q.Get
	if aerr := metaOptions(q, "$select", "$filter", "$expand"); aerr != nil {
		aerr.write(w)
		return
	}
	f, ferr := parseFilter(get("$filter"))
	if ferr != nil {
		ferr.write(w)
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	items := []obj{}
	for _, name := range e.order {
		ent := e.tables[name].def
		if aerr := f.check(entityObj(ent), "EntityMetadata"); aerr != nil {
			aerr.write(w)
			return
		}
		if !f.match(entityObj(ent)) {
			continue
		}
		o, aerr := e.entityWithExpand(ent, get("$select"), get("$expand"))
		if aerr != nil {
			aerr.write(w)
			return
		}
		items = append(items, o)
	}
	ctx := base + "EntityDefinitions"
	if s := get("$select"); s != "" {
		ctx += "(" + s + ")"
	}
	writeObj(w, http.StatusOK, obj{{"@odata.context", ctx}, {"value", items}})
}
