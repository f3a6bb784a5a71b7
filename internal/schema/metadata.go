package schema

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
)

// MetadataTable is one of the DES metadata tables, created on profile
// activation as <Prefix>_<Name>, without Sink columns. Layouts are those of
// a database DES created (des-and-peers A2.1): all columns nullable; only
// AttributeMetadata has a primary key (Id).
type MetadataTable struct {
	Name    string
	Columns []Column
	// Key is the column whose values identify the rows replaced together.
	Key string
	// PrimaryKey is "Id" when the first column is a uniqueidentifier
	// primary key, "" for heaps.
	PrimaryKey string
}

// Names of the metadata tables (before the prefix).
const (
	GlobalOptionSetMetadata = "GlobalOptionSetMetadata"
	OptionSetMetadata       = "OptionSetMetadata"
	StateMetadata           = "StateMetadata"
	StatusMetadata          = "StatusMetadata"
	TargetMetadata          = "TargetMetadata"
	AttributeMetadata       = "AttributeMetadata"
)

func col(name string, t ColumnType) Column { return Column{Name: name, Type: t} }

var (
	n64        = StringType(64)
	labelCols  = []Column{col("IsUserLocalizedLabel", ColumnType{Kind: record.Bool}), col("LocalizedLabelLanguageCode", IntType()), col("LocalizedLabel", StringType(350))}
	metaTables = []MetadataTable{
		{Name: GlobalOptionSetMetadata, Key: "OptionSetName", Columns: append([]Column{col("OptionSetName", n64), col("Option", IntType())}, labelCols...)},
		{Name: OptionSetMetadata, Key: "EntityName", Columns: append([]Column{col("EntityName", n64), col("OptionSetName", n64), col("Option", IntType())}, labelCols...)},
		{Name: StateMetadata, Key: "EntityName", Columns: append([]Column{col("EntityName", n64), col("State", IntType())}, labelCols...)},
		{Name: StatusMetadata, Key: "EntityName", Columns: append([]Column{col("EntityName", n64), col("State", IntType()), col("Status", IntType())}, labelCols...)},
		{Name: TargetMetadata, Key: "EntityName", Columns: []Column{col("EntityName", n64), col("AttributeName", n64), col("ReferencedEntity", n64), col("ReferencedAttribute", n64)}},
		{Name: AttributeMetadata, Key: "EntityName", PrimaryKey: ColID, Columns: []Column{
			col(ColID, ColumnType{Kind: record.GUID}), col("EntityName", n64), col("AttributeName", n64), col("AttributeType", n64),
			col("AttributeTypeCode", IntType()), col("Version", BigIntType()), col("Timestamp", ColumnType{Kind: record.DateTime}),
			col("MetadataId", n64), col("Precision", IntType()),
		}},
	}
)

// MetadataTables lists the six DES metadata tables (the delete log is a
// sink's own table).
func MetadataTables() []MetadataTable { return slices.Clone(metaTables) }

// EntityMetadataRemoval removes an entity's rows from every metadata table
// keyed by entity (GlobalOptionSetMetadata is keyed by option set, which
// other entities may share, and keeps its rows).
func EntityMetadataRemoval(entity string) []MetadataRows {
	var out []MetadataRows
	for _, t := range metaTables {
		if t.Key == "EntityName" {
			out = append(out, MetadataRows{Table: t, Keys: []string{entity}})
		}
	}
	return out
}

// MetadataRows are rows of one metadata table that replace, as a whole,
// every stored row whose Key column is one of Keys.
type MetadataRows struct {
	Table MetadataTable
	Keys  []string
	Rows  [][]record.Value // aligned with Table.Columns
}

