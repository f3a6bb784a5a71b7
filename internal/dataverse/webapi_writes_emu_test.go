package dataverse_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// webAPICall is one request/response pair of Microsoft's Web API
// documentation ("Create a table row", "Update and delete table rows",
// "Perform conditional operations"), sent as the documentation shows it.
type webAPICall struct {
	method, path string
	headers      map[string]string
	body         string
}

func (c webAPICall) send(t *testing.T, org string, client *http.Client) (*http.Response, map[string]any) {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, org+"/api/data/v9.2/"+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+dvemu.DefaultToken)
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(raw) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", c.method, c.path, raw)
		}
	}
	return resp, m
}

// TestEmuWebAPIWritesAsDocumented creates, updates, upserts and deletes
// accounts with the documented requests, checks the documented responses,
// then reads the delta through the client: the writes are there, the
// deleted account as a delete.
func TestEmuWebAPIWritesAsDocumented(t *testing.T) {
	emu, err := dvemu.New(dvemu.Options{Records: 3, RandSeed: 4})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, emu)
	c, err := dataverse.NewClient(srv.URL, dataverse.StaticToken(dvemu.DefaultToken), &dataverse.ClientOptions{Transport: srv.Client(), RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	pages := readAll(t, c.NewChangesPager(e, nil))
	deltaLink := pages[len(pages)-1].DeltaLink

	const createBody = `{
    "name": "Sample Account",
    "creditonhold": false,
    "address1_latitude": 47.639583,
    "description": "This is the description of the sample account",
    "revenue": 5000000,
    "accountcategorycode": 1
}`
	jsonHeaders := map[string]string{"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range jsonHeaders {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	entityID := regexp.MustCompile(`^` + regexp.QuoteMeta(srv.URL) + `/api/data/v9\.2/accounts\(([0-9a-f-]{36})\)$`)

	// Basic create: 204 No Content, the new record's URI in OData-EntityId.
	resp, _ := webAPICall{"POST", "accounts", jsonHeaders, createBody}.send(t, srv.URL, srv.Client())
	m := entityID.FindStringSubmatch(resp.Header.Get("OData-EntityId"))
	if resp.StatusCode != http.StatusNoContent || m == nil || resp.Header.Get("OData-Version") != "4.0" {
		t.Fatalf("create: %d, OData-EntityId %q, OData-Version %q", resp.StatusCode, resp.Header.Get("OData-EntityId"), resp.Header.Get("OData-Version"))
	}
	basic := m[1]

	// Create with data returned: 201 and the selected columns.
	resp, body := webAPICall{"POST", "accounts?$select=name,creditonhold,address1_latitude,description,revenue,accountcategorycode,createdon",
		with(map[string]string{"Prefer": "return=representation"}), createBody}.send(t, srv.URL, srv.Client())
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Preference-Applied") != "return=representation" ||
		resp.Header.Get("Content-Type") != "application/json; odata.metadata=minimal" || resp.Header.Get("OData-EntityId") != "" {
		t.Fatalf("create with data returned: %d %v", resp.StatusCode, resp.Header)
	}
	represented, _ := body["accountid"].(string)
	want := map[string]any{
		"@odata.context": srv.URL + "/api/data/v9.2/$metadata#accounts/$entity", "accountcategorycode": json.Number("1"),
		"description": "This is the description of the sample account", "address1_latitude": json.Number("47.63958"),
		"creditonhold": false, "name": "Sample Account", "revenue": json.Number("5000000.00"),
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("create with data returned: %s = %v, want %v", k, body[k], v)
		}
	}
	for _, k := range []string{"@odata.etag", "createdon", "_transactioncurrencyid_value"} {
		if body[k] == nil {
			t.Errorf("create with data returned: no %s in %v", k, body)
		}
	}

	// Basic update with If-Match: * (no create): 204.
	resp, _ = webAPICall{"PATCH", "accounts(" + represented + ")", map[string]string{"Content-Type": "application/json", "If-Match": "*"}, `{
    "name": "Updated Sample Account ",
    "creditonhold": true,
    "address1_latitude": 47.639583,
    "description": "This is the updated description of the sample account",
    "revenue": 6000000,
    "accountcategorycode": 2
}`}.send(t, srv.URL, srv.Client())
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	// Update with data returned: 200 and the row.
	resp, body = webAPICall{"PATCH", "accounts(" + represented + ")?$select=name,creditonhold,address1_latitude,description,revenue,accountcategorycode,createdon",
		with(map[string]string{"Prefer": "return=representation", "If-Match": "*"}), `{"name":"Updated Sample Account"}`}.send(t, srv.URL, srv.Client())
	if resp.StatusCode != http.StatusOK || body["name"] != "Updated Sample Account" || body["accountcategorycode"] != json.Number("2") || body["revenue"] != json.Number("6000000.00") {
		t.Fatalf("update with data returned: %d %v", resp.StatusCode, body)
	}

	// Upsert of a record that does not exist: created with the given id.
	const upserted = "00000000-0000-0000-0000-000000000001"
	resp, _ = webAPICall{"PATCH", "accounts(" + upserted + ")", map[string]string{"Content-Type": "application/json"}, `{"name":"Upserted Account"}`}.send(t, srv.URL, srv.Client())
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("OData-EntityId") != srv.URL+"/api/data/v9.2/accounts("+upserted+")" {
		t.Fatalf("upsert: %d %v", resp.StatusCode, resp.Header)
	}

	// Prevent create in upsert: 404 with the documented message.
	const missing = "00000000-0000-0000-0000-0000000000ff"
	resp, body = webAPICall{"PATCH", "accounts(" + missing + ")", map[string]string{"Content-Type": "application/json", "If-Match": "*"}, createBody}.send(t, srv.URL, srv.Client())
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json; odata.metadata=minimal" ||
		errorMessage(body) != "account With Id = "+missing+" Does Not Exist" {
		t.Fatalf("prevent create: %d %v", resp.StatusCode, body)
	}
	// Prevent update in upsert: 412 with the documented message.
	resp, body = webAPICall{"PATCH", "accounts(" + upserted + ")", map[string]string{"Content-Type": "application/json", "If-None-Match": "*"}, createBody}.send(t, srv.URL, srv.Client())
	if resp.StatusCode != http.StatusPreconditionFailed || errorMessage(body) != "A record with matching key values already exists." {
		t.Fatalf("prevent update: %d %v", resp.StatusCode, body)
	}
	// Optimistic concurrency on delete: a stale ETag is refused.
	resp, body = webAPICall{"DELETE", "accounts(" + upserted + ")", map[string]string{"If-Match": `W/"470867"`, "Accept": "application/json"}, ""}.send(t, srv.URL, srv.Client())
	if resp.StatusCode != http.StatusPreconditionFailed || errorMessage(body) != "The version of the existing record doesn't match the RowVersion property provided." {
		t.Fatalf("stale delete: %d %v", resp.StatusCode, body)
	}

	// Basic delete: 204, then 404.
	del := webAPICall{"DELETE", "accounts(" + basic + ")", map[string]string{"Content-Type": "application/json"}, ""}
	if resp, _ := del.send(t, srv.URL, srv.Client()); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := del.send(t, srv.URL, srv.Client()); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second delete: %d", resp.StatusCode)
	}

	// The delta read through the client: two upserts carrying the current
	// values and versions, and the created-then-deleted record as a delete.
	fields := dataverse.Fields(e)
	var up, gone []string
	for _, pg := range readAll(t, c.NewChangesPager(e, &dataverse.ChangesOptions{Link: deltaLink})) {
		for _, r := range pg.Upserts {
			up = append(up, r.ID)
			checkRecord(t, emu, "account", fields, r)
		}
		gone = append(gone, pg.Deletes...)
	}
	slices.Sort(up)
	wantUp := []string{upserted, represented}
	slices.Sort(wantUp)
	if !slices.Equal(up, wantUp) || !slices.Equal(gone, []string{basic}) {
		t.Fatalf("delta: upserts %v deletes %v; want %v and [%s]", up, gone, wantUp, basic)
	}
	row, _ := emu.Get("account", represented)
	if row["name"] != "Updated Sample Account" || row["creditonhold"] != true || row["accountcategorycode"] != int64(2) {
		t.Fatalf("stored row %v", row)
	}
}

func errorMessage(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}
