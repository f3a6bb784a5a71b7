package dvemu

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const trackPrefer = "odata.track-changes"

var deltaLinkRE = regexp.MustCompile(`^http://[^/]+/api/data/v9\.2/(\w+)\?(\$select=[\w,]+&)?\$deltatoken=(\d+)%21(\d\d)%2f(\d\d)%2f(\d{4})%20(\d\d)%3a(\d\d)%3a(\d\d)$`)

func ids(rows []map[string]any, key string) []string {
	var out []string
	for _, r := range rows {
		if id, ok := r[key].(string); ok {
			out = append(out, id)
		}
	}
	return out
}

func TestInitialReadPaging(t *testing.T) {
	tests := []struct {
		records, pageSize, wantPages int
	}{
		{records: 25, pageSize: 10, wantPages: 3},
		{records: 20, pageSize: 10, wantPages: 2},
		{records: 3, pageSize: 5000, wantPages: 1},
		{records: 7, pageSize: 1, wantPages: 7},
	}
	for _, tc := range tests {
		t.Run(itoa(tc.records)+"/"+itoa(tc.pageSize), func(t *testing.T) {
			e, srv := newTestEmu(t, Options{Records: tc.records, RandSeed: 42})
			rows, pages, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name,revenue,versionnumber", tc.pageSize, trackPrefer)
			if len(pages) != tc.wantPages {
				t.Fatalf("%d pages, want %d", len(pages), tc.wantPages)
			}
			got := ids(rows, "accountid")
			if want := e.IDs("account"); !slices.Equal(got, want) {
				t.Fatalf("ids %v, want %v", got, want)
			}
			for i, p := range pages {
				if p.header.Get("Preference-Applied") != "odata.track-changes" && i == 0 {
					t.Errorf("page 0 Preference-Applied = %q", p.header.Values("Preference-Applied"))
				}
				if !strings.HasSuffix(p.context, "/api/data/v9.2/$metadata#accounts(name,revenue,versionnumber)") {
					t.Errorf("context %q", p.context)
				}
				if last := i == len(pages)-1; last != (p.deltaLink != "") || last == (p.nextLink != "") {
					t.Errorf("page %d: nextLink %q deltaLink %q", i, p.nextLink, p.deltaLink)
				}
				if p.nextLink != "" && !strings.Contains(p.nextLink, "$skiptoken=%3ccookie%20pagenumber=%22"+itoa(i+2)+"%22") {
					t.Errorf("nextLink %q", p.nextLink)
				}
			}
			m := deltaLinkRE.FindStringSubmatch(delta)
			if m == nil || m[1] != "accounts" || m[2] != "$select=name,revenue,versionnumber&" {
				t.Fatalf("deltaLink %q does not have the documented shape", delta)
			}
			for _, r := range rows {
				for _, k := range []string{"@odata.etag", "name", "revenue", "versionnumber", "accountid"} {
					if _, ok := r[k]; !ok {
						t.Fatalf("row lacks %s: %v", k, r)
					}
				}
			}
		})
	}
}