// Metadata is the content of every metadata table for entities, in
// MetadataTables order, stamped with now (AttributeMetadata.Timestamp).
//
// Interpretations where DES left no record: GlobalOptionSetMetadata has no
// EntityName, so its OptionSetName is the attribute's logical name (the
// join users wrote: OptionSetName = '<column>'); attributes of the same name
// in several entities share those rows, the first entity's winning.
// OptionSetMetadata holds local option sets, with OptionSetName the
// attribute's logical name; Boolean attributes appear there as options 0
// and 1. TargetMetadata.ReferencedAttribute is the target's primary id
// attribute when the target is among entities, else <target>id.
// AttributeMetadata has one row per column that holds an attribute's
// values: every replicated attribute, the lookup helpers (owneridname,
// owneridtype, ...) and versionnumber; not the <lookup>_entitytype columns
// (ours, not Dataverse's). Id is the MetadataId (or a name-based UUID when
// that is not a GUID); Version is dataverse.AttributeVersion, which changes
// whenever the attribute's definition does (the Web API serves no version
// number of attribute metadata).
func Metadata(entities []*dataverse.Entity, now time.Time) []MetadataRows {
	out := make([]MetadataRows, len(metaTables))
	for i, t := range metaTables {
		out[i].Table = t
	}
	byName := map[string]*dataverse.Entity{}
	var order []*dataverse.Entity
	for _, e := range entities {
		if _, dup := byName[e.LogicalName]; !dup {
			byName[e.LogicalName] = e
			order = append(order, e)
		}
	}
	globalSeen := map[string]bool{}
	for _, e := range order {
		en := record.StringValue(e.LogicalName)
		for i := range metaTables {
			if metaTables[i].Key == "EntityName" {
				out[i].Keys = append(out[i].Keys, e.LogicalName)
			}
		}
		for _, f := range dataverse.Fields(e) {
			if f.Helper == dataverse.HelperEntityType {
				continue // a column of ours, not a Dataverse attribute
			}
			a := f.Attribute
			an := record.StringValue(a.LogicalName)
			switch {
			case a.Type == dataverse.TypeState && a.OptionSet != nil:
				for _, o := range a.OptionSet.Options {
					for _, l := range labels(o) {
						out[2].Rows = append(out[2].Rows, append([]record.Value{en, record.IntValue(int64(o.Value))}, l...))
					}
				}
			case a.Type == dataverse.TypeStatus && a.OptionSet != nil:
				for _, o := range a.OptionSet.Options {
					state := record.NullValue()
					if o.State != nil {
						state = record.IntValue(int64(*o.State))
					}
					for _, l := range labels(o) {
						out[3].Rows = append(out[3].Rows, append([]record.Value{en, state, record.IntValue(int64(o.Value))}, l...))
					}
				}
			case a.OptionSet != nil && a.OptionSet.IsGlobal:
				if globalSeen[a.LogicalName] {
					continue
				}
				globalSeen[a.LogicalName] = true
				out[0].Keys = append(out[0].Keys, a.LogicalName)
				for _, o := range options(a.OptionSet) {
					for _, l := range labels(o) {
						out[0].Rows = append(out[0].Rows, append([]record.Value{an, record.IntValue(int64(o.Value))}, l...))
					}
				}
			case a.OptionSet != nil:
				for _, o := range options(a.OptionSet) {
					for _, l := range labels(o) {
						out[1].Rows = append(out[1].Rows, append([]record.Value{en, an, record.IntValue(int64(o.Value))}, l...))
					}
				}
			}
			if a.Type.IsLookup() {
				for _, target := range a.Targets {
					ref := target + "id"
					if te := byName[target]; te != nil && te.PrimaryIDAttribute != "" {
						ref = te.PrimaryIDAttribute
					}
					out[4].Rows = append(out[4].Rows, []record.Value{en, an, record.StringValue(target), record.StringValue(ref)})
				}
			}
			out[5].Rows = append(out[5].Rows, attributeRow(e, a, now))
		}
		version := e.Attribute(dataverse.VersionAttribute)
		if version == nil {
			version = &dataverse.Attribute{LogicalName: dataverse.VersionAttribute, SchemaName: "VersionNumber", Type: dataverse.TypeBigInt, AttributeTypeRaw: "BigInt"}
		}
		out[5].Rows = append(out[5].Rows, attributeRow(e, version, now))
	}
	slices.Sort(out[0].Keys)
	return out
}

