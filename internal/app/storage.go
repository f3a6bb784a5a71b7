package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/dataexport/dataexport/internal/settings"
)

// StorageSetting names the storage connection: the app setting holding a
// connection string, and the prefix of its identity-based form
// (StorageSetting + "__accountName" and so on), as the Functions host reads it.
const StorageSetting = "AzureWebJobsStorage"

// Suffixes of an identity-based connection's settings, the documented
// Functions form (<CONNECTION>__accountName, <CONNECTION>__credential, ...).
const (
	suffixAccountName          = "__accountName"
	suffixTableServiceURI      = "__tableServiceUri"
	suffixQueueServiceURI      = "__queueServiceUri"
	suffixBlobServiceURI       = "__blobServiceUri"
	suffixFullyQualifiedNS     = "__fullyQualifiedNamespace"
	suffixCredential           = "__credential"
	suffixClientID             = "__clientId"
	suffixManagedIdentityResID = "__managedIdentityResourceId"
)

// credentialManagedIdentity is the one <CONNECTION>__credential value the
// host documents for Azure Storage and Service Bus.
const credentialManagedIdentity = "managedidentity"

// StorageAuth is how the app signs in to its storage account.
type StorageAuth string

const (
	// StorageAuthConnectionString: AzureWebJobsStorage holds a connection
	// string (account key or SAS), or UseDevelopmentStorage=true.
	StorageAuthConnectionString StorageAuth = "connectionstring"
	// StorageAuthIdentity: AzureWebJobsStorage__accountName or the
	// __*ServiceUri settings, with an Entra ID token credential.
	StorageAuthIdentity StorageAuth = "identity"
)

// IdentityConfig is the credential of an identity-based connection, from
// <CONNECTION>__credential, __clientId and __managedIdentityResourceId.
type IdentityConfig struct {
	// ManagedIdentity is set by __credential=managedidentity or by a client
	// or resource id: the credential is a ManagedIdentityCredential.
	// Otherwise it is DefaultAzureCredential (a developer's az login, say).
	ManagedIdentity bool
	// ClientID or ResourceID selects a user-assigned identity; both empty
	// means the system-assigned one.
	ClientID   string
	ResourceID string
}

// Credential returns the token credential the settings describe. Creating it
// does not touch the network.
func (c IdentityConfig) Credential() (azcore.TokenCredential, error) {
	if !c.ManagedIdentity {
		return azidentity.NewDefaultAzureCredential(nil)
	}
	var o azidentity.ManagedIdentityCredentialOptions
	switch {
	case c.ClientID != "":
		o.ID = azidentity.ClientID(c.ClientID)
	case c.ResourceID != "":
		o.ID = azidentity.ResourceID(c.ResourceID)
	}
	return azidentity.NewManagedIdentityCredential(&o)
}

// StorageConfig says where the app's storage account is and how to sign in.
// ConnectionString is a secret: String and LogValue leave it out.
type StorageConfig struct {
	Auth StorageAuth
	// ConnectionString is set when Auth is StorageAuthConnectionString.
	ConnectionString string
	// The service URLs and Identity are set when Auth is StorageAuthIdentity.
	TableURL, QueueURL, BlobURL string
	Identity                    IdentityConfig
}

// String describes the configuration without the connection string.
func (c StorageConfig) String() string {
	if c.Auth == StorageAuthConnectionString {
		return "storage: connection string"
	}
	return fmt.Sprintf("storage: identity (managed identity %t), tables %s, queues %s, blobs %s", c.Identity.ManagedIdentity, c.TableURL, c.QueueURL, c.BlobURL)
}

