package state

import (
	"context"
	"testing"
)

// BenchmarkSaveEntity measures one checkpoint write (GetEntity's ETag →
// conditional replace), the poller's per-page cost.
func BenchmarkSaveEntity(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	st := EntityState{Profile: "bench", Entity: "account", Phase: PhaseDelta, Link: "https://org.crm.dynamics.com/api/data/v9.2/accounts?$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44"}
	if err := s.SaveEntity(ctx, &st); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		st.Pages++
		if err := s.SaveEntity(ctx, &st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddCountersParallel measures counter merges with appliers
// contending for one row.
func BenchmarkAddCountersParallel(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	b.SetParallelism(2)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.AddCounters(ctx, "bench", "account", Counters{Succeeded: 1}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
