package dvemu

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Row filters: the subset of OData $filter (and of FetchXML conditions, see
// fetchxml.go) the emulator evaluates on data rows. Anything outside it is
// refused with 501 by the parser, never ignored.

// rowView is what a filter or an order sees of a row.
type rowView struct {
	vals    []any
	version int64
}

// predicate decides whether a row is in the result.
type predicate func(rowView) bool

// cmpKind is how the values of a field compare.
type cmpKind int

const (
	kString   cmpKind = iota // case-insensitive, as SQL Server's collation
	kInt                     // int64
	kDecimal                 // decimal.Decimal
	kDateTime                // time.Time
	kDate                    // time.Time at midnight UTC
	kBool                    // bool: eq and ne only
	kGUID                    // lowercase text: eq and ne only (no order, see doc.go)
)

// field is a column a filter or an order reads.
type field struct {
	name string // as the request names it
	idx  int    // attribute index; -1 for versionnumber
	kind cmpKind
	edm  string // EDM type, for error messages
	ref  bool   // a lookup: the value is a Ref, compared by id
}

// resolveField finds a filterable column. In OData a lookup is named
// _<name>_value (its logical name is a navigation property); in FetchXML by
// its logical name (lookupByName).
func resolveField(ent *Entity, name string, lookupByName bool) (field, *apiError) {
	if strings.Contains(name, "/") {
		return field{}, notImplemented("the property path '%s': only the entity's own columns can be filtered or ordered on", name)
	}
	if name == "versionnumber" {
		return field{name: name, idx: -1, kind: kInt, edm: "Edm.Int64"}, nil
	}
	notFound := badRequest("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", name, ent.LogicalName)
	lname := name
	isValueForm := false
	if inner, ok := strings.CutPrefix(name, "_"); ok {
		if base, ok := strings.CutSuffix(inner, "_value"); ok {
			lname, isValueForm = base, true
		}
	}
	i, a := ent.attr(lname)
	if a == nil || !a.stored() || a.NotValidForRead {
		return field{}, notFound
	}
	if a.Type.IsLookup() {
		if isValueForm == lookupByName {
			return field{}, notFound
		}
		return field{name: name, idx: i, kind: kGUID, edm: "Edm.Guid", ref: true}, nil
	}
	if isValueForm {
		return field{}, notFound
	}
	f := field{name: name, idx: i}
	switch a.Type {
	case String, Memo, EntityName:
		f.kind, f.edm = kString, "Edm.String"
	case Integer, Picklist, State, Status:
		f.kind, f.edm = kInt, "Edm.Int32"
	case BigInt:
		f.kind, f.edm = kInt, "Edm.Int64"
	case Decimal, Money:
		f.kind, f.edm = kDecimal, "Edm.Decimal"
	case Double:
		f.kind, f.edm = kDecimal, "Edm.Double"
	case DateTime:
		f.kind, f.edm = kDateTime, "Edm.DateTimeOffset"
		if a.DateTimeBehavior == "DateOnly" {
			f.kind, f.edm = kDate, "Edm.Date"
		}
	case Boolean:
		f.kind, f.edm = kBool, "Edm.Boolean"
	case Uniqueidentifier:
		f.kind, f.edm = kGUID, "Edm.Guid"
	default:
		return field{}, notImplemented("filtering or ordering on the %s column '%s'", a.Type, name)
	}
	return f, nil
}

// get returns the row's value in its comparable form, nil for null.
func (f field) get(r rowView) any {
	if f.idx < 0 {
		return r.version
	}
	if f.idx >= len(r.vals) || r.vals[f.idx] == nil {
		return nil
	}
	v := r.vals[f.idx]
	switch f.kind {
	case kGUID:
		if ref, ok := v.(Ref); ok {
			return ref.ID
		}
		s, _ := v.(string)
		return strings.ToLower(s)
	case kDecimal:
		s, _ := v.(string)
		d, err := decimal.NewFromString(s)
		if err != nil {
			return nil
		}
		return d
	}
	return v
}

// convert reads a value given as text (FetchXML values, In lists) in the
// field's comparable form.
func (f field) convert(s string) (any, error) {
	switch f.kind {
	case kString:
		return s, nil
	case kInt:
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	case kDecimal:
		return decimal.NewFromString(strings.TrimSpace(s))
	case kDateTime, kDate:
		t, err := parseDateLiteral(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		if f.kind == kDate {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return t, nil
	case kBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a Boolean", s)
	case kGUID:
		u, err := uuid.Parse(strings.Trim(strings.TrimSpace(s), "{}"))
		if err != nil {
			return nil, fmt.Errorf("%q is not a Guid", s)
		}
		return u.String(), nil
	}
	return nil, fmt.Errorf("cannot compare %q", s)
}

func parseDateLiteral(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date", s)
}

// compareValues orders two non-null comparable values of one kind.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(strings.ToLower(x), strings.ToLower(b.(string)))
	case int64:
		y := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case decimal.Decimal:
		return x.Cmp(b.(decimal.Decimal))
	case time.Time:
		return x.Compare(b.(time.Time))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	return 0
}

// comparison builds the predicate "field op literal"; lit nil is null.
// Nulls follow SQL: only eq null / ne null match them (doc.go).
func comparison(f field, op string, lit any) (predicate, *apiError) {
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		return nil, notImplemented("the operator '%s'", op)
	}
	if lit != nil && op != "eq" && op != "ne" && (f.kind == kBool || f.kind == kGUID) {
		if f.kind == kGUID {
			return nil, notImplemented("'%s' on the Guid column '%s': the emulator orders Guids as text, SQL Server does not", op, f.name)
		}
		return nil, badRequest("The operator '%s' is not defined for %s.", op, f.edm)
	}
	if lit == nil {
		switch op {
		case "eq":
			return func(r rowView) bool { return f.get(r) == nil }, nil
		case "ne":
			return func(r rowView) bool { return f.get(r) != nil }, nil
		}
		return func(rowView) bool { return false }, nil
	}
	test := map[string]func(int) bool{
		"eq": func(c int) bool { return c == 0 }, "ne": func(c int) bool { return c != 0 },
		"gt": func(c int) bool { return c > 0 }, "ge": func(c int) bool { return c >= 0 },
		"lt": func(c int) bool { return c < 0 }, "le": func(c int) bool { return c <= 0 },
	}[op]
	return func(r rowView) bool {
		v := f.get(r)
		return v != nil && test(compareValues(v, lit))
	}, nil
}

// membership builds In / NotIn over converted values.
func membership(f field, values []any, negate bool) predicate {
	return func(r rowView) bool {
		v := f.get(r)
		if v == nil {
			return false
		}
		for _, x := range values {
			if compareValues(v, x) == 0 {
				return !negate
			}
		}
		return negate
	}
}

func and(ps ...predicate) predicate {
	return func(r rowView) bool {
		for _, p := range ps {
			if !p(r) {
				return false
			}
		}
		return true
	}
}

func or(ps ...predicate) predicate {
	return func(r rowView) bool {
		for _, p := range ps {
			if p(r) {
				return true
			}
		}
		return false
	}
}

// ---- OData $filter parsing ----

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString   // '...' with '' for a quote
	tDQString // "..." (PropertyValues lists)
	tLParen
	tRParen
	tComma
	tLBracket
	tRBracket
	tEquals
	tAlias // @p1
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func isWordChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_./-:+", c) >= 0
}

