package dvemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// serveRecordCount answers the RetrieveTotalRecordCount function, the
// documented way to count a table's rows beyond the 5,000 that $count
// reports: GET RetrieveTotalRecordCount(EntityNames=@p1)?@p1=["account"]
// or with the collection inline, EntityNames=['account','contact']. The
// answer is a RetrieveTotalRecordCountResponse whose
// EntityRecordCountCollection lists Keys (logical names) and Values
// (counts) in the order asked. Dataverse answers from a snapshot taken
// within the last 24 hours; the emulator's snapshot is the current count.
func (e *Emulator) serveRecordCount(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet {
		badRequest("RetrieveTotalRecordCount is a function; call it with GET.").write(w)
		return
	}
	q := odataQuery(r.URL.RawQuery)
	if aerr := metaOptions(q); aerr != nil {
		aerr.write(w)
		return
	}
	arg, ok := strings.CutPrefix(rest, "RetrieveTotalRecordCount(")
	arg, closed := strings.CutSuffix(arg, ")")
	name, val, hasEq := strings.Cut(arg, "=")
	if !ok || !closed || !hasEq || strings.TrimSpace(name) != "EntityNames" {
		badRequest("RetrieveTotalRecordCount takes one parameter, EntityNames: RetrieveTotalRecordCount(EntityNames=@p1)?@p1=[\"account\"]").write(w)
		return
	}
	val = strings.TrimSpace(val)
	if strings.HasPrefix(val, "@") {
		v, ok := q[val]
		if !ok {
			badRequest("The parameter alias %s is not given a value in the query.", val).write(w)
			return
		}
		val = v
	}
	names, err := collectionOfStrings(val)
	if err != nil {
		badRequest("EntityNames: %v", err).write(w)
		return
	}
	counts := make([]any, len(names))
	keys := make([]string, len(names))
	e.mu.RLock()
	for i, n := range names {
		t := e.tables[n]
		if t == nil {
			e.mu.RUnlock()
			writeError(w, http.StatusNotFound, codeBadSegment, fmt.Sprintf("The entity with a name = '%s' with namemapping = 'Logical' was not found in the MetadataCache.", n))
			return
		}
		c := int64(0)
		it := e.rowIter(t, "")
		for _, ok := it.next(); ok; _, ok = it.next() {
			c++
		}
		keys[i], counts[i] = n, c
	}
	e.mu.RUnlock()
	writeObj(w, http.StatusOK, obj{
		{"@odata.context", e.baseURL(r) + "/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse"},
		{"EntityRecordCountCollection", obj{
			{"Count", len(names)},
			{"IsReadOnly", false},
			{"Keys", keys},
			{"Values", counts},
		}},
	})
}

// collectionOfStrings reads an OData collection literal of strings: JSON
// (["a","b"]) or with single quotes (['a','b']).
func collectionOfStrings(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("%q is not a collection of strings", s)
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err == nil {
		return out, nil
	}
	inner := strings.TrimSpace(s[1 : len(s)-1])
	if inner == "" {
		return []string{}, nil
	}
	for _, part := range strings.Split(inner, ",") {
		part = strings.TrimSpace(part)
		if len(part) < 2 || part[0] != '\'' || part[len(part)-1] != '\'' || strings.Contains(part[1:len(part)-1], "'") {
			return nil, fmt.Errorf("%q is not a collection of strings", s)
		}
		out = append(out, part[1:len(part)-1])
	}
	return out, nil
}
