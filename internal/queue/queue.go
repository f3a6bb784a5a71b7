// Package queue holds the message transports between the poller and the
// applier: an Azure Storage queue (Azurite locally, or the standalone host)
// and a Service Bus sender. It moves bytes; what they mean is internal/sync's
// business.
package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sender is what a producer needs from a transport.
type Sender interface {
	// Send returns once body is durably enqueued.
	Send(ctx context.Context, body []byte) error
	// SendAfter enqueues body so that it is delivered no sooner than delay
	// from now (retries wait in the queue, not in a sleeping function).
	SendAfter(ctx context.Context, body []byte, delay time.Duration) error
	// MaxBodyBytes is the largest body Send accepts; bigger payloads need a
	// claim check.
	MaxBodyBytes() int
}

// ErrTooLarge: the body is over the transport's MaxBodyBytes.
var ErrTooLarge = errors.New("queue: message body too large")

// TooLargeError says by how much; it matches ErrTooLarge with errors.Is.
type TooLargeError struct{ Size, Max int }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("queue: message body of %d bytes is over the limit of %d", e.Size, e.Max)
}

func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

var (
	_ Sender = (*StorageQueue)(nil)
	_ Sender = (*ServiceBusSender)(nil)
)
