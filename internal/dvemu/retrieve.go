package dvemu

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// rowKey reads the key of {set}(<key>): a bare Guid or <primaryid>=<Guid>.
// Alternate keys are not served.
func rowKey(ent *Entity, key string) (string, *apiError) {
	if name, v, ok := strings.Cut(key, "="); ok {
		if strings.TrimSpace(name) != ent.PrimaryID {
			return "", notImplemented("alternate keys ('%s')", key)
		}
		key = v
	}
	u, err := uuid.Parse(strings.Trim(strings.TrimSpace(key), "'"))
	if err != nil {
		return "", &apiError{status: http.StatusBadRequest, code: codeBadRequest, message: fmt.Sprintf("Invalid key %q: not a Guid.", key)}
	}
	return u.String(), nil
}

// serveRow answers GET /{entityset}(<id>)?$select=.. with one row, e.g. to
// re-read a record whose apply failed.
func (e *Emulator) serveRow(w http.ResponseWriter, r *http.Request, t *table, id string) {
	q := odataQuery(r.URL.RawQuery)
	for k := range q {
		switch {
		case k == "$select":
		case k == "$expand":
			notImplemented("$expand on a retrieve").write(w)
			return
		case servedNowhere[k] || !strings.HasPrefix(k, "$"):
			notImplemented("the query parameter '%s' on a retrieve", k).write(w)
			return
		default:
			badRequest("The query parameter '%s' is not supported on a retrieve.", k).write(w)
			return
		}
	}
	e.mu.RLock()
	ent := t.def
	e.mu.RUnlock()
	var err error
	req := &readRequest{t: t, ent: ent, pref: parsePrefer(r.Header), base: e.baseURL(r), selectRaw: splitList(q.Get("$select"))}
	if req.cols, err = selectColumns(ent, req.selectRaw); err != nil {
		writeError(w, http.StatusBadRequest, codeBadSegment, err.Error())
		return
	}
	e.mu.RLock()
	vals, version, ok := e.row(t, id)
	e.mu.RUnlock()
	if !ok {
		writeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("%s With Id = %s Does Not Exist", ent.LogicalName, id))
		return
	}
	// Conditional retrieve: 304 when the row is still at the given ETag,
	// unless annotations were asked for (documented).
	if cond, aerr := parseETagHeader(r.Header, "If-None-Match"); aerr == nil && cond != nil && !cond.any && cond.version == version && req.pref.annotations == "" {
		w.Header().Set("OData-Version", "4.0")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	e.preferenceApplied(w, req)
	enc, flush := startJSON(w, http.StatusOK)
	defer flush()
	if err := e.rowWriter(req).writeCtx(enc, rowOut{id: id, version: version, vals: vals}, req.context(false)+"/$entity"); err != nil {
		e.log.Error("dvemu: render row", "entity", ent.LogicalName, "id", id, "err", err)
	}
}