// options are the options of a set; a Boolean set's are False (0) then True (1).
func options(s *dataverse.OptionSet) []dataverse.Option {
	if len(s.Options) > 0 || (s.TrueOption == nil && s.FalseOption == nil) {
		return s.Options
	}
	var out []dataverse.Option
	for _, o := range []*dataverse.Option{s.FalseOption, s.TrueOption} {
		if o != nil {
			out = append(out, *o)
		}
	}
	return out
}

// labels is one (IsUserLocalizedLabel, LanguageCode, Label) triple per
// localized label of o, the user's label marked; the user label alone when
// there are no localized ones.
func labels(o dataverse.Option) [][]record.Value {
	row := func(l dataverse.Label, user bool) []record.Value {
		return []record.Value{record.BoolValue(user), record.IntValue(int64(l.LanguageCode)), record.StringValue(l.Label)}
	}
	var out [][]record.Value
	for _, l := range o.Labels {
		user := o.UserLabel != nil && o.UserLabel.LanguageCode == l.LanguageCode && o.UserLabel.Label == l.Label
		out = append(out, row(l, user))
	}
	if len(out) == 0 && o.UserLabel != nil {
		out = append(out, row(*o.UserLabel, true))
	}
	return out
}

// attributeTypeCodes is Microsoft.Xrm.Sdk.Metadata.AttributeTypeCode.
var attributeTypeCodes = map[dataverse.AttributeType]int{
	dataverse.TypeBoolean: 0, dataverse.TypeCustomer: 1, dataverse.TypeDateTime: 2, dataverse.TypeDecimal: 3,
	dataverse.TypeDouble: 4, dataverse.TypeInteger: 5, dataverse.TypeLookup: 6, dataverse.TypeMemo: 7,
	dataverse.TypeMoney: 8, dataverse.TypeOwner: 9, dataverse.TypePartyList: 10, dataverse.TypePicklist: 11,
	dataverse.TypeState: 12, dataverse.TypeStatus: 13, dataverse.TypeString: 14, dataverse.TypeUniqueidentifier: 15,
	dataverse.TypeCalendarRules: 16, dataverse.TypeVirtual: 17, dataverse.TypeBigInt: 18, dataverse.TypeManagedProperty: 19,
	dataverse.TypeEntityName: 20,
	// The SDK reports these as Virtual.
	dataverse.TypeMultiSelectPicklist: 17, dataverse.TypeImage: 17, dataverse.TypeFile: 17,
}

var attributeNamespace = uuid.MustParse("6f0b0f6e-3c55-4a8f-9a43-0a4d8b1c2e71")

func attributeRow(e *dataverse.Entity, a *dataverse.Attribute, now time.Time) []record.Value {
	id := strings.ToLower(a.MetadataID)
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		id = uuid.NewSHA1(attributeNamespace, []byte(e.LogicalName+"."+a.LogicalName)).String()
	}
	typ := cmp.Or(a.AttributeTypeRaw, strings.TrimSuffix(string(a.Type), "Type"))
	code := record.NullValue()
	if c, ok := attributeTypeCodes[a.Type]; ok {
		code = record.IntValue(int64(c))
	}
	prec := record.NullValue()
	switch a.Type {
	case dataverse.TypeDecimal, dataverse.TypeDouble, dataverse.TypeMoney:
		prec = record.IntValue(int64(a.Precision))
	}
	meta := record.NullValue()
	if a.MetadataID != "" {
		meta = record.StringValue(a.MetadataID)
	}
	return []record.Value{
		record.GUIDValue(id), record.StringValue(e.LogicalName), record.StringValue(a.LogicalName), record.StringValue(typ),
		code, record.IntValue(dataverse.AttributeVersion(a)), record.DateTimeValue(now), meta, prec,
	}
}
