package dataverse

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSignedPEM returns a certificate and its key in one PEM file.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048) // Entra accepts RSA keys only
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dataexport-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
}

func TestNewCredential(t *testing.T) {
	certPEM := selfSignedPEM(t)
	certPath := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	const tenant, client, secret = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "s3cr3t-value"
	tests := []struct {
		name     string
		s        AuthSettings
		wantType string
		wantErr  error
	}{
		{"static inferred", AuthSettings{Token: "tok"}, "dataverse.StaticToken", nil},
		{"secret inferred", AuthSettings{TenantID: tenant, ClientID: client, ClientSecret: secret}, "*azidentity.ClientSecretCredential", nil},
		{"secret without tenant", AuthSettings{ClientID: client, ClientSecret: secret}, "", ErrAuthSettings},
		{"certificate bytes", AuthSettings{TenantID: tenant, ClientID: client, Certificate: certPEM}, "*azidentity.ClientCertificateCredential", nil},
		{"certificate file", AuthSettings{Method: AuthCertificate, TenantID: tenant, ClientID: client, CertificatePath: certPath}, "*azidentity.ClientCertificateCredential", nil},
		{"certificate garbage", AuthSettings{TenantID: tenant, ClientID: client, Certificate: []byte("not a cert")}, "", ErrAuthSettings},
		{"certificate missing", AuthSettings{Method: AuthCertificate, TenantID: tenant, ClientID: client}, "", ErrAuthSettings},
		{"managed identity system-assigned", AuthSettings{}, "*azidentity.ManagedIdentityCredential", nil},
		{"managed identity user-assigned", AuthSettings{Method: AuthManagedIdentity, ClientID: client}, "*azidentity.ManagedIdentityCredential", nil},
		{"workload identity", AuthSettings{Method: AuthWorkloadIdentity, TenantID: tenant, ClientID: client, TokenFilePath: certPath}, "*azidentity.WorkloadIdentityCredential", nil},
		{"unknown method", AuthSettings{Method: "kerberos"}, "", ErrAuthSettings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCredential(tt.s)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secret) {
					t.Error("error leaks the secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", c); got != tt.wantType {
				t.Errorf("credential %s, want %s", got, tt.wantType)
			}
		})
	}
}

// TestNewCredentialAuthorityHost checks that AuthorityHost reaches the Entra
// credentials (azidentity refuses a non-https authority when building
// them) and that leaving it empty keeps azidentity's default authority.
func TestNewCredentialAuthorityHost(t *testing.T) {
	certPEM := selfSignedPEM(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("federated"), 0o600); err != nil {
		t.Fatal(err)
	}
	const tenant, client = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
	methods := []AuthSettings{
		{Method: AuthClientSecret, TenantID: tenant, ClientID: client, ClientSecret: "s3cr3t-value"},
		{Method: AuthCertificate, TenantID: tenant, ClientID: client, Certificate: certPEM},
		{Method: AuthWorkloadIdentity, TenantID: tenant, ClientID: client, TokenFilePath: tokenFile},
	}
	tests := []struct {
		name    string
		host    string
		wantErr bool
	}{
		{"default authority", "", false},
		{"https authority", "https://login.example.test/", false},
		{"plain http authority is refused", "http://login.example.test/", true},
	}
	for _, s := range methods {
		for _, tt := range tests {
			t.Run(string(s.Method)+"/"+tt.name, func(t *testing.T) {
				t.Setenv("AZURE_AUTHORITY_HOST", "") // the default must come from azidentity, not the environment
				s.AuthorityHost, s.DisableInstanceDiscovery = tt.host, tt.host != ""
				_, err := NewCredential(s)
				if (err != nil) != tt.wantErr {
					t.Fatalf("err = %v, want error %v", err, tt.wantErr)
				}
				if err != nil && !strings.Contains(err.Error(), "https") {
					t.Errorf("err = %v, want the https refusal", err)
				}
			})
		}
	}
}
