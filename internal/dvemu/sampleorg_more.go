package dvemu

// The rest of the sample org: users and teams, sales entities, activities
// with their parties, intersect entities, a custom entity with every column
// type, and activitypointer (exists, not exportable: change tracking off,
// no rows of its own).

// ManyToMany is an N:N relationship; its intersect entity is an ordinary
// entity with IsIntersect set.
type ManyToMany struct {
	SchemaName                string
	IntersectEntityName       string
	Entity1LogicalName        string
	Entity1IntersectAttribute string
	Entity2LogicalName        string
	Entity2IntersectAttribute string
	IsCustomRelationship      bool
}

var relationships = []ManyToMany{
	{SchemaName: "systemuserroles_association", IntersectEntityName: "systemuserroles", Entity1LogicalName: "role", Entity1IntersectAttribute: "roleid", Entity2LogicalName: "systemuser", Entity2IntersectAttribute: "systemuserid"},
	{SchemaName: "teammembership_association", IntersectEntityName: "teammembership", Entity1LogicalName: "systemuser", Entity1IntersectAttribute: "systemuserid", Entity2LogicalName: "team", Entity2IntersectAttribute: "teamid"},
	{SchemaName: "new_project_contact", IntersectEntityName: "new_project_contact", Entity1LogicalName: "new_project", Entity1IntersectAttribute: "new_projectid", Entity2LogicalName: "contact", Entity2IntersectAttribute: "contactid", IsCustomRelationship: true},
}

// globalOptionSets are served by GlobalOptionSetDefinitions(Name='...').
var globalOptionSets = map[string]*OptionSet{
	"new_category": {Name: "new_category", IsGlobal: true, Options: []Option{
		{Value: 100000000, Label: "Internal"}, {Value: 100000001, Label: "Customer"}, {Value: 100000002, Label: "Partner"},
	}},
}

func pk(entity, schema string) Attribute {
	return Attribute{LogicalName: entity + "id", SchemaName: schema + "Id", Type: Uniqueidentifier, IsPrimaryID: true, RequiredLevel: "SystemRequired"}
}

func str(name, schema string, max int, gen string, nullRate float64) Attribute {
	return Attribute{LogicalName: name, SchemaName: schema, Type: String, MaxLength: max, Format: "Text", Gen: gen, NullRate: nullRate}
}

func stamps() []Attribute {
	return []Attribute{
		{LogicalName: "createdon", SchemaName: "CreatedOn", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "createdon"},
		{LogicalName: "modifiedon", SchemaName: "ModifiedOn", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "modifiedon"},
		{LogicalName: "versionnumber", SchemaName: "VersionNumber", Type: BigInt, MinValue: -9223372036854775808, MaxValue: 9223372036854775807},
	}
}

func orgOwned(name, schema, set string, otc int, records int, attrs ...Attribute) Entity {
	all := append([]Attribute{pk(name, schema)}, attrs...)
	return Entity{LogicalName: name, SchemaName: schema, EntitySetName: set, PrimaryID: name + "id", PrimaryName: primaryName(attrs),
		ObjectTypeCode: otc, OwnershipType: "OrganizationOwned", Records: records, Attributes: append(all, stamps()...)}
}

func userOwned(name, schema, set string, otc int, attrs ...Attribute) Entity {
	all := append([]Attribute{pk(name, schema)}, attrs...)
	return Entity{LogicalName: name, SchemaName: schema, EntitySetName: set, PrimaryID: name + "id", PrimaryName: primaryName(attrs),
		ObjectTypeCode: otc, OwnershipType: "UserOwned", Attributes: append(all, systemColumns(name)...)}
}

func primaryName(attrs []Attribute) string {
	for _, a := range attrs {
		if a.IsPrimaryName {
			return a.LogicalName
		}
	}
	return ""
}

func named(a Attribute) Attribute { a.IsPrimaryName = true; return a }

func lookup(name, schema string, gen string, nullRate float64, targets ...string) Attribute {
	return Attribute{LogicalName: name, SchemaName: schema, Type: Lookup, Targets: targets, Gen: gen, NullRate: nullRate}
}

