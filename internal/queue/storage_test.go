package queue

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/queueerror"
)

func newService(t testing.TB) *azqueue.ServiceClient {
	t.Helper()
	svc, err := azqueue.NewServiceClientFromConnectionString(connString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// openQueue opens a fresh queue (and its poison queue) and removes both at
// the end of the test.
func openQueue(t testing.TB) (*StorageQueue, *azqueue.ServiceClient) {
	t.Helper()
	svc := newService(t)
	name := uniqueName("q")
	q, err := OpenStorageQueue(context.Background(), svc, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, n := range []string{name, name + PoisonSuffix} {
			if _, err := svc.DeleteQueue(context.Background(), n, nil); err != nil {
				t.Logf("deleting queue %s: %v", n, err)
			}
		}
	})
	return q, svc
}

// receiveWithin polls until at least one message is visible or the deadline
// passes: visibility timeouts are the condition being awaited.
func receiveWithin(t *testing.T, q *StorageQueue, d, visibility time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msgs, err := q.Receive(context.Background(), 32, visibility)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStorageQueueRoundTrip(t *testing.T) {
	ctx := context.Background()
	q, _ := openQueue(t)
	if q.MaxBodyBytes() != 48*1024 {
		t.Fatalf("MaxBodyBytes = %d, want 48 KiB", q.MaxBodyBytes())
	}
	bodies := [][]byte{
		[]byte(`{"v":1,"entity":"account","records":[]}`),
		{0x00, 0xff, 0x10, '\n', '<', '&'}, // bytes that are not valid text
		bytes.Repeat([]byte("x"), q.MaxBodyBytes()),
	}
	for _, b := range bodies {
		if err := q.Send(ctx, b); err != nil {
			t.Fatalf("Send(%d bytes): %v", len(b), err)
		}
	}
	msgs, err := q.Receive(ctx, 10, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(bodies) {
		t.Fatalf("received %d messages, want %d", len(msgs), len(bodies))
	}
	for i, m := range msgs {
		if !bytes.Equal(m.Body, bodies[i]) {
			t.Errorf("message %d body = %.40q, want %.40q", i, m.Body, bodies[i])
		}
		if m.DequeueCount != 1 || m.ID == "" || m.PopReceipt == "" {
			t.Errorf("message %d = {ID %q, PopReceipt %q, DequeueCount %d}", i, m.ID, m.PopReceipt, m.DequeueCount)
		}
		if m.InsertionTime.IsZero() || !m.NextVisibleTime.After(m.InsertionTime) {
			t.Errorf("message %d times: inserted %v, visible %v", i, m.InsertionTime, m.NextVisibleTime)
		}
		if m.ExpirationTime.Before(time.Now().AddDate(1, 0, 0)) {
			t.Errorf("message %d expires %v; messages must not expire", i, m.ExpirationTime)
		}
		if err := q.Delete(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// What went out is really base64 on the wire (the Functions trigger's default).
	if err := q.Send(ctx, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	peek, err := q.c.PeekMessages(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(peek.Messages) != 1 || *peek.Messages[0].MessageText != "eyJhIjoxfQ==" {
		t.Fatalf("wire text = %v, want base64 eyJhIjoxfQ==", peek.Messages)
	}
}

func TestStorageQueueLimits(t *testing.T) {
	ctx := context.Background()
	q, _ := openQueue(t)
	err := q.Send(ctx, make([]byte, q.MaxBodyBytes()+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send(too large) = %v, want ErrTooLarge", err)
	}
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != q.MaxBodyBytes()+1 || tl.Max != q.MaxBodyBytes() {
		t.Fatalf("TooLargeError = %+v", tl)
	}
	if msgs, err := q.Receive(ctx, 1, time.Second); err != nil || len(msgs) != 0 {
		t.Fatalf("queue after rejected send: %d messages, %v", len(msgs), err)
	}
}

func TestStorageQueueForeignText(t *testing.T) {
	ctx := context.Background()
	q, _ := openQueue(t)
	// Someone enqueued plain JSON (messageEncoding "none"): pass it through.
	if _, err := q.c.EnqueueMessage(ctx, `{"plain":true}`, nil); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(ctx, 1, 30*time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %d messages, %v", len(msgs), err)
	}
	if string(msgs[0].Body) != `{"plain":true}` {
		t.Fatalf("Body = %q", msgs[0].Body)
	}
}

func TestStorageQueueRedelivery(t *testing.T) {
	ctx := context.Background()
	q, _ := openQueue(t)
	if err := q.Send(ctx, []byte("retry me")); err != nil {
		t.Fatal(err)
	}
	first, err := q.Receive(ctx, 1, time.Second)
	if err != nil || len(first) != 1 {
		t.Fatalf("first Receive = %d messages, %v", len(first), err)
	}
	if again, err := q.Receive(ctx, 1, time.Second); err != nil || len(again) != 0 {
		t.Fatalf("message visible during its visibility timeout: %d, %v", len(again), err)
	}
	// Not deleted: it comes back once the timeout passes, counted again.
	second := receiveWithin(t, q, 10*time.Second, 30*time.Second)
	if len(second) != 1 {
		t.Fatalf("message not redelivered")
	}
	if second[0].ID != first[0].ID || second[0].DequeueCount != 2 || string(second[0].Body) != "retry me" {
		t.Fatalf("redelivered = %+v, want same ID %s with DequeueCount 2", second[0], first[0].ID)
	}
	// The first receipt went stale with the redelivery.
	err = q.Delete(ctx, first[0])
	if !queueerror.HasCode(err, queueerror.PopReceiptMismatch, queueerror.MessageNotFound) {
		t.Fatalf("Delete with a stale pop receipt = %v", err)
	}
	if err := q.Delete(ctx, second[0]); err != nil {
		t.Fatal(err)
	}
}

func TestStorageQueueSendAfter(t *testing.T) {
	ctx := context.Background()
	q, _ := openQueue(t)
	start := time.Now()
	if err := q.SendAfter(ctx, []byte("later"), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if msgs, err := q.Receive(ctx, 1, time.Second); err != nil || len(msgs) != 0 {
		t.Fatalf("delayed message visible at once: %d, %v", len(msgs), err)
	}
	msgs := receiveWithin(t, q, 10*time.Second, 30*time.Second)
	if len(msgs) != 1 || string(msgs[0].Body) != "later" {
		t.Fatalf("delayed message = %v", msgs)
	}
	if waited := time.Since(start); waited < 1500*time.Millisecond {
		t.Fatalf("delayed message arrived after %v, want about 2s", waited)
	}
}

func TestStorageQueuePoison(t *testing.T) {
	ctx := context.Background()
	q, svc := openQueue(t)
	if !strings.HasPrefix(q.Name(), "q") {
		t.Fatalf("Name = %q", q.Name())
	}
	body := []byte(`{"v":1,"bad":true}`)
	if err := q.Send(ctx, body); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(ctx, 1, 30*time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %d messages, %v", len(msgs), err)
	}
	if err := q.MoveToPoison(ctx, msgs[0]); err != nil {
		t.Fatal(err)
	}
	// Gone from the main queue for good, not just invisible.
	props, err := q.c.GetProperties(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := *props.ApproximateMessagesCount; n != 0 {
		t.Fatalf("main queue still holds %d messages", n)
	}
	poison, err := NewStorageQueue(ctx, svc.NewQueueClient(q.Name()+PoisonSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if poison.Name() != q.Name()+PoisonSuffix {
		t.Fatalf("poison Name = %q", poison.Name())
	}
	got, err := poison.Receive(ctx, 32, 30*time.Second)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Body, body) {
		t.Fatalf("poison queue = %v, %v; want the body", got, err)
	}
	if got[0].ExpirationTime.Before(time.Now().AddDate(1, 0, 0)) {
		t.Errorf("poison message expires %v; want no expiry", got[0].ExpirationTime)
	}
	// A queue opened from a bare client has no poison sibling.
	if err := poison.MoveToPoison(ctx, got[0]); !errors.Is(err, ErrNoPoisonQueue) {
		t.Fatalf("MoveToPoison without a poison queue = %v", err)
	}
}

func TestStorageQueueRelease(t *testing.T) {
	ctx := context.Background()
	q, _ := openQueue(t)
	body := []byte{0x01, 0x02, '{'}
	if err := q.Send(ctx, body); err != nil {
		t.Fatal(err)
	}
	got, err := q.Receive(ctx, 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %d messages, %v", len(got), err)
	}
	// Released at once: visible again long before its one-minute timeout.
	rel, err := q.Release(ctx, got[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	if rel.PopReceipt == got[0].PopReceipt || rel.ID != got[0].ID {
		t.Fatalf("Release returned %+v", rel)
	}
	again := receiveWithin(t, q, 5*time.Second, time.Minute)
	if len(again) != 1 || again[0].DequeueCount != 2 || !bytes.Equal(again[0].Body, body) {
		t.Fatalf("after Release: %+v", again)
	}
	// Released with a delay: hidden until then.
	start := time.Now()
	rel, err = q.Release(ctx, again[0], 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rel.NextVisibleTime.Before(start.Add(time.Second)) {
		t.Errorf("NextVisibleTime %v is not ~2s ahead", rel.NextVisibleTime)
	}
	if msgs, err := q.Receive(ctx, 1, time.Minute); err != nil || len(msgs) != 0 {
		t.Fatalf("delayed release visible at once: %d, %v", len(msgs), err)
	}
	last := receiveWithin(t, q, 10*time.Second, time.Minute)
	if len(last) != 1 || last[0].DequeueCount != 3 {
		t.Fatalf("after delayed Release: %+v", last)
	}
	// The receipt Release replaced is stale.
	if _, err := q.Release(ctx, again[0], 0); !queueerror.HasCode(err, queueerror.PopReceiptMismatch, queueerror.MessageNotFound) {
		t.Fatalf("Release with a stale receipt = %v", err)
	}
	if err := q.Delete(ctx, last[0]); err != nil {
		t.Fatal(err)
	}
}
