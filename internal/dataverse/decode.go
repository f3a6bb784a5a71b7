package dataverse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/go-json-experiment/json/jsontext"
)

const (
	lookupLogicalNameAnnotation = "Microsoft.Dynamics.CRM.lookuplogicalname"
	metadataVersionAnnotation   = "Microsoft.Dynamics.CRM.globalmetadataversion"
	formattedValueAnnotation    = "OData.Community.Display.V1.FormattedValue"
)

// rowPlan says, for every property name a data row may carry, what to do with it.
type rowPlan struct {
	entity  string
	idName  string
	cols    []record.Column
	keys    map[string]keySlot
	lookups []lookupSlot
	names   bool // some helper reads a FormattedValue annotation
}

type keySlot struct {
	name    string // the property name, for errors
	col     int    // index in cols, -1 when the property is not a column
	kind    record.Kind
	lookup  int // index in lookups, -1 when not a lookup
	id      bool
	version bool
}

// lookupSlot says where a lookup's value and its helper columns go.
type lookupSlot struct {
	guidCol  int
	typeCols []int      // <lookup>_entitytype and <lookup>type: the target entity
	nameCols []nameSlot // <lookup>name, <lookup>yominame: the target's name
	target   string     // the single Target, used when no annotation came
}

type nameSlot struct {
	col, max int // max: the column's MaxLength in UTF-16 code units, 0 = none
}

func newRowPlan(e *Entity, fields []Field) *rowPlan {
	p := &rowPlan{entity: e.LogicalName, idName: e.PrimaryIDAttribute, keys: make(map[string]keySlot, len(fields)+2)}
	for i, f := range fields {
		p.cols = append(p.cols, f.Column)
		if !f.Selected() {
			continue // filled with its lookup's GUID field below
		}
		s := keySlot{name: f.Key, col: i, kind: f.Column.Kind, lookup: -1}
		if f.Attribute != nil && f.Attribute.Type.IsLookup() {
			ls := lookupSlot{guidCol: i}
			if len(f.Attribute.Targets) == 1 {
				ls.target = f.Attribute.Targets[0]
			}
			s.lookup = len(p.lookups)
			p.lookups = append(p.lookups, ls)
		}
		p.keys[f.Key] = s
	}
	for i, f := range fields {
		s, ok := p.keys[f.Key]
		if f.Selected() || !ok || s.lookup < 0 {
			continue
		}
		ls := &p.lookups[s.lookup]
		switch f.Helper {
		case HelperEntityType, HelperType:
			ls.typeCols = append(ls.typeCols, i)
		case HelperName:
			ls.nameCols = append(ls.nameCols, nameSlot{col: i, max: f.Attribute.MaxLength})
			p.names = true
		}
	}
	id := p.keys[e.PrimaryIDAttribute]
	if _, ok := p.keys[e.PrimaryIDAttribute]; !ok {
		id = keySlot{name: e.PrimaryIDAttribute, col: -1, kind: record.GUID, lookup: -1}
	}
	id.id = true
	p.keys[e.PrimaryIDAttribute] = id
	p.keys[VersionAttribute] = keySlot{name: VersionAttribute, col: -1, kind: record.Int, lookup: -1, version: true}
	return p
}

// pageDecoder holds what can be reused from one page to the next.
type pageDecoder struct {
	plan   *rowPlan
	dec    *jsontext.Decoder
	sb     strBuf
	types  []string          // per lookup: lookuplogicalname of the current row
	names  []string          // per lookup: FormattedValue of the current row
	intern map[string]string // entity logical names seen in annotations
	slab   []record.Value
	// members is what the plan says of each member name seen, and each
	// remembers the member that followed it in the row before: rows list
	// their members in one order, with some left out (a null lookup's
	// annotations), so the next name is usually the one predicted, which
	// saves scanning it and looking it up.
	members  map[string]*memberSlot
	first    *memberSlot // the first member of the row before
	prev     *memberSlot // the member before, in the current row
	row      rowState
	name     []byte // the fallback's copy of a member name
	rows     int    // upserts of the page before: the next page's likely size
	bodySize int    // bytes of the page before
}

// memberSlot is a member name (a copy) and its plan lookup.
type memberSlot struct {
	name   string
	quoted []byte // "name", when the name needs no escaping: the scanner compares bytes
	slot   keySlot
	ok     bool
	next   *memberSlot
}

// maxMembers bounds the names remembered; more come only from a body that
// is not what Dataverse sends.
const maxMembers = 4096

// noBody is an empty reader parked in the decoder between pages.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }

// pageBody is the decoded envelope of a page.
type pageBody struct {
	context         string
	nextLink        string
	deltaLink       string
	metadataVersion string
}

