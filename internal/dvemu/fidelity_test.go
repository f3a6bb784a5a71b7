package dvemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// doBody sends a request with a JSON body.
func doBody(t *testing.T, srv *httptest.Server, method, target string, headers map[string]string, body string) response {
	t.Helper()
	h := map[string][]string{}
	for k, v := range headers {
		h[k] = []string{v}
	}
	if body == "" {
		return do(t, srv, method, target, h)
	}
	req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// fetch URL-encodes a fetchXml query for an entity set.
func fetch(set, xml string) string {
	return "/api/data/v9.2/" + set + "?fetchXml=" + url.QueryEscape(xml)
}

// q escapes a query value the way clients do.
func q(s string) string { return url.PathEscape(s) }

// rowsOf returns the value array of a collection answer.
func rowsOf(t *testing.T, r response) []map[string]any {
	t.Helper()
	vs, ok := r.json(t)["value"].([]any)
	if !ok {
		t.Fatalf("no value array: %s", r.body)
	}
	out := make([]map[string]any, len(vs))
	for i, v := range vs {
		out[i] = v.(map[string]any)
	}
	return out
}

func valuesOf(rows []map[string]any, name string) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r[name]
	}
	return out
}

// fidelityOrg is an emulator with a few accounts whose values the cases
// below rely on, besides the 12 generated ones.
type fidelityOrg struct {
	e                   *Emulator
	srv                 *httptest.Server
	alpha, beta, gamma  string // created accounts
	contact             string
	versionBeforeCreate int64
}

