package dvemu

import (
	"slices"

	"github.com/google/uuid"
)

// Rendering of metadata objects. Entity and attribute objects carry the
// common properties; type-specific ones only appear through a cast, as in
// Dataverse ($expand=Attributes alone never yields MaxLength, Targets...).

var metadataNS = uuid.MustParse("5c2f5f44-8a0e-4d47-9d0c-3a3b7f6b1c11")

func metadataID(parts ...string) string {
	key := ""
	for _, p := range parts {
		key += p + "/"
	}
	if len(parts) == 1 {
		if id, ok := knownMetadataIDs[parts[0]]; ok {
			return id
		}
	}
	return uuid.NewSHA1(metadataNS, []byte(key)).String()
}

func label(text string, id string) obj {
	if text == "" {
		return obj{{"LocalizedLabels", []obj{}}, {"UserLocalizedLabel", nil}}
	}
	l := obj{{"Label", text}, {"LanguageCode", BaseLanguage}, {"IsManaged", true}, {"MetadataId", id}, {"HasChanged", nil}}
	return obj{{"LocalizedLabels", []obj{l}}, {"UserLocalizedLabel", l}}
}

func managed(v bool) obj {
	return obj{{"Value", v}, {"CanBeChanged", false}, {"ManagedPropertyLogicalName", ""}}
}

