package dataverse

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/record"
)

func accountEntity(t *testing.T, c *Client) *Entity {
	t.Helper()
	e, err := c.Entity(context.Background(), "account")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// rowOf renders a record as column=value for readable comparisons.
func rowOf(cols []record.Column, r record.Record) map[string]record.Value {
	m := make(map[string]record.Value, len(cols))
	for i, c := range cols {
		m[c.Name] = r.Values[i]
	}
	return m
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func day(s string) record.Value {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return record.DateValue(t)
}

func TestChangesInitialThenDelta(t *testing.T) {
	f := newFakeOrg(t, fixtureHandler(t))
	c := f.client(t, &ClientOptions{PageSize: 2})
	e := accountEntity(t, c)
	nMeta := len(f.requests())

	p := c.NewChangesPager(e, nil)
	var pages []*ChangesPage
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
	}
	if len(pages) != 2 {
		t.Fatalf("%d pages, want 2", len(pages))
	}
	wantCols := []record.Column{}
	for _, fl := range Fields(e) {
		wantCols = append(wantCols, fl.Column)
	}
	if !reflect.DeepEqual(pages[0].Columns, wantCols) {
		t.Errorf("columns = %v, want %v", pages[0].Columns, wantCols)
	}
	if pages[0].MetadataVersion != "5421987" || pages[1].MetadataVersion != "" {
		t.Errorf("metadata versions %q, %q", pages[0].MetadataVersion, pages[1].MetadataVersion)
	}
	if pages[0].NextLink == "" || pages[0].DeltaLink != "" || pages[0].Delta || pages[0].Page != 1 {
		t.Errorf("page 1 links: next=%q delta=%q isDelta=%v", pages[0].NextLink, pages[0].DeltaLink, pages[0].Delta)
	}
	if pages[1].NextLink != "" || !strings.Contains(pages[1].DeltaLink, "$deltatoken=919042") || pages[1].Page != 2 {
		t.Errorf("page 2 links: next=%q delta=%q", pages[1].NextLink, pages[1].DeltaLink)
	}
	var ups []record.Record
	for _, pg := range pages {
		ups = append(ups, pg.Upserts...)
	}
	S, I, D, G, B := record.StringValue, record.IntValue, record.DecimalValue, record.GUIDValue, record.BoolValue
	null := record.NullValue()
	want := []struct {
		id      string
		version int64
		values  map[string]record.Value
	}{
		{"1adef0b8-54d3-ed11-a7c7-000d3a993550", 81550512, map[string]record.Value{
			"accountid": G("1adef0b8-54d3-ed11-a7c7-000d3a993550"), "name": S("Adventure Works (sample)"),
			"accountnumber": null, "description": S("line one\nline \"two\" é"), "numberofemployees": I(4300),
			"revenue": D("20000.0000"), "exchangerate": D("0.00000000010"), "address1_latitude": D("-47.60357"),
			"modifiedon": record.DateTimeValue(ts("2023-04-07T21:59:01Z")), "lastonholdtime": day("2023-04-07"),
			"donotemail": B(false), "accountcategorycode": I(1), "new_hobbies": S("2,3,8,9"),
			"statecode": I(0), "statuscode": I(1),
			"ownerid": G("39e0dbe4-131b-e111-ba7e-78e7d1620f5e"), "ownerid_entitytype": S("team"),
			"owneridname": S("Sales Team (sample)"), "owneridyominame": S("Sales Team (sample)"), "owneridtype": S("team"),
			"parentaccountid": null, "parentaccountid_entitytype": null,
			"primarycontactid": G("49b0be2e-d01c-ed11-b83e-000d3a572421"), "primarycontactid_entitytype": S("contact"),
		}},
		{"60c4e274-0d87-e711-80e5-00155db19e6d", 915244, map[string]record.Value{
			"accountid": G("60c4e274-0d87-e711-80e5-00155db19e6d"), "name": S("Monte Orton"),
			"accountnumber": S("A-1"), "description": null, "numberofemployees": null,
			"revenue": D("1500"), "exchangerate": D("123456789012345678901234567890.1234567890"), "address1_latitude": D("0"),
			"modifiedon": record.DateTimeValue(ts("2017-08-22T06:10:44.1234567Z")), "lastonholdtime": day("2017-08-22"),
			"donotemail": B(true), "accountcategorycode": null, "new_hobbies": null,
			"statecode": I(1), "statuscode": I(2),
			"ownerid": G("29e0dbe4-131b-e111-ba7e-78e7d1620f5e"), "ownerid_entitytype": S("systemuser"),
			// A name longer than the column is cut to its 100 UTF-16 code units,
			// not inside the surrogate pair that would be the 100th and 101st.
			"owneridname": S(strings.Repeat("x", 99)), "owneridyominame": S(strings.Repeat("x", 99)), "owneridtype": S("systemuser"),
			"parentaccountid": G("1adef0b8-54d3-ed11-a7c7-000d3a993550"), "parentaccountid_entitytype": S("account"),
			"primarycontactid": null, "primarycontactid_entitytype": null,
		}},
		{"70c4e274-0d87-e711-80e5-00155db19e6d", 915250, map[string]record.Value{
			"accountid": G("70c4e274-0d87-e711-80e5-00155db19e6d"), "name": S("Untyped Owner Ltd"),
			"accountnumber": S(""), "description": S(""), "numberofemployees": I(-2147483648),
			"revenue": D("-0.01"), "exchangerate": D("1"), "address1_latitude": D("45"),
			"modifiedon": record.DateTimeValue(ts("1753-01-01T00:00:00Z")), "lastonholdtime": null,
			"donotemail": null, "accountcategorycode": I(2), "new_hobbies": S("1"),
			"statecode": I(0), "statuscode": I(1),
			// Polymorphic owner without annotation: left null and counted, never guessed.
			"ownerid": G("19e0dbe4-131b-e111-ba7e-78e7d1620f5e"), "ownerid_entitytype": null,
			// Nor its name without a FormattedValue.
			"owneridname": null, "owneridyominame": null, "owneridtype": null,
			// Single-target lookup without annotation: the one target.
			"parentaccountid": G("60c4e274-0d87-e711-80e5-00155db19e6d"), "parentaccountid_entitytype": S("account"),
			"primarycontactid": null, "primarycontactid_entitytype": null,
		}},
	}
	if len(ups) != len(want) {
		t.Fatalf("%d upserts, want %d", len(ups), len(want))
	}
	for i, w := range want {
		got := ups[i]
		if got.ID != w.id || got.Version != w.version {
			t.Errorf("row %d: id=%s version=%d, want %s %d", i, got.ID, got.Version, w.id, w.version)
		}
		gotVals := rowOf(pages[0].Columns, got)
		if len(gotVals) != len(w.values) {
			t.Errorf("row %d: %d values, want %d", i, len(gotVals), len(w.values))
		}
		for col, wv := range w.values {
			if gv := gotVals[col]; !gv.Equal(wv) {
				t.Errorf("row %d %s = %v (%s), want %v (%s)", i, col, gv, gv.Kind, wv, wv.Kind)
			}
		}
	}
	if pages[0].UntypedLookups != 0 || pages[1].UntypedLookups != 1 {
		t.Errorf("untyped lookups = %d, %d; want 0, 1", pages[0].UntypedLookups, pages[1].UntypedLookups)
	}
	if pages[0].UnnamedLookups != 0 || pages[1].UnnamedLookups != 1 {
		t.Errorf("unnamed lookups = %d, %d; want 0, 1", pages[0].UnnamedLookups, pages[1].UnnamedLookups)
	}
	for _, c := range pages[0].Columns {
		if c.Name == "owneriddsc" {
			t.Error("owneriddsc (a lookup helper the Web API has no value for) became a column")
		}
	}

	// Headers: track-changes only on the first request, maxpagesize and the
	// annotations on every page: the formatted values too, since the owner's
	// name is replicated.
	reqs := f.requests()[nMeta:]
	for i, r := range reqs {
		pref := r.Header.Get("Prefer")
		if !strings.Contains(pref, "odata.maxpagesize=2") || !strings.Contains(pref, `odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname,Microsoft.Dynamics.CRM.globalmetadataversion"`) {
			t.Errorf("request %d Prefer = %q", i, pref)
		}
		if got := strings.Contains(pref, "odata.track-changes"); got != (i == 0) {
			t.Errorf("request %d track-changes = %v", i, got)
		}
	}
	sel := reqs[0].URL.Query().Get("$select")
	if want := strings.Join(Select(Fields(e)), ","); sel != want {
		t.Errorf("$select = %q, want %q", sel, want)
	}

	// Delta read from the stored deltaLink.
	dp := c.NewChangesPager(e, &ChangesOptions{Link: pages[1].DeltaLink})
	d, err := dp.NextPage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Delta || dp.More() || !strings.Contains(d.DeltaLink, "919058") {
		t.Errorf("delta page: delta=%v more=%v link=%q", d.Delta, dp.More(), d.DeltaLink)
	}
	if len(d.Upserts) != 1 || d.Upserts[0].Version != 919050 || d.Upserts[0].ID != "60c4e274-0d87-e711-80e5-00155db19e6d" {
		t.Errorf("delta upserts = %+v", d.Upserts)
	}
	if want := []string{"2e451703-c686-e711-80e5-00155db19e6d", "3e451703-c686-e711-80e5-00155db19e6d"}; !reflect.DeepEqual(d.Deletes, want) {
		t.Errorf("deletes = %v, want %v", d.Deletes, want)
	}
	if v, ok := DeltaTokenVersion(d.DeltaLink); !ok || v != 919058 {
		t.Errorf("DeltaTokenVersion = %d %v", v, ok)
	}

	// An empty delta still hands back a fresh deltaLink.
	ep := c.NewChangesPager(e, &ChangesOptions{Link: d.DeltaLink})
	empty, err := ep.NextPage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Upserts)+len(empty.Deletes) != 0 || !strings.Contains(empty.DeltaLink, "919060") || !empty.Delta {
		t.Errorf("empty delta = %+v", empty)
	}

	// Resuming an initial read from a stored nextLink reads page 2 only.
	rp := c.NewChangesPager(e, &ChangesOptions{Link: pages[0].NextLink})
	r2, err := rp.NextPage(context.Background())
	if err != nil || len(r2.Upserts) != 1 || r2.DeltaLink == "" || r2.Delta {
		t.Errorf("resume: %v %+v", err, r2)
	}
	if _, err := rp.NextPage(context.Background()); err == nil {
		t.Error("NextPage after the last page did not fail")
	}
}

