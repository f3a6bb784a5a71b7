package app

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/settings"
)

func TestCheckSettings(t *testing.T) {
	// What infra/main.bicep sets with storageAuth='identity'.
	deployed := map[string]string{
		"AzureWebJobsStorage__accountName":              "stdata",
		"AzureWebJobsStorage__credential":               "managedidentity",
		"QUEUE_TRANSPORT":                               "servicebus",
		"ServiceBusConnection__fullyQualifiedNamespace": "sb-data.servicebus.windows.net",
		"ServiceBusConnection__credential":              "managedidentity",
		"RECORDS_QUEUE":                                 "records",
		"DATAVERSE_URL":                                 "https://contoso.crm.dynamics.com",
	}
	with := func(change map[string]string, drop ...string) map[string]string {
		m := maps.Clone(deployed)
		for _, k := range drop {
			delete(m, k)
		}
		maps.Copy(m, change)
		return m
	}
	tests := []struct {
		name     string
		settings map[string]string
		err      []string // nil: valid
	}{
		{"the deployed identity settings", deployed, nil},
		{"storage transport with a connection string (local)", map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true", "DATAVERSE_URL": "http://127.0.0.1:7070"}, nil},
		{"service bus by connection string", with(map[string]string{"ServiceBusConnection": "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=s3cr3t"}, "ServiceBusConnection__fullyQualifiedNamespace"), nil},
		{"no storage at all", with(nil, "AzureWebJobsStorage__accountName"), []string{"app setting AzureWebJobsStorage is not set"}},
		{"no transport: storage is fine too", with(nil, "QUEUE_TRANSPORT"), nil},
		{"unknown transport", with(map[string]string{"QUEUE_TRANSPORT": "kafka"}), []string{`app setting QUEUE_TRANSPORT: "kafka" is not storage or servicebus`}},
		{"service bus without a namespace", with(nil, "ServiceBusConnection__fullyQualifiedNamespace"), []string{"QUEUE_TRANSPORT=servicebus needs ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace"}},
		{"namespace given as a URL", with(map[string]string{"ServiceBusConnection__fullyQualifiedNamespace": "https://sb-data.servicebus.windows.net/"}), []string{"app setting ServiceBusConnection__fullyQualifiedNamespace"}},
		{"service bus credential not supported", with(map[string]string{"ServiceBusConnection__credential": "connectionstring"}), []string{`app setting ServiceBusConnection__credential: "connectionstring" is not supported`}},
		{"service bus client id not a GUID", with(map[string]string{"ServiceBusConnection__clientId": "app"}), []string{"app setting ServiceBusConnection__clientId"}},
		{"no Dataverse org", with(nil, "DATAVERSE_URL"), []string{"app setting DATAVERSE_URL is not set"}},
		{"local development not a boolean", with(map[string]string{"LOCAL_DEVELOPMENT": "yes please"}), []string{`app setting LOCAL_DEVELOPMENT: "yes please" is not true or false`}},
		{"several problems at once", with(map[string]string{"QUEUE_TRANSPORT": "servicebus"}, "DATAVERSE_URL", "AzureWebJobsStorage__accountName", "ServiceBusConnection__fullyQualifiedNamespace"),
			[]string{"AzureWebJobsStorage is not set", "needs ServiceBusConnection", "DATAVERSE_URL is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSettings(settings.FromMap(tt.settings))
			if tt.err == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.err {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error leaks a secret: %v", err)
			}
		})
	}
}

func TestServiceBusConfig(t *testing.T) {
	cfg, err := resolveServiceBus(settings.FromMap(map[string]string{
		"ServiceBusConnection__fullyQualifiedNamespace": "sb-data.servicebus.windows.net",
		"ServiceBusConnection__credential":              "managedidentity",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Namespace != "sb-data.servicebus.windows.net" || !cfg.Identity.ManagedIdentity || cfg.Identity.ClientID != "" {
		t.Errorf("got %+v, want the namespace with the system-assigned identity", cfg)
	}
	if _, err := cfg.client(); err != nil {
		t.Errorf("client: %v", err)
	}
}

// TestSettingNamesMatchSource keeps SettingNames (which the infra tests
// compare with main.bicep) in step with the settings this package reads by a
// literal name.
func TestSettingNamesMatchSource(t *testing.T) {
	read := regexp.MustCompile(`\bs\.(?:Get|Or)\("([^"]+)"`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	literal := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range read.FindAllStringSubmatch(string(b), -1) {
			literal[m[1]] = true
		}
	}
	if len(literal) < 10 {
		t.Fatalf("found only %d settings read by name; is the pattern stale?", len(literal))
	}
	names := SettingNames()
	for n := range literal {
		if !slices.Contains(names, n) {
			t.Errorf("the code reads %q, which SettingNames does not list", n)
		}
	}
	for _, n := range names {
		// The connection settings are read through their constant prefix.
		if !literal[n] && !strings.HasPrefix(n, StorageSetting) && !strings.HasPrefix(n, ServiceBusSetting) {
			t.Errorf("SettingNames lists %q, which the code does not read", n)
		}
	}
}

// The standalone API's credentials: refused when half set or too short,
// not enabled when absent.
func TestAPIAuthSettings(t *testing.T) {
	tests := []struct {
		settings map[string]string
		enabled  bool
		err      string
	}{
		{nil, false, ""},
		{map[string]string{"ADMIN_API_KEY": "0123456789abcdef"}, true, ""},
		{map[string]string{"ADMIN_API_KEY": "short"}, false, "ADMIN_API_KEY"},
		{map[string]string{"ADMIN_ENTRA_TENANT_ID": "8a5b2c3d-0000-4000-8000-00000000abcd"}, false, "ADMIN_ENTRA_AUDIENCE"},
		{map[string]string{"ADMIN_ENTRA_TENANT_ID": "t", "ADMIN_ENTRA_AUDIENCE": "api://x"}, true, ""},
	}
	for _, tt := range tests {
		a, err := APIAuth(settings.FromMap(tt.settings))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: %v, want an error naming %s", tt.settings, err, tt.err)
			}
			continue
		}
		if err != nil || a.Enabled() != tt.enabled {
			t.Errorf("%v: enabled %v, %v; want %v", tt.settings, a.Enabled(), err, tt.enabled)
		}
	}
}
