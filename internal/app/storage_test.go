package app

import (
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/dataexport/dataexport/internal/settings"
)

func TestResolveStorage(t *testing.T) {
	const (
		key      = "DefaultEndpointsProtocol=https;AccountName=stdata;AccountKey=czNjcjN0LWtleQ==;EndpointSuffix=core.windows.net"
		clientID = "0b7a2c1e-1f2d-4c3b-9a8e-7d6c5b4a3f21"
		resID    = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app"
	)
	type want struct {
		auth                 StorageAuth
		conn                 string
		table, queue, blob   string
		managed              bool
		clientID, resourceID string
	}
	tests := []struct {
		name     string
		settings map[string]string
		want     want
		err      []string // each must appear in the error; nil = no error
	}{
		{
			name:     "connection string",
			settings: map[string]string{"AzureWebJobsStorage": key},
			want:     want{auth: StorageAuthConnectionString, conn: key},
		},
		{
			name:     "Azurite shorthand",
			settings: map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true"},
			want:     want{auth: StorageAuthConnectionString, conn: AzuriteConnection},
		},
		{
			name:     "a connection string wins over the identity form",
			settings: map[string]string{"AzureWebJobsStorage": key, "AzureWebJobsStorage__accountName": "other"},
			want:     want{auth: StorageAuthConnectionString, conn: key},
		},
		{
			name:     "account name only: DefaultAzureCredential, derived URLs",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata"},
			want: want{
				auth:  StorageAuthIdentity,
				table: "https://stdata.table.core.windows.net", queue: "https://stdata.queue.core.windows.net", blob: "https://stdata.blob.core.windows.net",
			},
		},
		{
			name:     "account name + credential=managedidentity (the Bicep's form): system-assigned",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__credential": "managedidentity"},
			want: want{
				auth:  StorageAuthIdentity,
				table: "https://stdata.table.core.windows.net", queue: "https://stdata.queue.core.windows.net", blob: "https://stdata.blob.core.windows.net",
				managed: true,
			},
		},
		{
			name: "user-assigned by client id",
			settings: map[string]string{
				"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__credential": "ManagedIdentity", "AzureWebJobsStorage__clientId": clientID,
			},
			want: want{
				auth:  StorageAuthIdentity,
				table: "https://stdata.table.core.windows.net", queue: "https://stdata.queue.core.windows.net", blob: "https://stdata.blob.core.windows.net",
				managed: true, clientID: clientID,
			},
		},
		{
			name:     "user-assigned by resource id, without __credential",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__managedIdentityResourceId": resID},
			want: want{
				auth:  StorageAuthIdentity,
				table: "https://stdata.table.core.windows.net", queue: "https://stdata.queue.core.windows.net", blob: "https://stdata.blob.core.windows.net",
				managed: true, resourceID: resID,
			},
		},
		{
			name: "explicit service URIs win over the account name",
			settings: map[string]string{
				"AzureWebJobsStorage__accountName":     "stdata",
				"AzureWebJobsStorage__tableServiceUri": "https://stdata.table.core.chinacloudapi.cn/",
				"AzureWebJobsStorage__blobServiceUri":  "https://stdata.blob.core.chinacloudapi.cn",
			},
			want: want{
				auth:  StorageAuthIdentity,
				table: "https://stdata.table.core.chinacloudapi.cn", queue: "https://stdata.queue.core.windows.net", blob: "https://stdata.blob.core.chinacloudapi.cn",
			},
		},
		{
			name: "all three service URIs, no account name",
			settings: map[string]string{
				"AzureWebJobsStorage__tableServiceUri": "http://127.0.0.1:10002/devstoreaccount1",
				"AzureWebJobsStorage__queueServiceUri": "http://127.0.0.1:10001/devstoreaccount1",
				"AzureWebJobsStorage__blobServiceUri":  "http://127.0.0.1:10000/devstoreaccount1",
			},
			want: want{
				auth:  StorageAuthIdentity,
				table: "http://127.0.0.1:10002/devstoreaccount1", queue: "http://127.0.0.1:10001/devstoreaccount1", blob: "http://127.0.0.1:10000/devstoreaccount1",
			},
		},
		{
			name:     "nothing set",
			settings: map[string]string{},
			err:      []string{"app setting AzureWebJobsStorage is not set", "AzureWebJobsStorage__accountName"},
		},
		{
			name:     "blank connection string and nothing else",
			settings: map[string]string{"AzureWebJobsStorage": "  "},
			err:      []string{"app setting AzureWebJobsStorage is not set"},
		},
		{
			name:     "bad account name",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "St_Data"},
			err:      []string{`AzureWebJobsStorage__accountName: "St_Data" is not a storage account name`},
		},
		{
			name: "service URIs without the table one (the host's blob+queue form)",
			settings: map[string]string{
				"AzureWebJobsStorage__queueServiceUri": "https://stdata.queue.core.windows.net",
				"AzureWebJobsStorage__blobServiceUri":  "https://stdata.blob.core.windows.net",
			},
			err: []string{"app setting AzureWebJobsStorage__tableServiceUri is not set"},
		},
		{
			name:     "a service URI that is not a URL",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__queueServiceUri": "stdata.queue.core.windows.net"},
			err:      []string{"app setting AzureWebJobsStorage__queueServiceUri: not an absolute http(s) URL"},
		},
		{
			name:     "a service URI with a SAS token",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__blobServiceUri": "https://stdata.blob.core.windows.net/?sv=2024&sig=s3cr3t"},
			err:      []string{"app setting AzureWebJobsStorage__blobServiceUri: a service URL takes no query string"},
		},
		{
			name:     "unsupported credential kind",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__credential": "clientsecret"},
			err:      []string{`app setting AzureWebJobsStorage__credential: "clientsecret" is not supported`},
		},
		{
			name:     "client id that is not a GUID",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__clientId": "my-identity"},
			err:      []string{`app setting AzureWebJobsStorage__clientId: "my-identity" is not a client id`},
		},
		{
			name:     "resource id that is not one",
			settings: map[string]string{"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__managedIdentityResourceId": "id-app"},
			err:      []string{"app setting AzureWebJobsStorage__managedIdentityResourceId: not an Azure resource id"},
		},
		{
			name: "client id and resource id together",
			settings: map[string]string{
				"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__clientId": clientID, "AzureWebJobsStorage__managedIdentityResourceId": resID,
			},
			err: []string{"AzureWebJobsStorage__clientId and AzureWebJobsStorage__managedIdentityResourceId: set one, not both"},
		},
		{
			name: "every problem is reported at once",
			settings: map[string]string{
				"AzureWebJobsStorage__tableServiceUri": "ftp://x", "AzureWebJobsStorage__credential": "certificate",
			},
			err: []string{"AzureWebJobsStorage__tableServiceUri: not an absolute", "AzureWebJobsStorage__queueServiceUri is not set", "AzureWebJobsStorage__blobServiceUri is not set", "AzureWebJobsStorage__credential"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveStorage(settings.FromMap(tt.settings), StorageSetting)
			if tt.err != nil {
				if err == nil {
					t.Fatalf("no error; got %v", got)
				}
				for _, w := range tt.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("the error leaks a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := want{
				auth: got.Auth, conn: got.ConnectionString, table: got.TableURL, queue: got.QueueURL, blob: got.BlobURL,
				managed: got.Identity.ManagedIdentity, clientID: got.Identity.ClientID, resourceID: got.Identity.ResourceID,
			}
			if g != tt.want {
				t.Errorf("got  %+v\nwant %+v", g, tt.want)
			}
			if got.ConnectionString != "" && strings.Contains(got.String(), got.ConnectionString) {
				t.Errorf("String() shows the connection string: %s", got)
			}
		})
	}
}

