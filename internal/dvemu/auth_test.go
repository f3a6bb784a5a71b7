package dvemu

import (
	"net/http"
	"testing"
)

func TestAuth(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 2, Token: "secret-token"})
	tests := []struct {
		name   string
		auth   []string
		status int
	}{
		{"missing header", []string{}, http.StatusUnauthorized},
		{"wrong token", []string{"Bearer nope"}, http.StatusUnauthorized},
		{"default token when a custom one is set", []string{"Bearer " + DefaultToken}, http.StatusUnauthorized},
		{"not bearer", []string{"Basic secret-token"}, http.StatusUnauthorized},
		{"right token", []string{"Bearer secret-token"}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, srv, "GET", "/api/data/v9.2/accounts?$select=name", map[string][]string{"Authorization": tc.auth})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status != http.StatusUnauthorized {
				return
			}
			errObj, ok := r.json(t)["error"].(map[string]any)
			if !ok {
				t.Fatalf("no error object: %s", r.body)
			}
			if errObj["code"] != codeNotAuthenticated || errObj["message"] == "" {
				t.Fatalf("error = %v", errObj)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("no WWW-Authenticate header")
			}
		})
	}
}

func TestAdminNeedsNoToken(t *testing.T) {
	_, srv := newTestEmu(t, Options{Records: 3})
	r := do(t, srv, "GET", "/_emulator/entities/account", map[string][]string{"Authorization": {}})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if n := r.json(t)["count"]; n.(interface{ String() string }).String() != "3" {
		t.Fatalf("count = %v", n)
	}
}

func TestWhoAmI(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 2})
	r := do(t, srv, "GET", "/api/data/v9.2/WhoAmI", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	if users := e.IDs("systemuser"); m["UserId"] != users[0] || m["OrganizationId"] == "" {
		t.Fatalf("WhoAmI %v", m)
	}
	if r := do(t, srv, "GET", "/api/data/v9.2/WhoAmI", map[string][]string{"Authorization": {"Bearer wrong"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("WhoAmI without a valid token: %d", r.status)
	}
}
