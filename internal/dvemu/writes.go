package dvemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Web API writes: POST {set} (create), PATCH {set}(id) (update or upsert,
// limited by If-Match / If-None-Match), DELETE {set}(id). They go through
// the same store as the admin API, so change tracking sees them the same
// way: a new version per write, deletes as tombstones.

// maxBody bounds a write's JSON body.
const maxBody = 4 << 20

// writable reports whether the Web API accepts a column in a body, as the
// metadata's IsValidForCreate/IsValidForUpdate say (statecode may be set on
// update, as Dataverse allows through the Web API).
func writable(a *Attribute) bool {
	return a.stored() && a.AttributeOf == "" && !a.IsPrimaryID && a.LogicalName != "versionnumber" && a.LogicalName != "createdon" && a.LogicalName != "modifiedon"
}

// refuseWrites is set for entities that take no create, update or delete
// of their own rows over the Web API.
func refuseWrites(ent *Entity) *apiError {
	switch {
	case ent.IsIntersect:
		return notImplemented("writes to the intersect entity %s; Dataverse associates and disassociates records instead", ent.LogicalName)
	case ent.LogicalName == "activityparty" || ent.LogicalName == "activitypointer":
		return notImplemented("writes to %s", ent.LogicalName)
	}
	return nil
}

// writeBody is a decoded create or update body.
type writeBody struct {
	values map[string]any // admin forms, see values.go
	id     string         // the primary key, when the body gives it
}

// decodeWriteBody reads a Web API entity body: columns by logical name,
// lookups as <navigation property>@odata.bind.
func (e *Emulator) decodeWriteBody(r *http.Request, ent *Entity) (*writeBody, *apiError) {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: codeBadRequest, message: "The request body is too large."}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil || body == nil {
		return nil, badRequest("The request body is not a JSON object: %v.", err)
	}
	out := &writeBody{values: map[string]any{}}
	undefined := func(name string) *apiError {
		return badRequest("The property '%s' does not exist on type 'Microsoft.Dynamics.CRM.%s'. Make sure to only use property names that are defined by the type.", name, ent.LogicalName)
	}
	for key, v := range body {
		switch {
		case key == "@odata.context":
			continue
		case key == "@odata.type":
			if v != "#Microsoft.Dynamics.CRM."+ent.LogicalName && v != "Microsoft.Dynamics.CRM."+ent.LogicalName {
				return nil, badRequest("The @odata.type '%v' does not match the entity set's type Microsoft.Dynamics.CRM.%s.", v, ent.LogicalName)
			}
			continue
		case strings.HasSuffix(key, "@odata.bind"):
			name, ref, err := e.bind(ent, strings.TrimSuffix(key, "@odata.bind"), v)
			if err != nil {
				return nil, err
			}
			out.values[name] = ref
			continue
		case strings.Contains(key, "@"):
			continue // instance annotations in a payload are informational (OData)
		}
		_, a := ent.attr(key)
		if a == nil {
			if inner, ok := strings.CutPrefix(key, "_"); ok && strings.HasSuffix(inner, "_value") {
				return nil, badRequest("The property '%s' is read-only; set the lookup with <navigation property>@odata.bind.", key)
			}
			return nil, undefined(key)
		}
		switch {
		case a.IsPrimaryID:
			s, ok := v.(string)
			u, err := uuid.Parse(s)
			if !ok || err != nil {
				return nil, badRequest("Cannot convert the literal '%v' to the expected type 'Edm.Guid'.", v)
			}
			out.id = u.String()
		case a.Type.IsLookup():
			if _, isObj := v.(map[string]any); isObj {
				return nil, notImplemented("deep insert (the related record '%s' given inline)", key)
			}
			return nil, badRequest("The lookup '%s' is a navigation property: set it with '%s@odata.bind'.", key, navigationName(a))
		case !writable(a):
			return nil, badRequest("The property '%s' cannot be set: it is not valid for create or update.", key)
		default:
			if _, isArr := v.([]any); isArr {
				return nil, notImplemented("collection values ('%s')", key)
			}
			out.values[a.LogicalName] = v
		}
	}
	return out, nil
}

// navigationName is the single-valued navigation property of a
// single-target lookup (the lookup itself); polymorphic ones add the target.
func navigationName(a *Attribute) string {
	if a.Type == Customer || (a.Type == Lookup && len(a.Targets) > 1) {
		return a.LogicalName + "_<target>"
	}
	return a.LogicalName
}

