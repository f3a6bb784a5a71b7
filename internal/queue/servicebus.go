package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// SBSender is the part of *azservicebus.Sender that ServiceBusSender uses;
// tests put a fake behind it since no Service Bus runs locally.
type SBSender interface {
	SendMessage(ctx context.Context, message *azservicebus.Message, options *azservicebus.SendMessageOptions) error
}

var _ SBSender = (*azservicebus.Sender)(nil)

// ServiceBusStandardMaxBodyBytes leaves room under the 256 KiB Standard-tier
// message limit, which counts system and application properties too.
const ServiceBusStandardMaxBodyBytes = 256*1024 - 8*1024

// ServiceBusOptions configures a ServiceBusSender. Zero values use defaults.
type ServiceBusOptions struct {
	// MaxBodyBytes overrides ServiceBusStandardMaxBodyBytes (e.g. Premium).
	MaxBodyBytes int
	// ApplicationProperties are set on every message (e.g. a schema version).
	ApplicationProperties map[string]any
}

// ServiceBusSender sends JSON bodies to one Service Bus queue or topic.
// Each message's MessageID is derived from its body, so a body re-sent after
// a crash (the poller enqueues before it checkpoints) carries the same ID and
// duplicate detection on the entity can drop it.
type ServiceBusSender struct {
	s     SBSender
	max   int
	props map[string]any
}

// NewServiceBusSender wraps s (usually an *azservicebus.Sender).
func NewServiceBusSender(s SBSender, o *ServiceBusOptions) (*ServiceBusSender, error) {
	if s == nil {
		return nil, errors.New("queue: nil Service Bus sender")
	}
	sb := &ServiceBusSender{s: s, max: ServiceBusStandardMaxBodyBytes}
	if o != nil {
		if o.MaxBodyBytes > 0 {
			sb.max = o.MaxBodyBytes
		}
		sb.props = o.ApplicationProperties
	}
	return sb, nil
}

// MaxBodyBytes is the largest body Send accepts.
func (s *ServiceBusSender) MaxBodyBytes() int { return s.max }

// Send sends body as an application/json message.
func (s *ServiceBusSender) Send(ctx context.Context, body []byte) error {
	return s.SendAfter(ctx, body, 0)
}

// SendAfter schedules body for delivery no sooner than delay from now.
func (s *ServiceBusSender) SendAfter(ctx context.Context, body []byte, delay time.Duration) error {
	if len(body) > s.max {
		return &TooLargeError{Size: len(body), Max: s.max}
	}
	id := MessageID(body)
	m := &azservicebus.Message{
		Body:        body,
		MessageID:   &id,
		ContentType: to.Ptr("application/json"),
	}
	if len(s.props) > 0 {
		m.ApplicationProperties = make(map[string]any, len(s.props))
		for k, v := range s.props {
			m.ApplicationProperties[k] = v
		}
	}
	if delay > 0 {
		m.ScheduledEnqueueTime = to.Ptr(time.Now().Add(delay).UTC())
	}
	if err := s.s.SendMessage(ctx, m, nil); err != nil {
		return fmt.Errorf("queue: sending Service Bus message %s: %w", id, err)
	}
	return nil
}

// MessageID is the dedupe id of a body: the first 128 bits of its SHA-256,
// in hex (Service Bus allows up to 128 characters).
func MessageID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:16])
}