// tokenize splits an OData expression. The message of an unterminated
// string is Dataverse's documented one.
func tokenize(src string) ([]token, *apiError) {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, badRequest("There is an unterminated literal at position %d in '%s'.", i, src)
				}
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(src[j])
				j++
			}
			out = append(out, token{kind: tString, text: b.String(), pos: i})
			i = j + 1
		case c == '"':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(src) {
					return nil, badRequest("There is an unterminated literal at position %d in '%s'.", i, src)
				}
				if src[j] == '\\' && j+1 < len(src) {
					b.WriteByte(src[j+1])
					j += 2
					continue
				}
				if src[j] == '"' {
					break
				}
				b.WriteByte(src[j])
				j++
			}
			out = append(out, token{kind: tDQString, text: b.String(), pos: i})
			i = j + 1
		case c == '@':
			j := i + 1
			for j < len(src) && isWordChar(src[j]) {
				j++
			}
			out = append(out, token{kind: tAlias, text: src[i:j], pos: i})
			i = j
		case strings.IndexByte("()[],=", c) >= 0:
			k := map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBracket, ']': tRBracket, ',': tComma, '=': tEquals}[c]
			out = append(out, token{kind: k, text: string(c), pos: i})
			i++
		case isWordChar(c):
			j := i
			for j < len(src) && isWordChar(src[j]) {
				j++
			}
			out = append(out, token{kind: tWord, text: src[i:j], pos: i})
			i = j
		default:
			return nil, badRequest("Syntax error: character '%c' is not valid at position %d in '%s'.", c, i, src)
		}
	}
	return append(out, token{kind: tEOF, pos: len(src)}), nil
}