// bind resolves "<nav>@odata.bind": "/<set>(<id>)" to a lookup value.
func (e *Emulator) bind(ent *Entity, nav string, v any) (string, any, *apiError) {
	var attr *Attribute
	target := ""
	for i := range ent.Attributes {
		a := &ent.Attributes[i]
		if !a.Type.IsLookup() {
			continue
		}
		if a.LogicalName == nav && (a.Type == Owner || len(a.Targets) == 1) {
			attr = a
			break
		}
		if t, ok := strings.CutPrefix(nav, a.LogicalName+"_"); ok && (a.Type == Customer || len(a.Targets) > 1) {
			attr, target = a, t
			break
		}
	}
	if attr == nil {
		return "", nil, badRequest("'%s' is not a single-valued navigation property of 'Microsoft.Dynamics.CRM.%s'.", nav, ent.LogicalName)
	}
	if v == nil {
		return attr.LogicalName, nil, nil
	}
	s, ok := v.(string)
	if !ok {
		if _, arr := v.([]any); arr {
			return "", nil, notImplemented("binding collection-valued navigation properties ('%s')", nav)
		}
		return "", nil, badRequest("'%s@odata.bind' must be a record URI like /accounts(<id>).", nav)
	}
	// Accept /accounts(id), accounts(id) and absolute URIs.
	s = s[strings.LastIndexByte(s, '/')+1:]
	set, key := segment(s)
	u, err := uuid.Parse(strings.Trim(key, "'"))
	if key == "" || err != nil {
		return "", nil, badRequest("'%s@odata.bind' value '%v' is not a record URI like /accounts(<id>).", nav, v)
	}
	e.mu.RLock()
	t := e.bySet[set]
	e.mu.RUnlock()
	if t == nil {
		return "", nil, &apiError{status: http.StatusNotFound, code: codeBadSegment, message: fmt.Sprintf("Resource not found for the segment '%s'.", set)}
	}
	if target != "" && t.def.LogicalName != target {
		return "", nil, badRequest("'%s@odata.bind' names a %s; the navigation property binds a %s.", nav, t.def.LogicalName, target)
	}
	return attr.LogicalName, Ref{Entity: t.def.LogicalName, ID: u.String()}, nil
}

// storeError maps a store error onto the Web API answer.
func storeError(ent *Entity, id string, err error) *apiError {
	var ve *ValueError
	switch {
	case errors.As(err, &ve):
		return &apiError{status: http.StatusBadRequest, code: codeBadRequest, message: fmt.Sprintf("%s: %s", ve.Attribute, ve.Reason)}
	case errors.Is(err, ErrExists):
		return &apiError{status: http.StatusPreconditionFailed, code: codeDuplicateRecord, message: "A record with matching key values already exists."}
	case errors.Is(err, ErrNotFound):
		return recordNotFound(ent, id)
	}
	return &apiError{status: http.StatusInternalServerError, code: codeServerError, message: err.Error()}
}

func recordNotFound(ent *Entity, id string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, message: fmt.Sprintf("%s With Id = %s Does Not Exist", ent.LogicalName, id)}
}

// writeQuery checks the query of a write: only $select, which shapes a
// return=representation answer.
func writeQuery(r *http.Request) (query, *apiError) {
	q := odataQuery(r.URL.RawQuery)
	for k := range q {
		switch k {
		case "$select":
		case "$expand":
			return nil, notImplemented("$expand on a write")
		default:
			return nil, badRequest("The query parameter '%s' is not supported on a %s.", k, r.Method)
		}
	}
	return q, nil
}

// serveCreate answers POST {set}: 204 with OData-EntityId, or with
// Prefer: return=representation 201 and the row.
func (e *Emulator) serveCreate(w http.ResponseWriter, r *http.Request, t *table) {
	q, aerr := writeQuery(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.mu.RLock()
	ent := t.def
	e.mu.RUnlock()
	if aerr := refuseWrites(ent); aerr != nil {
		aerr.write(w)
		return
	}
	body, aerr := e.decodeWriteBody(r, ent)
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.mu.Lock()
	id, err := e.createLocked(t, body.id, body.values)
	e.mu.Unlock()
	if err != nil {
		storeError(ent, body.id, err).write(w)
		return
	}
	e.writeResult(w, r, t, q, id, http.StatusCreated)
}

// writeResult answers a successful create or update: the row with
// return=representation, else 204 with OData-EntityId.
func (e *Emulator) writeResult(w http.ResponseWriter, r *http.Request, t *table, q query, id string, reprStatus int) {
	pref := parsePrefer(r.Header)
	e.mu.RLock()
	ent := t.def
	vals, version, ok := e.row(t, id)
	e.mu.RUnlock()
	entityID := e.baseURL(r) + "/api/data/v9.2/" + ent.EntitySetName + "(" + id + ")"
	if !pref.returnRepresentation || !ok {
		w.Header().Set("OData-Version", "4.0")
		w.Header().Set("OData-EntityId", entityID)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	req := &readRequest{t: t, ent: ent, pref: pref, base: e.baseURL(r), selectRaw: splitList(q.Get("$select"))}
	cols, err := selectColumns(ent, req.selectRaw)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
		return
	}
	req.cols = cols
	w.Header().Add("Preference-Applied", "return=representation")
	enc, flush := startJSON(w, reprStatus)
	defer flush()
	if err := e.rowWriter(req).writeCtx(enc, rowOut{id: id, version: version, vals: vals}, req.base+"/api/data/v9.2/$metadata#"+ent.EntitySetName+"/$entity"); err != nil {
		e.log.Error("dvemu: render row", "entity", ent.LogicalName, "id", id, "err", err)
	}
}

// etagCondition is an If-Match or If-None-Match header: "*" or a weak ETag.
type etagCondition struct {
	any     bool
	version int64
}

func parseETagHeader(h http.Header, name string) (*etagCondition, *apiError) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" || v == "null" { // If-None-Match: null is the Web API's recommended read header
		return nil, nil
	}
	if v == "*" {
		return &etagCondition{any: true}, nil
	}
	inner, ok := strings.CutPrefix(v, "W/")
	if n, err := strconv.ParseInt(strings.Trim(inner, `"`), 10, 64); ok && err == nil {
		return &etagCondition{version: n}, nil
	}
	return nil, badRequest("The %s header '%s' is not * or an ETag like W/\"1234\".", name, v)
}

