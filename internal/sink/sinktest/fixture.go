package sinktest

import (
	"fmt"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
)

func attr(name string, t dataverse.AttributeType, mod ...func(*dataverse.Attribute)) dataverse.Attribute {
	a := dataverse.Attribute{LogicalName: name, SchemaName: name, Type: t, IsValidForRead: true}
	for _, m := range mod {
		m(&a)
	}
	return a
}

func maxLen(n int) func(*dataverse.Attribute) {
	return func(a *dataverse.Attribute) { a.MaxLength = n }
}
func precision(n int) func(*dataverse.Attribute) {
	return func(a *dataverse.Attribute) { a.Precision = n }
}
func dateOnly(a *dataverse.Attribute) { a.DateTimeBehavior = dataverse.DateOnly }
func optionSet(o *dataverse.OptionSet) func(*dataverse.Attribute) {
	return func(a *dataverse.Attribute) { a.OptionSet = o }
}
func en(label string) []dataverse.Label {
	return []dataverse.Label{{Label: label, LanguageCode: 1033}}
}
func ptr[T any](v T) *T { return &v }
func of(parent string) func(*dataverse.Attribute) {
	return func(a *dataverse.Attribute) { a.AttributeOf = parent }
}
func targets(t ...string) func(*dataverse.Attribute) {
	return func(a *dataverse.Attribute) { a.Targets = t }
}

// Account is an account-shaped entity (primary id <logicalName>id) with one attribute of every replicated
// type, the lookup helpers DES exported (owneridname, owneridyominame,
// owneridtype, parentcustomeridname, ...) and a money column's _base, plus
// attributes that must not become columns (versionnumber, a lookup helper
// without a Web API source, virtual columns, one not valid for read).
func Account(logicalName string) *dataverse.Entity {
	return &dataverse.Entity{
		LogicalName:        logicalName,
		SchemaName:         "Account",
		EntitySetName:      logicalName + "s",
		PrimaryIDAttribute: logicalName + "id",
		ObjectTypeCode:     1,
		Attributes: []dataverse.Attribute{
			attr(logicalName+"id", dataverse.TypeUniqueidentifier, func(a *dataverse.Attribute) { a.IsPrimaryID = true }),
			attr("name", dataverse.TypeString, maxLen(160)),
			attr("description", dataverse.TypeMemo, maxLen(2000)),
			attr("numberofemployees", dataverse.TypeInteger),
			attr("entityimage_timestamp", dataverse.TypeBigInt),
			attr("exchangerate", dataverse.TypeDecimal, precision(10)),
			attr("address1_latitude", dataverse.TypeDouble, precision(5)),
			attr("revenue", dataverse.TypeMoney, precision(2)),
			attr("createdon", dataverse.TypeDateTime),
			attr("birthday", dataverse.TypeDateTime, dateOnly),
			attr("donotemail", dataverse.TypeBoolean, optionSet(&dataverse.OptionSet{
				OptionSetType: "Boolean",
				FalseOption:   &dataverse.Option{Value: 0, Labels: en("Allow")},
				TrueOption:    &dataverse.Option{Value: 1, Labels: en("Do Not Allow")},
			})),
			attr("industrycode", dataverse.TypePicklist, optionSet(&dataverse.OptionSet{
				Name: logicalName + "_industrycode", OptionSetType: "Picklist",
				Options: []dataverse.Option{
					{Value: 1, Labels: append(en("Accounting"), dataverse.Label{Label: "Buchhaltung", LanguageCode: 1031}), UserLabel: &dataverse.Label{Label: "Accounting", LanguageCode: 1033}},
					{Value: 2, Labels: en("Agriculture and Non-petrol Natural Resource Extraction")},
				},
			})),
			attr("categories", dataverse.TypeMultiSelectPicklist, optionSet(&dataverse.OptionSet{
				Name: "new_category", IsGlobal: true, OptionSetType: "MultiSelectPicklist",
				Options: []dataverse.Option{{Value: 1, Labels: en("Preferred")}, {Value: 3, Labels: en("Standard")}, {Value: 5, Labels: en("It's \"quoted\"")}},
			})),
			attr("statecode", dataverse.TypeState, optionSet(&dataverse.OptionSet{
				OptionSetType: "State",
				Options: []dataverse.Option{
					{Value: 0, Labels: en("Active"), DefaultStatus: ptr(1)},
					{Value: 1, Labels: en("Inactive"), DefaultStatus: ptr(2)},
				},
			})),
			attr("statuscode", dataverse.TypeStatus, optionSet(&dataverse.OptionSet{
				OptionSetType: "Status",
				Options: []dataverse.Option{
					{Value: 1, Labels: en("Active"), State: ptr(0)},
					{Value: 2, Labels: en("Inactive"), State: ptr(1)},
				},
			})),
			attr("primarycontactid", dataverse.TypeLookup, targets("contact")),
			attr("primarycontactidname", dataverse.TypeString, maxLen(160), of("primarycontactid")),
			attr("parentcustomerid", dataverse.TypeCustomer, targets("account", "contact")),
			attr("parentcustomeridname", dataverse.TypeString, maxLen(160), of("parentcustomerid")),
			attr("parentcustomeridtype", dataverse.TypeEntityName, of("parentcustomerid")),
			attr("ownerid", dataverse.TypeOwner, targets("systemuser", "team")),
			attr("owneridtype", dataverse.TypeEntityName, of("ownerid")),
			attr("longtext", dataverse.TypeString, maxLen(4000)),
			attr("versionnumber", dataverse.TypeBigInt),
			attr("owneridname", dataverse.TypeString, maxLen(100), of("ownerid")),
			attr("owneridyominame", dataverse.TypeString, maxLen(100), of("ownerid")),
			attr("owneriddsc", dataverse.TypeInteger, of("ownerid")),
			attr("revenue_base", dataverse.TypeMoney, precision(4), of("revenue")),
			attr("virtualthing", dataverse.TypeVirtual),
			attr("industrycodename", dataverse.TypeVirtual, of("industrycode")),
			attr("secret", dataverse.TypeString, maxLen(10), func(a *dataverse.Attribute) { a.IsValidForRead = false }),
		},
	}
}