// LogValue keeps the connection string out of structured logs.
func (c StorageConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

var (
	accountNameRe = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	guidRe        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// ResolveStorage reads the storage connection named name (normally
// StorageSetting) the way the Functions host does: a connection string in
// <name> wins; otherwise the identity-based form, where each service URL is
// <name>__tableServiceUri (queue, blob likewise) or, failing that,
// https://<account>.<service>.core.windows.net from <name>__accountName.
// Every error names the setting at fault and never quotes a secret.
func ResolveStorage(s *settings.Settings, name string) (StorageConfig, error) {
	if cs := strings.TrimSpace(s.Get(name)); cs != "" {
		return StorageConfig{Auth: StorageAuthConnectionString, ConnectionString: StorageConnection(cs)}, nil
	}
	account := strings.TrimSpace(s.Get(name + suffixAccountName))
	explicit := map[string]string{}
	for _, suf := range []string{suffixTableServiceURI, suffixQueueServiceURI, suffixBlobServiceURI} {
		if v := strings.TrimSpace(s.Get(name + suf)); v != "" {
			explicit[suf] = v
		}
	}
	if account == "" && len(explicit) == 0 {
		return StorageConfig{}, fmt.Errorf("app setting %s is not set, nor %s%s (identity-based connection)", name, name, suffixAccountName)
	}
	if account != "" && !accountNameRe.MatchString(account) {
		return StorageConfig{}, fmt.Errorf("app setting %s%s: %q is not a storage account name (3-24 lowercase letters and digits)", name, suffixAccountName, account)
	}
	var errs []error
	serviceURL := func(suf, service string) string {
		if v, ok := explicit[suf]; ok {
			u, err := checkServiceURL(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("app setting %s%s: %w", name, suf, err))
			}
			return u
		}
		if account == "" {
			errs = append(errs, fmt.Errorf("app setting %s%s is not set, nor %s%s to derive it from", name, suf, name, suffixAccountName))
			return ""
		}
		return "https://" + account + "." + service + ".core.windows.net"
	}
	c := StorageConfig{
		Auth:     StorageAuthIdentity,
		TableURL: serviceURL(suffixTableServiceURI, "table"),
		QueueURL: serviceURL(suffixQueueServiceURI, "queue"),
		BlobURL:  serviceURL(suffixBlobServiceURI, "blob"),
	}
	id, err := resolveIdentity(s, name)
	if err != nil {
		errs = append(errs, err)
	}
	c.Identity = id
	if err := errors.Join(errs...); err != nil {
		return StorageConfig{}, err
	}
	return c, nil
}

// checkServiceURL accepts an absolute http(s) URL with a host and no query,
// user info or fragment (a SAS token belongs in a connection string, not
// here). The value is not quoted in the error.
func checkServiceURL(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", errors.New("not an absolute http(s) URL")
	}
	if u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return "", errors.New("a service URL takes no query string, user info or fragment")
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// resolveIdentity reads <name>__credential, __clientId and
// __managedIdentityResourceId.
func resolveIdentity(s *settings.Settings, name string) (IdentityConfig, error) {
	cred := strings.TrimSpace(s.Get(name + suffixCredential))
	id := IdentityConfig{
		ClientID:   strings.TrimSpace(s.Get(name + suffixClientID)),
		ResourceID: strings.TrimSpace(s.Get(name + suffixManagedIdentityResID)),
	}
	var errs []error
	if cred != "" && !strings.EqualFold(cred, credentialManagedIdentity) {
		errs = append(errs, fmt.Errorf("app setting %s%s: %q is not supported (only %s, or unset for DefaultAzureCredential)", name, suffixCredential, cred, credentialManagedIdentity))
	}
	if id.ClientID != "" && !guidRe.MatchString(id.ClientID) {
		errs = append(errs, fmt.Errorf("app setting %s%s: %q is not a client id (a GUID)", name, suffixClientID, id.ClientID))
	}
	if id.ResourceID != "" && !strings.HasPrefix(strings.ToLower(id.ResourceID), "/subscriptions/") {
		errs = append(errs, fmt.Errorf("app setting %s%s: not an Azure resource id (/subscriptions/...)", name, suffixManagedIdentityResID))
	}
	if id.ClientID != "" && id.ResourceID != "" {
		errs = append(errs, fmt.Errorf("app settings %s%s and %s%s: set one, not both", name, suffixClientID, name, suffixManagedIdentityResID))
	}
	id.ManagedIdentity = cred != "" || id.ClientID != "" || id.ResourceID != ""
	return id, errors.Join(errs...)
}

// StorageClients are the three service clients of the app's storage account.
type StorageClients struct {
	Tables *aztables.ServiceClient
	Queues *azqueue.ServiceClient
	Blobs  *azblob.Client
}

// Clients builds the service clients (no network). The identity form signs
// in with c.Identity's credential.
func (c StorageConfig) Clients() (*StorageClients, error) {
	var (
		out StorageClients
		err error
	)
	switch c.Auth {
	case StorageAuthConnectionString:
		// The SDKs' parse errors are fixed texts; they never quote the string.
		if out.Tables, err = aztables.NewServiceClientFromConnectionString(c.ConnectionString, nil); err != nil {
			return nil, fmt.Errorf("app setting %s (tables): %w", StorageSetting, err)
		}
		if out.Queues, err = azqueue.NewServiceClientFromConnectionString(c.ConnectionString, nil); err != nil {
			return nil, fmt.Errorf("app setting %s (queues): %w", StorageSetting, err)
		}
		if out.Blobs, err = azblob.NewClientFromConnectionString(c.ConnectionString, nil); err != nil {
			return nil, fmt.Errorf("app setting %s (blobs): %w", StorageSetting, err)
		}
	case StorageAuthIdentity:
		cred, err := c.Identity.Credential()
		if err != nil {
			return nil, fmt.Errorf("storage credential (%s%s): %w", StorageSetting, suffixCredential, err)
		}
		if out.Tables, err = aztables.NewServiceClient(c.TableURL, cred, nil); err != nil {
			return nil, fmt.Errorf("table service %s: %w", c.TableURL, err)
		}
		if out.Queues, err = azqueue.NewServiceClient(c.QueueURL, cred, nil); err != nil {
			return nil, fmt.Errorf("queue service %s: %w", c.QueueURL, err)
		}
		if out.Blobs, err = azblob.NewClient(c.BlobURL, cred, nil); err != nil {
			return nil, fmt.Errorf("blob service %s: %w", c.BlobURL, err)
		}
	default:
		return nil, fmt.Errorf("storage: unknown auth mode %q", c.Auth)
	}
	return &out, nil
}