func TestDeltaReadAfterChanges(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 5, RandSeed: 7})
	_, _, delta := readAll(t, srv, "/api/data/v9.2/contacts?$select=fullname,birthdate,_parentcustomerid_value", 5000, trackPrefer)

	all := e.IDs("contact")
	before1, _ := e.Get("contact", all[1])
	before3, _ := e.Get("contact", all[3])
	created, err := e.Create("contact", map[string]any{"firstname": "Ada", "lastname": "Lovelace", "birthdate": time.Date(1815, 12, 10, 13, 0, 0, 0, time.UTC),
		"parentcustomerid": Ref{Entity: "account", ID: e.IDs("account")[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Update("contact", all[1], map[string]any{"lastname": "Byron"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete("contact", all[2]); err != nil {
		t.Fatal(err)
	}
	if err := e.Update("contact", all[3], map[string]any{"firstname": nil}); err != nil {
		t.Fatal(err)
	}

	p := getPage(t, srv, delta, `odata.include-annotations="*"`)
	if !strings.HasSuffix(p.context, "$metadata#contacts(fullname,birthdate,_parentcustomerid_value)/$delta") {
		t.Fatalf("context %q", p.context)
	}
	if len(p.value) != 4 {
		t.Fatalf("%d entries, want 4: %v", len(p.value), p.value)
	}
	// Upserts first, by version: create, update, update; then the delete.
	eq(t, ids(p.value[:3], "contactid"), []string{created, all[1], all[3]})
	eq(t, p.value[0]["fullname"], "Ada Lovelace")
	eq(t, p.value[0]["birthdate"], "1815-12-10")
	eq(t, p.value[0]["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"], "account")
	// fullname follows its parts: "first Byron", and the bare last name once
	// firstname is cleared.
	wantByron := "Byron"
	if first, _ := before1["firstname"].(string); first != "" {
		wantByron = first + " Byron"
	}
	eq(t, p.value[1]["fullname"], wantByron)
	last3, _ := before3["lastname"].(string)
	if last3 == "" || before3["firstname"] == nil {
		t.Fatalf("generated contact %s lacks a first or last name, so clearing firstname proves nothing: %v", all[3], before3)
	}
	eq(t, p.value[2]["fullname"], last3)
	del := p.value[3]
	eq(t, del["id"], all[2])
	eq(t, del["reason"], "deleted")
	if !strings.HasSuffix(del["@odata.context"].(string), "/api/data/v9.2/$metadata#contacts/$deletedEntity") {
		t.Errorf("deleted context %v", del["@odata.context"])
	}
	if len(del) != 3 {
		t.Errorf("deleted entry has extra members: %v", del)
	}
	if deltaLinkRE.FindString(p.deltaLink) == "" || p.deltaLink == delta {
		t.Fatalf("fresh deltaLink %q (old %q)", p.deltaLink, delta)
	}

	// Nothing changed since: empty value and another deltaLink.
	p2 := getPage(t, srv, p.deltaLink)
	if len(p2.value) != 0 || p2.deltaLink == "" {
		t.Fatalf("idle delta: %d entries, deltaLink %q", len(p2.value), p2.deltaLink)
	}
}

func TestCreatedThenDeletedIsReportedAsDelete(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 2})
	_, _, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", 5000, trackPrefer)
	id, err := e.Create("account", map[string]any{"name": "ephemeral"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Update("account", id, map[string]any{"name": "still ephemeral"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete("account", id); err != nil {
		t.Fatal(err)
	}
	p := getPage(t, srv, delta)
	if len(p.value) != 1 || p.value[0]["id"] != id || p.value[0]["reason"] != "deleted" {
		t.Fatalf("entries %v, want one delete of %s", p.value, id)
	}
}

func TestChangesDuringPagingAreNotLost(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 30, RandSeed: 3})
	before := e.IDs("account")
	mp := "odata.maxpagesize=10"
	p1 := getPage(t, srv, "/api/data/v9.2/accounts?$select=name", trackPrefer, mp)

	// While paging: change a row already read, delete one not yet read,
	// create one (its id may sort before or after the cursor).
	if err := e.Update("account", before[0], map[string]any{"name": "changed after it was read"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Delete("account", before[25]); err != nil {
		t.Fatal(err)
	}
	created, err := e.Create("account", map[string]any{"name": "created while paging"})
	if err != nil {
		t.Fatal(err)
	}

	seen := ids(p1.value, "accountid")
	p := p1
	for p.nextLink != "" {
		p = getPage(t, srv, p.nextLink, mp)
		seen = append(seen, ids(p.value, "accountid")...)
	}
	if slices.Contains(seen, before[25]) {
		t.Error("row deleted before its page was read was still returned")
	}
	d := getPage(t, srv, p.deltaLink)
	var upserts []string
	var deletes []string
	for _, v := range d.value {
		if v["reason"] == "deleted" {
			deletes = append(deletes, v["id"].(string))
		} else {
			upserts = append(upserts, v["accountid"].(string))
		}
	}
	eq(t, upserts, []string{before[0], created})
	eq(t, deletes, []string{before[25]})
	eq(t, d.value[0]["name"], "changed after it was read")
}

func TestDeltaPaging(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 10})
	_, _, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", 5000, trackPrefer)
	all := e.IDs("account")
	var want []string
	for i := 0; i < 5; i++ {
		if err := e.Update("account", all[i], map[string]any{"name": "u" + itoa(i)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, all[i])
	}
	for i := 5; i < 8; i++ {
		if err := e.Delete("account", all[i]); err != nil {
			t.Fatal(err)
		}
		want = append(want, "deleted:"+all[i])
	}
	// A change after the first page was served lands in the next delta.
	rows, pages, next := readAll(t, srv, delta, 3)
	var got []string
	for _, r := range rows {
		if r["reason"] == "deleted" {
			got = append(got, "deleted:"+r["id"].(string))
		} else {
			got = append(got, r["accountid"].(string))
		}
	}
	eq(t, got, want)
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3", len(pages))
	}
	for i, p := range pages {
		if !strings.HasSuffix(p.context, "/$delta") {
			t.Errorf("page %d context %q", i, p.context)
		}
	}
	if deltaLinkRE.FindString(next) == "" {
		t.Fatalf("deltaLink %q", next)
	}
	if p := getPage(t, srv, next); len(p.value) != 0 {
		t.Fatalf("second delta not empty: %v", p.value)
	}
}

func TestDeltaCount(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 4})
	_, _, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", 5000, trackPrefer)
	all := e.IDs("account")
	_ = e.Update("account", all[0], map[string]any{"name": "x"})
	_ = e.Update("account", all[0], map[string]any{"name": "y"})
	_ = e.Delete("account", all[1])
	m := deltaLinkRE.FindStringSubmatch(delta)
	tok := delta[strings.Index(delta, "$deltatoken=")+len("$deltatoken="):]
	r := do(t, srv, "GET", "/api/data/v9.2/accounts/$count?$deltatoken="+tok, nil)
	if m == nil || r.status != http.StatusOK || string(r.body) != "2" {
		t.Fatalf("count: %d %q", r.status, r.body)
	}
	if r := do(t, srv, "GET", "/api/data/v9.2/accounts/$count", nil); string(r.body) != "3" {
		t.Fatalf("plain count: %d %q", r.status, r.body)
	}
}

func TestLookupAnnotations(t *testing.T) {
	tests := []struct {
		name   string
		omit   bool
		prefer []string
		want   bool
	}{
		{"no preference", false, []string{trackPrefer}, false},
		{"wildcard", false, []string{trackPrefer + `,odata.include-annotations="*"`}, true},
		{"listed", false, []string{trackPrefer, `odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"`}, true},
		{"other only", false, []string{trackPrefer, `odata.include-annotations="OData.Community.Display.V1.FormattedValue"`}, false},
		{"omitted by option", true, []string{trackPrefer, `odata.include-annotations="*"`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newTestEmu(t, Options{Records: 20, OmitLookupAnnotations: tc.omit})
			p := getPage(t, srv, "/api/data/v9.2/contacts?$select=parentcustomerid", tc.prefer...)
			found := false
			for _, r := range p.value {
				if _, has := r["parentcustomerid"]; has {
					t.Fatal("lookup rendered under its logical name")
				}
				v, ok := r["_parentcustomerid_value"]
				if !ok {
					t.Fatalf("row lacks _parentcustomerid_value: %v", r)
				}
				ann, has := r["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]
				if has {
					found = true
					if ann != "account" && ann != "contact" {
						t.Fatalf("annotation %v", ann)
					}
				}
				if v == nil && has {
					t.Fatal("annotation on a null lookup")
				}
			}
			if found != tc.want {
				t.Fatalf("annotations present = %v, want %v", found, tc.want)
			}
		})
	}
}

func TestValueFormats(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 1})
	id, err := e.Create("account", map[string]any{"name": "Formats", "revenue": "1234.5", "new_discountrate": 7, "address1_latitude": "47.6062",
		"numberofemployees": 12, "creditonhold": true, "industrycode": 7, "lastusedincampaign": time.Date(2023, 4, 7, 21, 59, 1, 0, time.FixedZone("x", 3600))})
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, srv, "GET", "/api/data/v9.2/accounts?$select=name,revenue,new_discountrate,address1_latitude,numberofemployees,creditonhold,industrycode,lastusedincampaign,statecode,statuscode", map[string][]string{"Prefer": {trackPrefer}})
	body := string(r.body)
	i := strings.Index(body, `"name":"Formats"`)
	if i < 0 {
		t.Fatalf("row missing: %s", body)
	}
	row := body[i:]
	row = row[:strings.Index(row, "}")]
	for _, want := range []string{`"revenue":1234.50`, `"new_discountrate":7.00`, `"address1_latitude":47.60620`, `"numberofemployees":12`,
		`"creditonhold":true`, `"industrycode":7`, `"lastusedincampaign":"2023-04-07T20:59:01Z"`, `"statecode":0`, `"statuscode":1`, `"accountid":"` + id + `"`} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %s: %s", want, row)
		}
	}
}

