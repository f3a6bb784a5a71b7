package dvemu

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// serveRow answers GET /{entityset}(<id>)?$select=.. with one row, e.g. to
// re-read a record whose apply failed.
func (e *Emulator) serveRow(w http.ResponseWriter, r *http.Request, t *table, key string) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, codeBadSegment, "The HTTP method '"+r.Method+"' is not supported by the emulator on this resource.")
		return
	}
	q := odataQuery(r.URL.RawQuery)
	e.mu.RLock()
	ent := t.def
	e.mu.RUnlock()
	if _, v, ok := strings.Cut(key, "="); ok {
		key = v
	}
	u, err := uuid.Parse(strings.Trim(key, "'"))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("Invalid key %q: not a Guid.", key))
		return
	}
	id := u.String()
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
	e.preferenceApplied(w, req)
	enc, flush := startJSON(w, http.StatusOK)
	defer flush()
	if err := e.rowWriter(req).writeCtx(enc, rowOut{id: id, version: version, vals: vals}, req.context(false)+"/$entity"); err != nil {
		e.log.Error("dvemu: render row", "entity", ent.LogicalName, "id", id, "err", err)
	}
}