func TestDeltaTokenVersion(t *testing.T) {
	tests := []struct {
		link string
		want int64
		ok   bool
	}{
		{"https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44", 919042, true},
		{"https://org.crm.dynamics.com/api/data/v9.2/accounts?$deltatoken=919042!08/22/2017 08:10:44&$select=name", 919042, true},
		{"https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$deltatoken=opaque", 0, false},
		{"https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$deltatoken=abc%2108%2f22%2f2017", 0, false},
		{"https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name", 0, false},
		{"://bad", 0, false},
	}
	for _, tt := range tests {
		got, ok := DeltaTokenVersion(tt.link)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DeltaTokenVersion(%q) = %d, %v; want %d, %v", tt.link, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLinkOutsideOrgRefused(t *testing.T) {
	f := newFakeOrg(t, fixtureHandler(t))
	c := f.client(t, nil)
	e := accountEntity(t, c)
	n := len(f.requests())
	p := c.NewChangesPager(e, &ChangesOptions{Link: "https://evil.example.com/api/data/v9.2/accounts?$deltatoken=1%2101"})
	if _, err := p.NextPage(context.Background()); err == nil || !strings.Contains(err.Error(), "outside the organization") {
		t.Errorf("err = %v", err)
	}
	if len(f.requests()) != n {
		t.Error("a request was sent for a foreign link")
	}
	if !p.More() {
		t.Error("a failed page ended the pager")
	}
	_ = errors.New
}