func TestDeterministicBySeed(t *testing.T) {
	body := func(seed int64) string {
		_, srv := newTestEmu(t, Options{Records: 50, RandSeed: seed})
		r := do(t, srv, "GET", "/api/data/v9.2/contacts", map[string][]string{"Prefer": {"odata.maxpagesize=50"}})
		s := string(r.body)
		return s[strings.Index(s, `"value"`):]
	}
	a, b, c := body(1), body(1), body(2)
	if a != b {
		t.Fatal("same seed gave different data")
	}
	if a == c {
		t.Fatal("different seeds gave the same data")
	}
	if !strings.Contains(a, `"birthdate":null`) || !strings.Contains(a, `"birthdate":"`) {
		t.Fatal("expected some null and some non-null birthdates")
	}
}

func TestMoneyDragsInCurrency(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 1})
	id, err := e.Create("account", map[string]any{"name": "Money", "revenue": "10"})
	if err != nil {
		t.Fatal(err)
	}
	p := getPage(t, srv, "/api/data/v9.2/accounts?$select=revenue,revenue,name", trackPrefer)
	for _, row := range p.value {
		if _, ok := row["_transactioncurrencyid_value"]; !ok {
			t.Fatalf("money without currency: %v", row)
		}
		if row["accountid"] == id && row["_transactioncurrencyid_value"] == nil {
			t.Fatalf("created row has no base currency: %v", row)
		}
	}
	if !strings.HasSuffix(p.context, "#accounts(revenue,revenue,name)") {
		t.Errorf("context %q", p.context)
	}
	p = getPage(t, srv, "/api/data/v9.2/accounts?$select=name", trackPrefer)
	if _, ok := p.value[0]["_transactioncurrencyid_value"]; ok {
		t.Fatal("currency returned without a money column")
	}
}

