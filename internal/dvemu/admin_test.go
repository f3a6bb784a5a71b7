package dvemu

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAdminValueValidation(t *testing.T) {
	e, _ := newTestEmu(t, Options{Records: 2})
	acc := e.IDs("account")[0]
	tests := []struct {
		name   string
		values map[string]any
		attr   string // "" = must succeed
	}{
		{"ok", map[string]any{"firstname": "A", "lastname": "B", "annualincome": "12.345", "parentcustomerid": Ref{"account", acc}, "birthdate": time.Date(2000, 1, 2, 23, 0, 0, 0, time.UTC)}, ""},
		{"unknown attribute", map[string]any{"nope": 1}, "nope"},
		{"too long", map[string]any{"firstname": strings.Repeat("x", 51)}, "firstname"},
		{"wrong type", map[string]any{"numberofchildren": "three"}, "numberofchildren"},
		{"bad option", map[string]any{"gendercode": 9}, "gendercode"},
		{"bad lookup target", map[string]any{"parentcustomerid": Ref{"systemuser", acc}}, "parentcustomerid"},
		{"bad decimal", map[string]any{"annualincome": "lots"}, "annualincome"},
		{"read-only version", map[string]any{"versionnumber": int64(5)}, "versionnumber"},
		{"read-only primary id", map[string]any{"contactid": acc}, "contactid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := e.Create("contact", tc.values)
			if tc.attr == "" {
				if err != nil {
					t.Fatal(err)
				}
				got, ok := e.Get("contact", id)
				if !ok {
					t.Fatal("created row not found")
				}
				eq(t, got["fullname"], "A B")
				eq(t, got["annualincome"], "12.35") // rounded to Precision 2
				eq(t, got["birthdate"], time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC))
				eq(t, got["parentcustomerid"], Ref{"account", acc})
				eq(t, got["statecode"], int64(0))
				if v, _ := got["versionnumber"].(int64); v != e.Version() {
					t.Fatalf("versionnumber %v, org version %d", got["versionnumber"], e.Version())
				}
				return
			}
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Attribute != tc.attr {
				t.Fatalf("err = %v, want ValueError on %s", err, tc.attr)
			}
		})
	}
	if err := e.Update("contact", "00000000-0000-0000-0000-000000000000", map[string]any{"firstname": "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of missing row: %v", err)
	}
	if err := e.Delete("nope", acc); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete in unknown entity: %v", err)
	}
}

func TestAdminHTTP(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 1})
	acc := e.IDs("account")[0]
	post := func(method, path, body string) response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
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
	r := post("POST", "/_emulator/entities/contact", `{"lastname":"Hopper","annualincome":1234.5,"birthdate":"1906-12-09","parentcustomerid":{"entity":"account","id":"`+acc+`"},"modifiedon":"2024-01-01T10:00:00+02:00"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	got, _ := e.Get("contact", id)
	eq(t, got["annualincome"], "1234.50")
	eq(t, got["modifiedon"], time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC))
	if r := post("PATCH", "/_emulator/entities/contact/"+id, `{"lastname":"Hopper-Murray"}`); r.status != http.StatusNoContent {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if r := post("PATCH", "/_emulator/entities/contact/"+id, `{"nope":1}`); r.status != http.StatusBadRequest {
		t.Fatalf("bad patch: %d %s", r.status, r.body)
	}
	if r := post("DELETE", "/_emulator/entities/contact/"+id, ``); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := post("DELETE", "/_emulator/entities/contact/"+id, ``); r.status != http.StatusNotFound {
		t.Fatalf("second delete: %d %s", r.status, r.body)
	}
}

func TestAdminHTTPSchemaAndDrive(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 5})
	send := func(method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := send("POST", "/_emulator/entities/account/attributes", `{"LogicalName":"new_code","Type":"String","MaxLength":12}`); st != http.StatusNoContent {
		t.Fatalf("add attribute: %d", st)
	}
	if st := send("POST", "/_emulator/entities/account/attributes", `{"LogicalName":"new_code","Type":"String","MaxLength":12}`); st != http.StatusBadRequest {
		t.Fatalf("duplicate attribute: %d", st)
	}
	id := e.IDs("account")[0]
	if err := e.Update("account", id, map[string]any{"new_code": "X1"}); err != nil {
		t.Fatal(err)
	}
	before := e.Version()
	if st := send("POST", "/_emulator/drive", `{"n":25,"entities":["contact"]}`); st != http.StatusOK {
		t.Fatalf("drive: %d", st)
	}
	if got := e.Version() - before; got != 25 {
		t.Fatalf("drive made %d changes, want 25", got)
	}
}
