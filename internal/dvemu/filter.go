package dvemu

import (
	"fmt"
	"strconv"
	"strings"
)

// filter is a conjunction of "Prop eq value" / "Prop ne value" clauses, the
// subset of OData $filter metadata queries use. Prop may be "X/Value".
type filter []clause

type clause struct {
	path []string
	op   string
	val  string
}

// parseFilter reads a metadata $filter; other forms answer 501.
func parseFilter(s string) (filter, *apiError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var f filter
	for _, part := range strings.Split(s, " and ") {
		fs := strings.Fields(strings.TrimSpace(strings.Trim(strings.TrimSpace(part), "()")))
		if len(fs) != 3 || (fs[1] != "eq" && fs[1] != "ne") {
			return nil, notImplemented("this metadata $filter: only 'Prop eq value' and 'Prop ne value' clauses joined by 'and', got %q", part)
		}
		val := fs[2]
		if i := strings.IndexByte(val, '\''); i >= 0 { // 'x' or Namespace.Enum'x'
			val = strings.Trim(val[i:], "'")
		}
		f = append(f, clause{path: strings.Split(fs[0], "/"), op: fs[1], val: val})
	}
	return f, nil
}

func (f filter) match(o obj) bool {
	for _, c := range f {
		var cur any = o
		for _, p := range c.path {
			ob, ok := cur.(obj)
			if !ok {
				cur = nil
				break
			}
			cur, _ = ob.get(p)
		}
		var s string
		switch x := cur.(type) {
		case string:
			s = x
		case bool:
			s = strconv.FormatBool(x)
		case int:
			s = strconv.Itoa(x)
		case nil:
			s = "null"
		default:
			s = fmt.Sprint(x)
		}
		if (s == c.val) != (c.op == "eq") {
			return false
		}
	}
	return true
}

// check refuses clauses on properties the object's type does not have, so
// a misspelt property is an error rather than an empty result.
func (f filter) check(o obj, typeName string) *apiError {
	for _, c := range f {
		if _, ok := o.get(c.path[0]); !ok {
			return badRequest("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", c.path[0], typeName)
		}
	}
	return nil
}
