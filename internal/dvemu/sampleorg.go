package dvemu

// The sample org: account and contact, shaped like their real definitions
// (a dozen or so columns each, covering every type a replicator maps).

func stateCode() Attribute {
	return Attribute{LogicalName: "statecode", SchemaName: "StateCode", Type: State, RequiredLevel: "SystemRequired", Gen: "statecode",
		OptionSet: &OptionSet{Options: []Option{
			{Value: 0, Label: "Active", DefaultStatus: intp(1), InvariantName: "Active"},
			{Value: 1, Label: "Inactive", DefaultStatus: intp(2), InvariantName: "Inactive"},
		}}}
}

func statusCode() Attribute {
	return Attribute{LogicalName: "statuscode", SchemaName: "StatusCode", Type: Status, Gen: "statuscode",
		OptionSet: &OptionSet{Options: []Option{
			{Value: 1, Label: "Active", State: intp(0)},
			{Value: 2, Label: "Inactive", State: intp(1)},
		}}}
}

// currencyLookup is the transactioncurrencyid every table with money
// columns has; selecting a money column also returns it.
func currencyLookup() Attribute {
	return Attribute{LogicalName: "transactioncurrencyid", SchemaName: "TransactionCurrencyId", Type: Lookup, Targets: []string{"transactioncurrency"}, Gen: "currency-ref"}
}

// systemColumns are the columns every user-owned table has.
func systemColumns(entity string) []Attribute {
	return []Attribute{
		{LogicalName: "ownerid", SchemaName: "OwnerId", Type: Owner, Targets: []string{"systemuser", "team"}, RequiredLevel: "SystemRequired", Gen: "owner"},
		{LogicalName: "owneridtype", SchemaName: "OwnerIdType", Type: EntityName, AttributeOf: "ownerid"},
		{LogicalName: "owneridname", SchemaName: "OwnerIdName", Type: String, MaxLength: 100, Format: "Text", AttributeOf: "ownerid", RequiredLevel: "SystemRequired"},
		{LogicalName: "owneridyominame", SchemaName: "OwnerIdYomiName", Type: String, MaxLength: 100, Format: "Text", AttributeOf: "ownerid", RequiredLevel: "SystemRequired"},
		stateCode(),
		statusCode(),
		{LogicalName: "createdon", SchemaName: "CreatedOn", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "createdon"},
		{LogicalName: "modifiedon", SchemaName: "ModifiedOn", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "modifiedon"},
		{LogicalName: "versionnumber", SchemaName: "VersionNumber", Type: BigInt, MinValue: -9223372036854775808, MaxValue: 9223372036854775807},
	}
}

