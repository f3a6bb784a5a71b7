package sinktest

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/dataexport/dataexport/internal/record"
	"github.com/dataexport/dataexport/internal/sink"
)

// testConcurrent applies deletes and older upserts of the same ids from
// several goroutines at once: whatever the interleaving, no deleted row
// comes back and the newest version wins.
func testConcurrent(t *testing.T, open Opener) {
	f := newFixture(t, open, sink.Options{}, Account("account"))
	const ids, workers = 40, 6
	f.apply(t, f.batch(f.recs(func() []rv {
		var out []rv
		for n := range ids {
			out = append(out, rv{n, 1})
		}
		return out
	}()...)))
	// Even ids: deleted at 5, with replays of upserts 2..4 racing it.
	// Odd ids: upserts 2..6, racing a stale delete at 3.
	var batches []record.Batch
	for v := int64(2); v <= 6; v++ {
		var ups []record.Record
		var dels []record.Delete
		for n := range ids {
			switch {
			case n%2 == 0 && v <= 4:
				ups = append(ups, f.rec(rv{n, v}))
			case n%2 == 0 && v == 5:
				dels = append(dels, del(n, 5))
			case n%2 == 1:
				ups = append(ups, f.rec(rv{n, v}))
				if v == 3 {
					dels = append(dels, del(n, 3))
				}
			}
		}
		for range 2 { // each batch twice: at-least-once delivery
			batches = append(batches, f.batch(ups, dels...))
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	next := make(chan record.Batch)
	for range workers {
		wg.Go(func() {
			for b := range next {
				if _, err := f.s.Apply(t.Context(), f.table.TableName, b); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Apply: %v", err)
	}
	var want []rv
	tombs := map[string]int64{}
	for n := range ids {
		if n%2 == 0 {
			tombs[guid(n)] = 5
		} else {
			want = append(want, rv{n, 6})
			tombs[guid(n)] = 3
		}
	}
	f.assertRows(t, f.recs(want...))
	f.assertTombstones(t, tombs)
}
