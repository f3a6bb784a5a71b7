package dvemu

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// serveAdmin is the emulator's own HTTP API (no token), for the CLI demo:
//
//	POST   /_emulator/entities/{logicalname}        body: JSON values -> 201 {"id":..}
//	PATCH  /_emulator/entities/{logicalname}/{id}   body: JSON values -> 204
//	DELETE /_emulator/entities/{logicalname}/{id}   -> 204
//	GET    /_emulator/entities/{logicalname}        -> {"count":N,"ids":[..]}
//	GET    /_emulator/entities/{logicalname}/{id}   -> current values
//	POST   /_emulator/entities/{logicalname}/attributes  body: Attribute as JSON
//	       ({"LogicalName":"new_x","Type":"String","MaxLength":50}) -> 204
//	POST   /_emulator/drive  body: {"n":100,"entities":["account"],"inserts":2,"updates":7,"deletes":1}
//	       -> {"inserts":..,"updates":..,"deletes":..}
//
// Lookups are {"entity":..,"id":..}; decimals strings or numbers; datetimes RFC3339.
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_emulator/drive" && r.Method == http.MethodPost {
		e.serveDrive(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/_emulator/entities/")
	if !ok || rest == "" {
		writeError(w, http.StatusNotFound, codeBadSegment, "Unknown emulator admin path.")
		return
	}
	entity, id, _ := strings.Cut(rest, "/")
	switch {
	case r.Method == http.MethodPost && id == "attributes":
		var a Attribute
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
		if err := dec.Decode(&a); err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, "invalid attribute JSON: "+err.Error())
			return
		}
		if err := e.AddAttribute(entity, a); err != nil {
			adminError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && id == "":
		values, err := e.decodeValues(r, entity)
		if err != nil {
			adminError(w, err)
			return
		}
		newID, err := e.Create(entity, values)
		if err != nil {
			adminError(w, err)
			return
		}
		writeObj(w, http.StatusCreated, obj{{"id", newID}})
	case r.Method == http.MethodPatch && id != "":
		values, err := e.decodeValues(r, entity)
		if err != nil {
			adminError(w, err)
			return
		}
		if err := e.Update(entity, id, values); err != nil {
			adminError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && id != "":
		if err := e.Delete(entity, id); err != nil {
			adminError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && id == "":
		e.mu.RLock()
		_, known := e.tables[entity]
		e.mu.RUnlock()
		if !known {
			adminError(w, ErrNotFound)
			return
		}
		ids := e.IDs(entity)
		if ids == nil {
			ids = []string{}
		}
		writeObj(w, http.StatusOK, obj{{"count", len(ids)}, {"ids", ids}})
	case r.Method == http.MethodGet:
		vals, ok := e.Get(entity, id)
		if !ok {
			adminError(w, ErrNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		out := make(map[string]any, len(vals))
		for k, v := range vals {
			if ref, ok := v.(Ref); ok {
				v = map[string]string{"entity": ref.Entity, "id": ref.ID}
			}
			out[k] = v
		}
		_ = json.NewEncoder(w).Encode(out)
	default:
		writeError(w, http.StatusMethodNotAllowed, codeBadSegment, "Method not allowed on this emulator admin path.")
	}
}

// decodeValues reads a JSON object of values. Numbers stay json.Number so
// decimals keep their exact text.
func (e *Emulator) decodeValues(r *http.Request, entity string) (map[string]any, error) {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.UseNumber()
	var values map[string]any
	if err := dec.Decode(&values); err != nil {
		return nil, &ValueError{Entity: entity, Attribute: "(body)", Reason: "invalid JSON object: " + err.Error()}
	}
	return values, nil
}

func (e *Emulator) serveDrive(w http.ResponseWriter, r *http.Request) {
	var body struct {
		N                         int
		Entities                  []string
		Inserts, Updates, Deletes int
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "invalid drive JSON: "+err.Error())
		return
	}
	if body.N <= 0 || body.N > 1_000_000 {
		writeError(w, http.StatusBadRequest, codeBadRequest, "n must be in 1..1000000")
		return
	}
	st, err := e.Drive(r.Context(), DriveOptions{Entities: body.Entities, Inserts: body.Inserts, Updates: body.Updates, Deletes: body.Deletes}, body.N)
	if err != nil {
		adminError(w, err)
		return
	}
	writeObj(w, http.StatusOK, obj{{"inserts", st.Inserts}, {"updates", st.Updates}, {"deletes", st.Deletes}})
}

func adminError(w http.ResponseWriter, err error) {
	var ve *ValueError
	var me *MetadataError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, codeBadRequest, ve.Error())
	case errors.As(err, &me):
		writeError(w, http.StatusBadRequest, codeBadRequest, me.Error())
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, err.Error())
	default:
		writeError(w, http.StatusInternalServerError, codeServerError, err.Error())
	}
}
