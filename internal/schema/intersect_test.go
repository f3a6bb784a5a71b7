package schema_test

import (
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/schema"
)

func a(name string, t dataverse.AttributeType, targets ...string) dataverse.Attribute {
	return dataverse.Attribute{LogicalName: name, Type: t, IsValidForRead: true, Targets: targets, MaxLength: 200}
}

// M:N intersect tables and activityparty are tables of their own, mapped
// like any entity: intersect ids are plain uniqueidentifiers (DES A2.3),
// activityparty's lookups carry their _entitytype.
func TestIntersectAndActivityParty(t *testing.T) {
	tests := []struct {
		e    *dataverse.Entity
		want string
	}{
		{&dataverse.Entity{LogicalName: "accountleads", IsIntersect: true, Attributes: []dataverse.Attribute{
			a("accountleadid", dataverse.TypeUniqueidentifier), a("accountid", dataverse.TypeUniqueidentifier),
			a("leadid", dataverse.TypeUniqueidentifier), a("versionnumber", dataverse.TypeBigInt),
		}}, "accountleadid uniqueidentifier, accountid uniqueidentifier, leadid uniqueidentifier"},
		{&dataverse.Entity{LogicalName: "activityparty", Attributes: []dataverse.Attribute{
			a("activitypartyid", dataverse.TypeUniqueidentifier),
			a("activityid", dataverse.TypeLookup, "email", "phonecall"),
			a("partyid", dataverse.TypeLookup, "account", "contact", "systemuser"),
			a("participationtypemask", dataverse.TypePicklist),
			a("addressused", dataverse.TypeString),
		}}, "activitypartyid uniqueidentifier, activityid uniqueidentifier, activityid_entitytype nvarchar(128), " +
			"partyid uniqueidentifier, partyid_entitytype nvarchar(128), participationtypemask int, addressused nvarchar(200)"},
	}
	for _, tc := range tests {
		t.Run(tc.e.LogicalName, func(t *testing.T) {
			tbl, err := schema.Map(tc.e, schema.Options{Prefix: "crm"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range tbl.Columns {
				got = append(got, c.Name+" "+c.Type.String())
			}
			if g := strings.Join(got, ", "); g != tc.want || tbl.Name != "crm_"+tc.e.LogicalName {
				t.Errorf("%s: %s\nwant %s", tbl.Name, g, tc.want)
			}
		})
	}
}
