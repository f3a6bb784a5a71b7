package dataverse

import "github.com/dataexport/dataexport/internal/record"

// VersionAttribute is the row version every replicated entity carries. It is
// always selected and becomes record.Record.Version, not a field.
const VersionAttribute = "versionnumber"

// Field is one replicated column of an entity: which JSON property of a data
// row it is read from, and which record column it becomes. A lookup attribute
// yields two fields: the GUID (<name>) and its target entity (<name>_entitytype).
type Field struct {
	Column    record.Column
	Attribute *Attribute
	// Key is the property name in data JSON: the logical name, or _<name>_value for lookups.
	Key string
	// EntityType marks the <name>_entitytype field of a lookup; its value comes from the
	// @Microsoft.Dynamics.CRM.lookuplogicalname annotation of Key, or from a single Target.
	EntityType bool
}

// Select is the $select list that reads every field of fields plus versionnumber.
func Select(fields []Field) []string {
	out := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		if f.EntityType {
			continue
		}
		out = append(out, f.Key)
	}
	return append(out, VersionAttribute)
}

// Fields lists the replicated fields of e, in attribute order. It decides what
// the destination receives: attributes not valid for read, auxiliary columns
// (AttributeOf, except the companions of an image), binary image and file
// contents, PartyList (replicated through activityparty) and virtual columns
// are left out.
func Fields(e *Entity) []Field {
	var out []Field
	for i := range e.Attributes {
		a := &e.Attributes[i]
		if !replicated(e, a) {
			continue
		}
		kind := KindOf(a)
		if a.Type.IsLookup() {
			out = append(out,
				Field{Column: record.Column{Name: a.LogicalName, Kind: record.GUID}, Attribute: a, Key: "_" + a.LogicalName + "_value"},
				Field{Column: record.Column{Name: a.LogicalName + "_entitytype", Kind: record.String}, Attribute: a, Key: "_" + a.LogicalName + "_value", EntityType: true},
			)
			continue
		}
		out = append(out, Field{Column: record.Column{Name: a.LogicalName, Kind: kind}, Attribute: a, Key: a.LogicalName})
	}
	return out
}

func replicated(e *Entity, a *Attribute) bool {
	if !a.IsValidForRead || a.LogicalName == VersionAttribute {
		return false
	}
	if a.AttributeOf != "" {
		parent := e.Attribute(a.AttributeOf)
		if parent == nil || parent.Type != TypeImage {
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