func newFidelityOrg(t *testing.T) *fidelityOrg {
	e, srv := newTestEmu(t, Options{Records: 12, RandSeed: 5})
	o := &fidelityOrg{e: e, srv: srv, versionBeforeCreate: e.Version()}
	must := func(id string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	o.contact = must(e.Create("contact", map[string]any{"firstname": "Ada", "lastname": "Lovelace"}))
	o.alpha = must(e.Create("account", map[string]any{"name": "Alpha Fidelity", "numberofemployees": 10, "revenue": "100.50",
		"creditonhold": true, "accountnumber": nil, "primarycontactid": Ref{Entity: "contact", ID: o.contact}, "createdon": "2021-06-01T00:00:00Z"}))
	o.beta = must(e.Create("account", map[string]any{"name": "Beta Fidelity", "numberofemployees": 20, "revenue": "200.00",
		"creditonhold": false, "accountnumber": "B-2", "createdon": "2022-06-01T00:00:00Z"}))
	o.gamma = must(e.Create("account", map[string]any{"name": "Gamma Fidelity", "numberofemployees": 30, "revenue": "300.00",
		"creditonhold": false, "accountnumber": "G-3", "createdon": "2023-06-01T00:00:00Z"}))
	return o
}

// TestUnsupportedAnswersError sends what the emulator does not implement
// (and what Dataverse itself refuses): each gets the Web API error shape
// with the documented status, never a 200.
func TestUnsupportedAnswersError(t *testing.T) {
	o := newFidelityOrg(t)
	acc := "/api/data/v9.2/accounts"
	long := acc + "?$select=name&$filter=" + strings.Repeat("x", 40000)
	tests := []struct {
		name        string
		method, url string
		headers     map[string]string
		body        string
		status      int
		code        string // "" = any code, but the error shape is required
		message     string // substring of the message, "" = any
	}{
		{"$apply", "GET", acc + "?$apply=groupby((name))", nil, "", 501, codeBadSegment, "$apply"},
		{"$search", "GET", acc + "?$search=x", nil, "", 501, codeBadSegment, "$search"},
		{"$skip", "GET", acc + "?$skip=1", nil, "", 501, codeBadSegment, "$skip"},
		{"$expand on data", "GET", acc + "?$expand=primarycontactid", nil, "", 501, codeBadSegment, "$expand"},
		{"unknown $ option", "GET", acc + "?$nope=1", nil, "", 400, codeBadSegment, "'$nope' is not supported"},
		{"unknown parameter", "GET", acc + "?color=red", nil, "", 501, codeBadSegment, "'color'"},
		{"savedQuery", "GET", acc + "?savedQuery=00000000-0000-0000-0000-000000000001", nil, "", 501, codeBadSegment, "savedQuery"},
		{"contains", "GET", acc + "?$filter=" + q("contains(name,'a')"), nil, "", 501, codeBadSegment, "contains"},
		{"other CRM function", "GET", acc + "?$filter=" + q("Microsoft.Dynamics.CRM.Between(PropertyName='numberofemployees',PropertyValues=['1','9'])"), nil, "", 501, codeBadSegment, "Between"},
		{"navigation path", "GET", acc + "?$filter=" + q("primarycontactid/fullname eq 'x'"), nil, "", 501, codeBadSegment, "primarycontactid/fullname"},
		{"lambda", "GET", acc + "?$filter=" + q("contact_customer_accounts/any(c:c/firstname eq 'x')"), nil, "", 501, codeBadSegment, ""},
		{"in operator", "GET", acc + "?$filter=" + q("name in ('a','b')"), nil, "", 501, codeBadSegment, "'in'"},
		{"column comparison", "GET", acc + "?$filter=" + q("name eq accountnumber"), nil, "", 501, codeBadSegment, "two columns"},
		{"unknown column", "GET", acc + "?$filter=" + q("nope eq 1"), nil, "", 400, codeBadSegment, "Could not find a property named 'nope'"},
		{"lookup by logical name", "GET", acc + "?$filter=" + q("primarycontactid eq "+o.contact), nil, "", 400, codeBadSegment, "primarycontactid"},
		{"incompatible literal", "GET", acc + "?$filter=" + q("numberofemployees eq 'x'"), nil, "", 400, codeBadSegment, "incompatible types"},
		{"unterminated literal", "GET", acc + "?$filter=" + q("name eq 'x"), nil, "", 400, codeBadSegment, "There is an unterminated literal at position 8"},
		{"guid ordering", "GET", acc + "?$filter=" + q("accountid gt "+o.alpha), nil, "", 501, codeBadSegment, "Guid"},
		{"multi-select column", "GET", "/api/data/v9.2/new_projects?$filter=" + q("new_tags eq '1'"), nil, "", 501, codeBadSegment, "new_tags"},
		{"order by lookup", "GET", acc + "?$orderby=_primarycontactid_value", nil, "", 501, codeBadSegment, "lookup"},
		{"bad order direction", "GET", acc + "?$orderby=" + q("name sideways"), nil, "", 400, codeBadSegment, "asc or desc"},
		{"$count with tracking", "GET", acc + "?$select=name&$count=true", map[string]string{"Prefer": trackPrefer}, "", 501, codeBadSegment, "$count"},
		{"$filter with tracking", "GET", acc + "?$select=name&$filter=" + q("name eq 'x'"), map[string]string{"Prefer": trackPrefer}, "", 400, codeBadSegment, `The "$filter" query parameter isn't supported when Change Tracking is enabled.`},
		{"bad $count", "GET", acc + "?$count=maybe", nil, "", 400, codeBadSegment, "$count"},
		{"$top on /$count", "GET", acc + "/$count?$top=1", nil, "", 400, codeBadSegment, "$top"},
		{"fetchXml link-entity", "GET", fetch("accounts", `<fetch><entity name='account'><attribute name='name'/><link-entity name='contact' from='contactid' to='primarycontactid'/></entity></fetch>`), nil, "", 501, codeBadSegment, "link-entity"},
		{"fetchXml aggregate", "GET", fetch("accounts", `<fetch aggregate='true'><entity name='account'><attribute name='name' alias='n' aggregate='count'/></entity></fetch>`), nil, "", 501, codeBadSegment, "aggregate"},
		{"fetchXml operator", "GET", fetch("accounts", `<fetch><entity name='account'><filter><condition attribute='name' operator='begins-with' value='A'/></filter></entity></fetch>`), nil, "", 501, codeBadSegment, "begins-with"},
		{"fetchXml alias", "GET", fetch("accounts", `<fetch><entity name='account'><attribute name='name' alias='n'/></entity></fetch>`), nil, "", 501, codeBadSegment, "alias"},
		{"fetchXml other entity", "GET", fetch("accounts", `<fetch><entity name='contact'><attribute name='fullname'/></entity></fetch>`), nil, "", 400, codeBadSegment, "does not match"},
		{"fetchXml top with count", "GET", fetch("accounts", `<fetch top='5' count='2'><entity name='account'/></fetch>`), nil, "", 400, codeBadSegment, "top"},
		{"fetchXml top over 5000", "GET", fetch("accounts", `<fetch top='5001'><entity name='account'/></fetch>`), nil, "", 400, codeBadSegment, "5000"},
		{"fetchXml unknown column", "GET", fetch("accounts", `<fetch><entity name='account'><attribute name='nope'/></entity></fetch>`), nil, "", 400, codeQueryNoAttribute, "Name = 'nope'"},
		{"fetchXml choice order", "GET", fetch("accounts", `<fetch><entity name='account'><order attribute='industrycode'/></entity></fetch>`), nil, "", 501, codeBadSegment, "label"},
		{"fetchXml with $select", "GET", fetch("accounts", `<fetch><entity name='account'/></fetch>`) + "&$select=name", nil, "", 400, codeBadSegment, "fetchXml"},
		{"fetchXml with maxpagesize", "GET", fetch("accounts", `<fetch><entity name='account'/></fetch>`), map[string]string{"Prefer": "odata.maxpagesize=2"}, "", 501, codeBadSegment, "count and page"},
		{"fetchXml not XML", "GET", acc + "?fetchXml=" + q("<fetch"), nil, "", 400, codeBadSegment, "not valid XML"},
		{"alternate key", "GET", acc + "(accountnumber='B-2')", nil, "", 501, codeBadSegment, "alternate keys"},
		{"property path", "GET", acc + "(" + o.alpha + ")/name", nil, "", 501, codeBadSegment, "record paths"},
		{"navigation path on a record", "GET", acc + "(" + o.alpha + ")/contact_customer_accounts", nil, "", 501, codeBadSegment, "record paths"},
		{"unknown record segment", "GET", acc + "(" + o.alpha + ")/nope", nil, "", 404, codeBadSegment, "nope"},
		{"$expand on retrieve", "GET", acc + "(" + o.alpha + ")?$expand=primarycontactid", nil, "", 501, codeBadSegment, "$expand"},
		{"$batch", "POST", "/api/data/v9.2/$batch", nil, "", 501, codeBadSegment, "$batch"},
		{"WhoAmI $select", "GET", "/api/data/v9.2/WhoAmI?$select=UserId", nil, "", 501, codeBadSegment, "$select"},
		{"RetrieveMetadataChanges $top", "GET", "/api/data/v9.2/RetrieveMetadataChanges(Query=@p1)?@p1=" + q(`{"Criteria":null}`) + "&$top=1", nil, "", 501, codeBadSegment, "$top"},
		{"$metadata", "GET", "/api/data/v9.2/$metadata", nil, "", 501, codeBadSegment, "$metadata"},
		{"metadata write", "POST", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes", nil, `{}`, 501, codeBadSegment, "entity definitions"},
		{"relationship write", "POST", "/api/data/v9.2/RelationshipDefinitions", nil, `{}`, 501, codeBadSegment, "relationships"},
		{"PUT record", "PUT", acc + "(" + o.alpha + ")", nil, `{"name":"x"}`, 501, codeBadSegment, "PATCH"},
		{"PATCH collection", "PATCH", acc, nil, `{"name":"x"}`, 405, codeBadSegment, ""},
		{"metadata $top", "GET", "/api/data/v9.2/EntityDefinitions?$top=1", nil, "", 501, codeBadSegment, "$top"},
		{"metadata $orderby", "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes?$orderby=LogicalName", nil, "", 501, codeBadSegment, "$orderby"},
		{"metadata unknown property", "GET", "/api/data/v9.2/EntityDefinitions?$select=Nope", nil, "", 400, codeBadSegment, "Could not find a property named 'Nope' on type 'Microsoft.Dynamics.CRM.EntityMetadata'"},
		{"metadata filter with or", "GET", "/api/data/v9.2/EntityDefinitions?$select=LogicalName&$filter=" + q("LogicalName eq 'account' or LogicalName eq 'contact'"), nil, "", 501, codeBadSegment, "metadata $filter"},
		{"metadata filter unknown property", "GET", "/api/data/v9.2/EntityDefinitions?$filter=" + q("Nope eq true"), nil, "", 400, codeBadSegment, "Nope"},
		{"derived property uncast", "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes?$select=LogicalName,MaxLength", nil, "", 400, codeBadSegment, "'MaxLength' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'"},
		{"unknown attribute cast", "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.FooAttributeMetadata", nil, "", 404, codeBadSegment, "Foo"},
		{"below an attribute", "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes(LogicalName='industrycode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/OptionSet", nil, "", 501, codeBadSegment, "navigation below an attribute"},
		{"entity Keys", "GET", "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Keys", nil, "", 501, codeBadSegment, "Keys"},
		{"relationship derived property uncast", "GET", "/api/data/v9.2/RelationshipDefinitions?$select=SchemaName,ReferencedEntity", nil, "", 400, codeBadSegment, "RelationshipMetadataBase"},
		{"relationship filter uncast", "GET", "/api/data/v9.2/RelationshipDefinitions?$filter=" + q("ReferencedEntity eq 'account'"), nil, "", 400, codeBadSegment, "ReferencedEntity"},
		{"relationship unknown cast", "GET", "/api/data/v9.2/RelationshipDefinitions/Microsoft.Dynamics.CRM.FooMetadata", nil, "", 404, codeBadSegment, ""},
		{"relationship missing", "GET", "/api/data/v9.2/RelationshipDefinitions(SchemaName='nope')", nil, "", 404, codeNotFound, "nope"},
		{"global option set filter", "GET", "/api/data/v9.2/GlobalOptionSetDefinitions?$filter=" + q("Name eq 'x'"), nil, "", 400, codeBadSegment, "$filter"},
		{"global option set $orderby", "GET", "/api/data/v9.2/GlobalOptionSetDefinitions?$orderby=Name", nil, "", 501, codeBadSegment, "$orderby"},
		{"global option set Boolean cast", "GET", "/api/data/v9.2/GlobalOptionSetDefinitions(Name='new_category')/Microsoft.Dynamics.CRM.BooleanOptionSetMetadata", nil, "", 404, codeNotFound, ""},
		{"create in intersect", "POST", "/api/data/v9.2/new_project_contactset", nil, `{}`, 501, codeBadSegment, "intersect"},
		{"create deep insert", "POST", acc, nil, `{"name":"x","primarycontactid":{"firstname":"John"}}`, 501, codeBadSegment, "deep insert"},
		{"create collection bind", "POST", acc, nil, `{"name":"x","Account_Tasks@odata.bind":["/tasks(00000000-0000-0000-0000-000000000002)"]}`, 400, codeBadSegment, "Account_Tasks"},
		{"create unknown property", "POST", acc, nil, `{"nope":1}`, 400, codeBadSegment, "The property 'nope' does not exist on type 'Microsoft.Dynamics.CRM.account'"},
		{"create read-only column", "POST", acc, nil, `{"versionnumber":1}`, 400, codeBadSegment, "versionnumber"},
		{"create lookup value property", "POST", acc, nil, `{"_primarycontactid_value":"` + o.contact + `"}`, 400, codeBadSegment, "@odata.bind"},
		{"create bad value", "POST", acc, nil, `{"numberofemployees":"many"}`, 400, codeBadRequest, "numberofemployees"},
		{"create bind wrong target", "POST", acc, nil, `{"primarycontactid@odata.bind":"/accounts(` + o.beta + `)"}`, 400, codeBadRequest, "target"},
		{"create with taken id", "POST", acc, nil, `{"accountid":"` + o.alpha + `","name":"dup"}`, 412, codeDuplicateRecord, "A record with matching key values already exists."},
		{"create with $filter", "POST", acc + "?$filter=" + q("name eq 'x'"), nil, `{"name":"x"}`, 400, codeBadSegment, "$filter"},
		{"update prevented create", "PATCH", acc + "(00000000-0000-0000-0000-0000000000aa)", map[string]string{"If-Match": "*"}, `{"name":"x"}`, 404, codeNotFound, "account With Id = 00000000-0000-0000-0000-0000000000aa Does Not Exist"},
		{"upsert prevented update", "PATCH", acc + "(" + o.alpha + ")", map[string]string{"If-None-Match": "*"}, `{"name":"x"}`, 412, codeDuplicateRecord, "A record with matching key values already exists."},
		{"stale etag on update", "PATCH", acc + "(" + o.alpha + ")", map[string]string{"If-Match": `W/"1"`}, `{"name":"x"}`, 412, codeConcurrencyVersionMismatch, "The version of the existing record doesn't match the RowVersion property provided."},
		{"stale etag on delete", "DELETE", acc + "(" + o.alpha + ")", map[string]string{"If-Match": `W/"1"`}, "", 412, codeConcurrencyVersionMismatch, "RowVersion"},
		{"delete missing", "DELETE", acc + "(00000000-0000-0000-0000-0000000000aa)", nil, "", 404, codeNotFound, "Does Not Exist"},
		{"body key differs", "PATCH", acc + "(" + o.alpha + ")", nil, `{"accountid":"` + o.beta + `"}`, 400, codeBadSegment, "differs"},
		{"URL too long", "GET", long, nil, "", 414, codeBadRequest, "limit is 32768"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := doBody(t, o.srv, tc.method, tc.url, tc.headers, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			code, msg := errorOf(t, r)
			if tc.code != "" && code != tc.code {
				t.Errorf("code %q, want %q (%s)", code, tc.code, msg)
			}
			if !strings.Contains(msg, tc.message) {
				t.Errorf("message %q does not contain %q", msg, tc.message)
			}
		})
	}
	// Nothing above changed the data.
	for _, id := range []string{o.alpha, o.beta, o.gamma} {
		if v, ok := o.e.Get("account", id); !ok || v["name"] == "x" || v["name"] == "dup" {
			t.Errorf("account %s changed by a refused request: %v", id, v)
		}
	}
}

// TestSupportedQueries sends each newly supported option and checks the
// rows and annotations.
func TestSupportedQueries(t *testing.T) {
	o := newFidelityOrg(t)
	acc := "/api/data/v9.2/accounts"
	named := acc + "?$select=name&$filter="
	// ours limits a filter to the three accounts made above.
	ours := "Microsoft.Dynamics.CRM.In(PropertyName='accountid',PropertyValues=['" + o.alpha + "','" + o.beta + "','" + o.gamma + "']) and "
	tests := []struct {
		name    string
		url     string
		prefer  []string
		wantIDs []string // exact ids, in order
		check   func(t *testing.T, r response)
	}{
		{name: "eq is case-insensitive", url: named + q("name eq 'alpha fidelity'"), wantIDs: []string{o.alpha}},
		{name: "ne and and", url: named + q(ours+"numberofemployees ne 20 and revenue ge 100.5 and creditonhold eq false"), wantIDs: []string{o.gamma}},
		{name: "or with parentheses", url: named + q("(name eq 'Alpha Fidelity' or name eq 'Gamma Fidelity') and numberofemployees gt 10"), wantIDs: []string{o.gamma}},
		{name: "not", url: named + q("not (numberofemployees lt 30) and revenue le 300"), wantIDs: []string{o.gamma}},
		{name: "literal first", url: named + q("20 eq numberofemployees"), wantIDs: []string{o.beta}},
		{name: "decimal", url: named + q("revenue gt 100.4 and revenue lt 100.6"), wantIDs: []string{o.alpha}},
		{name: "datetime", url: named + q(ours+"createdon ge 2022-01-01T00:00:00Z and createdon lt 2023-01-01T00:00:00Z"), wantIDs: []string{o.beta}},
		{name: "null", url: named + q("accountnumber eq null and name eq 'Alpha Fidelity'"), wantIDs: []string{o.alpha}},
		{name: "ne skips nulls", url: named + q("accountnumber ne 'B-2' and numberofemployees ge 10 and numberofemployees le 30 and revenue ge 100.5"), wantIDs: []string{o.gamma}},
		{name: "lookup value", url: named + q("_primarycontactid_value eq "+o.contact), wantIDs: []string{o.alpha}},
		{name: "primary key", url: named + q("accountid eq "+o.beta), wantIDs: []string{o.beta}},
		{name: "In on the primary key", url: named + q("Microsoft.Dynamics.CRM.In(PropertyName='accountid',PropertyValues=['"+o.gamma+"','"+o.alpha+"','00000000-0000-0000-0000-0000000000aa'])") + "&$orderby=name", wantIDs: []string{o.alpha, o.gamma}},
		{name: "In with aliases", url: named + q("Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)") + "&@p1=" + q("'name'") + "&@p2=" + q(`["Beta Fidelity","Gamma Fidelity"]`) + "&$orderby=name%20desc", wantIDs: []string{o.gamma, o.beta}},
		{name: "NotIn", url: named + q("Microsoft.Dynamics.CRM.NotIn(PropertyName='numberofemployees',PropertyValues=['10','20']) and revenue ge 100.5 and numberofemployees le 30"), wantIDs: []string{o.gamma}},
		{name: "versionnumber", url: named + q(fmt.Sprintf("versionnumber gt %d", o.versionBeforeCreate+1)) + "&$orderby=versionnumber", wantIDs: []string{o.alpha, o.beta, o.gamma}},
		{name: "orderby desc", url: named + q(ours+"numberofemployees ge 10") + "&$orderby=" + q("numberofemployees desc"), wantIDs: []string{o.gamma, o.beta, o.alpha}},
		{name: "count", url: acc + "?$select=name&$count=true", prefer: []string{"odata.maxpagesize=2", `odata.include-annotations="Microsoft.Dynamics.CRM.*"`}, check: func(t *testing.T, r response) {
			m := r.json(t)
			if m["@odata.count"] != json.Number("15") || m["@Microsoft.Dynamics.CRM.totalrecordcount"] != json.Number("15") || m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] != false {
				t.Fatalf("counts %v %v %v", m["@odata.count"], m["@Microsoft.Dynamics.CRM.totalrecordcount"], m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"])
			}
			if n := len(m["value"].([]any)); n != 2 || m["@odata.nextLink"] == nil {
				t.Fatalf("%d rows, nextLink %v: the count must not depend on the page size", n, m["@odata.nextLink"])
			}
		}},
		{name: "count filtered", url: acc + "?$select=name&$count=true&$filter=" + q("creditonhold eq true and name eq 'Alpha Fidelity'"), check: func(t *testing.T, r response) {
			if c := r.json(t)["@odata.count"]; c != json.Number("1") {
				t.Fatalf("@odata.count %v", c)
			}
		}},
		{name: "no count without $count", url: acc + "?$select=name", prefer: []string{`odata.include-annotations="*"`}, check: func(t *testing.T, r response) {
			m := r.json(t)
			if _, has := m["@odata.count"]; has || m["@Microsoft.Dynamics.CRM.totalrecordcount"] != json.Number("-1") {
				t.Fatalf("@odata.count %v, totalrecordcount %v", m["@odata.count"], m["@Microsoft.Dynamics.CRM.totalrecordcount"])
			}
		}},
		{name: "/$count with filter", url: acc + "/$count?$filter=" + q("numberofemployees eq 20 and name eq 'Beta Fidelity'"), prefer: []string{trackPrefer}, check: func(t *testing.T, r response) {
			if string(r.body) != "1" {
				t.Fatalf("body %q", r.body)
			}
		}},
		{name: "fetchXml", url: fetch("accounts", `<fetch top='2'><entity name='account'><attribute name='name'/><attribute name='accountnumber'/>
			<filter type='or'><condition attribute='name' operator='eq' value='Alpha Fidelity'/><condition attribute='numberofemployees' operator='in'><value>20</value><value>30</value></condition></filter>
			<filter><condition attribute='revenue' operator='ge' value='100.5'/><condition attribute='primarycontactid' operator='null'/></filter>
			<order attribute='name' descending='true'/></entity></fetch>`), wantIDs: []string{o.gamma, o.beta}, check: func(t *testing.T, r response) {
			m := r.json(t)
			if ctx := m["@odata.context"].(string); !strings.HasSuffix(ctx, "#accounts(name,accountnumber,accountid)") {
				t.Errorf("context %q", ctx)
			}
		}},
		{name: "fetchXml leaves nulls out", url: fetch("accounts", `<fetch><entity name='account'><attribute name='name'/><attribute name='accountnumber'/><filter><condition attribute='accountid' operator='eq' value='{`+strings.ToUpper(o.alpha)+`}'/></filter></entity></fetch>`), wantIDs: []string{o.alpha}, check: func(t *testing.T, r response) {
			row := rowsOf(t, r)[0]
			if _, has := row["accountnumber"]; has {
				t.Fatalf("null accountnumber returned: %v", row)
			}
		}},
		{name: "fetchXml like and lookup", url: fetch("accounts", `<fetch><entity name='account'><attribute name='name'/><filter><condition attribute='name' operator='like' value='%fidel_ty'/><condition attribute='primarycontactid' operator='eq' value='`+o.contact+`'/></filter></entity></fetch>`), wantIDs: []string{o.alpha}},
		{name: "fetchXml with $count", url: fetch("accounts", `<fetch count='1'><entity name='account'><attribute name='name'/><filter><condition attribute='name' operator='like' value='% Fidelity'/></filter></entity></fetch>`) + "&$count=true", prefer: []string{`odata.include-annotations="*"`}, check: func(t *testing.T, r response) {
			m := r.json(t)
			if m["@odata.count"] != json.Number("3") || m["@Microsoft.Dynamics.CRM.morerecords"] != true {
				t.Fatalf("count %v, morerecords %v", m["@odata.count"], m["@Microsoft.Dynamics.CRM.morerecords"])
			}
			if c, _ := m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].(string); !strings.HasPrefix(c, `<cookie pagenumber="2" pagingcookie="%253ccookie%2520page%253d%25221%2522%253e%253caccountid%2520last%253d%2522%257b`) {
				t.Fatalf("paging cookie %q", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, o.srv, "GET", tc.url, map[string][]string{"Prefer": tc.prefer})
			if tc.wantIDs != nil {
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				got := valuesOf(rowsOf(t, r), "accountid")
				want := make([]any, len(tc.wantIDs))
				for i, id := range tc.wantIDs {
					want[i] = id
				}
				eq(t, got, want)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// TestFilteredPagingFollowsNextLinks: nextLinks repeat $filter, $orderby and
// $count, so paging a filtered or ordered read returns each matching row
// once, in order.
func TestFilteredPagingFollowsNextLinks(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 40, RandSeed: 9})
	base := "/api/data/v9.2/accounts?$select=name,numberofemployees"
	want := func(keep func(map[string]any) bool) []string {
		var ids []string
		for _, id := range e.IDs("account") {
			v, _ := e.Get("account", id)
			if keep(v) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	tests := []struct {
		name  string
		query string
		want  []string
		order func(a, b map[string]any) int
	}{
		{"filter", "&$filter=" + q("numberofemployees ge 300 or numberofemployees eq null") + "&$count=true", want(func(v map[string]any) bool {
			n, ok := v["numberofemployees"].(int64)
			return !ok || n >= 300
		}), nil},
		{"order", "&$orderby=" + q("name desc"), want(func(map[string]any) bool { return true }), func(a, b map[string]any) int {
			return -strings.Compare(strings.ToLower(a["name"].(string)), strings.ToLower(b["name"].(string)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, pages, _ := readAll(t, srv, base+tc.query, 7)
			if len(pages) < 2 {
				t.Fatalf("%d pages: the case needs paging", len(pages))
			}
			var got []string
			for _, r := range rows {
				got = append(got, r["accountid"].(string))
			}
			if tc.order == nil {
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("rows %v, want %v", got, tc.want)
				}
				return
			}
			if !slices.IsSortedFunc(rows, tc.order) {
				t.Fatal("rows are not in $orderby order across pages")
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%d rows, want %d, or duplicates", len(got), len(tc.want))
			}
		})
	}
}

// TestFetchXMLPaging pages with count, page and the returned paging cookie
// as the documentation describes, and with simple paging.
func TestFetchXMLPaging(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 11, RandSeed: 2})
	all := e.IDs("contact")
	prefer := map[string][]string{"Prefer": {`odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"`}}
	var got []string
	cookie := ""
	for page := 1; ; page++ {
		attrs := fmt.Sprintf(`count='4' page='%d'`, page)
		if cookie != "" {
			attrs += " paging-cookie='" + strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;").Replace(cookie) + "'"
		}
		r := do(t, srv, "GET", fetch("contacts", "<fetch "+attrs+"><entity name='contact'><attribute name='fullname'/></entity></fetch>"), prefer)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		m := r.json(t)
		for _, row := range rowsOf(t, r) {
			got = append(got, row["contactid"].(string))
		}
		if m["@Microsoft.Dynamics.CRM.morerecords"] != true {
			if _, has := m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"]; has {
				t.Fatal("the last page carries a paging cookie")
			}
			break
		}
		outer := m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].(string)
		i := strings.Index(outer, `pagingcookie="`) + len(`pagingcookie="`)
		enc := outer[i : i+strings.IndexByte(outer[i:], '"')]
		once, err := url.QueryUnescape(enc)
		if err != nil {
			t.Fatal(err)
		}
		if cookie, err = url.QueryUnescape(once); err != nil {
			t.Fatal(err)
		}
		if page > 10 {
			t.Fatal("too many pages")
		}
	}
	if !slices.Equal(got, all) {
		t.Fatalf("cookie paging returned %d ids, want %d in order", len(got), len(all))
	}
	// Simple paging: page 3 of 4 is rows 8..10.
	r := do(t, srv, "GET", fetch("contacts", "<fetch count='4' page='3'><entity name='contact'><attribute name='fullname'/><order attribute='contactid'/></entity></fetch>"), nil)
	eq(t, valuesOf(rowsOf(t, r), "contactid"), []any{all[8], all[9], all[10]})
}

// TestRelationshipMetadata covers RelationshipDefinitions with and without
// casts and the entity's relationship navigations and expands.
func TestRelationshipMetadata(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 2})
	api := "/api/data/v9.2/"
	schemas := func(r response) []string {
		var out []string
		for _, row := range rowsOf(t, r) {
			out = append(out, row["SchemaName"].(string))
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name  string
		url   string
		check func(t *testing.T, r response)
	}{
		{"one-to-many cast filtered", api + "RelationshipDefinitions/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata?$select=SchemaName,ReferencingEntity&$filter=" + q("ReferencedEntity eq 'account' and ReferencingEntity eq 'contact'"), func(t *testing.T, r response) {
			eq(t, schemas(r), []string{"contact_customer_accounts"})
			if ctx := r.json(t)["@odata.context"].(string); !strings.HasSuffix(ctx, "$metadata#RelationshipDefinitions/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata(SchemaName,ReferencingEntity)") {
				t.Errorf("context %q", ctx)
			}
		}},
		{"many-to-many cast", api + "RelationshipDefinitions/Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata?$select=SchemaName,IntersectEntityName", func(t *testing.T, r response) {
			eq(t, schemas(r), []string{"new_project_contact", "systemuserroles_association", "teammembership_association"})
		}},
		{"uncast keeps the base properties", api + "RelationshipDefinitions(SchemaName='account_primary_contact')", func(t *testing.T, r response) {
			m := r.json(t)
			if m["RelationshipType"] != "OneToManyRelationship" || m["@odata.type"] != "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata" {
				t.Fatalf("relationship %v", m)
			}
			if _, has := m["ReferencedEntity"]; has {
				t.Fatal("a derived property in an uncast answer")
			}
		}},
		{"keyed cast", api + "RelationshipDefinitions(SchemaName='account_primary_contact')/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata", func(t *testing.T, r response) {
			m := r.json(t)
			want := map[string]any{"ReferencedEntity": "contact", "ReferencedAttribute": "contactid", "ReferencingEntity": "account",
				"ReferencingAttribute": "primarycontactid", "ReferencingEntityNavigationPropertyName": "primarycontactid", "ReferencedEntityNavigationPropertyName": "account_primary_contact"}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
		}},
		{"uncast collection", api + "RelationshipDefinitions?$select=SchemaName,RelationshipType", func(t *testing.T, r response) {
			s := schemas(r)
			for _, want := range []string{"contact_customer_accounts", "contact_customer_contacts", "teammembership_association"} {
				if !slices.Contains(s, want) {
					t.Errorf("%s missing from %v", want, s)
				}
			}
		}},
		{"many-to-one navigation", api + "EntityDefinitions(LogicalName='contact')/ManyToOneRelationships?$select=SchemaName,ReferencedEntity,ReferencingEntityNavigationPropertyName&$filter=" + q("ReferencingAttribute eq 'parentcustomerid'"), func(t *testing.T, r response) {
			eq(t, schemas(r), []string{"contact_customer_accounts", "contact_customer_contacts"})
			eq(t, valuesOf(rowsOf(t, r), "ReferencingEntityNavigationPropertyName"), []any{"parentcustomerid_account", "parentcustomerid_contact"})
		}},
		{"one-to-many navigation", api + "EntityDefinitions(LogicalName='account')/OneToManyRelationships?$select=SchemaName&$filter=" + q("ReferencingEntity eq 'contact'"), func(t *testing.T, r response) {
			eq(t, schemas(r), []string{"contact_customer_accounts"})
		}},
		{"navigation by key", api + "EntityDefinitions(LogicalName='account')/ManyToOneRelationships(SchemaName='account_primary_contact')?$select=ReferencedEntity", func(t *testing.T, r response) {
			if m := r.json(t); m["ReferencedEntity"] != "contact" {
				t.Fatalf("%v", m)
			}
		}},
		{"expand", api + "EntityDefinitions(LogicalName='contact')?$select=LogicalName&$expand=" + q("ManyToOneRelationships($select=SchemaName;$filter=ReferencedEntity eq 'account'),ManyToManyRelationships($select=SchemaName)"), func(t *testing.T, r response) {
			m := r.json(t)
			m2o := m["ManyToOneRelationships"].([]any)
			if len(m2o) != 1 || m2o[0].(map[string]any)["SchemaName"] != "contact_customer_accounts" {
				t.Fatalf("ManyToOneRelationships %v", m2o)
			}
			if n2n := m["ManyToManyRelationships"].([]any); len(n2n) != 1 {
				t.Fatalf("ManyToManyRelationships %v", n2n)
			}
		}},
		{"global option set cast", api + "GlobalOptionSetDefinitions(Name='new_category')/Microsoft.Dynamics.CRM.OptionSetMetadata?$select=Name,Options", func(t *testing.T, r response) {
			m := r.json(t)
			if m["Name"] != "new_category" || len(m["Options"].([]any)) != 3 {
				t.Fatalf("%v", m)
			}
			if ctx := m["@odata.context"].(string); !strings.HasSuffix(ctx, "#GlobalOptionSetDefinitions/Microsoft.Dynamics.CRM.OptionSetMetadata(Name,Options)/$entity") {
				t.Errorf("context %q", ctx)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", tc.url, nil)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			tc.check(t, r)
		})
	}
}

// TestWritesSupported sends each kind of Web API write the emulator serves
// and checks the answer and the stored row; every write stamps a version.
func TestWritesSupported(t *testing.T) {
	o := newFidelityOrg(t)
	acc := "/api/data/v9.2/accounts"
	etagOf := func(id string) string {
		v, _ := o.e.Get("account", id)
		return fmt.Sprintf(`W/"%d"`, v["versionnumber"])
	}
	fresh := "00000000-0000-0000-0000-00000000000e"
	tests := []struct {
		name        string
		method, url string
		headers     map[string]string
		body        string
		status      int
		check       func(t *testing.T, r response)
	}{
		{"create", "POST", acc, nil, `{"name":"Created","primarycontactid@odata.bind":"/contacts(` + o.contact + `)","ownerid@odata.bind":"systemusers(` + baseID(5, "systemuser", 1) + `)"}`, 204, func(t *testing.T, r response) {
			loc := r.header.Get("OData-EntityId")
			created := loc[strings.LastIndexByte(loc, '(')+1 : len(loc)-1]
			v, ok := o.e.Get("account", created)
			if !ok || v["name"] != "Created" || v["primarycontactid"] != (Ref{Entity: "contact", ID: o.contact}) || v["ownerid"] != (Ref{Entity: "systemuser", ID: baseID(5, "systemuser", 1)}) {
				t.Fatalf("stored %v (OData-EntityId %q)", v, loc)
			}
		}},
		{"create with the id and data returned", "POST", acc + "?$select=name,_primarycontactid_value", map[string]string{"Prefer": "return=representation"}, `{"accountid":"` + fresh + `","name":"Fresh"}`, 201, func(t *testing.T, r response) {
			m := r.json(t)
			if m["accountid"] != fresh || m["name"] != "Fresh" || r.header.Get("Preference-Applied") != "return=representation" {
				t.Fatalf("%v %v", m, r.header)
			}
		}},
		{"update with If-Match: *", "PATCH", acc + "(" + o.beta + ")", map[string]string{"If-Match": "*"}, `{"name":"Beta renamed"}`, 204, func(t *testing.T, r response) {
			if v, _ := o.e.Get("account", o.beta); v["name"] != "Beta renamed" {
				t.Fatalf("stored %v", v)
			}
		}},
		{"update guarded by the current ETag", "PATCH", acc + "(" + o.gamma + ")", map[string]string{"If-Match": "current"}, `{"numberofemployees":31,"description":null}`, 204, func(t *testing.T, r response) {
			if v, _ := o.e.Get("account", o.gamma); v["numberofemployees"] != int64(31) {
				t.Fatalf("stored %v", v)
			}
		}},
		{"update with data returned", "PATCH", acc + "(" + o.gamma + ")?$select=numberofemployees", map[string]string{"Prefer": "return=representation"}, `{"numberofemployees":32}`, 200, func(t *testing.T, r response) {
			if m := r.json(t); m["numberofemployees"] != json.Number("32") || m["@odata.etag"] != etagOf(o.gamma) {
				t.Fatalf("%v", m)
			}
		}},
		{"upsert creates", "PATCH", acc + "(00000000-0000-0000-0000-00000000000d)", map[string]string{"If-None-Match": "*"}, `{"name":"Upserted"}`, 204, func(t *testing.T, r response) {
			if v, ok := o.e.Get("account", "00000000-0000-0000-0000-00000000000d"); !ok || v["name"] != "Upserted" || v["statecode"] != int64(0) {
				t.Fatalf("stored %v", v)
			}
			if !strings.HasSuffix(r.header.Get("OData-EntityId"), "/api/data/v9.2/accounts(00000000-0000-0000-0000-00000000000d)") {
				t.Fatalf("OData-EntityId %q", r.header.Get("OData-EntityId"))
			}
		}},
		{"contact customer bind", "PATCH", "/api/data/v9.2/contacts(" + o.contact + ")", nil, `{"parentcustomerid_account@odata.bind":"/accounts(` + o.alpha + `)"}`, 204, func(t *testing.T, r response) {
			if v, _ := o.e.Get("contact", o.contact); v["parentcustomerid"] != (Ref{Entity: "account", ID: o.alpha}) {
				t.Fatalf("stored %v", v)
			}
		}},
		{"unbind", "PATCH", acc + "(" + o.alpha + ")", nil, `{"primarycontactid@odata.bind":null}`, 204, func(t *testing.T, r response) {
			if v, _ := o.e.Get("account", o.alpha); v["primarycontactid"] != nil {
				t.Fatalf("stored %v", v)
			}
		}},
		{"conditional retrieve unchanged", "GET", acc + "(" + o.alpha + ")?$select=name", map[string]string{"If-None-Match": "current"}, "", 304, nil},
		{"delete guarded by the current ETag", "DELETE", acc + "(" + o.beta + ")", map[string]string{"If-Match": "current"}, "", 204, func(t *testing.T, r response) {
			if _, ok := o.e.Get("account", o.beta); ok {
				t.Fatal("still there")
			}
		}},
		{"create again with a deleted id", "POST", acc, nil, `{"accountid":"` + "BETA" + `","name":"Beta again"}`, 204, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			for k, v := range tc.headers {
				if v == "current" {
					id := tc.url[strings.IndexByte(tc.url, '(')+1 : strings.IndexByte(tc.url, ')')]
					v = etagOf(id)
				}
				h[k] = v
			}
			body := strings.ReplaceAll(tc.body, "BETA", o.beta)
			before := o.e.Version()
			r := doBody(t, o.srv, tc.method, tc.url, h, body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if wrote := tc.method != "GET"; wrote != (o.e.Version() > before) {
				t.Errorf("version %d -> %d after a %s", before, o.e.Version(), tc.method)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	if v, ok := o.e.Get("account", o.beta); !ok || v["name"] != "Beta again" {
		t.Fatalf("re-created row %v", v)
	}
}
