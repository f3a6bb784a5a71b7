package sinktest

import (
	"slices"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
)

// AccountLeads is an N:N intersect entity as Dataverse defines one: its own
// primary id and the two related ids, plain GUIDs.
func AccountLeads() *dataverse.Entity {
	return &dataverse.Entity{
		LogicalName: "accountleads", SchemaName: "AccountLeads", EntitySetName: "accountleadscollection",
		PrimaryIDAttribute: "accountleadid", IsIntersect: true,
		Attributes: []dataverse.Attribute{
			attr("accountleadid", dataverse.TypeUniqueidentifier, func(a *dataverse.Attribute) { a.IsPrimaryID = true }),
			attr("accountid", dataverse.TypeUniqueidentifier),
			attr("leadid", dataverse.TypeUniqueidentifier),
			attr("versionnumber", dataverse.TypeBigInt),
		},
	}
}

// ActivityParty is the table behind PartyList columns: one row per party of
// an activity, the party a polymorphic lookup.
func ActivityParty() *dataverse.Entity {
	return &dataverse.Entity{
		LogicalName: "activityparty", SchemaName: "ActivityParty", EntitySetName: "activityparties",
		PrimaryIDAttribute: "activitypartyid",
		Attributes: []dataverse.Attribute{
			attr("activitypartyid", dataverse.TypeUniqueidentifier, func(a *dataverse.Attribute) { a.IsPrimaryID = true }),
			attr("activityid", dataverse.TypeLookup, targets("activitypointer")),
			attr("partyid", dataverse.TypeLookup, targets("account", "contact", "systemuser", "queue", "knowledgearticle")),
			attr("participationtypemask", dataverse.TypePicklist),
			attr("addressused", dataverse.TypeString, maxLen(200)),
			attr("ispartydeleted", dataverse.TypeBoolean),
			attr("versionnumber", dataverse.TypeBigInt),
		},
	}
}

// testRelations replicates an intersect table and activityparty: their
// columns (no _entitytype on intersect ids; one on the polymorphic party),
// exact values, and removal of a relationship.
func testRelations(t *testing.T, open Opener) {
	s := open(t, sink.Options{})

	il := addFixture(t, s, AccountLeads())
	if got := columnNames(il.cols); !slices.Equal(got, []string{"accountleadid", "accountid", "leadid"}) {
		t.Fatalf("intersect columns %v", got)
	}
	links := make([]record.Record, 4)
	for n := range links {
		links[n] = record.Record{ID: guid(n), Version: 1, Values: []record.Value{
			record.GUIDValue(guid(n)), record.GUIDValue(guid(100 + n%2)), record.GUIDValue(guid(200 + n)),
		}}
	}
	assertResult(t, "associate", il.apply(t, il.batch(links)), sink.Result{Upserted: 4})
	// Disassociating is a delete of the intersect row.
	assertResult(t, "disassociate", il.apply(t, il.batch(nil, record.Delete{ID: guid(2), Version: 5})), sink.Result{Deleted: 1})
	il.assertRows(t, slices.Delete(slices.Clone(links), 2, 3))

	ap := addFixture(t, s, ActivityParty())
	want := []string{"activitypartyid", "activityid", "activityid_entitytype", "partyid", "partyid_entitytype", "participationtypemask", "addressused", "ispartydeleted"}
	if got := columnNames(ap.cols); !slices.Equal(got, want) {
		t.Fatalf("activityparty columns %v, want %v", got, want)
	}
	parties := []struct {
		typ  string
		mask int64
		addr record.Value
	}{
		{"systemuser", 1, record.StringValue("someone@contoso.com")}, // from
		{"contact", 2, record.StringValue("ada@example.org")},        // to
		{"account", 3, record.NullValue()},                           // cc
		{"contact", 5, record.StringValue("")},                       // required attendee
	}
	rows := make([]record.Record, len(parties))
	for n, p := range parties {
		rows[n] = record.Record{ID: guid(300 + n), Version: int64(10 + n), Values: []record.Value{
			record.GUIDValue(guid(300 + n)), record.GUIDValue(guid(999)), record.StringValue("email"),
			record.GUIDValue(guid(400 + n)), record.StringValue(p.typ), record.IntValue(p.mask), p.addr, record.BoolValue(n == 3),
		}}
	}
	assertResult(t, "parties", ap.apply(t, ap.batch(rows)), sink.Result{Upserted: len(rows)})
	ap.assertRows(t, rows)
}

func columnNames(cols []record.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}
