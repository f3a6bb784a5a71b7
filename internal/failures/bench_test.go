package failures

import (
	"context"
	"testing"
)

// BenchmarkWriteFailure measures one failed record: log line + payload blob.
func BenchmarkWriteFailure(b *testing.B) {
	ctx := context.Background()
	s, _ := newStore(b)
	payload := []byte(`{"contactid":"459d1d3e-7cc8-e611-80f7-5065f38bf1c1","fullname":"x"}`)
	for b.Loop() {
		if err := s.WriteFailure(ctx, "bench", "contact", "459d1d3e-7cc8-e611-80f7-5065f38bf1c1", ChangeUpdate, "timeout", payload); err != nil {
			b.Fatal(err)
		}
	}
}
