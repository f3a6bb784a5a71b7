package dataverse

import (
	"strings"
	"testing"
)

// A text value with an unpaired UTF-16 surrogate (legal in .NET strings;
// a plug-in that cut an emoji in half) or invalid UTF-8 arrives with U+FFFD
// in its place: one such value must not reject the page, which would stop
// the whole table for good.
func TestDecodeKeepsBrokenTextAsReplacement(t *testing.T) {
	e := &Entity{LogicalName: "account", EntitySetName: "accounts", PrimaryIDAttribute: "accountid",
		Attributes: []Attribute{
			{LogicalName: "accountid", Type: TypeUniqueidentifier, IsValidForRead: true},
			{LogicalName: "name", Type: TypeString, IsValidForRead: true},
		}}
	tests := []struct {
		name, raw, want string
	}{
		{"unpaired high surrogate", `"broken \ud83d end"`, "broken \uFFFD end"},
		{"unpaired low surrogate", `"\ude00x"`, "\uFFFDx"},
		{"invalid UTF-8 byte", "\"a\xffb\"", "a\uFFFDb"},
		{"a pair stays a pair", `"ok \ud83d\ude00"`, "ok 😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"value":[{"accountid":"60c4e274-0d87-e711-80e5-00155db19e6d","versionnumber":5,"name":` + tt.raw +
				`},{"accountid":"60c4e274-0d87-e711-80e5-00155db19e6e","versionnumber":6,"name":"next"}],"@odata.deltaLink":"x"}`
			plan := newRowPlan(e, Fields(e))
			page := &ChangesPage{Columns: plan.cols}
			if _, err := newPageDecoder(plan).decode(strings.NewReader(body), 1, page); err != nil {
				t.Fatalf("page rejected: %v", err)
			}
			if len(page.Upserts) != 2 || page.Upserts[0].Values[1].S != tt.want || page.Upserts[1].Values[1].S != "next" {
				t.Fatalf("rows %+v; want %q then the next row", page.Upserts, tt.want)
			}
		})
	}
}
