package dvemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RetrieveMetadataChanges, the Web API function for detecting schema
// changes: GET RetrieveMetadataChanges(Query=@p1[,ClientVersionStamp=@p2]
// [,DeletedMetadataFilters=...])?@p1=<EntityQueryExpression JSON>&@p2='<stamp>'.
// Items use the Complex… type names; ServerVersionStamp is
// "<metadata version>!<MM/dd/yyyy HH:mm:ss>". With ClientVersionStamp only
// entities changed since then come back, holding only their changed
// attributes (HasChanged true; the entity itself HasChanged false).

// expireSubscriptionsInDays is Organization.ExpireSubscriptionsInDays'
// default: how long metadata version stamps stay valid.
const expireSubscriptionsInDays = 90

type metadataQuery struct {
	Properties     *propertiesExpression
	Criteria       *filterExpression
	AttributeQuery *struct {
		Properties *propertiesExpression
		Criteria   *filterExpression
	}
}

type propertiesExpression struct {
	AllProperties bool
	PropertyNames []string
}

func (p *propertiesExpression) wants(name string) bool {
	return p == nil || p.AllProperties || slices.Contains(p.PropertyNames, name)
}

type filterExpression struct {
	FilterOperator string // And (default) or Or
	Conditions     []struct {
		ConditionOperator string // Equals, NotEquals, In, NotIn
		PropertyName      string
		Value             struct {
			Type  string
			Value json.RawMessage
		}
	}
}

func (f *filterExpression) match(o obj) bool {
	if f == nil || len(f.Conditions) == 0 {
		return true
	}
	or := strings.EqualFold(f.FilterOperator, "Or")
	for _, c := range f.Conditions {
		got, _ := o.get(c.PropertyName)
		if inner, ok := got.(obj); ok { // complex values like AttributeTypeName
			got, _ = inner.get("Value")
		}
		ok := false
		for _, want := range conditionValues(c.Value.Value) {
			if strings.EqualFold(fmt.Sprint(got), want) {
				ok = true
			}
		}
		if strings.HasPrefix(c.ConditionOperator, "Not") {
			ok = !ok
		}
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
	}
	return !or
}

// conditionValues reads a condition value: a string, a number or bool, or
// an array of them (In / NotIn).
func conditionValues(raw json.RawMessage) []string {
	var list []any
	if err := json.Unmarshal(raw, &list); err != nil {
		var one any
		if json.Unmarshal(raw, &one) != nil {
			return nil
		}
		list = []any{one}
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// functionParams parses "Name(A=@p1,B=literal)" against the query's aliases.
func functionParams(rest string, q query) map[string]string {
	lp, rp := strings.IndexByte(rest, '('), strings.LastIndexByte(rest, ')')
	out := map[string]string{}
	if lp < 0 || rp < lp {
		return out
	}
	for _, p := range splitOutsideQuotes(rest[lp+1:rp], ',') {
		k, v, _ := strings.Cut(p, "=")
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "@") {
			v = q.Get(v)
		}
		out[strings.TrimSpace(k)] = strings.Trim(v, "'")
	}
	return out
}

func (e *Emulator) serveMetadataChanges(w http.ResponseWriter, r *http.Request, rest string) {
	q := odataQuery(r.URL.RawQuery)
	if aerr := metaOptions(q); aerr != nil { // parameter aliases only
		aerr.write(w)
		return
	}
	params := functionParams(rest, q)
	var mq metadataQuery
	if raw := params["Query"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &mq); err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, "Invalid Query parameter: "+err.Error())
			return
		}
	}
	since := int64(-1)
	if stamp := params["ClientVersionStamp"]; stamp != "" && stamp != "null" {
		v, at, err := parseDeltaToken(stamp)
		if err != nil {
			writeError(w, http.StatusBadRequest, codeBadRequest, "Invalid ClientVersionStamp: "+err.Error())
			return
		}
		e.mu.RLock()
		valid := !at.Before(e.started) && v <= e.metadataVersion
		e.mu.RUnlock()
		if !valid || e.now().Sub(at) > expireSubscriptionsInDays*24*time.Hour {
			e.expired(w)
			return
		}
		since = v
	}

	e.mu.RLock()
	defer e.mu.RUnlock()
	var ents []obj
	for _, name := range e.order {
		ent := e.tables[name].def
		if !mq.Criteria.match(entityObj(ent)) {
			continue
		}
		if o, ok := e.changedEntity(ent, &mq, since); ok {
			ents = append(ents, o)
		}
	}
	if ents == nil {
		ents = []obj{}
	}
	writeObj(w, http.StatusOK, obj{
		{"@odata.context", e.baseURL(r) + "/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse"},
		{"ServerVersionStamp", strconv.FormatInt(e.metadataVersion, 10) + "!" + e.now().Format(tokenTimeLayout)},
		{"DeletedMetadata", obj{{"Count", 0}, {"IsReadOnly", false}, {"Keys", []any{}}, {"Values", []any{}}}},
		{"EntityMetadata", ents},
	})
}

// changedEntity renders one entity for the response; ok=false when a
// ClientVersionStamp was given and nothing in it changed since.
func (e *Emulator) changedEntity(ent *Entity, mq *metadataQuery, since int64) (obj, bool) {
	var hasChanged any // null on a full read
	if since >= 0 {
		hasChanged = false
	}
	o := obj{{"MetadataId", metadataID(ent.LogicalName)}, {"LogicalName", ent.LogicalName}, {"HasChanged", hasChanged}}
	for _, m := range entityObj(ent) {
		if m.k != "MetadataId" && m.k != "LogicalName" && mq.Properties.wants(m.k) {
			o = append(o, m)
		}
	}
	changed := since < 0
	if mq.Properties.wants("Attributes") {
		var ap *propertiesExpression
		var ac *filterExpression
		if mq.AttributeQuery != nil {
			ap, ac = mq.AttributeQuery.Properties, mq.AttributeQuery.Criteria
		}
		attrs := []obj{}
		for i := range ent.Attributes {
			a := &ent.Attributes[i]
			full := castObj(ent, a, i)
			if !ac.match(full) || (since >= 0 && a.changedAt <= since) {
				continue
			}
			changed = true
			var ahc any
			if since >= 0 {
				ahc = true
			}
			ao := obj{{"@odata.type", "#Microsoft.Dynamics.CRM.Complex" + strings.TrimPrefix(a.odataType(), "#Microsoft.Dynamics.CRM.")},
				{"MetadataId", metadataID(ent.LogicalName, a.LogicalName)}, {"LogicalName", a.LogicalName}, {"HasChanged", ahc}}
			for _, m := range full {
				switch m.k {
				case "@odata.type", "MetadataId", "LogicalName":
				default:
					if ap.wants(m.k) {
						ao = append(ao, m)
					}
				}
			}
			if hasOptionSet(a) && ap.wants("OptionSet") {
				os := optionSetObj(ent, a)
				ao = append(ao, member{"OptionSet", append(obj{{"@odata.type", "#Microsoft.Dynamics.CRM.ComplexOptionSetMetadata"}}, os...)})
			}
			attrs = append(attrs, ao)
		}
		o = append(o, member{"Attributes", attrs})
	}
	return o, changed
}
