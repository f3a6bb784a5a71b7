package dataverse

// Typed metadata model, decoded from EntityDefinitions. Property names follow
// the Web API (PascalCase there, Go names here).

// AttributeType is AttributeTypeName.Value, the reliable type name
// ("StringType", "LookupType", ...). AttributeType reports Image and
// MultiSelectPicklist as Virtual, so it is not used for mapping.
type AttributeType string

const (
	TypeString              AttributeType = "StringType"
	TypeMemo                AttributeType = "MemoType"
	TypeInteger             AttributeType = "IntegerType"
	TypeBigInt              AttributeType = "BigIntType"
	TypeDecimal             AttributeType = "DecimalType"
	TypeDouble              AttributeType = "DoubleType"
	TypeMoney               AttributeType = "MoneyType"
	TypeDateTime            AttributeType = "DateTimeType"
	TypeBoolean             AttributeType = "BooleanType"
	TypePicklist            AttributeType = "PicklistType"
	TypeMultiSelectPicklist AttributeType = "MultiSelectPicklistType"
	TypeState               AttributeType = "StateType"
	TypeStatus              AttributeType = "StatusType"
	TypeLookup              AttributeType = "LookupType"
	TypeCustomer            AttributeType = "CustomerType"
	TypeOwner               AttributeType = "OwnerType"
	TypeUniqueidentifier    AttributeType = "UniqueidentifierType"
	TypeEntityName          AttributeType = "EntityNameType"
	TypeImage               AttributeType = "ImageType"
	TypeFile                AttributeType = "FileType"
	TypePartyList           AttributeType = "PartyListType"
	TypeVirtual             AttributeType = "VirtualType"
	TypeCalendarRules       AttributeType = "CalendarRulesType"
	TypeManagedProperty     AttributeType = "ManagedPropertyType"
	TypeCustom              AttributeType = "CustomType" // listed in AttributeTypeDisplayName, undocumented; not replicated
)

// Known reports whether t is one of the documented AttributeTypeName values.
func (t AttributeType) Known() bool {
	switch t {
	case TypeString, TypeMemo, TypeInteger, TypeBigInt, TypeDecimal, TypeDouble, TypeMoney,
		TypeDateTime, TypeBoolean, TypePicklist, TypeMultiSelectPicklist, TypeState, TypeStatus,
		TypeLookup, TypeCustomer, TypeOwner, TypeUniqueidentifier, TypeEntityName, TypeImage,
		TypeFile, TypePartyList, TypeVirtual, TypeCalendarRules, TypeManagedProperty, TypeCustom:
		return true
	}
	return false
}

// IsLookup reports whether values of this type arrive as _<name>_value GUIDs
// with a target entity type.
func (t AttributeType) IsLookup() bool {
	return t == TypeLookup || t == TypeCustomer || t == TypeOwner
}

// DateTimeBehavior is DateTimeAttributeMetadata.DateTimeBehavior.Value.
type DateTimeBehavior string

const (
	UserLocal           DateTimeBehavior = "UserLocal"
	DateOnly            DateTimeBehavior = "DateOnly"
	TimeZoneIndependent DateTimeBehavior = "TimeZoneIndependent"
)

// Label is one localized label.
type Label struct {
	Label        string
	LanguageCode int
}

// Option is one choice of an option set. State and Status options carry the
// links between statecode and statuscode.
type Option struct {
	Value         int
	Labels        []Label
	UserLabel     *Label
	State         *int // StatusOptionMetadata.State: the statecode this status belongs to
	DefaultStatus *int // StateOptionMetadata.DefaultStatus
	InvariantName string
}

// OptionSet is a local or global option set.
type OptionSet struct {
	MetadataID    string
	Name          string
	IsGlobal      bool
	OptionSetType string // Picklist, State, Status, Boolean, MultiSelectPicklist
	Options       []Option
	TrueOption    *Option // BooleanOptionSetMetadata
	FalseOption   *Option
}

// Attribute is one column of an entity.
type Attribute struct {
	MetadataID        string
	LogicalName       string
	SchemaName        string
	Type              AttributeType
	AttributeTypeRaw  string // AttributeType, e.g. "Virtual"
	ODataType         string // @odata.type, e.g. "#Microsoft.Dynamics.CRM.StringAttributeMetadata"
	IsValidForRead    bool
	IsPrimaryID       bool
	IsPrimaryName     bool
	IsLogical         bool
	IsCustomAttribute bool
	AttributeOf       string // non-empty for auxiliary columns (accountidname, ...)
	MaxLength         int    // String, Memo
	Precision         int    // Decimal, Double, Money
	PrecisionSource   int    // Money
	MinValue          *float64
	MaxValue          *float64
	Targets           []string // Lookup, Customer, Owner
	DateTimeBehavior  DateTimeBehavior
	Format            string
	OptionSet         *OptionSet // Picklist, MultiSelectPicklist, State, Status, Boolean
	SourceType        int        // 0 simple, 1 calculated, 2 rollup
}

// ManyToManyRelationship is an N:N relationship and its intersect entity.
type ManyToManyRelationship struct {
	MetadataID                string
	SchemaName                string
	IntersectEntityName       string
	Entity1LogicalName        string
	Entity1IntersectAttribute string
	Entity2LogicalName        string
	Entity2IntersectAttribute string
	IsCustomRelationship      bool
}

// Entity is one table's definition.
type Entity struct {
	MetadataID            string
	LogicalName           string
	SchemaName            string
	EntitySetName         string
	PrimaryIDAttribute    string
	PrimaryNameAttribute  string
	ObjectTypeCode        int
	OwnershipType         string
	ChangeTrackingEnabled bool
	IsIntersect           bool
	IsActivity            bool
	Attributes            []Attribute
	ManyToMany            []ManyToManyRelationship
}

// Attribute returns the attribute with the given logical name, or nil.
func (e *Entity) Attribute(logicalName string) *Attribute {
	for i := range e.Attributes {
		if e.Attributes[i].LogicalName == logicalName {
			return &e.Attributes[i]
		}
	}
	return nil
}
