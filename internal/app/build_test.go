package app

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/dataexport/dataexport/internal/azuritetest"
	"github.com/dataexport/dataexport/internal/settings"
	"github.com/dataexport/dataexport/internal/state"
)

// TestBuildTransport builds the app on live Azurite: the Storage queue is
// opened (and created) only when it is the transport.
func TestBuildTransport(t *testing.T) {
	svcTables, svcQueues := azuriteServices(t)
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

// TestCloseWritesCountersAndMetrics: what the applier adds goes through the
// metrics recorder to the batched counters; App.Close writes both, the
// counters row and the minute in progress.
func TestCloseWritesCountersAndMetrics(t *testing.T) {
	svcTables, svcQueues := azuriteServices(t)
	id := azuritetest.UniqueName("")
	values := map[string]string{
		"AzureWebJobsStorage":  "UseDevelopmentStorage=true",
		"DATAVERSE_URL":        "http://127.0.0.1:7070",
		"DATAVERSE_TOKEN":      "test-token",
		"RECORDS_QUEUE":        "apptest-" + id,
		"STATE_PROFILES_TABLE": "apptestp" + id,
		"STATE_ENTITIES_TABLE": "appteste" + id,
		"STATE_METRICS_TABLE":  "apptestm" + id,
		"HOST_JSON":            "../../host.json",
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, n := range []string{"STATE_PROFILES_TABLE", "STATE_ENTITIES_TABLE", "STATE_METRICS_TABLE"} {
			_, _ = svcTables.DeleteTable(ctx, values[n], nil)
		}
		_, _ = svcQueues.DeleteQueue(ctx, values["RECORDS_QUEUE"], nil)
		_, _ = svcQueues.DeleteQueue(ctx, values["RECORDS_QUEUE"]+"-poison", nil)
	})
	a, err := Build(t.Context(), settings.FromMap(values), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for range 50 {
		if err := a.Recorder.AddCounters(ctx, "crm", "account", state.Counters{Succeeded: 2, Deleted: 1}); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	c, err := a.Store.GetCounters(ctx, "crm", "account")
	if err != nil {
		t.Fatal(err)
	}
	if c.Succeeded != 100 || c.Deleted != 50 {
		t.Errorf("counters after Close: %+v, want 100 succeeded, 50 deleted", c)
	}
	pts, err := a.Metrics.Series(ctx, "crm", "account", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var applied, deleted int64
	for _, p := range pts {
		applied, deleted = applied+p.Applied, deleted+p.Deleted
	}
	if applied != 100 || deleted != 50 {
		t.Errorf("metrics after Close: %d applied, %d deleted, want 100 and 50 (%+v)", applied, deleted, pts)
	}
}

// azuriteServices are the table and queue services of the live Azurite.
func azuriteServices(t *testing.T) (*aztables.ServiceClient, *azqueue.ServiceClient) {
	t.Helper()
	if err := azuritetest.Ensure(); err != nil {
		t.Fatalf("azurite: %v", err)
	}
	tables, err := aztables.NewServiceClientFromConnectionString(AzuriteConnection, nil)
	if err != nil {
		t.Fatal(err)
	}
	queues, err := azqueue.NewServiceClientFromConnectionString(AzuriteConnection, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tables, queues
}
