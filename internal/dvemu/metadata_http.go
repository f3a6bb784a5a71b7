package dvemu

import (
	"fmt"
	"net/http"
	"strings"
)

// serveAPI routes a Web API path (after /api/data/v9.2/).
func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	if strings.HasPrefix(rest, "RetrieveMetadataChanges(") {
		e.serveMetadataChanges(w, r, rest)
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
	if strings.HasPrefix(rest, "EntityDefinitions") {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, codeBadSegment, "The emulator's metadata is read-only over the Web API.")
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
		e.serveRow(w, r, t, key)
	case key != "":
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", sub))
	case sub == "":
		e.serveEntitySet(w, r, t, false)
	case sub == "$count":
		e.serveEntitySet(w, r, t, true)
	default:
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", sub))
	}
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
		o, err := e.entityWithExpand(ent, q.Get("$select"), q.Get("$expand"))
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
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
	if nav == "ManyToManyRelationships" && navKey == "" && len(segs) == 2 {
		sel := splitList(q.Get("$select"))
		items := []obj{}
		for _, rel := range ent.ManyToMany {
			items = append(items, selectProps(manyToManyObj(rel), sel))
		}
		writeObj(w, http.StatusOK, obj{{"@odata.context", base + "EntityDefinitions('" + ent.LogicalName + "')/ManyToManyRelationships"}, {"value", items}})
		return
	}
	if nav != "Attributes" {
		writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("Resource not found for the segment '%s'.", segs[1]))
		return
	}
	cast := ""
	if len(segs) > 2 {
		cast = segs[2]
		if !strings.HasPrefix(cast, "Microsoft.Dynamics.CRM.") || len(segs) > 3 {
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
				o, err := attrRender(ent, a, i, cast != "", sel, expand)
				if err != nil {
					writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
					return
				}
				writeObj(w, http.StatusOK, append(obj{{"@odata.context", ctx + "/$entity"}}, o...))
				return
			}
		}
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("Could not find attribute with key %s.", navKey))
		return
	}
	f, err := parseFilter(q.Get("$filter"))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
		return
	}
	items := []obj{}
	for i := range ent.Attributes {
		a := &ent.Attributes[i]
		if cast != "" && a.odataType() != "#"+cast {
			continue
		}
		if !f.match(castObj(ent, a, i)) {
			continue
		}
		o, err := attrRender(ent, a, i, cast != "", sel, expand)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
			return
		}
		items = append(items, o)
	}
	writeObj(w, http.StatusOK, obj{{"@odata.context", ctx}, {"value", items}})
}

// attrRender renders one attribute: common properties, or the derived
// type's when reached through a cast, with $select and $expand=OptionSet.
func attrRender(ent *Entity, a *Attribute, col int, cast bool, sel []string, expand []expandItem) (obj, error) {
	var o obj
	if cast {
		o = castObj(ent, a, col)
	} else {
		o = attrObj(ent, a, col)
	}
	o = selectProps(o, sel)
	for _, x := range expand {
		switch {
		case cast && (x.name == "OptionSet" || (x.name == "GlobalOptionSet" && (a.Type == Picklist || a.Type == MultiSelectPicklist))) && hasOptionSet(a):
			o = append(o, member{x.name, selectProps(optionSetObj(ent, a), splitList(x.options["$select"]))})
		default:
			return nil, fmt.Errorf("Could not find a property named '%s' on type '%s'.", x.name, strings.TrimPrefix(a.odataType(), "#"))
		}
	}
	return o, nil
}

func (e *Emulator) entityWithExpand(ent *Entity, selRaw, expandRaw string) (obj, error) {
	o := selectProps(entityObj(ent), splitList(selRaw))
	for _, x := range parseExpand(expandRaw) {
		if x.name == "ManyToManyRelationships" {
			items := []obj{}
			for _, rel := range ent.ManyToMany {
				items = append(items, selectProps(manyToManyObj(rel), splitList(x.options["$select"])))
			}
			o = append(o, member{"ManyToManyRelationships", items})
			continue
		}
		if x.name != "Attributes" {
			return nil, fmt.Errorf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.", x.name)
		}
		f, err := parseFilter(x.options["$filter"])
		if err != nil {
			return nil, err
		}
		sel := splitList(x.options["$select"])
		attrs := []obj{}
		for i := range ent.Attributes {
			a := &ent.Attributes[i]
			ao := attrObj(ent, a, i)
			if f.match(ao) {
				attrs = append(attrs, selectProps(ao, sel))
			}
		}
		o = append(o, member{"Attributes", attrs})
	}
	return o, nil
}

func (e *Emulator) serveEntityCollection(w http.ResponseWriter, q query, base string) {
	get := q.Get
	f, err := parseFilter(get("$filter"))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	items := []obj{}
	for _, name := range e.order {
		ent := e.tables[name].def
		if !f.match(entityObj(ent)) {
			continue
		}
		o, err := e.entityWithExpand(ent, get("$select"), get("$expand"))
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
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