// filterParser compiles $filter for one entity. aliases holds the
// request's parameter aliases (@p1=...).
type filterParser struct {
	src     string
	toks    []token
	i       int
	ent     *Entity
	aliases query
}

// compileFilter parses $filter into a predicate; "" matches every row.
func compileFilter(ent *Entity, src string, aliases query) (predicate, *apiError) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &filterParser{src: src, toks: toks, ent: ent, aliases: aliases}
	pred, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.syntax(t)
	}
	return pred, nil
}

func (p *filterParser) peek() token { return p.toks[p.i] }
func (p *filterParser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *filterParser) syntax(t token) *apiError {
	if t.kind == tEOF {
		return badRequest("Syntax error: the expression ended early at position %d in '%s'.", t.pos, p.src)
	}
	return badRequest("Syntax error at position %d in '%s'.", t.pos, p.src)
}

func (p *filterParser) keyword(w string) bool {
	t := p.peek()
	return t.kind == tWord && t.text == w
}

func (p *filterParser) expr() (predicate, *apiError) {
	left, err := p.andExpr()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		p.next()
		right, err := p.andExpr()
		if err != nil {
			return nil, err
		}
		left = or(left, right)
	}
	return left, nil
}

func (p *filterParser) andExpr() (predicate, *apiError) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = and(left, right)
	}
	return left, nil
}

func (p *filterParser) unary() (predicate, *apiError) {
	if p.keyword("not") {
		p.next()
		inner, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(r rowView) bool { return !inner(r) }, nil
	}
	return p.primary()
}

func (p *filterParser) primary() (predicate, *apiError) {
	t := p.peek()
	if t.kind == tLParen {
		p.next()
		inner, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			return nil, p.syntax(p.toks[p.i-1])
		}
		return inner, nil
	}
	if t.kind == tWord && p.toks[p.i+1].kind == tLParen {
		return p.function()
	}
	return p.comparison()
}

// operand is one side of a comparison: a property name or a literal.
type operand struct {
	prop string // set for a property
	tok  token  // the literal otherwise
}

func (p *filterParser) operand() (operand, *apiError) {
	t := p.next()
	switch t.kind {
	case tString, tDQString:
		return operand{tok: t}, nil
	case tAlias:
		lit, err := p.alias(t)
		if err != nil {
			return operand{}, err
		}
		return operand{tok: lit}, nil
	case tWord:
		if isLiteralWord(t.text) {
			return operand{tok: t}, nil
		}
		return operand{prop: t.text}, nil
	}
	return operand{}, p.syntax(t)
}

// alias resolves a parameter alias to the single literal it holds.
func (p *filterParser) alias(t token) (token, *apiError) {
	raw, ok := p.aliases[t.text]
	if !ok {
		return token{}, badRequest("The parameter alias '%s' in '%s' has no value in the query string.", t.text, p.src)
	}
	toks, err := tokenize(raw)
	if err != nil {
		return token{}, err
	}
	if len(toks) != 2 || (toks[0].kind != tString && toks[0].kind != tWord && toks[0].kind != tDQString) {
		return token{}, badRequest("The parameter alias '%s' must hold one literal, got '%s'.", t.text, raw)
	}
	return toks[0], nil
}

