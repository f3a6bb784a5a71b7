package dataverse_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/dvemu"
)

// TestEmuFaultsFullRead reads through the emulator's own service protection
// and injected faults (429s, SQL deadlock 500s, dropped connections): the
// read completes with every row exactly once.
func TestEmuFaultsFullRead(t *testing.T) {
	const rows = 6000
	emu, c := emuOrg(t, dvemu.Options{Records: rows, RandSeed: 5, Faults: dvemu.Faults{
		RequestLimit: 12, Window: time.Second, ConcurrencyLimit: 4,
		ThrottleRate: 0.1, ServerErrorRate: 0.15, DropRate: 0.1,
	}}, &dataverse.ClientOptions{
		PageSize: 500, MaxConcurrency: 3, RequestsPerSecond: -1, MaxRetries: 20,
		RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	ctx := context.Background()
	start := time.Now()
	e, err := c.Entity(ctx, "account")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	p := c.NewChangesPager(e, nil)
	for p.More() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pg.Upserts {
			if seen[r.ID] {
				t.Errorf("%s read twice", r.ID)
			}
			seen[r.ID] = true
		}
	}
	st := c.Stats()
	t.Logf("%d rows in %v: %d requests, %d retries (%d throttled), waited %v, max in flight %d",
		len(seen), time.Since(start).Round(time.Millisecond), st.Requests, st.Retries, st.Throttled, st.RetryWait, st.MaxInFlight)
	if len(seen) != rows || len(emu.IDs("account")) != rows {
		t.Errorf("read %d rows, want %d", len(seen), rows)
	}
	if st.Retries == 0 {
		t.Error("no faults were retried: the test did not exercise anything")
	}
	if st.MaxInFlight > 3 {
		t.Errorf("max in flight %d > 3", st.MaxInFlight)
	}
}
