package dvemu

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// table is one entity's data: generated base rows plus an overlay of
// changes and a change log. Memory grows with changes, not with rows.
type table struct {
	def *Entity
	// genDef is the definition base rows are generated from: the one at
	// start. Metadata changes (a new option, a wider string) must not change
	// the values of rows nobody updated.
	genDef      *Entity
	n           int   // generated base rows
	baseAttrs   int   // attributes generated for base rows; later ones start null
	baseVersion int64 // versionnumber of base row i is baseVersion+i

	overlay map[string]*rowState // changed, created or deleted rows by id
	created []string             // ids of rows created at run time, sorted
	log     []logEntry           // every change, ascending version
}

type rowState struct {
	vals    []any // by attribute index; nil when deleted
	version int64 // version of the last change (create, update or delete)
	deleted bool
}

type logEntry struct {
	version int64
	id      string
}

// row returns the current values and version of id, or ok=false when the row
// does not exist or is deleted.
func (e *Emulator) row(t *table, id string) (vals []any, version int64, ok bool) {
	if st := t.overlay[id]; st != nil {
		if st.deleted {
			return nil, st.version, false
		}
		return st.vals, st.version, true
	}
	i, isBase := t.baseRow(e.opts.RandSeed, id)
	if !isBase {
		return nil, 0, false
	}
	return e.generate(t, i), t.baseVersion + int64(i), true
}

// baseRow reports whether id is a generated row of t.
func (t *table) baseRow(seed int64, id string) (int, bool) {
	i, ok := baseIndex(seed, t.def.LogicalName, id)
	if !ok || i < 0 || i >= t.n || baseID(seed, t.def.LogicalName, i) != id {
		return 0, false
	}
	return i, true
}

// nextVersion stamps a change; callers hold e.mu.
func (e *Emulator) nextVersion(t *table, id string) int64 {
	e.version++
	t.log = append(t.log, logEntry{version: e.version, id: id})
	return e.version
}

func (e *Emulator) table(entity string) (*table, error) {
	t := e.tables[entity]
	if t == nil {
		return nil, fmt.Errorf("%w: entity %q", ErrNotFound, entity)
	}
	return t, nil
}

// apply coerces values into vals (a copy is made by the caller).
func (e *Emulator) apply(t *table, vals []any, values map[string]any) error {
	ent := t.def
	for name, v := range values {
		idx, a := ent.attr(name)
		if a == nil {
			return &ValueError{Entity: ent.LogicalName, Attribute: name, Reason: "unknown attribute"}
		}
		if a.IsPrimaryID || a.LogicalName == "versionnumber" || !a.stored() {
			return &ValueError{Entity: ent.LogicalName, Attribute: name, Reason: "attribute is read-only"}
		}
		cv, err := coerce(ent, a, v)
		if err != nil {
			return err
		}
		vals[idx] = cv
	}
	// Keep contact.fullname in step with its parts, as Dataverse does.
	if _, ok := values["fullname"]; !ok {
		if fi, fa := ent.attr("fullname"); fa != nil {
			_, hasFirst := values["firstname"]
			_, hasLast := values["lastname"]
			if hasFirst || hasLast {
				fIdx, _ := ent.attr("firstname")
				lIdx, _ := ent.attr("lastname")
				if fIdx >= 0 && lIdx >= 0 {
					vals[fi] = fullName(vals[fIdx], vals[lIdx])
				}
			}
		}
	}
	return nil
}

func (e *Emulator) stampTimes(t *table, vals []any, values map[string]any, create bool) {
	now := e.now().Truncate(time.Second)
	if i, a := t.def.attr("modifiedon"); a != nil {
		if _, given := values["modifiedon"]; !given {
			vals[i] = now
		}
	}
	if i, a := t.def.attr("createdon"); a != nil && create {
		if _, given := values["createdon"]; !given {
			vals[i] = now
		}
	}
}

// Create adds a row and returns its id. values map attribute logical names
// to Go values (see values.go for the accepted forms).
func (e *Emulator) Create(entity string, values map[string]any) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.table(entity)
	if err != nil {
		return "", err
	}
	return e.createLocked(t, "", values)
}

// ErrExists is returned when a create names the id of a live row.
var ErrExists = errors.New("dvemu: a record with matching key values already exists")

// createLocked adds a row with id ("" = a new one); callers hold e.mu.
// An id whose row was deleted may be used again: change tracking then
// reports it as an upsert.
func (e *Emulator) createLocked(t *table, id string, values map[string]any) (string, error) {
	vals := make([]any, len(t.def.Attributes))
	if err := e.apply(t, vals, values); err != nil {
		return "", err
	}
	if id == "" {
		id = e.newID()
	} else if _, _, live := e.row(t, id); live {
		return "", fmt.Errorf("%w: %s %s", ErrExists, t.def.LogicalName, id)
	}
	idx, _ := t.def.attr(t.def.PrimaryID)
	vals[idx] = id
	e.defaults(t, vals, values)
	e.stampTimes(t, vals, values, true)
	t.overlay[id] = &rowState{vals: vals, version: e.nextVersion(t, id)}
	if _, base := t.baseRow(e.opts.RandSeed, id); !base {
		if pos, found := slices.BinarySearch(t.created, id); !found {
			t.created = slices.Insert(t.created, pos, id)
		}
	}
	return id, nil
}