func accountEntity() Entity {
	attrs := []Attribute{
		{LogicalName: "accountid", SchemaName: "AccountId", Type: Uniqueidentifier, IsPrimaryID: true, RequiredLevel: "SystemRequired"},
		{LogicalName: "name", SchemaName: "Name", Type: String, MaxLength: 160, Format: "Text", IsPrimaryName: true, RequiredLevel: "ApplicationRequired", Gen: "company"},
		{LogicalName: "accountnumber", SchemaName: "AccountNumber", Type: String, MaxLength: 20, Format: "Text", Gen: "accountnumber", NullRate: 0.3},
		{LogicalName: "telephone1", SchemaName: "Telephone1", Type: String, MaxLength: 50, Format: "Phone", Gen: "phone", NullRate: 0.2},
		{LogicalName: "emailaddress1", SchemaName: "EMailAddress1", Type: String, MaxLength: 100, Format: "Email", Gen: "companyemail", NullRate: 0.2},
		{LogicalName: "address1_city", SchemaName: "Address1_City", Type: String, MaxLength: 80, Format: "Text", Gen: "city", NullRate: 0.1},
		{LogicalName: "description", SchemaName: "Description", Type: Memo, MaxLength: 2000, Format: "TextArea", Gen: "sentence", NullRate: 0.5},
		{LogicalName: "numberofemployees", SchemaName: "NumberOfEmployees", Type: Integer, MinValue: 0, MaxValue: 1000000000, Format: "None", Gen: "employees", NullRate: 0.2},
		{LogicalName: "revenue", SchemaName: "Revenue", Type: Money, Precision: 2, PrecisionSource: 2, MinValue: 0, MaxValue: 100000000000000, Gen: "revenue", NullRate: 0.2},
		{LogicalName: "address1_latitude", SchemaName: "Address1_Latitude", Type: Double, Precision: 5, MinValue: -90, MaxValue: 90, Gen: "latitude", NullRate: 0.3},
		{LogicalName: "new_discountrate", SchemaName: "new_DiscountRate", Type: Decimal, Precision: 2, MinValue: 0, MaxValue: 100, IsCustomAttribute: true, Gen: "percent", NullRate: 0.4},
		{LogicalName: "industrycode", SchemaName: "IndustryCode", Type: Picklist, NullRate: 0.2, OptionSet: &OptionSet{Name: "account_industrycode", Options: []Option{
			{Value: 1, Label: "Accounting"}, {Value: 2, Label: "Agriculture and Non-petrol Natural Resource Extraction"},
			{Value: 3, Label: "Broadcasting Printing and Publishing"}, {Value: 4, Label: "Brokers"},
			{Value: 5, Label: "Building Supply Retail"}, {Value: 6, Label: "Business Services"},
			{Value: 7, Label: "Consulting"}, {Value: 8, Label: "Consumer Services"},
		}}},
		{LogicalName: "creditonhold", SchemaName: "CreditOnHold", Type: Boolean, OptionSet: &OptionSet{Name: "account_creditonhold", TrueLabel: "Yes", FalseLabel: "No"}},
		{LogicalName: "lastusedincampaign", SchemaName: "LastUsedInCampaign", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "pastdate", NullRate: 0.6},
		{LogicalName: "primarycontactid", SchemaName: "PrimaryContactId", Type: Lookup, Targets: []string{"contact"}, Gen: "primarycontact", NullRate: 0.3},
		{LogicalName: "primarycontactidname", SchemaName: "PrimaryContactIdName", Type: String, MaxLength: 100, AttributeOf: "primarycontactid"},
		currencyLookup(),
	}
	// accountcategorycode comes last so that the values generated for the
	// other columns stay those of earlier versions (one random stream per row).
	category := Attribute{LogicalName: "accountcategorycode", SchemaName: "AccountCategoryCode", Type: Picklist, NullRate: 0.5,
		OptionSet: &OptionSet{Name: "account_accountcategorycode", Options: []Option{{Value: 1, Label: "Preferred Customer"}, {Value: 2, Label: "Standard"}}}}
	return Entity{LogicalName: "account", SchemaName: "Account", EntitySetName: "accounts", PrimaryID: "accountid", PrimaryName: "name",
		ObjectTypeCode: 1, OwnershipType: "UserOwned", Attributes: append(append(attrs, systemColumns("account")...), category)}
}