func TestStorageClients(t *testing.T) {
	t.Run("identity: clients on the service URLs, with a managed identity", func(t *testing.T) {
		cfg, err := ResolveStorage(settings.FromMap(map[string]string{
			"AzureWebJobsStorage__accountName": "stdata", "AzureWebJobsStorage__credential": "managedidentity",
		}), StorageSetting)
		if err != nil {
			t.Fatal(err)
		}
		cred, err := cfg.Identity.Credential()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := cred.(*azidentity.ManagedIdentityCredential); !ok {
			t.Errorf("credential is %T, want a ManagedIdentityCredential", cred)
		}
		c, err := cfg.Clients()
		if err != nil {
			t.Fatal(err)
		}
		if c.Tables == nil {
			t.Error("no table client")
		}
		if got := strings.TrimSuffix(c.Queues.URL(), "/"); got != "https://stdata.queue.core.windows.net" {
			t.Errorf("queue client URL %q", got)
		}
		if got := strings.TrimSuffix(c.Blobs.URL(), "/"); got != "https://stdata.blob.core.windows.net" {
			t.Errorf("blob client URL %q", got)
		}
	})
	t.Run("identity without __credential: DefaultAzureCredential", func(t *testing.T) {
		cred, err := IdentityConfig{}.Credential()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := cred.(*azidentity.DefaultAzureCredential); !ok {
			t.Errorf("credential is %T, want a DefaultAzureCredential", cred)
		}
	})
	t.Run("connection string: Azurite endpoints", func(t *testing.T) {
		cfg, err := ResolveStorage(settings.FromMap(map[string]string{"AzureWebJobsStorage": "UseDevelopmentStorage=true"}), StorageSetting)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cfg.Clients()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSuffix(c.Blobs.URL(), "/"); got != "http://127.0.0.1:10000/devstoreaccount1" {
			t.Errorf("blob client URL %q", got)
		}
	})
	t.Run("malformed connection string: named, not quoted", func(t *testing.T) {
		const bad = "AccountName=stdata;AccountKey=s3cr3t"
		cfg := StorageConfig{Auth: StorageAuthConnectionString, ConnectionString: bad}
		_, err := cfg.Clients()
		if err == nil || !strings.Contains(err.Error(), "app setting AzureWebJobsStorage") {
			t.Fatalf("error %v, want it to name AzureWebJobsStorage", err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("the error leaks the key: %v", err)
		}
	})
}
