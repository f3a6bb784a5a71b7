package dataverse

import (
	"errors"
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// AuthMethod names how the service authenticates to Dataverse.
type AuthMethod string

const (
	AuthClientSecret     AuthMethod = "clientsecret"
	AuthCertificate      AuthMethod = "certificate"
	AuthManagedIdentity  AuthMethod = "managedidentity"
	AuthWorkloadIdentity AuthMethod = "workloadidentity"
	AuthStaticToken      AuthMethod = "static" // a fixed bearer token: the emulator, tests
	AuthDefault          AuthMethod = "default"
)

// AuthSettings selects and configures a credential for an application user
// (server-to-server; scope "<org>/.default" is asked for by the Client).
// Method "" is inferred: Token, then ClientSecret, then a certificate, else
// managed identity.
type AuthSettings struct {
	Method   AuthMethod
	TenantID string
	ClientID string // app registration, or a user-assigned managed identity
	// ClientSecret for AuthClientSecret.
	ClientSecret string
	// Certificate (PEM or PKCS#12 bytes) or CertificatePath for AuthCertificate,
	// with the key; CertificatePassword for encrypted PKCS#12.
	Certificate         []byte
	CertificatePath     string
	CertificatePassword string
	// TokenFilePath is the federated token file for AuthWorkloadIdentity;
	// "" = AZURE_FEDERATED_TOKEN_FILE.
	TokenFilePath string
	// Token is the fixed bearer token of AuthStaticToken.
	Token string

	// AuthorityHost is the Microsoft Entra authority of the client secret,
	// certificate, workload identity and default credentials (a sovereign
	// cloud, or the emulator's token endpoint); "" = AZURE_AUTHORITY_HOST,
	// else the Azure public cloud.
	AuthorityHost string
	// DisableInstanceDiscovery skips Entra instance discovery, needed for
	// authorities Entra does not know (Azure Stack, the emulator).
	DisableInstanceDiscovery bool
	// Transport sends the token requests; nil = azcore's default.
	Transport policy.Transporter
}

// clientOptions are the azcore options of the Entra credentials; the zero
// settings give the zero options, i.e. azidentity's defaults.
func (s AuthSettings) clientOptions() azcore.ClientOptions {
	o := azcore.ClientOptions{Transport: s.Transport}
	if s.AuthorityHost != "" {
		o.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: s.AuthorityHost}
	}
	return o
}

// ErrAuthSettings reports incomplete or contradictory settings.
var ErrAuthSettings = errors.New("dataverse: invalid auth settings")

func (s AuthSettings) method() AuthMethod {
	switch {
	case s.Method != "":
		return s.Method
	case s.Token != "":
		return AuthStaticToken
	case s.ClientSecret != "":
		return AuthClientSecret
	case len(s.Certificate) > 0 || s.CertificatePath != "":
		return AuthCertificate
	}
	return AuthManagedIdentity
}

// NewCredential builds the credential the settings describe. Errors name the
// missing setting, never a secret's value.
func NewCredential(s AuthSettings) (azcore.TokenCredential, error) {
	need := func(m AuthMethod, fields map[string]string) error {
		for name, v := range fields {
			if v == "" {
				return fmt.Errorf("%w: %s needs %s", ErrAuthSettings, m, name)
			}
		}
		return nil
	}
	switch m := s.method(); m {
	case AuthStaticToken:
		if s.Token == "" {
			return nil, fmt.Errorf("%w: static needs Token", ErrAuthSettings)
		}
		return StaticToken(s.Token), nil
	case AuthClientSecret:
		if err := need(m, map[string]string{"TenantID": s.TenantID, "ClientID": s.ClientID, "ClientSecret": s.ClientSecret}); err != nil {
			return nil, err
		}
		c, err := azidentity.NewClientSecretCredential(s.TenantID, s.ClientID, s.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: s.clientOptions(), DisableInstanceDiscovery: s.DisableInstanceDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("dataverse: client secret credential: %w", err)
		}
		return c, nil
	case AuthCertificate:
		if err := need(m, map[string]string{"TenantID": s.TenantID, "ClientID": s.ClientID}); err != nil {
			return nil, err
		}
		data := s.Certificate
		if len(data) == 0 {
			if s.CertificatePath == "" {
				return nil, fmt.Errorf("%w: certificate needs Certificate or CertificatePath", ErrAuthSettings)
			}
			var err error
			if data, err = os.ReadFile(s.CertificatePath); err != nil {
				return nil, fmt.Errorf("dataverse: read certificate: %w", err)
			}
		}
		var pw []byte
		if s.CertificatePassword != "" {
			pw = []byte(s.CertificatePassword)
		}
		certs, key, err := azidentity.ParseCertificates(data, pw)
		if err != nil {
			// The parse error describes the format, not the key material.
			return nil, fmt.Errorf("%w: certificate: %v", ErrAuthSettings, err)
		}
		c, err := azidentity.NewClientCertificateCredential(s.TenantID, s.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: s.clientOptions(), DisableInstanceDiscovery: s.DisableInstanceDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("dataverse: certificate credential: %w", err)
		}
		return c, nil
	case AuthManagedIdentity:
		var o azidentity.ManagedIdentityCredentialOptions
		if s.ClientID != "" {
			o.ID = azidentity.ClientID(s.ClientID) // user-assigned
		}
		c, err := azidentity.NewManagedIdentityCredential(&o)
		if err != nil {
			return nil, fmt.Errorf("dataverse: managed identity credential: %w", err)
		}
		return c, nil
	case AuthWorkloadIdentity:
		c, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			TenantID: s.TenantID, ClientID: s.ClientID, TokenFilePath: s.TokenFilePath,
			ClientOptions: s.clientOptions(), DisableInstanceDiscovery: s.DisableInstanceDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("dataverse: workload identity credential: %w", err)
		}
		return c, nil
	case AuthDefault:
		c, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			TenantID: s.TenantID, ClientOptions: s.clientOptions(), DisableInstanceDiscovery: s.DisableInstanceDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("dataverse: default credential: %w", err)
		}
		return c, nil
	default:
		return nil, fmt.Errorf("%w: unknown method %q", ErrAuthSettings, m)
	}
}