// servePatch answers PATCH {set}(id): an upsert, limited by If-Match: *
// (no create) or If-None-Match: * (no update), or an update guarded by
// If-Match: <etag>.
func (e *Emulator) servePatch(w http.ResponseWriter, r *http.Request, t *table, id string) {
	q, aerr := writeQuery(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.mu.RLock()
	ent := t.def
	e.mu.RUnlock()
	if aerr := refuseWrites(ent); aerr != nil {
		aerr.write(w)
		return
	}
	ifMatch, aerr := parseETagHeader(r.Header, "If-Match")
	if aerr != nil {
		aerr.write(w)
		return
	}
	ifNoneMatch, aerr := parseETagHeader(r.Header, "If-None-Match")
	if aerr != nil {
		aerr.write(w)
		return
	}
	if ifMatch != nil && ifNoneMatch != nil {
		badRequest("If-Match and If-None-Match cannot both be given on a PATCH.").write(w)
		return
	}
	if ifNoneMatch != nil && !ifNoneMatch.any {
		notImplemented("If-None-Match with an ETag on a PATCH; use If-None-Match: *").write(w)
		return
	}
	body, aerr := e.decodeWriteBody(r, ent)
	if aerr != nil {
		aerr.write(w)
		return
	}
	if body.id != "" && body.id != id {
		badRequest("The primary key %s in the body differs from the key %s in the URL.", body.id, id).write(w)
		return
	}
	e.mu.Lock()
	_, current, exists := e.row(t, id)
	var err error
	created := false
	switch {
	case ifMatch != nil && !exists:
		aerr = recordNotFound(ent, id)
	case ifMatch != nil && !ifMatch.any && ifMatch.version != current:
		aerr = &apiError{status: http.StatusPreconditionFailed, code: codeConcurrencyVersionMismatch, message: "The version of the existing record doesn't match the RowVersion property provided."}
	case ifNoneMatch != nil && exists:
		aerr = &apiError{status: http.StatusPreconditionFailed, code: codeDuplicateRecord, message: "A record with matching key values already exists."}
	case exists:
		err = e.updateLocked(t, id, body.values)
	default:
		_, err = e.createLocked(t, id, body.values)
		created = true
	}
	e.mu.Unlock()
	if err != nil {
		aerr = storeError(ent, id, err)
	}
	if aerr != nil {
		aerr.write(w)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	e.writeResult(w, r, t, q, id, status)
}

// serveDelete answers DELETE {set}(id): 204, 404 when missing, 412 when
// If-Match names another version.
func (e *Emulator) serveDelete(w http.ResponseWriter, r *http.Request, t *table, id string) {
	if len(r.URL.RawQuery) > 0 {
		badRequest("A DELETE takes no query options.").write(w)
		return
	}
	e.mu.RLock()
	ent := t.def
	e.mu.RUnlock()
	if aerr := refuseWrites(ent); aerr != nil {
		aerr.write(w)
		return
	}
	ifMatch, aerr := parseETagHeader(r.Header, "If-Match")
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.mu.Lock()
	_, current, exists := e.row(t, id)
	switch {
	case !exists:
		aerr = recordNotFound(ent, id)
	case ifMatch != nil && !ifMatch.any && ifMatch.version != current:
		aerr = &apiError{status: http.StatusPreconditionFailed, code: codeConcurrencyVersionMismatch, message: "The version of the existing record doesn't match the RowVersion property provided."}
	default:
		if err := e.deleteLocked(t, id); err != nil {
			aerr = storeError(ent, id, err)
		}
	}
	e.mu.Unlock()
	if aerr != nil {
		aerr.write(w)
		return
	}
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusNoContent)
}