func entityObj(ent *Entity) obj {
	return obj{
		{"MetadataId", metadataID(ent.LogicalName)},
		{"LogicalName", ent.LogicalName},
		{"SchemaName", ent.SchemaName},
		{"EntitySetName", ent.EntitySetName},
		{"LogicalCollectionName", ent.EntitySetName},
		{"PrimaryIdAttribute", ent.PrimaryID},
		{"PrimaryNameAttribute", nilIfEmpty(ent.PrimaryName)},
		{"ObjectTypeCode", ent.ObjectTypeCode},
		{"OwnershipType", ent.OwnershipType},
		{"ChangeTrackingEnabled", !ent.ChangeTrackingDisabled},
		{"IsIntersect", ent.IsIntersect},
		{"IsActivity", ent.IsActivity},
		{"IsCustomEntity", len(ent.LogicalName) > 4 && ent.LogicalName[:4] == "new_"},
		{"IsValidForAdvancedFind", !ent.IsIntersect},
		{"CanChangeTrackingBeEnabled", managed(true)},
		{"DisplayName", label(ent.SchemaName, metadataID(ent.LogicalName, "displayname"))},
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (a *Attribute) odataType() string {
	return "#Microsoft.Dynamics.CRM." + typeInfos[a.Type].odataType
}

// attrObj renders the common AttributeMetadata properties.
func attrObj(ent *Entity, a *Attribute, col int) obj {
	ti := typeInfos[a.Type]
	req := a.RequiredLevel
	if req == "" {
		req = "None"
	}
	writable := writable(a)
	return obj{
		{"@odata.type", a.odataType()},
		{"MetadataId", metadataID(ent.LogicalName, a.LogicalName)},
		{"LogicalName", a.LogicalName},
		{"SchemaName", a.SchemaName},
		{"EntityLogicalName", ent.LogicalName},
		{"AttributeType", ti.code},
		{"AttributeTypeName", obj{{"Value", ti.typeName}}},
		{"AttributeOf", nilIfEmpty(a.AttributeOf)},
		{"ColumnNumber", col + 1},
		{"IsValidForRead", !a.NotValidForRead},
		{"IsValidForCreate", writable},
		{"IsValidForUpdate", writable && a.LogicalName != "statecode"},
		{"IsPrimaryId", a.IsPrimaryID},
		{"IsPrimaryName", a.IsPrimaryName},
		{"IsLogical", a.IsLogical},
		{"IsCustomAttribute", a.IsCustomAttribute},
		{"SourceType", 0},
		{"RequiredLevel", obj{{"Value", req}, {"CanBeChanged", true}, {"ManagedPropertyLogicalName", "canmodifyrequirementlevelsettings"}}},
		{"DisplayName", label(a.SchemaName, metadataID(ent.LogicalName, a.LogicalName, "displayname"))},
	}
}

// castObj adds the properties of the attribute's derived type.
func castObj(ent *Entity, a *Attribute, col int) obj {
	o := attrObj(ent, a, col)
	switch a.Type {
	case String:
		format := a.Format
		if format == "" {
			format = "Text"
		}
		o = append(o, member{"MaxLength", a.MaxLength}, member{"DatabaseLength", a.MaxLength * 2},
			member{"Format", format}, member{"FormatName", obj{{"Value", format}}})
	case Memo:
		o = append(o, member{"MaxLength", a.MaxLength}, member{"Format", nilIfEmpty(a.Format)})
	case Integer:
		format := a.Format
		if format == "" {
			format = "None"
		}
		o = append(o, member{"MinValue", int64(a.MinValue)}, member{"MaxValue", int64(a.MaxValue)}, member{"Format", format})
	case BigInt:
		o = append(o, member{"MinValue", int64(a.MinValue)}, member{"MaxValue", int64(a.MaxValue)})
	case Decimal, Double:
		o = append(o, member{"Precision", a.Precision}, member{"MinValue", a.MinValue}, member{"MaxValue", a.MaxValue})
	case Money:
		o = append(o, member{"Precision", a.Precision}, member{"PrecisionSource", a.PrecisionSource},
			member{"MinValue", a.MinValue}, member{"MaxValue", a.MaxValue}, member{"IsBaseCurrency", false})
	case DateTime:
		format := a.Format
		if format == "" {
			format = "DateAndTime"
		}
		o = append(o, member{"Format", format}, member{"DateTimeBehavior", obj{{"Value", a.DateTimeBehavior}}},
			member{"CanChangeDateTimeBehavior", managed(false)})
	case Lookup, Customer, Owner, PartyList:
		o = append(o, member{"Targets", slices.Clone(a.Targets)})
	case Boolean:
		o = append(o, member{"DefaultValue", false})
	case Picklist, MultiSelectPicklist, State, Status:
		o = append(o, member{"DefaultFormValue", nil})
	case Image:
		o = append(o, member{"MaxHeight", 144}, member{"MaxWidth", 144}, member{"MaxSizeInKB", 10240}, member{"IsPrimaryImage", true})
	case File:
		o = append(o, member{"MaxSizeInKB", 32768})
	}
	return o
}

// hasOptionSet reports whether the attribute's derived type has the
// OptionSet (and, for picklists, GlobalOptionSet) navigation properties.
func hasOptionSet(a *Attribute) bool {
	switch a.Type {
	case Picklist, MultiSelectPicklist, State, Status, Boolean:
		return a.OptionSet != nil
	}
	return false
}

func optionSetObj(ent *Entity, a *Attribute) obj {
	os := a.OptionSet
	name := os.Name
	if name == "" {
		name = ent.LogicalName + "_" + a.LogicalName
	}
	id := metadataID("optionset", name)
	o := obj{
		{"MetadataId", id},
		{"Name", name},
		{"IsGlobal", os.IsGlobal},
		{"IsCustomOptionSet", os.IsGlobal || a.IsCustomAttribute},
		{"IsManaged", true},
		{"OptionSetType", optionSetType(a.Type)},
		{"DisplayName", label(a.SchemaName, metadataID("optionset", name, "displayname"))},
	}
	if a.Type == Boolean {
		return append(o,
			member{"TrueOption", optionObj(name, Option{Value: 1, Label: os.TrueLabel}, "")},
			member{"FalseOption", optionObj(name, Option{Value: 0, Label: os.FalseLabel}, "")})
	}
	opts := make([]obj, 0, len(os.Options))
	for _, op := range os.Options {
		opts = append(opts, optionObj(name, op, string(a.Type)))
	}
	return append(o, member{"Options", opts})
}

func optionSetType(t AttrType) string {
	switch t {
	case State, Status, Boolean:
		return string(t)
	}
	return "Picklist"
}

func optionObj(set string, op Option, kind string) obj {
	var o obj
	switch AttrType(kind) {
	case Status:
		o = append(o, member{"@odata.type", "#Microsoft.Dynamics.CRM.StatusOptionMetadata"})
	case State:
		o = append(o, member{"@odata.type", "#Microsoft.Dynamics.CRM.StateOptionMetadata"})
	}
	o = append(o,
		member{"Value", op.Value}, member{"Color", nil}, member{"IsManaged", true}, member{"ExternalValue", nil},
		member{"ParentValues", []any{}}, member{"Tag", nil}, member{"IsHidden", false}, member{"MetadataId", nil}, member{"HasChanged", nil},
		member{"Label", label(op.Label, metadataID("option", set, op.Label))},
		member{"Description", label("", "")})
	switch AttrType(kind) {
	case Status:
		var st any
		if op.State != nil {
			st = *op.State
		}
		o = append(o, member{"State", st}, member{"TransitionData", nil})
	case State:
		var ds any
		if op.DefaultStatus != nil {
			ds = *op.DefaultStatus
		}
		o = append(o, member{"DefaultStatus", ds}, member{"InvariantName", op.InvariantName})
	}
	return o
}

// selectProps keeps the selected members of o, plus the ones OData always
// returns (@odata.type, MetadataId). An empty selection keeps everything.
func selectProps(o obj, sel []string) obj {
	if len(sel) == 0 {
		return o
	}
	out := obj{}
	for _, m := range o {
		if m.k == "@odata.type" || m.k == "MetadataId" || slices.Contains(sel, m.k) {
			out = append(out, m)
		}
	}
	return out
}