func picklist(name, schema string, nullRate float64, labels ...string) Attribute {
	os := &OptionSet{}
	for i, l := range labels {
		os.Options = append(os.Options, Option{Value: i + 1, Label: l})
	}
	return Attribute{LogicalName: name, SchemaName: schema, Type: Picklist, OptionSet: os, NullRate: nullRate}
}

// activity builds an activity entity: shared activityid key, subject,
// regarding, PartyList columns (data lives in activityparty).
func activity(name, schema, set string, otc int, parties []string, extra ...Attribute) Entity {
	attrs := []Attribute{
		{LogicalName: "activityid", SchemaName: "ActivityId", Type: Uniqueidentifier, IsPrimaryID: true, RequiredLevel: "SystemRequired"},
		named(str("subject", "Subject", 200, "sentence", 0)),
		{LogicalName: "description", SchemaName: "Description", Type: Memo, MaxLength: 100000, Format: "TextArea", Gen: "sentence", NullRate: 0.5},
		{LogicalName: "scheduledend", SchemaName: "ScheduledEnd", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", NullRate: 0.3},
		lookup("regardingobjectid", "RegardingObjectId", "", 0.3, "account", "contact", "lead", "opportunity"),
		{LogicalName: "activitytypecode", SchemaName: "ActivityTypeCode", Type: EntityName, Gen: "activitytype"},
	}
	for _, p := range parties {
		attrs = append(attrs, Attribute{LogicalName: p, SchemaName: p, Type: PartyList, Targets: []string{"account", "contact", "systemuser", "lead"}})
	}
	attrs = append(attrs, extra...)
	e := Entity{LogicalName: name, SchemaName: schema, EntitySetName: set, PrimaryID: "activityid", PrimaryName: "subject",
		ObjectTypeCode: otc, OwnershipType: "UserOwned", IsActivity: true, Attributes: append(attrs, systemColumns(name)...)}
	// Activities are Open / Completed / Canceled.
	for i := range e.Attributes {
		switch e.Attributes[i].LogicalName {
		case "statecode":
			e.Attributes[i].OptionSet = &OptionSet{Options: []Option{
				{Value: 0, Label: "Open", DefaultStatus: intp(1), InvariantName: "Open"},
				{Value: 1, Label: "Completed", DefaultStatus: intp(2), InvariantName: "Completed"},
				{Value: 2, Label: "Canceled", DefaultStatus: intp(3), InvariantName: "Canceled"},
			}}
		case "statuscode":
			e.Attributes[i].OptionSet = &OptionSet{Options: []Option{
				{Value: 1, Label: "Open", State: intp(0)}, {Value: 2, Label: "Completed", State: intp(1)}, {Value: 3, Label: "Canceled", State: intp(2)},
			}}
		}
	}
	return e
}

func intersect(name, set, id string, otc int, a1, a2 string) Entity {
	return Entity{LogicalName: name, SchemaName: name, EntitySetName: set, PrimaryID: id, ObjectTypeCode: otc, OwnershipType: "None", IsIntersect: true,
		Attributes: []Attribute{
			{LogicalName: id, SchemaName: id, Type: Uniqueidentifier, IsPrimaryID: true},
			{LogicalName: a1, SchemaName: a1, Type: Uniqueidentifier, Gen: "ref:" + a1},
			{LogicalName: a2, SchemaName: a2, Type: Uniqueidentifier, Gen: "ref:" + a2},
			{LogicalName: "versionnumber", SchemaName: "VersionNumber", Type: BigInt, MinValue: -9223372036854775808, MaxValue: 9223372036854775807},
		}}
}

func projectEntity() Entity {
	f := func(v float64) float64 { return v }
	attrs := []Attribute{
		named(Attribute{LogicalName: "new_name", SchemaName: "new_Name", Type: String, MaxLength: 100, Format: "Text", IsCustomAttribute: true, Gen: "company"}),
		{LogicalName: "new_notes", SchemaName: "new_Notes", Type: Memo, MaxLength: 4000, Format: "TextArea", IsCustomAttribute: true, Gen: "sentence", NullRate: 0.3},
		{LogicalName: "new_headcount", SchemaName: "new_Headcount", Type: Integer, MinValue: 0, MaxValue: 100000, Format: "None", IsCustomAttribute: true, NullRate: 0.2},
		{LogicalName: "new_bignumber", SchemaName: "new_BigNumber", Type: BigInt, MinValue: -9223372036854775808, MaxValue: 9223372036854775807, IsCustomAttribute: true, NullRate: 0.2},
		{LogicalName: "new_ratio", SchemaName: "new_Ratio", Type: Decimal, Precision: 4, MinValue: -100000, MaxValue: 100000, IsCustomAttribute: true, NullRate: 0.2},
		{LogicalName: "new_score", SchemaName: "new_Score", Type: Double, Precision: 3, MinValue: f(-1e9), MaxValue: f(1e9), IsCustomAttribute: true, NullRate: 0.2},
		{LogicalName: "new_budget", SchemaName: "new_Budget", Type: Money, Precision: 2, PrecisionSource: 2, MinValue: 0, MaxValue: 922337203685477, IsCustomAttribute: true, Gen: "revenue", NullRate: 0.2},
		{LogicalName: "new_startedon", SchemaName: "new_StartedOn", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", IsCustomAttribute: true, Gen: "pastdate", NullRate: 0.2},
		{LogicalName: "new_duedate", SchemaName: "new_DueDate", Type: DateTime, DateTimeBehavior: "DateOnly", Format: "DateOnly", IsCustomAttribute: true, NullRate: 0.2},
		{LogicalName: "new_kickoff", SchemaName: "new_Kickoff", Type: DateTime, DateTimeBehavior: "TimeZoneIndependent", Format: "DateAndTime", IsCustomAttribute: true, NullRate: 0.2},
		{LogicalName: "new_isactive", SchemaName: "new_IsActive", Type: Boolean, IsCustomAttribute: true, OptionSet: &OptionSet{Name: "new_project_new_isactive", TrueLabel: "Yes", FalseLabel: "No"}},
		{LogicalName: "new_priority", SchemaName: "new_Priority", Type: Picklist, IsCustomAttribute: true, NullRate: 0.2, OptionSet: &OptionSet{Name: "new_project_new_priority", Options: []Option{
			{Value: 100000000, Label: "Low"}, {Value: 100000001, Label: "Normal"}, {Value: 100000002, Label: "High"}}}},
		{LogicalName: "new_category", SchemaName: "new_Category", Type: Picklist, IsCustomAttribute: true, NullRate: 0.2, OptionSet: globalOptionSets["new_category"]},
		{LogicalName: "new_tags", SchemaName: "new_Tags", Type: MultiSelectPicklist, IsCustomAttribute: true, NullRate: 0.2, OptionSet: &OptionSet{Name: "new_project_new_tags", Options: []Option{
			{Value: 1, Label: "Hiking"}, {Value: 2, Label: "Mountain Climbing"}, {Value: 3, Label: "Skiing"}, {Value: 4, Label: "Camping"}}}},
		lookup("new_accountid", "new_AccountId", "", 0.2, "account"),
		{LogicalName: "new_customerid", SchemaName: "new_CustomerId", Type: Customer, Targets: []string{"account", "contact"}, IsCustomAttribute: true, NullRate: 0.3},
		{LogicalName: "new_externalid", SchemaName: "new_ExternalId", Type: Uniqueidentifier, IsCustomAttribute: true, NullRate: 0.3},
		{LogicalName: "new_regardingtype", SchemaName: "new_RegardingType", Type: EntityName, IsCustomAttribute: true, Gen: "pickentity", NullRate: 0.3},
		{LogicalName: "entityimage", SchemaName: "EntityImage", Type: Image},
		{LogicalName: "entityimageid", SchemaName: "EntityImageId", Type: Uniqueidentifier, AttributeOf: "entityimage", Gen: "imageid", NullRate: 0.5},
		{LogicalName: "entityimage_timestamp", SchemaName: "EntityImage_Timestamp", Type: BigInt, AttributeOf: "entityimage", Gen: "imagets"},
		{LogicalName: "entityimage_url", SchemaName: "EntityImage_URL", Type: String, MaxLength: 200, AttributeOf: "entityimage", Gen: "imageurl"},
		{LogicalName: "new_document", SchemaName: "new_Document", Type: File, IsCustomAttribute: true},
		currencyLookup(),
	}
	e := userOwned("new_project", "new_Project", "new_projects", 10002, attrs...)
	return e
}

func moreEntities() []Entity {
	activityPointer := activity("activitypointer", "ActivityPointer", "activitypointers", 4200, nil)
	activityPointer.ChangeTrackingDisabled = true
	activityPointer.Records = -1
	// The org's one organization row; its languagecode is the base language
	// (every label of the sample org is English, 1033).
	organization := orgOwned("organization", "Organization", "organizations", 1019, 1,
		named(str("name", "Name", 160, "company", 0)),
		Attribute{LogicalName: "languagecode", SchemaName: "LanguageCode", Type: Integer, MinValue: 0, MaxValue: 2147483647, Format: "Language", Gen: "languagecode"})
	return []Entity{
		organization,
		orgOwned("businessunit", "BusinessUnit", "businessunits", 10, 1, named(str("name", "Name", 160, "company", 0))),
		orgOwned("transactioncurrency", "TransactionCurrency", "transactioncurrencies", 9105, 3,
			named(str("currencyname", "CurrencyName", 100, "currency", 0)), str("isocurrencycode", "ISOCurrencyCode", 5, "iso", 0),
			Attribute{LogicalName: "exchangerate", SchemaName: "ExchangeRate", Type: Decimal, Precision: 10, MinValue: 0.0000000001, MaxValue: 100000000000, Gen: "rate"}),
		orgOwned("systemuser", "SystemUser", "systemusers", 8, 5,
			named(str("fullname", "FullName", 200, "fullname", 0)), str("firstname", "FirstName", 64, "firstname", 0), str("lastname", "LastName", 64, "lastname", 0),
			str("internalemailaddress", "InternalEMailAddress", 100, "personemail", 0), lookup("businessunitid", "BusinessUnitId", "", 0, "businessunit")),
		orgOwned("team", "Team", "teams", 9, 2, named(str("name", "Name", 160, "company", 0)), lookup("businessunitid", "BusinessUnitId", "", 0, "businessunit")),
		orgOwned("role", "Role", "roles", 1036, 3, named(str("name", "Name", 100, "jobtitle", 0)), lookup("businessunitid", "BusinessUnitId", "", 0, "businessunit")),
		userOwned("lead", "Lead", "leads", 4,
			named(str("fullname", "FullName", 160, "fullname", 0)), str("firstname", "FirstName", 50, "firstname", 0.1), str("lastname", "LastName", 50, "lastname", 0),
			str("companyname", "CompanyName", 100, "company", 0.2), str("emailaddress1", "EMailAddress1", 100, "personemail", 0.2),
			picklist("leadsourcecode", "LeadSourceCode", 0.3, "Advertisement", "Employee Referral", "External Referral", "Partner", "Public Relations", "Seminar", "Trade Show", "Web", "Word of Mouth", "Other"),
			lookup("parentaccountid", "ParentAccountId", "", 0.5, "account"),
			Attribute{LogicalName: "estimatedamount", SchemaName: "EstimatedAmount", Type: Money, Precision: 2, PrecisionSource: 2, MinValue: 0, MaxValue: 922337203685477, Gen: "income", NullRate: 0.4},
			currencyLookup()),
		userOwned("opportunity", "Opportunity", "opportunities", 3,
			named(str("name", "Name", 300, "sentence", 0)),
			Attribute{LogicalName: "estimatedvalue", SchemaName: "EstimatedValue", Type: Money, Precision: 2, PrecisionSource: 2, MinValue: 0, MaxValue: 922337203685477, Gen: "revenue", NullRate: 0.2},
			Attribute{LogicalName: "estimatedclosedate", SchemaName: "EstimatedCloseDate", Type: DateTime, DateTimeBehavior: "DateOnly", Format: "DateOnly", NullRate: 0.2},
			Attribute{LogicalName: "closeprobability", SchemaName: "CloseProbability", Type: Integer, MinValue: 0, MaxValue: 100, Format: "None", Gen: "probability", NullRate: 0.2},
			Attribute{LogicalName: "customerid", SchemaName: "CustomerId", Type: Customer, Targets: []string{"account", "contact"}, Gen: "parentcustomer", NullRate: 0.1},
			currencyLookup(),
			lookup("originatingleadid", "OriginatingLeadId", "", 0.5, "lead")),
		activity("email", "Email", "emails", 4202, []string{"from", "to", "cc", "bcc"},
			Attribute{LogicalName: "directioncode", SchemaName: "DirectionCode", Type: Boolean, OptionSet: &OptionSet{Name: "email_directioncode", TrueLabel: "Outgoing", FalseLabel: "Incoming"}}),
		activity("phonecall", "PhoneCall", "phonecalls", 4210, []string{"from", "to"}, str("phonenumber", "PhoneNumber", 200, "phone", 0.3)),
		activity("task", "Task", "tasks", 4212, nil, Attribute{LogicalName: "percentcomplete", SchemaName: "PercentComplete", Type: Integer, MinValue: 0, MaxValue: 100, Format: "None", Gen: "probability", NullRate: 0.3}),
		activity("appointment", "Appointment", "appointments", 4201, []string{"requiredattendees", "optionalattendees", "organizer"},
			str("location", "Location", 200, "city", 0.3),
			Attribute{LogicalName: "scheduledstart", SchemaName: "ScheduledStart", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "pastdate"}),
		activityPointer,
		{LogicalName: "activityparty", SchemaName: "ActivityParty", EntitySetName: "activityparties", PrimaryID: "activitypartyid", ObjectTypeCode: 135, OwnershipType: "None",
			Attributes: []Attribute{
				pk("activityparty", "ActivityParty"),
				{LogicalName: "activityid", SchemaName: "ActivityId", Type: Lookup, Targets: []string{"activitypointer"}, Gen: "partyactivity"},
				{LogicalName: "partyid", SchemaName: "PartyId", Type: Lookup, Targets: []string{"account", "contact", "knowledgearticle", "queue", "systemuser"}, Gen: "party"},
				{LogicalName: "participationtypemask", SchemaName: "ParticipationTypeMask", Type: Picklist, Gen: "partymask", OptionSet: &OptionSet{Name: "activityparty_participationtypemask", Options: []Option{
					{Value: 1, Label: "Sender"}, {Value: 2, Label: "To Recipient"}, {Value: 3, Label: "CC Recipient"}, {Value: 4, Label: "BCC Recipient"},
					{Value: 5, Label: "Required attendee"}, {Value: 6, Label: "Optional attendee"}, {Value: 7, Label: "Organizer"}, {Value: 8, Label: "Regarding"},
					{Value: 9, Label: "Owner"}, {Value: 10, Label: "Resource"}, {Value: 11, Label: "Customer"}, {Value: 12, Label: "Chat Participant"}, {Value: 13, Label: "Related"}}}},
				str("addressused", "AddressUsed", 320, "personemail", 0.3),
				{LogicalName: "ispartydeleted", SchemaName: "IsPartyDeleted", Type: Boolean, Gen: "false", OptionSet: &OptionSet{Name: "activityparty_ispartydeleted", TrueLabel: "Yes", FalseLabel: "No"}},
				{LogicalName: "partyobjecttypecode", SchemaName: "PartyObjectTypeCode", Type: EntityName, Gen: "partytype"},
				{LogicalName: "versionnumber", SchemaName: "VersionNumber", Type: BigInt, MinValue: -9223372036854775808, MaxValue: 9223372036854775807},
			}},
		projectEntity(),
		intersect("systemuserroles", "systemuserrolescollection", "systemuserroleid", 15, "systemuserid", "roleid"),
		intersect("teammembership", "teammemberships", "teammembershipid", 23, "systemuserid", "teamid"),
		intersect("new_project_contact", "new_project_contactset", "new_project_contactid", 10003, "new_projectid", "contactid"),
	}
}
