package queue

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// BenchmarkStorageQueueSend measures one durable enqueue of a typical
// 4 KiB batch message.
func BenchmarkStorageQueueSend(b *testing.B) {
	ctx := context.Background()
	q, _ := openQueue(b)
	body := bytes.Repeat([]byte(`{"accountid":"0a0b","name":"x"},`), 128)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := q.Send(ctx, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStorageQueueReceiveDelete measures draining: receive 32, delete each.
func BenchmarkStorageQueueReceiveDelete(b *testing.B) {
	ctx := context.Background()
	q, _ := openQueue(b)
	body := bytes.Repeat([]byte("x"), 4096)
	for range b.N {
		if err := q.Send(ctx, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for n := 0; n < b.N; {
		msgs, err := q.Receive(ctx, 32, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) == 0 {
			b.Fatalf("queue empty after %d of %d", n, b.N)
		}
		for _, m := range msgs {
			if err := q.Delete(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
		n += len(msgs)
	}
}
