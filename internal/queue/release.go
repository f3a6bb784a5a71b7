package queue

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// Release makes a received message visible again after the delay (0: at
// once), keeping its body, as the Functions host does with a message whose
// invocation failed (host.json queues.visibilityTimeout). It returns the
// message with its new pop receipt and visibility time; the old receipt is no
// longer valid.
func (q *StorageQueue) Release(ctx context.Context, m Message, after time.Duration) (Message, error) {
	resp, err := q.c.UpdateMessage(ctx, m.ID, m.PopReceipt, base64.StdEncoding.EncodeToString(m.Body), &azqueue.UpdateMessageOptions{
		VisibilityTimeout: to.Ptr(seconds(max(after, 0))),
	})
	if err != nil {
		return m, fmt.Errorf("queue: releasing message %s on %q: %w", m.ID, q.name, err)
	}
	m.PopReceipt = deref(resp.PopReceipt)
	m.NextVisibleTime = derefTime(resp.TimeNextVisible)
	return m, nil
}