// defaults fills statecode/statuscode like Dataverse does on create.
func (e *Emulator) defaults(t *table, vals []any, values map[string]any) {
	if i, a := t.def.attr("statecode"); a != nil && vals[i] == nil {
		vals[i] = int64(0)
	}
	if i, a := t.def.attr("statuscode"); a != nil && vals[i] == nil {
		vals[i] = int64(1)
	}
	// The caller (WhoAmI's user) owns what it creates.
	if i, a := t.def.attr("ownerid"); a != nil && a.Type == Owner && vals[i] == nil {
		vals[i] = Ref{Entity: "systemuser", ID: baseID(e.opts.RandSeed, "systemuser", 0)}
	}
	// A row with money gets the base currency unless one is given.
	if i, a := t.def.attr("transactioncurrencyid"); a != nil && vals[i] == nil {
		if cur := e.tables["transactioncurrency"]; cur != nil && cur.n > 0 {
			for k := range t.def.Attributes {
				if t.def.Attributes[k].Type == Money && vals[k] != nil {
					vals[i] = Ref{Entity: "transactioncurrency", ID: baseID(e.opts.RandSeed, "transactioncurrency", 0)}
					break
				}
			}
		}
	}
}

func (e *Emulator) newID() string {
	b := make([]byte, 16)
	for k := 0; k < 16; k += 8 {
		v := e.idRand.Uint64()
		for j := 0; j < 8; j++ {
			b[k+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Update changes some columns of a live row.
func (e *Emulator) Update(entity, id string, values map[string]any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.table(entity)
	if err != nil {
		return err
	}
	return e.updateLocked(t, id, values)
}

// updateLocked changes a live row; callers hold e.mu.
func (e *Emulator) updateLocked(t *table, id string, values map[string]any) error {
	cur, _, ok := e.row(t, id)
	if !ok {
		return fmt.Errorf("%w: %s %s", ErrNotFound, t.def.LogicalName, id)
	}
	vals := make([]any, len(t.def.Attributes))
	copy(vals, cur)
	if err := e.apply(t, vals, values); err != nil {
		return err
	}
	e.stampTimes(t, vals, values, false)
	t.overlay[id] = &rowState{vals: vals, version: e.nextVersion(t, id)}
	return nil
}

// Delete removes a live row; the change log keeps its tombstone.
func (e *Emulator) Delete(entity, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.table(entity)
	if err != nil {
		return err
	}
	return e.deleteLocked(t, id)
}

// deleteLocked removes a live row; callers hold e.mu.
func (e *Emulator) deleteLocked(t *table, id string) error {
	if _, _, ok := e.row(t, id); !ok {
		return fmt.Errorf("%w: %s %s", ErrNotFound, t.def.LogicalName, id)
	}
	t.overlay[id] = &rowState{version: e.nextVersion(t, id), deleted: true}
	return nil
}

// IDs lists the live row ids of entity, sorted. It walks every row, so keep
// it for tests and small orgs.
func (e *Emulator) IDs(entity string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.tables[entity]
	if t == nil {
		return nil
	}
	var out []string
	it := e.rowIter(t, "")
	for id, ok := it.next(); ok; id, ok = it.next() {
		out = append(out, id)
	}
	return out
}

// Get returns the current values of a live row in the admin Go forms, plus
// "versionnumber" (int64) and the primary id.
func (e *Emulator) Get(entity, id string) (map[string]any, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.tables[entity]
	if t == nil {
		return nil, false
	}
	vals, version, ok := e.row(t, id)
	if !ok {
		return nil, false
	}
	out := make(map[string]any, len(vals)+1)
	for i := range t.def.Attributes {
		a := &t.def.Attributes[i]
		if !a.stored() || a.LogicalName == "versionnumber" {
			continue
		}
		if i < len(vals) {
			out[a.LogicalName] = vals[i]
		} else {
			out[a.LogicalName] = nil
		}
	}
	out["versionnumber"] = version
	return out, true
}

// Name is the primary name of a live row: what Dataverse sends as the
// FormattedValue of a lookup to it. False when the row is gone, its entity
// has no primary name or the name is null.
func (e *Emulator) Name(entity, id string) (string, bool) {
	return e.primaryNameOf(Ref{Entity: entity, ID: id})
}

// Version is the org's current change version (the highest stamped).
func (e *Emulator) Version() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.version
}

// rowIter walks the ids of existing rows of t in ascending id order, from
// the first id greater than after. Generated rows sort by index (see
// baseID), created rows come from the sorted created list; the two are merged.
type rowIter struct {
	e    *Emulator
	t    *table
	base int // next generated index
	crt  int // next position in t.created
}

func (e *Emulator) rowIter(t *table, after string) *rowIter {
	it := &rowIter{e: e, t: t}
	if after != "" {
		if i, ok := baseIndex(e.opts.RandSeed, t.def.LogicalName, after); ok {
			switch {
			case i < 0:
				it.base = 0
			case i >= t.n:
				it.base = t.n
			default:
				it.base = i
				if baseID(e.opts.RandSeed, t.def.LogicalName, i) <= after {
					it.base++
				}
			}
		} else {
			it.base = t.n
		}
		it.crt = sort.Search(len(t.created), func(k int) bool { return t.created[k] > after })
	}
	return it
}

// next returns the next existing id (skipping deleted rows).
func (it *rowIter) next() (string, bool) {
	seed, name := it.e.opts.RandSeed, it.t.def.LogicalName
	for {
		var id string
		var baseOK, crtOK bool
		var bid string
		if it.base < it.t.n {
			bid, baseOK = baseID(seed, name, it.base), true
		}
		crtOK = it.crt < len(it.t.created)
		switch {
		case baseOK && (!crtOK || bid < it.t.created[it.crt]):
			id = bid
			it.base++
		case crtOK:
			id = it.t.created[it.crt]
			it.crt++
		default:
			return "", false
		}
		if st := it.t.overlay[id]; st != nil && st.deleted {
			continue
		}
		return id, true
	}
}