func newPageDecoder(plan *rowPlan) *pageDecoder {
	return &pageDecoder{
		plan: plan,
		// Invalid UTF-8 and unpaired UTF-16 surrogates (legal in .NET
		// strings, escaped as \ud83d by the Web API) become U+FFFD: one such
		// value must not stop its whole table.
		dec:     jsontext.NewDecoder(noBody{}, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)),
		types:   make([]string, len(plan.lookups)),
		names:   make([]string, len(plan.lookups)),
		intern:  make(map[string]string),
		members: make(map[string]*memberSlot),
	}
}

// decode reads one response body into page. Errors are *MalformedError.
//
// The body is read whole, then scanned by the page scanner (scan.go), made
// for the shape Dataverse sends; anything it does not take (an escaped
// member name, a nested value, a syntax or value error) sends the page to
// the general jsontext decoder, which decides and names the error. A body
// is at most one page (5,000 rows), which the decoded page holds anyway.
func (d *pageDecoder) decode(r io.Reader, pageNo int, page *ChangesPage) (pageBody, error) {
	// Sized as the page before: one allocation, no copies while it grows.
	// Not kept between pages: while the page is encoded and stored, its
	// body would only take room from the heap's soft limit.
	body, err := readBody(make([]byte, 0, d.bodySize+d.bodySize/8), r)
	d.bodySize = len(body)
	if err != nil {
		return pageBody{}, &MalformedError{Entity: d.plan.entity, Page: pageNo, Reason: "reading body", Err: err}
	}
	upserts, deletes := len(page.Upserts), len(page.Deletes)
	untyped, unnamed := page.UntypedLookups, page.UnnamedLookups
	if env, ok := d.scanPage(body, page); ok {
		d.rows = len(page.Upserts)
		return env, nil
	}
	page.Upserts, page.Deletes = page.Upserts[:upserts], page.Deletes[:deletes]
	page.UntypedLookups, page.UnnamedLookups = untyped, unnamed
	return d.decodeStream(bytes.NewReader(body), pageNo, page)
}

