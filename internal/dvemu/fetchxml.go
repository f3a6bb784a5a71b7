package dvemu

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// FetchXML over the Web API (GET {set}?fetchXml=...): one entity, attribute
// lists (or all-attributes), filters of simple conditions, orders, top, and
// simple or cookie paging with count and page. Anything else in the fetch
// (link-entity, aggregates, aliases, other operators) is refused with 501.

// xnode is a generic XML element, so that every attribute and child can be
// checked and the unknown ones refused.
type xnode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xnode    `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *xnode) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// onlyAttrs refuses attributes of n outside allowed.
func (n *xnode) onlyAttrs(allowed ...string) *apiError {
	for _, a := range n.Attrs {
		if !slices.Contains(allowed, a.Name.Local) {
			return notImplemented("the attribute '%s' of the fetchXml %s element", a.Name.Local, n.XMLName.Local)
		}
	}
	return nil
}

// fetchQuery is a parsed fetch element.
type fetchQuery struct {
	cols       []column
	allColumns bool
	filter     predicate
	order      []orderKey
	top        int // 0: none
	count      int // page size; 0: not given
	page       int
	cookieLast string // primary key of the last row of the previous page, from paging-cookie
}

func (e *Emulator) serveFetchXML(w http.ResponseWriter, req *readRequest, q query) {
	if req.pref.maxPageSize > 0 {
		notImplemented("odata.maxpagesize with fetchXml; page with the fetch element's count and page attributes").write(w)
		return
	}
	fq, err := parseFetch(req.ent, q.Get("fetchXml"))
	if err != nil {
		err.write(w)
		return
	}
	req.cols, req.omitNulls = fq.cols, true
	rq := &rowQuery{filter: fq.filter, order: fq.order, count: q.Get("$count") == "true"}
	req.rows = rq

	size := MaxPageSize
	switch {
	case fq.top > 0:
		size = fq.top
	case fq.count > 0:
		size = min(fq.count, MaxPageSize)
	}
	page := max(fq.page, 1)
	var all []rowOut
	more := false
	e.mu.RLock()
	if rq.pkOrder(req.ent) && (fq.cookieLast != "" || page == 1) {
		// Cookie paging: resume after the previous page's last id.
		it := e.rowIter(req.t, fq.cookieLast)
		for id, ok := it.next(); ok; id, ok = it.next() {
			vals, version, _ := e.row(req.t, id)
			if !rq.match(vals, version) {
				continue
			}
			if len(all) == size {
				more = true
				break
			}
			all = append(all, rowOut{id: id, version: version, vals: vals})
		}
	} else {
		// Simple paging: the page-th slice of the ordered rows.
		it := e.rowIter(req.t, "")
		for id, ok := it.next(); ok; id, ok = it.next() {
			vals, version, _ := e.row(req.t, id)
			if rq.match(vals, version) {
				all = append(all, rowOut{id: id, version: version, vals: vals})
			}
		}
		slices.SortStableFunc(all, func(a, b rowOut) int {
			return compareRows(rq.order, rowView{vals: a.vals, version: a.version}, rowView{vals: b.vals, version: b.version})
		})
		from := min((page-1)*size, len(all))
		more = from+size < len(all)
		all = all[from:min(from+size, len(all))]
	}
	e.mu.RUnlock()
	if fq.top > 0 {
		more = false
	}

	var count int
	if rq.count {
		count = e.countMatching(req.t, rq, maxCount+1)
	}
	e.preferenceApplied(w, req)
	enc, flush := startJSON(w, http.StatusOK)
	defer flush()
	_ = enc.WriteToken(jsontext.BeginObject)
	_ = enc.WriteToken(jsontext.String("@odata.context"))
	_ = enc.WriteToken(jsontext.String(fetchContext(req, fq)))
	if rq.count {
		_ = enc.WriteToken(jsontext.String("@odata.count"))
		_ = enc.WriteToken(jsontext.Int(int64(min(count, maxCount))))
	}
	if req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcount") {
		total := int64(-1)
		if rq.count {
			total = int64(min(count, maxCount))
		}
		_ = enc.WriteToken(jsontext.String("@Microsoft.Dynamics.CRM.totalrecordcount"))
		_ = enc.WriteToken(jsontext.Int(total))
	}
	if req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
		_ = enc.WriteToken(jsontext.String("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"))
		_ = enc.WriteToken(jsontext.Bool(rq.count && count > maxCount))
	}
	e.writeMetadataVersion(enc, req)
	// On the last page neither annotation is sent (documented).
	if more && len(all) > 0 {
		if req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.fetchxmlpagingcookie") {
			inner := fmt.Sprintf(`<cookie page="%d"><%s last="{%s}" first="{%s}" /></cookie>`, page, req.ent.PrimaryID,
				strings.ToUpper(all[len(all)-1].id), strings.ToUpper(all[0].id))
			cookie := fmt.Sprintf(`<cookie pagenumber="%d" pagingcookie="%s" istracking="False" />`, page+1, escapeLower(escapeLower(inner, ""), ""))
			_ = enc.WriteToken(jsontext.String("@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"))
			_ = enc.WriteToken(jsontext.String(cookie))
		}
		if req.pref.wantsAnnotation("Microsoft.Dynamics.CRM.morerecords") {
			_ = enc.WriteToken(jsontext.String("@Microsoft.Dynamics.CRM.morerecords"))
			_ = enc.WriteToken(jsontext.True)
		}
	}
	e.writeRows(enc, req, all)
	_ = enc.WriteToken(jsontext.EndObject)
}

// fetchContext lists the returned columns and the primary key, as the
// documented fetchXml answers do.
func fetchContext(req *readRequest, fq *fetchQuery) string {
	s := req.base + "/api/data/v9.2/$metadata#" + req.ent.EntitySetName
	if fq.allColumns {
		return s
	}
	var names []string
	for _, c := range fq.cols {
		names = append(names, c.key)
	}
	if !slices.Contains(names, req.ent.PrimaryID) {
		names = append(names, req.ent.PrimaryID)
	}
	return s + "(" + strings.Join(names, ",") + ")"
}

// parseFetch reads and checks a fetch element for ent.
func parseFetch(ent *Entity, src string) (*fetchQuery, *apiError) {
	var root xnode
	if err := xml.Unmarshal([]byte(src), &root); err != nil {
		return nil, badRequest("The fetchXml is not valid XML: %v.", err)
	}
	if root.XMLName.Local != "fetch" {
		return nil, badRequest("The fetchXml root element must be fetch, not %s.", root.XMLName.Local)
	}
	if err := root.onlyAttrs("top", "count", "page", "paging-cookie", "mapping", "version", "output-format", "distinct", "no-lock", "aggregate", "options"); err != nil {
		return nil, err
	}
	for _, a := range []struct{ name, want string }{{"mapping", "logical"}, {"distinct", "false"}, {"aggregate", "false"}, {"output-format", "xml-platform"}} {
		if v, ok := root.attr(a.name); ok && v != a.want {
			return nil, notImplemented("the fetch attribute %s='%s'", a.name, v)
		}
	}
	fq := &fetchQuery{}
	intAttr := func(name string) (int, *apiError) {
		v, ok := root.attr(name)
		if !ok {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return 0, badRequest("The fetch attribute %s='%s' must be a positive integer.", name, v)
		}
		return n, nil
	}
	var err *apiError
	if fq.top, err = intAttr("top"); err != nil {
		return nil, err
	}
	if fq.count, err = intAttr("count"); err != nil {
		return nil, err
	}
	if fq.page, err = intAttr("page"); err != nil {
		return nil, err
	}
	if fq.top > MaxPageSize {
		return nil, badRequest("The fetch attribute top='%d' cannot exceed %d.", fq.top, MaxPageSize)
	}
	if fq.top > 0 && (fq.count > 0 || fq.page > 0) {
		return nil, badRequest("The fetch attribute top cannot be used with the paging attributes count and page.")
	}
	if c, ok := root.attr("paging-cookie"); ok && strings.TrimSpace(c) != "" {
		last, perr := cookieLastID(c, ent.PrimaryID)
		if perr != nil {
			return nil, perr
		}
		fq.cookieLast = last
	}
	if len(root.Children) != 1 || root.Children[0].XMLName.Local != "entity" {
		return nil, badRequest("The fetch element must hold exactly one entity element.")
	}
	en := &root.Children[0]
	if err := en.onlyAttrs("name"); err != nil {
		return nil, err
	}
	if name, _ := en.attr("name"); name != ent.LogicalName {
		return nil, badRequest("The fetchXml entity '%s' does not match the entity set '%s' (entity %s).", name, ent.EntitySetName, ent.LogicalName)
	}
	var names []string
	var filters []predicate
	for i := range en.Children {
		c := &en.Children[i]
		switch c.XMLName.Local {
		case "attribute":
			if err := c.onlyAttrs("name"); err != nil {
				return nil, err
			}
			n, _ := c.attr("name")
			names = append(names, n)
		case "all-attributes":
			fq.allColumns = true
		case "order":
			if err := c.onlyAttrs("attribute", "descending"); err != nil {
				return nil, err
			}
			k, err := fetchOrder(ent, c)
			if err != nil {
				return nil, err
			}
			fq.order = append(fq.order, k)
		case "filter":
			p, err := fetchFilter(ent, c)
			if err != nil {
				return nil, err
			}
			filters = append(filters, p)
		default:
			return nil, notImplemented("the fetchXml element %s", c.XMLName.Local)
		}
	}
	if len(filters) > 0 {
		fq.filter = and(filters...)
	}
	if len(names) == 0 {
		fq.allColumns = true
	}
	if fq.allColumns {
		names = nil
	}
	for _, n := range names {
		if _, a := ent.attr(n); a == nil || !a.stored() {
			return nil, &apiError{status: http.StatusBadRequest, code: codeQueryNoAttribute,
				message: fmt.Sprintf("'%s' entity doesn't contain attribute with Name = '%s' and NameMapping = 'Logical'.", ent.LogicalName, n)}
		}
	}
	cols, serr := selectColumns(ent, names)
	if serr != nil {
		return nil, badRequest("%s", serr.Error())
	}
	fq.cols = cols
	return fq, nil
}

// codeQueryNoAttribute is QueryBuilderNoAttribute: a fetch names a column
// the entity lacks.
const codeQueryNoAttribute = "0x80041103"

func fetchOrder(ent *Entity, c *xnode) (orderKey, *apiError) {
	name, _ := c.attr("attribute")
	f, err := resolveField(ent, name, true)
	if err != nil {
		return orderKey{}, err
	}
	if f.ref {
		return orderKey{}, notImplemented("ordering fetchXml on the lookup '%s'", name)
	}
	if f.idx >= 0 {
		switch ent.Attributes[f.idx].Type {
		case Picklist, State, Status, Boolean:
			// FetchXML orders choices by their label, not their value.
			return orderKey{}, notImplemented("ordering fetchXml on the choice column '%s' (Dataverse orders it by label)", name)
		}
	}
	desc := false
	if v, ok := c.attr("descending"); ok {
		switch v {
		case "true", "1":
			desc = true
		case "false", "0":
		default:
			return orderKey{}, badRequest("The order attribute descending='%s' must be true or false.", v)
		}
	}
	return orderKey{f: f, desc: desc}, nil
}

// fetchFilter compiles a filter element: conditions and nested filters
// joined by its type (and, the default, or or).
func fetchFilter(ent *Entity, n *xnode) (predicate, *apiError) {
	if err := n.onlyAttrs("type"); err != nil {
		return nil, err
	}
	typ, _ := n.attr("type")
	if typ == "" {
		typ = "and"
	}
	if typ != "and" && typ != "or" {
		return nil, badRequest("The filter type '%s' must be and or or.", typ)
	}
	var parts []predicate
	for i := range n.Children {
		c := &n.Children[i]
		var p predicate
		var err *apiError
		switch c.XMLName.Local {
		case "condition":
			p, err = fetchCondition(ent, c)
		case "filter":
			p, err = fetchFilter(ent, c)
		default:
			err = notImplemented("the fetchXml element %s inside filter", c.XMLName.Local)
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return func(rowView) bool { return true }, nil
	}
	if typ == "or" {
		return or(parts...), nil
	}
	return and(parts...), nil
}

func fetchCondition(ent *Entity, c *xnode) (predicate, *apiError) {
	if err := c.onlyAttrs("attribute", "operator", "value"); err != nil {
		return nil, err
	}
	name, _ := c.attr("attribute")
	op, _ := c.attr("operator")
	f, err := resolveField(ent, name, true)
	if err != nil {
		return nil, err
	}
	value, hasValue := c.attr("value")
	var listed []string
	for i := range c.Children {
		v := &c.Children[i]
		if v.XMLName.Local != "value" {
			return nil, notImplemented("the fetchXml element %s inside condition", v.XMLName.Local)
		}
		listed = append(listed, strings.TrimSpace(v.Text))
	}
	convert := func(s string) (any, *apiError) {
		v, err := f.convert(s)
		if err != nil {
			return nil, badRequest("The condition value '%s' does not fit the %s column '%s'.", s, f.edm, name)
		}
		return v, nil
	}
	switch op {
	case "eq", "ne", "neq", "gt", "ge", "lt", "le":
		if !hasValue {
			return nil, badRequest("The condition operator '%s' on '%s' needs a value.", op, name)
		}
		v, err := convert(value)
		if err != nil {
			return nil, err
		}
		if op == "neq" {
			op = "ne"
		}
		return comparison(f, op, v)
	case "null":
		return comparison(f, "eq", nil)
	case "not-null":
		return comparison(f, "ne", nil)
	case "in", "not-in":
		if hasValue {
			listed = append(listed, value)
		}
		values := make([]any, 0, len(listed))
		for _, s := range listed {
			v, err := convert(s)
			if err != nil {
				return nil, err
			}
			values = append(values, v)
		}
		return membership(f, values, op == "not-in"), nil
	case "like", "not-like":
		if f.kind != kString {
			return nil, badRequest("The condition operator '%s' needs a text column; '%s' is %s.", op, name, f.edm)
		}
		re, err := likePattern(value)
		if err != nil {
			return nil, err
		}
		neg := op == "not-like"
		return func(r rowView) bool {
			v, ok := f.get(r).(string)
			return ok && re.MatchString(v) != neg
		}, nil
	}
	return nil, notImplemented("the fetchXml condition operator '%s'", op)
}

// likePattern turns a SQL LIKE pattern with % and _ into a case-insensitive
// regular expression. Bracket sets are refused.
func likePattern(p string) (*regexp.Regexp, *apiError) {
	if strings.ContainsAny(p, "[]") {
		return nil, notImplemented("[ ] sets in like patterns")
	}
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range p {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()), nil
}

// cookieLastID reads the primary key's last id from a paging cookie
// (<cookie page="1"><accountid last="{..}" first="{..}" /></cookie>).
func cookieLastID(s, primaryID string) (string, *apiError) {
	var in innerCookie
	if err := xml.Unmarshal([]byte(s), &in); err != nil {
		return "", badRequest("The paging-cookie is not valid: %v.", err)
	}
	for _, it := range in.Items {
		if it.XMLName.Local == primaryID {
			return strings.ToLower(strings.Trim(it.Last, "{}")), nil
		}
	}
	return "", nil
}
