package app

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"

	"github.com/dataexport/dataexport/internal/settings"
)

// Transport is the queue between poller and applier (QUEUE_TRANSPORT).
type Transport string

const (
	// TransportStorage is a Storage queue on AzureWebJobsStorage, read by
	// the RecordApplierQueue function: the default, and the only one that
	// runs locally (Azurite, the standalone host).
	TransportStorage Transport = "storage"
	// TransportServiceBus is a Service Bus queue, read by the RecordApplier
	// function: what infra/main.bicep deploys.
	TransportServiceBus Transport = "servicebus"
)

// ServiceBusSetting names the Service Bus connection: the app setting with a
// connection string, and the prefix of its identity-based form. It is the
// `connection` of functions/RecordApplier/function.json.
const ServiceBusSetting = "ServiceBusConnection"

// queueTransport reads QUEUE_TRANSPORT.
func queueTransport(s *settings.Settings) (Transport, error) {
	switch t := Transport(s.Or("QUEUE_TRANSPORT", string(TransportStorage))); t {
	case TransportStorage, TransportServiceBus:
		return t, nil
	default:
		return "", fmt.Errorf("app setting QUEUE_TRANSPORT: %q is not storage or servicebus", t)
	}
}

// ServiceBusConfig is how the poller reaches Service Bus. ConnectionString
// is a secret and wins over Namespace when both are set.
type ServiceBusConfig struct {
	ConnectionString string
	// Namespace is the fully qualified namespace
	// (<name>.servicebus.windows.net), used with Identity.
	Namespace string
	Identity  IdentityConfig
}

// resolveServiceBus reads ServiceBusConnection, or the identity-based
// ServiceBusConnection__fullyQualifiedNamespace (+ __credential, __clientId,
// __managedIdentityResourceId), as the Service Bus trigger does.
func resolveServiceBus(s *settings.Settings) (ServiceBusConfig, error) {
	if cs := strings.TrimSpace(s.Get(ServiceBusSetting)); cs != "" {
		return ServiceBusConfig{ConnectionString: cs}, nil
	}
	ns := strings.TrimSpace(s.Get(ServiceBusSetting + suffixFullyQualifiedNS))
	if ns == "" {
		return ServiceBusConfig{}, fmt.Errorf("QUEUE_TRANSPORT=servicebus needs %s or %s%s", ServiceBusSetting, ServiceBusSetting, suffixFullyQualifiedNS)
	}
	if strings.ContainsAny(ns, "/:;@ ") || !strings.Contains(ns, ".") {
		return ServiceBusConfig{}, fmt.Errorf("app setting %s%s: %q is not a host name like <namespace>.servicebus.windows.net", ServiceBusSetting, suffixFullyQualifiedNS, ns)
	}
	id, err := resolveIdentity(s, ServiceBusSetting)
	if err != nil {
		return ServiceBusConfig{}, err
	}
	return ServiceBusConfig{Namespace: ns, Identity: id}, nil
}

// client builds the Service Bus client (no network).
func (c ServiceBusConfig) client() (*azservicebus.Client, error) {
	if c.ConnectionString != "" {
		client, err := azservicebus.NewClientFromConnectionString(c.ConnectionString, nil)
		if err != nil {
			// The SDK's parse errors can quote the connection string; keep only the setting's name.
			return nil, fmt.Errorf("app setting %s: cannot create a Service Bus client from the connection string", ServiceBusSetting)
		}
		return client, nil
	}
	cred, err := c.Identity.Credential()
	if err != nil {
		return nil, fmt.Errorf("Service Bus credential (%s%s): %w", ServiceBusSetting, suffixCredential, err)
	}
	client, err := azservicebus.NewClient(c.Namespace, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("app setting %s%s: %w", ServiceBusSetting, suffixFullyQualifiedNS, err)
	}
	return client, nil
}

// config is what Build reads from app settings before it opens anything.
type config struct {
	storage    StorageConfig
	transport  Transport
	serviceBus ServiceBusConfig // transport == TransportServiceBus
	queueName  string
	// localDevelopment (LOCAL_DEVELOPMENT=true) accepts plain connection
	// strings in profiles and Key Vault doubles on loopback addresses.
	localDevelopment bool
}

// loadConfig validates the settings Build needs, all at once: the error
// joins one line per problem, each naming its setting.
func loadConfig(s *settings.Settings) (config, error) {
	var (
		c    config
		err  error
		errs []error
	)
	if c.storage, err = ResolveStorage(s, StorageSetting); err != nil {
		errs = append(errs, err)
	}
	if c.transport, err = queueTransport(s); err != nil {
		errs = append(errs, err)
	}
	if c.transport == TransportServiceBus {
		if c.serviceBus, err = resolveServiceBus(s); err != nil {
			errs = append(errs, err)
		}
	}
	c.queueName = s.Or("RECORDS_QUEUE", "records")
	if v := s.Get("LOCAL_DEVELOPMENT"); v != "" {
		if c.localDevelopment, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("app setting LOCAL_DEVELOPMENT: %q is not true or false", v))
		}
	}
	if s.Get("DATAVERSE_URL") == "" {
		errs = append(errs, errors.New("app setting DATAVERSE_URL is not set"))
	}
	return c, errors.Join(errs...)
}

// CheckSettings reports every problem in the app settings Build reads up
// front (storage connection, queue transport and Service Bus connection,
// DATAVERSE_URL), without touching the network. Build makes the same checks.
func CheckSettings(s *settings.Settings) error {
	_, err := loadConfig(s)
	return err
}

// SettingNames lists every app setting the app reads (Build and what it
// calls in this package), for cross-checking the deployment (infra tests).
// TestSettingNamesMatchSource keeps it in step with the code.
func SettingNames() []string {
	names := []string{
		"QUEUE_TRANSPORT", "RECORDS_QUEUE",
		"STATE_PROFILES_TABLE", "STATE_ENTITIES_TABLE", "STATE_METRICS_TABLE", "FAILURES_CONTAINER_PREFIX", "FAILURES_RETENTION_DAYS",
		"WEBSITE_AUTH_ENABLED",
		"HOST_JSON",
		"DATAVERSE_URL", "DATAVERSE_AUTH", "DATAVERSE_TOKEN", "DATAVERSE_PAGE_SIZE", "DATAVERSE_REQUESTS_PER_SECOND",
		"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
		"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
		StorageSetting, ServiceBusSetting,
		"PROFILE_NAME", "PROFILE_ENTITIES", "PROFILE_SCHEMA", "PROFILE_PREFIX", "PROFILE_WRITE_DELETE_LOG",
		"DESTINATION_TYPE", "DESTINATION_KEY_VAULT_SECRET_URL", "DESTINATION_CONNECTION",
		"LOCAL_DEVELOPMENT",
		"ADMIN_API_KEY", "ADMIN_ENTRA_TENANT_ID", "ADMIN_ENTRA_AUDIENCE", "ADMIN_ENTRA_AUTHORITY",
	}
	for _, suf := range []string{suffixAccountName, suffixTableServiceURI, suffixQueueServiceURI, suffixBlobServiceURI, suffixCredential, suffixClientID, suffixManagedIdentityResID} {
		names = append(names, StorageSetting+suf)
	}
	for _, suf := range []string{suffixFullyQualifiedNS, suffixCredential, suffixClientID, suffixManagedIdentityResID} {
		names = append(names, ServiceBusSetting+suf)
	}
	return names
}