func contactEntity() Entity {
	attrs := []Attribute{
		{LogicalName: "contactid", SchemaName: "ContactId", Type: Uniqueidentifier, IsPrimaryID: true, RequiredLevel: "SystemRequired"},
		{LogicalName: "firstname", SchemaName: "FirstName", Type: String, MaxLength: 50, Format: "Text", Gen: "firstname", NullRate: 0.05},
		{LogicalName: "lastname", SchemaName: "LastName", Type: String, MaxLength: 50, Format: "Text", RequiredLevel: "ApplicationRequired", Gen: "lastname"},
		{LogicalName: "fullname", SchemaName: "FullName", Type: String, MaxLength: 160, Format: "Text", IsPrimaryName: true, Gen: "fullname"},
		{LogicalName: "emailaddress1", SchemaName: "EMailAddress1", Type: String, MaxLength: 100, Format: "Email", Gen: "personemail", NullRate: 0.15},
		{LogicalName: "telephone1", SchemaName: "Telephone1", Type: String, MaxLength: 50, Format: "Phone", Gen: "phone", NullRate: 0.3},
		{LogicalName: "jobtitle", SchemaName: "JobTitle", Type: String, MaxLength: 100, Format: "Text", Gen: "jobtitle", NullRate: 0.3},
		{LogicalName: "description", SchemaName: "Description", Type: Memo, MaxLength: 2000, Format: "TextArea", Gen: "sentence", NullRate: 0.6},
		{LogicalName: "birthdate", SchemaName: "BirthDate", Type: DateTime, DateTimeBehavior: "DateOnly", Format: "DateOnly", Gen: "birthdate", NullRate: 0.4},
		{LogicalName: "numberofchildren", SchemaName: "NumberOfChildren", Type: Integer, MinValue: 0, MaxValue: 1000000000, Format: "None", Gen: "children", NullRate: 0.5},
		{LogicalName: "annualincome", SchemaName: "AnnualIncome", Type: Money, Precision: 2, PrecisionSource: 2, MinValue: 0, MaxValue: 100000000000000, Gen: "income", NullRate: 0.4},
		{LogicalName: "gendercode", SchemaName: "GenderCode", Type: Picklist, NullRate: 0.3, OptionSet: &OptionSet{Name: "contact_gendercode", Options: []Option{
			{Value: 1, Label: "Male"}, {Value: 2, Label: "Female"},
		}}},
		{LogicalName: "donotphone", SchemaName: "DoNotPhone", Type: Boolean, OptionSet: &OptionSet{Name: "contact_donotphone", TrueLabel: "Do Not Allow", FalseLabel: "Allow"}},
		{LogicalName: "parentcustomerid", SchemaName: "ParentCustomerId", Type: Customer, Targets: []string{"account", "contact"}, Gen: "parentcustomer", NullRate: 0.2},
		{LogicalName: "parentcustomeridtype", SchemaName: "ParentCustomerIdType", Type: EntityName, AttributeOf: "parentcustomerid"},
		{LogicalName: "parentcustomeridname", SchemaName: "ParentCustomerIdName", Type: String, MaxLength: 160, AttributeOf: "parentcustomerid"},
		currencyLookup(),
	}
	return Entity{LogicalName: "contact", SchemaName: "Contact", EntitySetName: "contacts", PrimaryID: "contactid", PrimaryName: "fullname",
		ObjectTypeCode: 2, OwnershipType: "UserOwned", Attributes: append(attrs, systemColumns("contact")...)}
}

// untrackedEntity has change tracking off, to exercise 0x80072491.
func untrackedEntity() Entity {
	return Entity{LogicalName: "new_scratchnote", SchemaName: "new_ScratchNote", EntitySetName: "new_scratchnotes", PrimaryID: "new_scratchnoteid",
		PrimaryName: "new_name", ObjectTypeCode: 10001, OwnershipType: "OrganizationOwned", ChangeTrackingDisabled: true,
		Attributes: []Attribute{
			{LogicalName: "new_scratchnoteid", SchemaName: "new_ScratchNoteId", Type: Uniqueidentifier, IsPrimaryID: true, RequiredLevel: "SystemRequired"},
			{LogicalName: "new_name", SchemaName: "new_Name", Type: String, MaxLength: 100, IsPrimaryName: true, IsCustomAttribute: true, Gen: "sentence"},
			{LogicalName: "createdon", SchemaName: "CreatedOn", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "createdon"},
			{LogicalName: "modifiedon", SchemaName: "ModifiedOn", Type: DateTime, DateTimeBehavior: "UserLocal", Format: "DateAndTime", Gen: "modifiedon"},
			{LogicalName: "versionnumber", SchemaName: "VersionNumber", Type: BigInt, MinValue: -9223372036854775808, MaxValue: 9223372036854775807},
		}}
}

// sampleOrg lists the entities of the emulated org.
func sampleOrg() []Entity {
	return append([]Entity{accountEntity(), contactEntity(), untrackedEntity()}, moreEntities()...)
}

// metadataIDs known from the documentation, so responses look familiar.
var knownMetadataIDs = map[string]string{
	"account": "70816501-edb9-4740-a16c-6a5efbc05d84",
	"contact": "608861bc-50a4-4c5f-a02c-21fe1943e2cf",
}
