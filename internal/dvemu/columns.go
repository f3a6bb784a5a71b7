package dvemu

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// column is one property of a data row: which attribute it reads and the
// JSON name it is written under.
type column struct {
	idx  int
	attr *Attribute
	key  string // logical name, or _<name>_value for lookups
}

// selectColumns resolves a $select list. Lookups may be named either way
// (parentcustomerid or _parentcustomerid_value); both render as _x_value.
// An empty list selects every readable stored column.
func selectColumns(ent *Entity, names []string) ([]column, error) {
	var cols []column
	seen := map[int]bool{}
	add := func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		a := &ent.Attributes[i]
		key := a.LogicalName
		if a.Type.IsLookup() {
			key = "_" + a.LogicalName + "_value"
		}
		cols = append(cols, column{idx: i, attr: a, key: key})
	}
	if len(names) == 0 {
		for i := range ent.Attributes {
			if a := &ent.Attributes[i]; a.stored() && !a.NotValidForRead {
				add(i)
			}
		}
		return cols, nil
	}
	for _, n := range names {
		name := strings.ToLower(n)
		if inner, ok := strings.CutPrefix(name, "_"); ok {
			if base, ok := strings.CutSuffix(inner, "_value"); ok {
				if i, a := ent.attr(base); a != nil && a.Type.IsLookup() {
					add(i)
					continue
				}
			}
		}
		i, a := ent.attr(name)
		if a == nil || !a.stored() {
			return nil, fmt.Errorf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", n, ent.LogicalName)
		}
		add(i)
	}
	// A money column drags in its currency lookup, as in Dataverse.
	if i, cur := ent.attr("transactioncurrencyid"); cur != nil && cur.Type.IsLookup() && !seen[i] {
		for _, c := range cols {
			if c.attr.Type == Money {
				add(i)
				break
			}
		}
	}
	return cols, nil
}

// rowOut is a row captured under the lock, rendered after it is released.
type rowOut struct {
	id      string
	version int64
	vals    []any
	deleted bool
}

type rowWriter struct {
	ent         *Entity
	cols        []column
	selectedPK  bool
	annotations bool // add @Microsoft.Dynamics.CRM.lookuplogicalname
	formatted   bool // add @OData.Community.Display.V1.FormattedValue
	navProp     bool // add @Microsoft.Dynamics.CRM.associatednavigationproperty
	// lookupName gives a lookup's formatted value: the target's primary name.
	lookupName func(Ref) (string, bool)
	deletedCtx string
	omitNulls  bool // FetchXML answers leave null columns out
	// omitVersion never writes versionnumber, even when selected, as
	// Microsoft's change-tracking examples show rows (Options.OmitVersionNumber).
	omitVersion bool
}

func (rw *rowWriter) write(enc *jsontext.Encoder, r rowOut) error { return rw.writeCtx(enc, r, "") }

// writeCtx writes a row, led by an @odata.context when ctx is set (single
// row retrieves).
func (rw *rowWriter) writeCtx(enc *jsontext.Encoder, r rowOut, ctx string) error {
	if r.deleted {
		return writeAny(enc, obj{{"@odata.context", rw.deletedCtx}, {"id", r.id}, {"reason", "deleted"}})
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	if ctx != "" {
		_ = enc.WriteToken(jsontext.String("@odata.context"))
		_ = enc.WriteToken(jsontext.String(ctx))
	}
	_ = enc.WriteToken(jsontext.String("@odata.etag"))
	_ = enc.WriteToken(jsontext.String(`W/"` + strconv.FormatInt(r.version, 10) + `"`))
	for _, c := range rw.cols {
		var v any
		if c.attr.LogicalName == "versionnumber" {
			if rw.omitVersion {
				continue
			}
			v = r.version
		} else if c.idx < len(r.vals) {
			v = r.vals[c.idx]
		}
		if v == nil && rw.omitNulls {
			continue
		}
		if rw.formatted && v != nil {
			f, ok := formattedValue(c.attr, v)
			if ref, isRef := v.(Ref); isRef && rw.lookupName != nil {
				f, ok = rw.lookupName(ref)
			}
			if ok {
				_ = enc.WriteToken(jsontext.String(c.key + "@OData.Community.Display.V1.FormattedValue"))
				_ = enc.WriteToken(jsontext.String(f))
			}
		}
		if ref, ok := v.(Ref); ok && rw.navProp {
			_ = enc.WriteToken(jsontext.String(c.key + "@Microsoft.Dynamics.CRM.associatednavigationproperty"))
			_ = enc.WriteToken(jsontext.String(navigationProperty(c.attr, ref)))
		}
		if ref, ok := v.(Ref); ok && rw.annotations {
			_ = enc.WriteToken(jsontext.String(c.key + "@Microsoft.Dynamics.CRM.lookuplogicalname"))
			_ = enc.WriteToken(jsontext.String(ref.Entity))
		}
		_ = enc.WriteToken(jsontext.String(c.key))
		if err := writeValue(enc, c.attr, v); err != nil {
			return err
		}
	}
	if !rw.selectedPK {
		_ = enc.WriteToken(jsontext.String(rw.ent.PrimaryID))
		_ = enc.WriteToken(jsontext.String(r.id))
	}
	return enc.WriteToken(jsontext.EndObject)
}

// writeValue renders a store value in Web API data JSON.
func writeValue(enc *jsontext.Encoder, a *Attribute, v any) error {
	switch x := v.(type) {
	case nil:
		return enc.WriteToken(jsontext.Null)
	case string:
		switch a.Type {
		case Decimal, Money, Double:
			// Exact decimal text as a JSON number, with the column's precision.
			return enc.WriteValue(jsontext.Value(x))
		}
		return enc.WriteToken(jsontext.String(x))
	case int64:
		return enc.WriteToken(jsontext.Int(x))
	case bool:
		return enc.WriteToken(jsontext.Bool(x))
	case time.Time:
		if a.DateTimeBehavior == "DateOnly" {
			return enc.WriteToken(jsontext.String(x.UTC().Format(time.DateOnly)))
		}
		return enc.WriteToken(jsontext.String(x.UTC().Format("2006-01-02T15:04:05Z")))
	case Ref:
		return enc.WriteToken(jsontext.String(x.ID))
	}
	return fmt.Errorf("dvemu: %s: cannot render %T", a.LogicalName, v)
}

// navigationProperty names the single-valued navigation property behind a
// lookup: the attribute itself, or <attr>_<target> for a polymorphic
// Customer lookup (owner lookups use "ownerid" whatever the target).
func navigationProperty(a *Attribute, ref Ref) string {
	if a.Type == Customer || (a.Type == Lookup && len(a.Targets) > 1) {
		return a.LogicalName + "_" + ref.Entity
	}
	return a.LogicalName
}
