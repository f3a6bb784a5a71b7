package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// fakeSB records what would have gone to Service Bus.
type fakeSB struct {
	sent []*azservicebus.Message
	err  error
}

func (f *fakeSB) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

func TestServiceBusSender(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		opts      *ServiceBusOptions
		body      []byte
		delay     time.Duration
		wantErr   error
		wantProps map[string]any
	}{
		{name: "json body", body: []byte(`{"v":1}`)},
		{name: "at the standard limit", body: make([]byte, ServiceBusStandardMaxBodyBytes)},
		{name: "over the standard limit", body: make([]byte, ServiceBusStandardMaxBodyBytes+1), wantErr: ErrTooLarge},
		{name: "premium limit", opts: &ServiceBusOptions{MaxBodyBytes: 1 << 20}, body: make([]byte, 1<<20)},
		{name: "scheduled", body: []byte(`{"v":1,"retry":2}`), delay: 5 * time.Second},
		{name: "application properties", opts: &ServiceBusOptions{ApplicationProperties: map[string]any{"v": 1}},
			body: []byte(`{}`), wantProps: map[string]any{"v": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSB{}
			s, err := NewServiceBusSender(f, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			err = s.SendAfter(ctx, tt.body, tt.delay)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("SendAfter = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if len(f.sent) != 0 {
					t.Fatal("a rejected body was sent")
				}
				return
			}
			if len(f.sent) != 1 {
				t.Fatalf("sent %d messages", len(f.sent))
			}
			m := f.sent[0]
			if string(m.Body) != string(tt.body) {
				t.Error("body changed on the way")
			}
			if m.ContentType == nil || *m.ContentType != "application/json" {
				t.Errorf("ContentType = %v", m.ContentType)
			}
			if m.MessageID == nil || *m.MessageID != MessageID(tt.body) || len(*m.MessageID) != 32 {
				t.Errorf("MessageID = %v, want %s", m.MessageID, MessageID(tt.body))
			}
			switch {
			case tt.delay == 0 && m.ScheduledEnqueueTime != nil:
				t.Errorf("unexpected ScheduledEnqueueTime %v", m.ScheduledEnqueueTime)
			case tt.delay > 0 && (m.ScheduledEnqueueTime == nil || m.ScheduledEnqueueTime.Before(before.Add(tt.delay))):
				t.Errorf("ScheduledEnqueueTime = %v, want >= %v", m.ScheduledEnqueueTime, before.Add(tt.delay))
			}
			if len(m.ApplicationProperties) != len(tt.wantProps) {
				t.Errorf("ApplicationProperties = %v, want %v", m.ApplicationProperties, tt.wantProps)
			}
			for k, v := range tt.wantProps {
				if m.ApplicationProperties[k] != v {
					t.Errorf("ApplicationProperties[%s] = %v, want %v", k, m.ApplicationProperties[k], v)
				}
			}
		})
	}
}

func TestServiceBusSenderDedupeID(t *testing.T) {
	f := &fakeSB{}
	s, err := NewServiceBusSender(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, b := range []string{`{"page":1}`, `{"page":1}`, `{"page":2}`} {
		if err := s.Send(ctx, []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	if *f.sent[0].MessageID != *f.sent[1].MessageID {
		t.Error("a re-sent body got a new MessageID; Service Bus could not drop the duplicate")
	}
	if *f.sent[0].MessageID == *f.sent[2].MessageID {
		t.Error("different bodies share a MessageID")
	}
}

func TestServiceBusSenderErrors(t *testing.T) {
	if _, err := NewServiceBusSender(nil, nil); err == nil {
		t.Fatal("NewServiceBusSender(nil) succeeded")
	}
	sbErr := &azservicebus.Error{Code: azservicebus.CodeConnectionLost}
	s, err := NewServiceBusSender(&fakeSB{err: sbErr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), []byte(`{}`))
	var got *azservicebus.Error
	if !errors.As(err, &got) || got.Code != azservicebus.CodeConnectionLost {
		t.Fatalf("Send = %v, want the *azservicebus.Error wrapped", err)
	}
	if !strings.Contains(err.Error(), MessageID([]byte(`{}`))) {
		t.Errorf("error %q does not name the message", err)
	}
}