func TestPlainReads(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 12})
	tests := []struct {
		name     string
		url      string
		prefer   []string
		status   int
		rows     int
		nextLink bool
	}{
		{"all", "/api/data/v9.2/accounts?$select=name", nil, 200, 12, false},
		{"top", "/api/data/v9.2/accounts?$select=name&$top=3", nil, 200, 3, false},
		{"top ignored with maxpagesize", "/api/data/v9.2/accounts?$select=name&$top=3", []string{"odata.maxpagesize=5"}, 200, 5, true},
		{"paged", "/api/data/v9.2/accounts?$select=name", []string{"odata.maxpagesize=5"}, 200, 5, true},
		{"skip refused", "/api/data/v9.2/accounts?$skip=1", nil, 501, 0, false},
		{"bad top", "/api/data/v9.2/accounts?$top=x", nil, 400, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", tc.url, map[string][]string{"Prefer": tc.prefer})
			if r.status != tc.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if r.status != 200 {
				return
			}
			m := r.json(t)
			if n := len(m["value"].([]any)); n != tc.rows {
				t.Fatalf("%d rows, want %d", n, tc.rows)
			}
			if _, has := m["@odata.nextLink"]; has != tc.nextLink {
				t.Fatalf("nextLink present %v", has)
			}
			if _, has := m["@odata.deltaLink"]; has {
				t.Fatal("plain read has a deltaLink")
			}
		})
	}
	// Following a plain read's nextLink stays plain: no deltaLink at the end.
	_, pages, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", 5)
	if len(pages) != 3 || delta != "" {
		t.Fatalf("%d pages, deltaLink %q", len(pages), delta)
	}
}

// odata.maxpagesize above 5,000 is capped at 5,000, like Dataverse's.
func TestMaxPageSizeCapped(t *testing.T) {
	const records = MaxPageSize + 3
	_, srv := newTestEmu(t, Options{Records: records, RandSeed: 3})
	tests := []struct {
		name      string
		prefer    []string
		firstPage int
	}{
		{"just above", []string{trackPrefer, "odata.maxpagesize=5001"}, 5000},
		{"far above", []string{trackPrefer, "odata.maxpagesize=100000"}, 5000},
		{"absent", []string{trackPrefer}, 5000},
		{"below", []string{trackPrefer, "odata.maxpagesize=4999"}, 4999},
		{"plain read far above", []string{"odata.maxpagesize=100000"}, 5000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := getPage(t, srv, "/api/data/v9.2/accounts?$select=name", tc.prefer...)
			if len(p.value) != tc.firstPage || p.nextLink == "" {
				t.Fatalf("first page: %d rows, nextLink %q; want %d rows and a nextLink", len(p.value), p.nextLink, tc.firstPage)
			}
			rest := getPage(t, srv, p.nextLink, tc.prefer[len(tc.prefer)-1])
			if got := len(p.value) + len(rest.value); got != records {
				t.Fatalf("%d rows over two pages, want %d", got, records)
			}
		})
	}
}
