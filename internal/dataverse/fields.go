package dataverse

import "github.com/dataexport/dataexport/internal/record"

// VersionAttribute is the row version every replicated entity carries. It is
// always selected and becomes record.Record.Version, not a field.
const VersionAttribute = "versionnumber"

// Helper says where a lookup's helper column takes its value: not from a
// property of its own (the Web API has none for them) but from an
// annotation of the lookup's _<name>_value.
type Helper uint8

const (
	// NotHelper: the field is a property of the row, read from Key.
	NotHelper Helper = iota
	// HelperEntityType is <lookup>_entitytype, a column of ours (no
	// Dataverse attribute): the @Microsoft.Dynamics.CRM.lookuplogicalname
	// annotation of Key, or the lookup's single Target.
	HelperEntityType
	// HelperType is the lookup's EntityName attribute (owneridtype,
	// customeridtype): the same value as HelperEntityType, as DES wrote it.
	HelperType
	// HelperName is <lookup>name or <lookup>yominame: the
	// @OData.Community.Display.V1.FormattedValue annotation of Key, the
	// target's primary name.
	HelperName
)

// Field is one replicated column of an entity: which JSON property of a data
// row it is read from, and which record column it becomes. A lookup attribute
// yields its GUID (<name>) and its target entity (<name>_entitytype), plus
// the helper columns its metadata lists (<name>name, <name>yominame,
// <name>type), as DES wrote them.
type Field struct {
	Column record.Column
	// Attribute is the attribute behind the column: the lookup itself for
	// <name>_entitytype, the helper attribute for the other helpers.
	Attribute *Attribute
	// Key is the property name in data JSON: the logical name, or _<name>_value
	// for lookups and their helpers.
	Key string
	// Helper is NotHelper for a property of the row, else the annotation of
	// Key the value comes from.
	Helper Helper
	// Lookup is the lookup a helper belongs to (nil for NotHelper).
	Lookup *Attribute
}

// Selected reports whether the field is a property to $select (helpers come
// with their lookup's value).
func (f Field) Selected() bool { return f.Helper == NotHelper }

// Select is the $select list that reads every field of fields plus versionnumber.
func Select(fields []Field) []string {
	out := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		if f.Selected() {
			out = append(out, f.Key)
		}
	}
	return append(out, VersionAttribute)
}

// NeedsFormattedValues reports whether fields read a lookup's name from its
// FormattedValue annotation (worth asking for only then: Dataverse sends it
// on every formattable property).
func NeedsFormattedValues(fields []Field) bool {
	for _, f := range fields {
		if f.Helper == HelperName {
			return true
		}
	}
	return false
}

// Fields lists the replicated fields of e, in attribute order. It decides
// what the destination receives: attributes not valid for read, binary image
// and file contents, PartyList (replicated through activityparty) and
// virtual columns are left out. Auxiliary columns (AttributeOf set) follow
// their parent: a lookup's name, yomi name and entity-name helpers are
// filled from the lookup's annotations (its other helpers, such as
// <lookup>dsc, have no source in the Web API and are left out); an image's
// companions and the others (a money column's _base, a rollup's _date and
// _state) are properties of the row like any column.
func Fields(e *Entity) []Field {
	var out []Field
	for i := range e.Attributes {
		a := &e.Attributes[i]
		if !replicated(e, a) {
			continue
		}
		if a.AttributeOf != "" {
			parent := e.Attribute(a.AttributeOf)
			if parent != nil && parent.Type.IsLookup() {
				if h := helperOf(a, parent); h != NotHelper {
					out = append(out, Field{Column: record.Column{Name: a.LogicalName, Kind: record.String}, Attribute: a,
						Key: "_" + parent.LogicalName + "_value", Helper: h, Lookup: parent})
				}
				continue
			}
		}
		kind := KindOf(a)
		if a.Type.IsLookup() {
			key := "_" + a.LogicalName + "_value"
			out = append(out,
				Field{Column: record.Column{Name: a.LogicalName, Kind: record.GUID}, Attribute: a, Key: key},
				Field{Column: record.Column{Name: a.LogicalName + "_entitytype", Kind: record.String}, Attribute: a, Key: key, Helper: HelperEntityType, Lookup: a},
			)
			continue
		}
		out = append(out, Field{Column: record.Column{Name: a.LogicalName, Kind: kind}, Attribute: a, Key: a.LogicalName})
	}
	return out
}

// helperOf is the helper kind of a, an auxiliary attribute of lookup: its
// EntityName attribute, or <lookup>name / <lookup>yominame; NotHelper for
// any other.
func helperOf(a, lookup *Attribute) Helper {
	switch {
	case a.Type == TypeEntityName:
		return HelperType
	case a.Type == TypeString && (a.LogicalName == lookup.LogicalName+"name" || a.LogicalName == lookup.LogicalName+"yominame"):
		return HelperName
	}
	return NotHelper
}

func replicated(e *Entity, a *Attribute) bool {
	if !a.IsValidForRead || a.LogicalName == VersionAttribute {
		return false
	}
	if a.AttributeOf != "" {
		parent := e.Attribute(a.AttributeOf)
		if parent == nil || parent.AttributeOf != "" || !replicated(e, parent) && parent.Type != TypeImage {
			return false
		}
	}
	return KindOf(a) != record.Null
}

// KindOf is the record kind of an attribute's values; record.Null means the
// attribute is not replicated as a column.
func KindOf(a *Attribute) record.Kind {
	switch a.Type {
	case TypeString, TypeMemo, TypeEntityName, TypeMultiSelectPicklist:
		return record.String
	case TypeInteger, TypeBigInt, TypePicklist, TypeState, TypeStatus:
		return record.Int
	case TypeDecimal, TypeMoney, TypeDouble:
		// Double too: DES stores it as decimal(38, precision), so keep the exact JSON text.
		return record.Decimal
	case TypeBoolean:
		return record.Bool
	case TypeDateTime:
		if a.DateTimeBehavior == DateOnly {
			return record.Date
		}
		return record.DateTime
	case TypeUniqueidentifier, TypeLookup, TypeCustomer, TypeOwner:
		return record.GUID
	}
	return record.Null
}
