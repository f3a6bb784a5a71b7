package dvemu

// The emulator's own metadata model. It mirrors the Web API's
// EntityMetadata/AttributeMetadata just enough to render them; it is
// deliberately independent of internal/dataverse so the emulator tests the
// client's decoding instead of sharing it.

// AttrType is AttributeMetadata.AttributeType (AttributeTypeCode).
type AttrType string

const (
	String              AttrType = "String"
	Memo                AttrType = "Memo"
	Integer             AttrType = "Integer"
	BigInt              AttrType = "BigInt"
	Decimal             AttrType = "Decimal"
	Double              AttrType = "Double"
	Money               AttrType = "Money"
	DateTime            AttrType = "DateTime"
	Boolean             AttrType = "Boolean"
	Picklist            AttrType = "Picklist"
	MultiSelectPicklist AttrType = "MultiSelectPicklist" // AttributeType says Virtual
	State               AttrType = "State"
	Status              AttrType = "Status"
	Lookup              AttrType = "Lookup"
	Customer            AttrType = "Customer"
	Owner               AttrType = "Owner"
	Uniqueidentifier    AttrType = "Uniqueidentifier"
	EntityName          AttrType = "EntityName"
	Image               AttrType = "Image" // AttributeType says Virtual
	File                AttrType = "File"  // AttributeType says Virtual
	PartyList           AttrType = "PartyList"
	Virtual             AttrType = "Virtual"
)

// typeInfo holds how a type shows up in metadata.
type typeInfo struct {
	code      string // AttributeType as sent
	typeName  string // AttributeTypeName.Value
	odataType string // derived metadata class, without the namespace
}

var typeInfos = map[AttrType]typeInfo{
	String:              {"String", "StringType", "StringAttributeMetadata"},
	Memo:                {"Memo", "MemoType", "MemoAttributeMetadata"},
	Integer:             {"Integer", "IntegerType", "IntegerAttributeMetadata"},
	BigInt:              {"BigInt", "BigIntType", "BigIntAttributeMetadata"},
	Decimal:             {"Decimal", "DecimalType", "DecimalAttributeMetadata"},
	Double:              {"Double", "DoubleType", "DoubleAttributeMetadata"},
	Money:               {"Money", "MoneyType", "MoneyAttributeMetadata"},
	DateTime:            {"DateTime", "DateTimeType", "DateTimeAttributeMetadata"},
	Boolean:             {"Boolean", "BooleanType", "BooleanAttributeMetadata"},
	Picklist:            {"Picklist", "PicklistType", "PicklistAttributeMetadata"},
	MultiSelectPicklist: {"Virtual", "MultiSelectPicklistType", "MultiSelectPicklistAttributeMetadata"},
	State:               {"State", "StateType", "StateAttributeMetadata"},
	Status:              {"Status", "StatusType", "StatusAttributeMetadata"},
	Lookup:              {"Lookup", "LookupType", "LookupAttributeMetadata"},
	Customer:            {"Customer", "CustomerType", "LookupAttributeMetadata"},
	Owner:               {"Owner", "OwnerType", "LookupAttributeMetadata"},
	Uniqueidentifier:    {"Uniqueidentifier", "UniqueidentifierType", "UniqueIdentifierAttributeMetadata"},
	EntityName:          {"EntityName", "EntityNameType", "EntityNameAttributeMetadata"},
	Image:               {"Virtual", "ImageType", "ImageAttributeMetadata"},
	File:                {"Virtual", "FileType", "FileAttributeMetadata"},
	PartyList:           {"PartyList", "PartyListType", "LookupAttributeMetadata"},
	Virtual:             {"Virtual", "VirtualType", "AttributeMetadata"},
}

// IsLookup reports whether values travel as _<name>_value GUIDs.
func (t AttrType) IsLookup() bool { return t == Lookup || t == Customer || t == Owner }

// BaseLanguage is the emulated org's base language: every label is in it
// (organization.languagecode, LanguageCode of each localized label).
const BaseLanguage = 1033

// Option is one choice of an option set.
type Option struct {
	Value         int
	Label         string
	State         *int   // Status options: the statecode they belong to
	DefaultStatus *int   // State options
	InvariantName string // State options
}

// OptionSet is a local or global option set.
type OptionSet struct {
	Name     string
	IsGlobal bool
	Options  []Option
	// Boolean option sets use these instead of Options.
	TrueLabel, FalseLabel string
}

// Attribute is one column definition.
type Attribute struct {
	LogicalName string
	SchemaName  string
	Type        AttrType

	MaxLength        int     // String, Memo
	Precision        int     // Decimal, Double, Money
	PrecisionSource  int     // Money
	MinValue         float64 // Integer, BigInt, Decimal, Double, Money
	MaxValue         float64
	Format           string // String FormatName / DateTime Format / Integer Format
	DateTimeBehavior string // UserLocal, DateOnly, TimeZoneIndependent
	Targets          []string
	OptionSet        *OptionSet

	IsPrimaryID       bool
	IsPrimaryName     bool
	IsCustomAttribute bool
	IsLogical         bool
	NotValidForRead   bool   // zero value = readable, like almost every column
	AttributeOf       string // auxiliary column of another attribute
	RequiredLevel     string // "" = None

	// companion marks auxiliary columns (AttributeOf) that hold values of
	// their own: an image's entityimageid/_url/_timestamp, a money column's
	// _base, a rollup's _date and _state. A lookup's helpers (name,
	// yominame, type) hold none: Dataverse serves them as annotations.
	companion bool
	// changedAt is the metadata version of the attribute's last change
	// (0 = as defined at start), for RetrieveMetadataChanges.
	changedAt int64

	// Generation hints for sample rows.
	Gen      string  // generator name, see generate.go; "" = by type
	NullRate float64 // share of generated rows where the value is null
}

// Entity is one table definition.
type Entity struct {
	LogicalName    string
	SchemaName     string
	EntitySetName  string
	PrimaryID      string
	PrimaryName    string
	ObjectTypeCode int
	OwnershipType  string // UserOwned, OrganizationOwned, None
	// ChangeTrackingDisabled inverts ChangeTrackingEnabled so the zero value
	// is the common, tracked case.
	ChangeTrackingDisabled bool
	IsIntersect            bool
	IsActivity             bool
	Attributes             []Attribute
	// Records overrides Options.Records for this entity when > 0; < 0 means
	// no generated rows.
	Records int
	// ManyToMany lists the N:N relationships the entity takes part in
	// (filled from the org's relationship list).
	ManyToMany []ManyToMany
}

// Ref is a lookup value: the target entity's logical name and the row id.
type Ref struct{ Entity, ID string }

func (e *Entity) attr(name string) (int, *Attribute) {
	for i := range e.Attributes {
		if e.Attributes[i].LogicalName == name {
			return i, &e.Attributes[i]
		}
	}
	return -1, nil
}

// stored reports whether the attribute holds a value in a row (a lookup's
// helpers and PartyList/Virtual columns do not).
func (a *Attribute) stored() bool {
	if a.AttributeOf != "" {
		return a.companion
	}
	switch a.Type {
	case PartyList, Virtual, Image, File:
		return false
	}
	return true
}

func intp(v int) *int { return &v }