// Contact is a contact-shaped entity as DES exported it: a customer lookup
// with its name and type helpers, the owner's helpers, choices, a DateOnly
// date and a Boolean.
func Contact(logicalName string) *dataverse.Entity {
	return &dataverse.Entity{
		LogicalName:        logicalName,
		SchemaName:         "Contact",
		EntitySetName:      logicalName + "s",
		PrimaryIDAttribute: logicalName + "id",
		ObjectTypeCode:     2,
		Attributes: []dataverse.Attribute{
			attr(logicalName+"id", dataverse.TypeUniqueidentifier, func(a *dataverse.Attribute) { a.IsPrimaryID = true }),
			attr("fullname", dataverse.TypeString, maxLen(160), func(a *dataverse.Attribute) { a.IsPrimaryName = true }),
			attr("firstname", dataverse.TypeString, maxLen(50)),
			attr("lastname", dataverse.TypeString, maxLen(50)),
			attr("birthdate", dataverse.TypeDateTime, dateOnly),
			attr("annualincome", dataverse.TypeMoney, precision(2)),
			attr("annualincome_base", dataverse.TypeMoney, precision(4), of("annualincome")),
			attr("gendercode", dataverse.TypePicklist, optionSet(&dataverse.OptionSet{
				Name: logicalName + "_gendercode", OptionSetType: "Picklist",
				Options: []dataverse.Option{{Value: 1, Labels: en("Male")}, {Value: 2, Labels: en("Female")}},
			})),
			attr("donotphone", dataverse.TypeBoolean, optionSet(&dataverse.OptionSet{
				OptionSetType: "Boolean",
				FalseOption:   &dataverse.Option{Value: 0, Labels: en("Allow")},
				TrueOption:    &dataverse.Option{Value: 1, Labels: en("Do Not Allow")},
			})),
			attr("parentcustomerid", dataverse.TypeCustomer, targets("account", "contact")),
			attr("parentcustomeridname", dataverse.TypeString, maxLen(160), of("parentcustomerid")),
			attr("parentcustomeridyominame", dataverse.TypeString, maxLen(450), of("parentcustomerid")),
			attr("parentcustomeridtype", dataverse.TypeEntityName, of("parentcustomerid")),
			attr("ownerid", dataverse.TypeOwner, targets("systemuser", "team")),
			attr("owneridname", dataverse.TypeString, maxLen(100), of("ownerid")),
			attr("owneridyominame", dataverse.TypeString, maxLen(100), of("ownerid")),
			attr("owneridtype", dataverse.TypeEntityName, of("ownerid")),
			attr("statecode", dataverse.TypeState, optionSet(&dataverse.OptionSet{
				OptionSetType: "State",
				Options: []dataverse.Option{
					{Value: 0, Labels: en("Active"), DefaultStatus: ptr(1)},
					{Value: 1, Labels: en("Inactive"), DefaultStatus: ptr(2)},
				},
			})),
			attr("statuscode", dataverse.TypeStatus, optionSet(&dataverse.OptionSet{
				OptionSetType: "Status",
				Options: []dataverse.Option{
					{Value: 1, Labels: en("Active"), State: ptr(0)},
					{Value: 2, Labels: en("Inactive"), State: ptr(1)},
				},
			})),
			attr("versionnumber", dataverse.TypeBigInt),
		},
	}
}

