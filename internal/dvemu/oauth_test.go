package dvemu

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestClientSecretCredentialAgainstEmulator(t *testing.T) {
	e, err := New(Options{Records: 1, Token: "tok-123", ClientID: "app-id", ClientSecret: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(e)
	t.Cleanup(srv.Close)
	opts := func() *azidentity.ClientSecretCredentialOptions {
		return &azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URL + "/"},
				Transport: srv.Client(),
				Retry:     policy.RetryOptions{MaxRetries: -1},
			},
			DisableInstanceDiscovery: true,
		}
	}
	tests := []struct {
		name, secret string
		ok           bool
	}{
		{"right secret", "s3cret", true},
		{"wrong secret", "nope", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cred, err := azidentity.NewClientSecretCredential("tenant-1", "app-id", tc.secret, opts())
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://org.crm.dynamics.com/.default"}})
			if !tc.ok {
				var authErr *azidentity.AuthenticationFailedError
				if !errors.As(err, &authErr) {
					t.Fatalf("err = %v, want AuthenticationFailedError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Token != "tok-123" {
				t.Fatalf("token %q", tok.Token)
			}
			req, _ := http.NewRequest("GET", srv.URL+"/api/data/v9.2/accounts?$select=name", nil)
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("Web API with issued token: %d", resp.StatusCode)
			}
		})
	}
}