// readBody appends all of r to dst, doubling its room as it fills (append
// grows large slices by a quarter: too many copies of a page).
func readBody(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			grown := make([]byte, len(dst), max(2*cap(dst), 256<<10))
			copy(grown, dst)
			dst = grown
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// decodeStream is the general decoder: jsontext, member by member.
func (d *pageDecoder) decodeStream(r io.Reader, pageNo int, page *ChangesPage) (pageBody, error) {
	var env pageBody
	bad := func(reason string, err error) error {
		return &MalformedError{Entity: d.plan.entity, Page: pageNo, Reason: reason, Err: err}
	}
	d.dec.Reset(r, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	defer d.dec.Reset(noBody{}) // drop the reference to the body
	tok, err := d.dec.ReadToken()
	if err != nil {
		return env, bad("reading body", err)
	}
	if tok.Kind() != '{' {
		return env, bad("body is not a JSON object", nil)
	}
	sawValue := false
	for d.dec.PeekKind() != '}' {
		name, err := d.readName()
		if err != nil {
			return env, bad("reading body", err)
		}
		// name aliases the decoder buffer: compare it before reading on.
		var link *string
		switch name {
		case "@odata.context":
			link = &env.context
		case "@odata.nextLink":
			link = &env.nextLink
		case "@odata.deltaLink":
			link = &env.deltaLink
		case "@" + metadataVersionAnnotation:
			v, err := d.dec.ReadValue()
			if err != nil {
				return env, bad("reading the metadata version", err)
			}
			// A string in the docs' annotation style; tolerate a number.
			if len(v) > 0 && v[0] == '"' {
				env.metadataVersion, _ = d.sb.unquote(v)
			} else {
				env.metadataVersion = string(v)
			}
			continue
		}
		switch {
		case link != nil:
			v, err := d.dec.ReadValue()
			if err != nil {
				return env, bad("reading an @odata link", err)
			}
			if *link, err = d.sb.unquote(v); err != nil {
				return env, bad("an @odata link is not a string", err)
			}
		case name == "value":
			sawValue = true
			if err := d.readRows(pageNo, page); err != nil {
				return env, err
			}
		default:
			if err := d.dec.SkipValue(); err != nil {
				return env, bad("reading body", err)
			}
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return env, bad("reading body", err)
	}
	if !sawValue {
		return env, bad(`no "value" array`, nil)
	}
	return env, nil
}

// readName reads an object member name; it returns a string that aliases the
// decoder buffer only for map lookups and switch comparisons, never stored.
func (d *pageDecoder) readName() (string, error) {
	v, err := d.dec.ReadValue()
	if err != nil {
		return "", err
	}
	if len(v) < 2 || v[0] != '"' {
		return "", errors.New("member name is not a string")
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return unsafeString(inner), nil
	}
	b, err := appendUnquote(d.sb.scratch[:0], v)
	d.sb.scratch = b
	return unsafeString(b), err
}

func (d *pageDecoder) readRows(pageNo int, page *ChangesPage) error {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return &MalformedError{Entity: d.plan.entity, Page: pageNo, Reason: "reading value", Err: err}
	}
	if tok.Kind() != '[' {
		return &MalformedError{Entity: d.plan.entity, Page: pageNo, Reason: `"value" is not an array`}
	}
	for row := 0; d.dec.PeekKind() != ']'; row++ {
		if err := d.readRow(page); err != nil {
			var me *MalformedError
			if errors.As(err, &me) {
				return err
			}
			return &MalformedError{Entity: d.plan.entity, Page: pageNo, Reason: fmt.Sprintf("row %d", row), Err: err}
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return &MalformedError{Entity: d.plan.entity, Page: pageNo, Reason: "reading value", Err: err}
	}
	return nil
}

// values hands out the value slice of one row from a shared slab, so a page
// costs a few large allocations instead of one per row.
func (d *pageDecoder) values() []record.Value {
	n := len(d.plan.cols)
	if n == 0 {
		return nil
	}
	if cap(d.slab)-len(d.slab) < n {
		d.slab = make([]record.Value, 0, n*256)
	}
	start := len(d.slab)
	d.slab = d.slab[:start+n]
	return d.slab[start : start+n : start+n]
}

// readRow reads one element of "value" with the jsontext decoder.
func (d *pageDecoder) readRow(page *ChangesPage) error {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return errors.New("row is not a JSON object")
	}
	d.startRow()
	for d.dec.PeekKind() != '}' {
		name, err := d.readName()
		if err != nil {
			return err
		}
		// The name aliases the decoder's buffer, which reading the value
		// may move: a copy it is (this path is the fallback, not the norm).
		d.name = append(d.name[:0], name...)
		raw, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		if err := d.member(unsafeString(d.name), raw); err != nil {
			return err
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	return d.endRow(page)
}

// rowState is what the members of the current row said so far.
type rowState struct {
	vals                  []record.Value
	id, deleteID          string
	version, etagVersion  int64
	hasVersion, isDeleted bool
	hasETag               bool
}

func (d *pageDecoder) startRow() {
	d.row = rowState{vals: d.values()}
	d.prev = nil
	clear(d.types)
	clear(d.names)
}

// member takes the k-th member of the current row: its name (which may
// alias a buffer; never kept) and its raw JSON value, already checked to be
// well-formed. Both decoders read rows through it, so they agree.
func (d *pageDecoder) member(name string, raw jsontext.Value) error {
	m := d.slotFor(name)
	return d.take(name, m.slot, m.ok, raw)
}

// predicted is the member expected next in the current row.
func (d *pageDecoder) predicted() *memberSlot {
	if d.prev == nil {
		return d.first
	}
	return d.prev.next
}

// slotFor is the plan's word on the next member of the current row, name.
func (d *pageDecoder) slotFor(name string) *memberSlot {
	m := d.predicted()
	if m == nil || m.name != name {
		var found bool
		if m, found = d.members[name]; !found {
			s, ok := d.plan.keys[name]
			m = &memberSlot{name: strings.Clone(name), slot: s, ok: ok}
			m.quoted = quotedPlain(m.name)
			if len(d.members) < maxMembers {
				d.members[m.name] = m
			}
		}
		if d.prev == nil {
			d.first = m
		} else {
			d.prev.next = m
		}
	}
	d.prev = m
	return m
}

// take takes a member whose plan lookup is done.
func (d *pageDecoder) take(name string, s keySlot, ok bool, raw jsontext.Value) error {
	p := d.plan
	r := &d.row
	if ok {
		if s.version {
			if raw[0] == 'n' {
				return nil
			}
			v, ok := parseInt(raw)
			if !ok {
				return fmt.Errorf("%s %s is not an integer", VersionAttribute, raw)
			}
			r.version, r.hasVersion = v, true
			return nil
		}
		v, err := decodeValue(raw, s.kind, &d.sb)
		if err != nil {
			return fmt.Errorf("column %s (%s): %w", s.name, s.kind, err)
		}
		if s.col >= 0 {
			r.vals[s.col] = v
		}
		if s.id {
			r.id = v.S
		}
		return nil
	}
	at := strings.IndexByte(name, '@')
	switch {
	case at > 0:
		// Property annotation: only a lookup's target and name are of
		// interest. The term is compared first: Dataverse sends a
		// FormattedValue for most properties once it is asked for.
		term := name[at+1:]
		isType := term == lookupLogicalNameAnnotation
		if name[0] != '_' || !isType && (!p.names || term != formattedValueAnnotation) {
			return nil // not a lookup's (_<name>_value) or not wanted
		}
		if s, ok := p.keys[name[:at]]; ok && s.lookup >= 0 && raw[0] == '"' {
			if isType {
				d.types[s.lookup] = d.internName(raw)
			} else {
				var err error
				if d.names[s.lookup], err = d.sb.unquote(raw); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
			}
		}
	case name == "@odata.context":
		if bytes.HasSuffix(bytes.TrimSuffix(raw, []byte{'"'}), []byte("/$deletedEntity")) {
			r.isDeleted = true
		}
	case name == "@odata.etag":
		r.etagVersion, r.hasETag = versionOfETag(raw)
	case name == "@removed": // OData 4.01 deleted-entry form, tolerated
		r.isDeleted = true
	case name == "id" || name == "@id":
		if raw[0] == '"' {
			r.deleteID = d.sb.deletedID(raw[1 : len(raw)-1])
		}
	}
	return nil
}

// endRow adds the finished row to page.
func (d *pageDecoder) endRow(page *ChangesPage) error {
	p := d.plan
	r := &d.row
	vals := r.vals
	if r.isDeleted {
		d.slab = d.slab[:len(d.slab)-len(vals)] // give the unused values back
		deleteID := r.deleteID
		if deleteID == "" {
			deleteID = r.id
		}
		if deleteID == "" {
			return errors.New("deleted entry without id")
		}
		// Dataverse documents only reason "deleted"; OData's "changed" (row left
		// the result set) means the same for a full-table replica: remove it.
		page.Deletes = append(page.Deletes, deleteID)
		return nil
	}
	if r.id == "" {
		return fmt.Errorf("row without primary id %s", p.idName)
	}
	version := r.version
	if !r.hasVersion {
		// Microsoft's change-tracking examples show rows with only the
		// etag; its number is the row version.
		if !r.hasETag {
			return fmt.Errorf("row %s has neither %s nor a numeric @odata.etag", r.id, VersionAttribute)
		}
		version = r.etagVersion
	}
	for i := range p.lookups {
		ls := &p.lookups[i]
		if vals[ls.guidCol].IsNull() {
			continue
		}
		if len(ls.typeCols) > 0 {
			t := d.types[i]
			if t == "" {
				t = ls.target
			}
			if t == "" {
				// Polymorphic without annotation: the type is unknown, never guessed.
				page.UntypedLookups++
			}
			for _, c := range ls.typeCols {
				if t != "" {
					vals[c] = record.Value{Kind: record.String, S: t}
				}
			}
		}
		if len(ls.nameCols) > 0 {
			n := d.names[i]
			if n == "" {
				// No FormattedValue: left null, never guessed.
				page.UnnamedLookups++
				continue
			}
			for _, c := range ls.nameCols {
				vals[c.col] = record.Value{Kind: record.String, S: truncateUTF16(n, c.max)}
			}
		}
	}
	page.Upserts = append(page.Upserts, record.Record{ID: r.id, Version: version, Values: vals})
	return nil
}

// truncateUTF16 cuts s to at most max UTF-16 code units (what nvarchar(n)
// counts, the strictest of the dialects), at a character boundary. A
// lookup's name is a display copy of the target's: a name longer than the
// helper column (systemuser.fullname holds 200, owneridname 100) is cut to
// fit rather than failing the record.
func truncateUTF16(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > max {
			return s[:i]
		}
		n += w
	}
	return s
}

// versionOfETag reads the number of a row's @odata.etag, W/"915244" (the
// raw JSON string "W/\"915244\""). Any other shape is not a version.
func versionOfETag(raw jsontext.Value) (int64, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return 0, false
	}
	b := bytes.TrimPrefix(raw[1:len(raw)-1], []byte("W/"))
	b, ok := bytes.CutPrefix(b, []byte(`\"`))
	if !ok {
		return 0, false
	}
	if b, ok = bytes.CutSuffix(b, []byte(`\"`)); !ok {
		return 0, false
	}
	return parseInt(b)
}

// internName returns the unquoted annotation value, shared across rows: the
// set of entity names is small.
func (d *pageDecoder) internName(raw jsontext.Value) string {
	inner := raw[1 : len(raw)-1]
	if s, ok := d.intern[string(inner)]; ok {
		return s
	}
	s, err := d.sb.unquote(raw)
	if err != nil {
		return ""
	}
	s = strings.Clone(s) // interned names outlive the page's arena chunk
	if len(d.intern) < 4096 {
		d.intern[s] = s
	}
	return s
}

// deletedID takes the GUID of a deleted entry: Dataverse sends it bare,
// OData 4.01 as an entity id like accounts(<guid>).
func (sb *strBuf) deletedID(b []byte) string {
	if i := bytes.LastIndexByte(b, '('); i >= 0 && bytes.HasSuffix(b, []byte{')'}) {
		b = b[i+1 : len(b)-1]
	}
	if g, ok := sb.guid(b); ok {
		return g
	}
	return string(b)
}