// guid is a deterministic GUID for test record n.
func guid(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n*7919) }

var base = time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC)

// values is a row for record n with exact, awkward values of every kind:
// quotes, unicode, extremes, 28-digit decimals, microsecond times. Columns
// not known here are null.
func values(cols []record.Column, n int) []record.Value {
	out := make([]record.Value, len(cols))
	for i, c := range cols {
		var v record.Value
		switch c.Name {
		case cols[0].Name: // the primary id
			v = record.GUIDValue(guid(n))
		case "name":
			v = record.StringValue(fmt.Sprintf("Contoso %d — O'Brien \"Ltd\" ünïcødé 日本 %s", n, "\u0001tab\tnl\n"))
		case "description":
			v = record.StringValue(longText(n, []int{9000, 300}[min(n%10, 1)]))
		case "numberofemployees":
			v = record.IntValue([]int64{2147483647, -2147483648, 0, 42}[n%4])
		case "entityimage_timestamp":
			v = record.IntValue([]int64{9223372036854775807, -9223372036854775808, 1}[n%3])
		case "exchangerate":
			v = record.DecimalValue([]string{"1234567890123456789012345678.1234567891", "-0.0000000001", "1", "0.5"}[n%4])
		case "address1_latitude":
			v = record.DecimalValue([]string{"47.64216", "-33.86785", "0"}[n%3])
		case "revenue":
			v = record.DecimalValue([]string{"922337203685477.58", "-0.01", "20000"}[n%3])
		case "createdon":
			v = record.DateTimeValue(base.Add(time.Duration(n) * time.Hour))
		case "birthday":
			v = record.DateValue(time.Date(1900+n%200, time.Month(1+n%12), 1+n%28, 0, 0, 0, 0, time.UTC))
		case "donotemail":
			v = record.BoolValue(n%2 == 0)
		case "industrycode", "statuscode":
			v = record.IntValue(int64(100000000 + n%7))
		case "categories":
			v = record.StringValue("1,3,5")
		case "statecode":
			v = record.IntValue(int64(n % 2))
		case "primarycontactid", "parentcustomerid", "ownerid":
			v = record.GUIDValue(guid(1_000_000 + n))
		case "primarycontactid_entitytype":
			v = record.StringValue("contact")
		case "parentcustomerid_entitytype":
			v = record.StringValue([]string{"account", "contact"}[n%2])
		case "ownerid_entitytype", "owneridtype":
			v = record.StringValue("systemuser")
		case "owneridname", "owneridyominame":
			v = record.StringValue(fmt.Sprintf("Owner %d — Ō'Neil", n%17))
		case "primarycontactidname":
			v = record.StringValue(fmt.Sprintf("Contact %d", n))
		case "parentcustomeridname":
			v = record.StringValue(fmt.Sprintf("Customer \"%d\"", n))
		case "parentcustomeridtype":
			v = record.StringValue([]string{"account", "contact"}[n%2])
		case "revenue_base":
			v = record.DecimalValue([]string{"922337203685477.5807", "-0.0100", "20000"}[n%3])
		case "longtext":
			v = record.StringValue(longText(n, 4000))
		}
		if n%5 == 4 && i%3 == 0 {
			v = record.NullValue() // every kind is also seen null
		}
		out[i] = v
	}
	return out
}

func longText(n, size int) string {
	b := make([]rune, 0, size)
	for i := 0; len(b) < size; i++ {
		b = append(b, rune('a'+(n+i)%26))
		if i%50 == 0 {
			b = append(b, 'é')
		}
	}
	return string(b[:size])
}

// upserts are records from..to-1 at version v.
func upserts(cols []record.Column, from, to int, v int64) []record.Record {
	out := make([]record.Record, 0, to-from)
	for n := from; n < to; n++ {
		out = append(out, record.Record{ID: guid(n), Version: v, Values: values(cols, n)})
	}
	return out
}