// isLiteralWord reports whether an unquoted word is a literal (null,
// true, false, a number, a Guid or a date) rather than a property name.
func isLiteralWord(w string) bool {
	switch w {
	case "null", "true", "false":
		return true
	}
	if _, err := uuid.Parse(w); err == nil && len(w) == 36 {
		return true
	}
	c := w[0]
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.'
}

var opKinds = map[string]string{"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual", "lt": "LessThan", "le": "LessThanOrEqual"}

func (p *filterParser) comparison() (predicate, *apiError) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	opTok := p.next()
	if opTok.kind != tWord {
		return nil, p.syntax(opTok)
	}
	op := opTok.text
	if _, ok := opKinds[op]; !ok {
		switch op {
		case "in", "has", "add", "sub", "mul", "div", "mod":
			return nil, notImplemented("the operator '%s' in $filter", op)
		}
		return nil, p.syntax(opTok)
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch {
	case left.prop != "" && right.prop != "":
		return nil, notImplemented("comparing two columns ('%s %s %s')", left.prop, op, right.prop)
	case left.prop == "" && right.prop == "":
		return nil, notImplemented("comparing two literals in $filter")
	case left.prop == "":
		// literal op property: mirror the operator.
		left, right = right, left
		op = map[string]string{"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}[op]
	}
	f, aerr := resolveField(p.ent, left.prop, false)
	if aerr != nil {
		return nil, aerr
	}
	lit, aerr := literalFor(f, right.tok, opKinds[op])
	if aerr != nil {
		return nil, aerr
	}
	return comparison(f, op, lit)
}

// literalFor converts an OData literal for comparison with f; nil is null.
func literalFor(f field, t token, opKind string) (any, *apiError) {
	incompatible := func(edm string) *apiError {
		return badRequest("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.", f.edm, edm, opKind)
	}
	if t.kind == tWord && t.text == "null" {
		return nil, nil
	}
	quoted := t.kind == tString || t.kind == tDQString
	if f.kind == kString {
		if !quoted {
			return nil, incompatible(wordEDM(t.text))
		}
		return t.text, nil
	}
	if quoted {
		return nil, incompatible("Edm.String")
	}
	v, err := f.convert(t.text)
	if err != nil {
		return nil, incompatible(wordEDM(t.text))
	}
	return v, nil
}

// wordEDM guesses the EDM type of an unquoted literal for messages.
func wordEDM(w string) string {
	switch {
	case w == "true" || w == "false":
		return "Edm.Boolean"
	case len(w) == 36 && strings.Count(w, "-") == 4:
		return "Edm.Guid"
	case strings.Contains(w, "T") && strings.Contains(w, ":"):
		return "Edm.DateTimeOffset"
	case strings.Count(w, "-") == 2 && len(w) == 10:
		return "Edm.Date"
	case strings.ContainsAny(w, ".eE"):
		return "Edm.Decimal"
	}
	return "Edm.Int32"
}

// function parses a function call: Microsoft.Dynamics.CRM.In and NotIn are
// served; every other function is refused.
func (p *filterParser) function() (predicate, *apiError) {
	name := p.next().text
	switch name {
	case "Microsoft.Dynamics.CRM.In", "Microsoft.Dynamics.CRM.NotIn":
	default:
		if strings.Contains(name, "/") {
			return nil, notImplemented("lambda operators and navigation paths in $filter ('%s')", name)
		}
		return nil, notImplemented("the function '%s' in $filter; only comparisons, and, or, not, parentheses and Microsoft.Dynamics.CRM.In/NotIn", name)
	}
	p.next() // (
	params := map[string][]token{}
	for {
		key := p.next()
		if key.kind != tWord {
			return nil, p.syntax(key)
		}
		if t := p.next(); t.kind != tEquals {
			return nil, p.syntax(t)
		}
		vals, err := p.paramValue()
		if err != nil {
			return nil, err
		}
		params[key.text] = vals
		t := p.next()
		if t.kind == tRParen {
			break
		}
		if t.kind != tComma {
			return nil, p.syntax(t)
		}
	}
	short := strings.TrimPrefix(name, "Microsoft.Dynamics.CRM.")
	propTok, ok := params["PropertyName"]
	if !ok || len(propTok) != 1 || propTok[0].kind != tString {
		return nil, badRequest("The function %s needs PropertyName as a string, e.g. PropertyName='name'.", short)
	}
	valToks, ok := params["PropertyValues"]
	if !ok {
		return nil, badRequest("The function %s needs PropertyValues, e.g. PropertyValues=['a','b'].", short)
	}
	if len(params) != 2 {
		return nil, badRequest("The function %s takes only PropertyName and PropertyValues.", short)
	}
	f, aerr := resolveField(p.ent, propTok[0].text, false)
	if aerr != nil {
		return nil, aerr
	}
	values := make([]any, 0, len(valToks))
	for _, t := range valToks {
		v, err := f.convert(t.text)
		if err != nil {
			return nil, badRequest("%s: PropertyValues value '%s' does not fit the %s column '%s'.", short, t.text, f.edm, f.name)
		}
		values = append(values, v)
	}
	return membership(f, values, short == "NotIn"), nil
}

// paramValue reads a function parameter: a literal, a [list] or an alias
// holding either.
func (p *filterParser) paramValue() ([]token, *apiError) {
	t := p.peek()
	if t.kind == tAlias {
		p.next()
		raw, ok := p.aliases[t.text]
		if !ok {
			return nil, badRequest("The parameter alias '%s' in '%s' has no value in the query string.", t.text, p.src)
		}
		toks, err := tokenize(raw)
		if err != nil {
			return nil, err
		}
		sub := &filterParser{src: raw, toks: toks, ent: p.ent, aliases: p.aliases}
		vals, err := sub.paramValue()
		if err != nil {
			return nil, err
		}
		if sub.peek().kind != tEOF {
			return nil, sub.syntax(sub.peek())
		}
		return vals, nil
	}
	if t.kind != tLBracket {
		p.next()
		if t.kind != tString && t.kind != tDQString && t.kind != tWord {
			return nil, p.syntax(t)
		}
		return []token{t}, nil
	}
	p.next()
	var out []token
	if p.peek().kind == tRBracket {
		p.next()
		return out, nil
	}
	for {
		v := p.next()
		if v.kind != tString && v.kind != tDQString && v.kind != tWord {
			return nil, p.syntax(v)
		}
		out = append(out, v)
		t := p.next()
		if t.kind == tRBracket {
			return out, nil
		}
		if t.kind != tComma {
			if t.kind == tString || t.kind == tDQString {
				// Dataverse's documented message for an unescaped quote in a list.
				return nil, badRequest("Invalid JSON. A comma character ',' was expected in scope 'Array'. Every two elements in an array and properties of an object must be separated by commas.")
			}
			return nil, p.syntax(t)
		}
	}
}

// ---- $orderby ----

// orderKey is one $orderby item.
type orderKey struct {
	f    field
	desc bool
}

// parseOrderBy reads "a asc,b desc". Nulls sort first ascending, as in SQL
// Server; ties are broken by the primary key (doc.go).
func parseOrderBy(ent *Entity, src string) ([]orderKey, *apiError) {
	var keys []orderKey
	for _, item := range strings.Split(src, ",") {
		fs := strings.Fields(item)
		if len(fs) == 0 || len(fs) > 2 {
			return nil, badRequest("Syntax error in $orderby '%s'.", src)
		}
		k := orderKey{}
		if len(fs) == 2 {
			switch fs[1] {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return nil, badRequest("Syntax error in $orderby '%s': expected asc or desc after '%s'.", src, fs[0])
			}
		}
		f, err := resolveField(ent, fs[0], false)
		if err != nil {
			return nil, err
		}
		if f.ref {
			return nil, notImplemented("$orderby on the lookup '%s' (Dataverse orders it by the related row's primary name)", fs[0])
		}
		k.f = f
		keys = append(keys, k)
	}
	return keys, nil
}

// compareRows orders two rows by keys; 0 when the keys tie.
func compareRows(keys []orderKey, a, b rowView) int {
	for _, k := range keys {
		va, vb := k.f.get(a), k.f.get(b)
		c := 0
		switch {
		case va == nil && vb == nil:
		case va == nil:
			c = -1
		case vb == nil:
			c = 1
		default:
			c = compareValues(va, vb)
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
