package queue

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"path"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"
)

// Message is a Storage queue message as received. Body is already decoded
// from base64.
type Message struct {
	ID, PopReceipt  string
	DequeueCount    int64
	InsertionTime   time.Time
	ExpirationTime  time.Time
	NextVisibleTime time.Time
	Body            []byte
}

// Storage queue limits.
const (
	// storageMaxMessageBytes is the service limit on one message's text.
	storageMaxMessageBytes = 64 * 1024
	// storageMaxBodyBytes is what fits once base64 turns 3 bytes into 4.
	storageMaxBodyBytes = storageMaxMessageBytes / 4 * 3
	// maxDequeueBatch is the service limit on messages per Get Messages call.
	maxDequeueBatch = 32
	// maxVisibility is the service limit on a visibility timeout.
	maxVisibility = 7 * 24 * time.Hour
	// DefaultMaxDequeueCount is the Functions host's default
	// (host.json extensions.queues.maxDequeueCount) before a message is
	// moved to the poison queue.
	DefaultMaxDequeueCount = 5
	// PoisonSuffix names the poison queue, as the Functions host does.
	PoisonSuffix = "-poison"
)

// ErrNoPoisonQueue: the StorageQueue was built without its poison sibling.
var ErrNoPoisonQueue = errors.New("queue: no poison queue configured (use OpenStorageQueue)")

// StorageQueue sends and receives base64-encoded messages on one Storage
// queue, the encoding the Functions queue trigger expects by default.
type StorageQueue struct {
	c      *azqueue.QueueClient
	poison *azqueue.QueueClient
	name   string
}

// NewStorageQueue wraps c, creating the queue if it is missing. A queue
// client alone cannot reach its <name>-poison sibling, so MoveToPoison on
// the result returns ErrNoPoisonQueue; OpenStorageQueue has both.
func NewStorageQueue(ctx context.Context, c *azqueue.QueueClient) (*StorageQueue, error) {
	if c == nil {
		return nil, errors.New("queue: nil queue client")
	}
	q := &StorageQueue{c: c, name: queueName(c.URL())}
	if err := create(ctx, c, q.name); err != nil {
		return nil, err
	}
	return q, nil
}

// OpenStorageQueue opens queue name and its poison queue <name>-poison on
// svc, creating both if they are missing.
func OpenStorageQueue(ctx context.Context, svc *azqueue.ServiceClient, name string) (*StorageQueue, error) {
	if svc == nil {
		return nil, errors.New("queue: nil queue service client")
	}
	q, err := NewStorageQueue(ctx, svc.NewQueueClient(name))
	if err != nil {
		return nil, err
	}
	q.name = name
	q.poison = svc.NewQueueClient(name + PoisonSuffix)
	if err := create(ctx, q.poison, name+PoisonSuffix); err != nil {
		return nil, err
	}
	return q, nil
}

func create(ctx context.Context, c *azqueue.QueueClient, name string) error {
	_, err := c.Create(ctx, nil)
	if err == nil || queueerror.HasCode(err, queueerror.QueueAlreadyExists) {
		return nil
	}
	return fmt.Errorf("queue: creating %q: %w", name, err)
}

// Name is the queue's name.
func (q *StorageQueue) Name() string { return q.name }

// MaxBodyBytes is 48 KiB: the 64 KiB message limit after base64.
func (q *StorageQueue) MaxBodyBytes() int { return storageMaxBodyBytes }

// Send enqueues body (base64-encoded) and returns once the service has
// stored it.
func (q *StorageQueue) Send(ctx context.Context, body []byte) error {
	return q.SendAfter(ctx, body, 0)
}

