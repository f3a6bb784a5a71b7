package app

import (
	"errors"
	"log/slog"
	"maps"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/settings"
)

// TestBuildTransport builds the app on live Azurite: the Storage queue is
// opened (and created) only when it is the transport.
func TestBuildTransport(t *testing.T) {
	if err := azuritetest.Ensure(); err != nil {
		t.Fatalf("azurite: %v", err)
	}
	svcQueues, err := azqueue.NewServiceClientFromConnectionString(AzuriteConnection, nil)
	if err != nil {
		t.Fatal(err)
	}
	svcTables, err := aztables.NewServiceClientFromConnectionString(AzuriteConnection, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		extra     map[string]string
		wantQueue bool
	}{
		{"storage transport (default)", nil, true},
		{"service bus transport", map[string]string{
			"QUEUE_TRANSPORT":      "servicebus",
			"ServiceBusConnection": "Endpoint=sb://127.0.0.1/;SharedAccessKeyName=test;SharedAccessKey=dGVzdA==",
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := azuritetest.UniqueName("")
			values := map[string]string{
				"AzureWebJobsStorage":  "UseDevelopmentStorage=true",
				"DATAVERSE_URL":        "http://127.0.0.1:7070",
				"DATAVERSE_TOKEN":      "test-token",
				"RECORDS_QUEUE":        "apptest-" + id,
				"STATE_PROFILES_TABLE": "apptestp" + id,
				"STATE_ENTITIES_TABLE": "appteste" + id,
				"HOST_JSON":            "../../host.json",
			}
			maps.Copy(values, tt.extra)
			t.Cleanup(func() {
				ctx := t.Context()
				_, _ = svcTables.DeleteTable(ctx, values["STATE_PROFILES_TABLE"], nil)
				_, _ = svcTables.DeleteTable(ctx, values["STATE_ENTITIES_TABLE"], nil)
				_, _ = svcQueues.DeleteQueue(ctx, values["RECORDS_QUEUE"], nil)
				_, _ = svcQueues.DeleteQueue(ctx, values["RECORDS_QUEUE"]+"-poison", nil)
			})
			a, err := Build(t.Context(), settings.FromMap(values), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if (a.Queue != nil) != tt.wantQueue {
				t.Errorf("App.Queue = %v, want a queue: %t", a.Queue, tt.wantQueue)
			}
			_, err = svcQueues.NewQueueClient(values["RECORDS_QUEUE"]).GetProperties(t.Context(), nil)
			var re *azcore.ResponseError
			exists := err == nil
			if err != nil && !(errors.As(err, &re) && re.StatusCode == 404) {
				t.Fatalf("queue properties: %v", err)
			}
			if exists != tt.wantQueue {
				t.Errorf("Storage queue %s exists: %t, want %t", values["RECORDS_QUEUE"], exists, tt.wantQueue)
			}
		})
	}
}
