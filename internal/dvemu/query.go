package dvemu

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Query options of reads on an entity set. Every option is either served,
// refused as Dataverse refuses it (400), or refused as not implemented by
// the emulator (501): none is silently ignored.

// servedNowhere are OData or Dataverse options the emulator never serves.
var servedNowhere = map[string]bool{
	"$apply": true, "$search": true, "$skip": true, "$compute": true, "$format": true,
	"$levels": true, "$index": true, "$schemaversion": true, "$id": true,
	"savedQuery": true, "userQuery": true,
}

// readKind says which options a read accepts.
type readKind int

const (
	readPlain    readKind = iota // GET {set}: $select, $filter, $orderby, $top, $count, fetchXml
	readTracking                 // change tracking: $select only, plus the links' tokens
	readCount                    // GET {set}/$count: $filter, or $deltatoken
)

// checkOptions refuses the query options a read cannot serve. Options are
// checked in name order so the answer does not depend on map order.
func checkOptions(q query, kind readKind) *apiError {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if err := checkOption(q, k, kind); err != nil {
			return err
		}
	}
	if kind == readPlain && q.Has("fetchXml") {
		for _, k := range names {
			switch {
			case k == "fetchXml" || k == "$count" || strings.HasPrefix(k, "@"):
			default:
				return badRequest("The query parameter %s cannot be combined with fetchXml; the fetch element carries the whole query.", k)
			}
		}
	}
	return nil
}

func checkOption(q query, k string, kind readKind) *apiError {
	switch k {
	case "$deltatoken":
		return nil
	case "$skiptoken", "$select":
		if kind == readCount {
			return badRequest("The query parameter %s is not valid on $count.", k)
		}
		return nil
	case "$filter", "$orderby", "$top", "$expand":
		if kind == readTracking {
			return badRequest(`The "%s" query parameter isn't supported when Change Tracking is enabled.`, k)
		}
		if k == "$expand" {
			return notImplemented("$expand on entity sets")
		}
		if kind == readCount && k != "$filter" {
			return badRequest("The query parameter %s is not valid on $count.", k)
		}
		return nil
	case "$count":
		switch {
		case kind == readTracking:
			return notImplemented("$count with change tracking")
		case kind == readCount:
			return badRequest("The query parameter $count is not valid on $count.")
		}
		if v := q.Get(k); v != "true" && v != "false" {
			return badRequest("Invalid value '%s' for $count: expected true or false.", v)
		}
		return nil
	case "fetchXml":
		if kind != readPlain {
			return notImplemented("fetchXml with change tracking or $count")
		}
		return nil
	}
	switch {
	case strings.HasPrefix(k, "@"):
		return nil // parameter alias, resolved where it is used
	case servedNowhere[k]:
		return notImplemented("the query option %s", k)
	case strings.HasPrefix(k, "$"):
		return badRequest("The query parameter '%s' is not supported.", k)
	}
	return notImplemented("the query parameter '%s'", k)
}

// rowQuery is what a plain read selects and in which order.
type rowQuery struct {
	filter predicate  // nil: every row
	order  []orderKey // nil: primary key order
	count  bool       // $count=true: add @odata.count
	top    int
	hasTop bool
	// echo is the part of the query a nextLink repeats besides $select
	// ($filter, $orderby, $count and parameter aliases), already escaped.
	echo string
}

// pkOrder reports whether the read follows the primary key ascending, the
// order paging cookies resume from.
func (rq *rowQuery) pkOrder(ent *Entity) bool {
	if rq == nil || len(rq.order) == 0 {
		return true
	}
	return len(rq.order) == 1 && !rq.order[0].desc && rq.order[0].f.idx >= 0 && ent.Attributes[rq.order[0].f.idx].IsPrimaryID
}

func (rq *rowQuery) match(vals []any, version int64) bool {
	return rq == nil || rq.filter == nil || rq.filter(rowView{vals: vals, version: version})
}

// parseRowQuery reads $filter, $orderby, $top and $count of a plain read.
func parseRowQuery(ent *Entity, q query) (*rowQuery, *apiError) {
	rq := &rowQuery{}
	var err *apiError
	if rq.filter, err = compileFilter(ent, q.Get("$filter"), q); err != nil {
		return nil, err
	}
	if s := q.Get("$orderby"); s != "" {
		if rq.order, err = parseOrderBy(ent, s); err != nil {
			return nil, err
		}
	}
	if q.Has("$top") {
		n, perr := strconv.Atoi(q.Get("$top"))
		if perr != nil || n < 0 {
			return nil, &apiError{status: 400, code: codeBadRequest, message: fmt.Sprintf("Invalid $top value %q.", q.Get("$top"))}
		}
		rq.top, rq.hasTop = n, true
	}
	rq.count = q.Get("$count") == "true"
	var echo []string
	for _, k := range []string{"$filter", "$orderby", "$count"} {
		if q.Has(k) {
			echo = append(echo, k+"="+escapeLower(q.Get(k), "',()"))
		}
	}
	var aliases []string
	for k := range q {
		if strings.HasPrefix(k, "@") {
			aliases = append(aliases, k)
		}
	}
	slices.Sort(aliases)
	for _, k := range aliases {
		echo = append(echo, escapeLower(k, "@")+"="+escapeLower(q.Get(k), "',()[]"))
	}
	rq.echo = strings.Join(echo, "&")
	return rq, nil
}

// maxCount is the most @odata.count reports (count-rows documentation).
const maxCount = 5000