// SendAfter enqueues body invisible for delay (whole seconds, at most 7 days).
func (q *StorageQueue) SendAfter(ctx context.Context, body []byte, delay time.Duration) error {
	if len(body) > storageMaxBodyBytes {
		return &TooLargeError{Size: len(body), Max: storageMaxBodyBytes}
	}
	// No expiry: the default 7-day time-to-live would silently drop records
	// if the applier stayed down that long.
	opts := &azqueue.EnqueueMessageOptions{TimeToLive: to.Ptr(int32(-1))}
	if delay > 0 {
		opts.VisibilityTimeout = to.Ptr(seconds(delay))
	}
	if _, err := q.c.EnqueueMessage(ctx, base64.StdEncoding.EncodeToString(body), opts); err != nil {
		return fmt.Errorf("queue: sending to %q: %w", q.name, err)
	}
	return nil
}

// Receive takes up to n messages (1-32) and hides them for visibility;
// a message not deleted by then is delivered again with a higher
// DequeueCount. It returns an empty slice when the queue is empty.
func (q *StorageQueue) Receive(ctx context.Context, n int, visibility time.Duration) ([]Message, error) {
	n = min(max(n, 1), maxDequeueBatch)
	if visibility < time.Second {
		visibility = time.Second
	}
	resp, err := q.c.DequeueMessages(ctx, &azqueue.DequeueMessagesOptions{
		NumberOfMessages:  to.Ptr(int32(n)),
		VisibilityTimeout: to.Ptr(seconds(visibility)),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: receiving from %q: %w", q.name, err)
	}
	out := make([]Message, 0, len(resp.Messages))
	for _, m := range resp.Messages {
		if m == nil {
			continue
		}
		out = append(out, Message{
			ID:              deref(m.MessageID),
			PopReceipt:      deref(m.PopReceipt),
			DequeueCount:    derefInt(m.DequeueCount),
			InsertionTime:   derefTime(m.InsertionTime),
			ExpirationTime:  derefTime(m.ExpirationTime),
			NextVisibleTime: derefTime(m.TimeNextVisible),
			Body:            decodeBody(deref(m.MessageText)),
		})
	}
	return out, nil
}

// decodeBody undoes the base64 of Send. Text that is not base64 was put
// there by someone else (messageEncoding "none", a portal test message); it
// is passed on as is so the consumer can judge it rather than lose it. JSON
// is never valid base64 ('{' is not in the alphabet), so this is unambiguous
// for our messages.
func decodeBody(text string) []byte {
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return []byte(text)
	}
	return b
}

// Delete removes a received message. A message whose pop receipt has gone
// stale (it became visible and someone else took it) is reported as an error
// matching queueerror.PopReceiptMismatch or MessageNotFound.
func (q *StorageQueue) Delete(ctx context.Context, m Message) error {
	if _, err := q.c.DeleteMessage(ctx, m.ID, m.PopReceipt, nil); err != nil {
		return fmt.Errorf("queue: deleting message %s from %q: %w", m.ID, q.name, err)
	}
	return nil
}

// MoveToPoison enqueues m's body on <name>-poison and then deletes m, as the
// Functions host does after maxDequeueCount deliveries. If the delete fails
// the message may show up in both queues; the poison copy is the one to keep.
func (q *StorageQueue) MoveToPoison(ctx context.Context, m Message) error {
	if q.poison == nil {
		return ErrNoPoisonQueue
	}
	if _, err := q.poison.EnqueueMessage(ctx, base64.StdEncoding.EncodeToString(m.Body), &azqueue.EnqueueMessageOptions{
		TimeToLive: to.Ptr(int32(-1)), // poison messages wait for a human
	}); err != nil {
		return fmt.Errorf("queue: moving message %s to %q: %w", m.ID, q.name+PoisonSuffix, err)
	}
	return q.Delete(ctx, m)
}

func seconds(d time.Duration) int32 {
	d = min(d, maxVisibility)
	return int32((d + time.Second - 1) / time.Second)
}

// queueName is the last path segment of a queue URL (a SAS query string,
// if any, is not part of it).
func queueName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return path.Base(u.Path)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
