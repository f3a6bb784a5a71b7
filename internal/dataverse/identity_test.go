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
