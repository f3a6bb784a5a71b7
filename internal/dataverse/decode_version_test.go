package dataverse

import (
	"errors"
	"strings"
	"testing"
)

// A row's version is its versionnumber, else the number in its @odata.etag
// (Microsoft's change-tracking examples carry only the etag); a row with
// neither stops the page with a *MalformedError naming the row.
func TestDecodeVersionFallsBackToETag(t *testing.T) {
	e := &Entity{LogicalName: "account", EntitySetName: "accounts", PrimaryIDAttribute: "accountid",
		Attributes: []Attribute{
			{LogicalName: "accountid", Type: TypeUniqueidentifier, IsValidForRead: true},
			{LogicalName: "name", Type: TypeString, IsValidForRead: true},
		}}
	const id = "60c4e274-0d87-e711-80e5-00155db19e6d"
	tests := []struct {
		name    string
		row     string
		want    int64
		wantErr []string // substrings of a *MalformedError
	}{
		{"versionnumber only", `"versionnumber":915244`, 915244, nil},
		{"etag only, as documented", `"@odata.etag":"W/\"915244\""`, 915244, nil},
		{"etag after the columns", `"name":"x","@odata.etag":"W/\"77\""`, 77, nil},
		{"strong etag", `"@odata.etag":"\"12\""`, 12, nil},
		{"versionnumber wins over the etag", `"@odata.etag":"W/\"1\"","versionnumber":2`, 2, nil},
		{"null versionnumber, etag", `"versionnumber":null,"@odata.etag":"W/\"3\""`, 3, nil},
		{"neither", `"name":"x"`, 0, []string{"row 0", id, "neither versionnumber nor a numeric @odata.etag"}},
		{"etag not a number", `"@odata.etag":"W/\"abc\""`, 0, []string{id, "neither"}},
		{"etag not weak-quoted", `"@odata.etag":"915244"`, 0, []string{id}},
		{"etag not a string", `"@odata.etag":915244`, 0, []string{id}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"value":[{"accountid":"` + id + `",` + tt.row + `}]}`
			plan := newRowPlan(e, Fields(e))
			page := &ChangesPage{Columns: plan.cols}
			_, err := newPageDecoder(plan).decode(strings.NewReader(body), 1, page)
			if tt.wantErr != nil {
				var me *MalformedError
				if !errors.As(err, &me) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want a *MalformedError", err)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Upserts) != 1 || page.Upserts[0].Version != tt.want || page.Upserts[0].ID != id {
				t.Fatalf("rows %+v, want version %d", page.Upserts, tt.want)
			}
		})
	}
}
