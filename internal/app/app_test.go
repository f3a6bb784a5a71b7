package app

import (
	"strings"
	"testing"

	"github.com/dataexport/dataexport/internal/queue"
	"github.com/dataexport/dataexport/internal/settings"
)

func TestRecordsSender(t *testing.T) {
	const secret = "SharedAccessKey=s3cr3t-value"
	tests := []struct {
		name     string
		settings map[string]string
		want     string // error text; "" = storage queue
	}{
		{"default is the storage queue", map[string]string{}, ""},
		{"unknown transport", map[string]string{"QUEUE_TRANSPORT": "kafka"}, `QUEUE_TRANSPORT: "kafka" is not storage or servicebus`},
		{"service bus without a connection", map[string]string{"QUEUE_TRANSPORT": "servicebus"}, "needs ServiceBusConnection"},
		{"bad service bus connection string", map[string]string{"QUEUE_TRANSPORT": "servicebus", "ServiceBusConnection": "Endpoint=nonsense;" + secret}, "app setting ServiceBusConnection"},
	}
	storage := &queue.StorageQueue{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := recordsSender(t.Context(), settings.FromMap(tt.settings), storage)
			if tt.want == "" {
				if err != nil || got != storage {
					t.Fatalf("got %v, %v; want the storage queue", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("the error leaks the secret: %v", err)
			}
		})
	}
}

func TestStorageConnection(t *testing.T) {
	for _, in := range []string{"UseDevelopmentStorage=true", "usedevelopmentstorage=true;", " UseDevelopmentStorage=true "} {
		if got := StorageConnection(in); got != AzuriteConnection {
			t.Errorf("%q: got %q", in, got)
		}
	}
	if got := StorageConnection("DefaultEndpointsProtocol=https;AccountName=x"); got != "DefaultEndpointsProtocol=https;AccountName=x" {
		t.Errorf("a real connection string was changed: %q", got)
	}
}
