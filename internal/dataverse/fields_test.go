package dataverse

import (
	"reflect"
	"testing"
)

// TestFieldsAuxiliary: what becomes of each kind of auxiliary attribute
// (AttributeOf set), as DES exported them.
func TestFieldsAuxiliary(t *testing.T) {
	e := &Entity{LogicalName: "account", PrimaryIDAttribute: "accountid"}
	add := func(name string, typ AttributeType, of string, mod ...func(*Attribute)) {
		a := Attribute{LogicalName: name, Type: typ, AttributeOf: of, IsValidForRead: true}
		for _, m := range mod {
			m(&a)
		}
		e.Attributes = append(e.Attributes, a)
	}
	unreadable := func(a *Attribute) { a.IsValidForRead = false }
	add("accountid", TypeUniqueidentifier, "")
	// A helper listed before its lookup still belongs to it.
	add("owneridname", TypeString, "ownerid", func(a *Attribute) { a.MaxLength = 100 })
	add("ownerid", TypeOwner, "", func(a *Attribute) { a.Targets = []string{"systemuser", "team"} })
	add("owneridyominame", TypeString, "ownerid")
	add("owneridtype", TypeEntityName, "ownerid")
	add("owneriddsc", TypeInteger, "ownerid") // no Web API source
	add("revenue", TypeMoney, "")
	add("revenue_base", TypeMoney, "revenue")
	add("openrevenue", TypeMoney, "")
	add("openrevenue_date", TypeDateTime, "openrevenue")
	add("openrevenue_state", TypeInteger, "openrevenue")
	add("address1_composite", TypeMemo, "")
	add("industrycode", TypePicklist, "")
	add("industrycodename", TypeVirtual, "industrycode")
	add("entityimage", TypeImage, "")
	add("entityimage_url", TypeString, "entityimage")
	add("createdby", TypeLookup, "", unreadable)
	add("createdbyname", TypeString, "createdby") // its lookup is not replicated
	add("ghostname", TypeString, "ghost")         // no such parent
	add("revenue_base_x", TypeMoney, "revenue_base")

	type want struct {
		column string
		key    string
		helper Helper
		lookup string
	}
	var got []want
	for _, f := range Fields(e) {
		w := want{f.Column.Name, f.Key, f.Helper, ""}
		if f.Lookup != nil {
			w.lookup = f.Lookup.LogicalName
		}
		got = append(got, w)
	}
	wantFields := []want{
		{"accountid", "accountid", NotHelper, ""},
		{"owneridname", "_ownerid_value", HelperName, "ownerid"},
		{"ownerid", "_ownerid_value", NotHelper, ""},
		{"ownerid_entitytype", "_ownerid_value", HelperEntityType, "ownerid"},
		{"owneridyominame", "_ownerid_value", HelperName, "ownerid"},
		{"owneridtype", "_ownerid_value", HelperType, "ownerid"},
		{"revenue", "revenue", NotHelper, ""},
		{"revenue_base", "revenue_base", NotHelper, ""},
		{"openrevenue", "openrevenue", NotHelper, ""},
		{"openrevenue_date", "openrevenue_date", NotHelper, ""},
		{"openrevenue_state", "openrevenue_state", NotHelper, ""},
		{"address1_composite", "address1_composite", NotHelper, ""},
		{"industrycode", "industrycode", NotHelper, ""},
		{"entityimage_url", "entityimage_url", NotHelper, ""},
	}
	if !reflect.DeepEqual(got, wantFields) {
		t.Errorf("fields:\n got %v\nwant %v", got, wantFields)
	}
	sel := Select(Fields(e))
	wantSel := []string{"accountid", "_ownerid_value", "revenue", "revenue_base", "openrevenue", "openrevenue_date",
		"openrevenue_state", "address1_composite", "industrycode", "entityimage_url", "versionnumber"}
	if !reflect.DeepEqual(sel, wantSel) {
		t.Errorf("$select = %v, want %v", sel, wantSel)
	}
	if !NeedsFormattedValues(Fields(e)) {
		t.Error("owneridname is replicated: formatted values are needed")
	}
	e.Attributes = e.Attributes[:1]
	add("ownerid", TypeOwner, "", func(a *Attribute) { a.Targets = []string{"systemuser"} })
	add("owneridtype", TypeEntityName, "ownerid")
	if NeedsFormattedValues(Fields(e)) {
		t.Error("no lookup name is replicated: formatted values are not needed")
	}
}

func TestTruncateUTF16(t *testing.T) {
	for _, tt := range []struct {
		s    string
		max  int
		want string
	}{
		{"abc", 0, "abc"},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"éèà", 2, "éè"},     // one code unit each, two bytes each
		{"a😀b", 2, "a"},      // the emoji takes two code units
		{"a😀b", 3, "a😀"},     //
		{"日本語です", 4, "日本語で"}, // three bytes, one code unit
	} {
		if got := truncateUTF16(tt.s, tt.max); got != tt.want {
			t.Errorf("truncateUTF16(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
	}
}
