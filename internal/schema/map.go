package schema

import (
	"fmt"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
)

// Map is the destination table of e under o: named <prefix>_<logicalname>
// (or the logical name), with one column per dataverse.Fields(e) field, in
// that order, typed as DES typed them, and its label view when e has choice
// columns. Every name is validated first; the error says which one is
// wrong.
func Map(e *dataverse.Entity, o Options) (Table, error) {
	if err := o.Validate(); err != nil {
		return Table{}, err
	}
	if err := CheckIdentifier("entity", e.LogicalName); err != nil {
		return Table{}, err
	}
	fields := dataverse.Fields(e)
	t := Table{TableName: o.TableName(e.LogicalName), Entity: e.LogicalName, Columns: make([]Column, 0, len(fields))}
	for _, f := range fields {
		ct, err := TypeOf(f)
		if err != nil {
			return Table{}, fmt.Errorf("entity %s: %w", e.LogicalName, err)
		}
		t.Columns = append(t.Columns, Column{Name: f.Column.Name, Type: ct})
	}
	if err := t.Check(); err != nil {
		return Table{}, err
	}
	lv, err := labelView(e, t, o)
	if err != nil {
		return Table{}, err
	}
	t.Labels = lv
	return t, nil
}

// TypeOf is the DES column type of one replicated field.
func TypeOf(f dataverse.Field) (ColumnType, error) {
	a := f.Attribute
	if f.Helper == dataverse.HelperEntityType {
		return StringType(EntityTypeLength), nil
	}
	switch a.Type {
	case dataverse.TypeString:
		return StringType(a.MaxLength), nil
	case dataverse.TypeMemo, dataverse.TypeMultiSelectPicklist:
		return StringType(0), nil
	case dataverse.TypeEntityName:
		return ColumnType{Kind: record.String, Length: EntityNameLength}, nil
	case dataverse.TypeInteger, dataverse.TypePicklist, dataverse.TypeState, dataverse.TypeStatus:
		return IntType(), nil
	case dataverse.TypeBigInt:
		return BigIntType(), nil
	case dataverse.TypeDecimal, dataverse.TypeDouble, dataverse.TypeMoney:
		return DecimalType(a.Precision), nil
	case dataverse.TypeDateTime:
		// DateOnly stays a datetime column (DES); the kind tells readers it is a day.
		return ColumnType{Kind: f.Column.Kind}, nil
	case dataverse.TypeBoolean:
		return ColumnType{Kind: record.Bool}, nil
	case dataverse.TypeLookup, dataverse.TypeCustomer, dataverse.TypeOwner, dataverse.TypeUniqueidentifier:
		return ColumnType{Kind: record.GUID}, nil
	}
	return ColumnType{}, fmt.Errorf("attribute %s: type %s has no column mapping", a.LogicalName, a.Type)
}
